package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// registerPeople adds the routes for the users of an account and its
// ownership.
func (s *server) registerPeople(org *gin.RouterGroup) {
	org.GET("/Accounts/:account/Users", s.listAccountUsers)
	org.PUT("/Accounts/:account/Users/:user", s.setAccountUserRoles)
	org.DELETE("/Accounts/:account/Users/:user", s.removeAccountUser)
	org.POST("/Accounts/:account/Owner", s.transferOwnership)
}

// accountUserJSON is a user with access to an account and its roles there.
type accountUserJSON struct {
	UserSid     string   `json:"user_sid"`
	AccountSid  string   `json:"account_sid"`
	Email       string   `json:"email"`
	DisplayName string   `json:"display_name"`
	Managed     bool     `json:"managed"`
	Roles       []string `json:"roles"`
	RoleNames   []string `json:"role_names"`
	URL         string   `json:"url"`
}

func (s *server) renderAccountUser(orgSid string) func(domain.AccountUser) accountUserJSON {
	return func(au domain.AccountUser) accountUserJSON {
		u := au.User
		name := u.DisplayName
		if name == "" {
			name = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		}
		out := accountUserJSON{
			UserSid: u.Sid, AccountSid: au.AccountSid, Email: u.UserName, DisplayName: name, Managed: u.Managed,
			Roles: make([]string, 0, len(au.Roles)), RoleNames: make([]string, 0, len(au.Roles)),
			URL: s.accountURL(orgSid, au.AccountSid) + "/Users/" + u.Sid,
		}
		for _, r := range au.Roles {
			out.Roles = append(out.Roles, r)
			out.RoleNames = append(out.RoleNames, domain.RoleNames[r])
		}
		return out
	}
}

func (s *server) listAccountUsers(c *gin.Context) {
	acct, err := s.account(c, domain.ActionReadAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := pageRequest(c, domain.PrefixUser, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	f := domain.AccountUserFilter{OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, Role: c.Query("Role"), Page: page}
	if err := f.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	items, err := s.store.ListAccountUsers(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(u domain.AccountUser) string { return u.User.Sid },
		s.renderAccountUser(p.OrganizationSid)))
}

type setAccountUserRolesRequest struct {
	Roles []string `json:"roles"`
}

// roleChange reads what PUT and DELETE …/Users/{US} share: the account
// (the caller must manage its users), the user in the path, and whether
// the caller may grant or remove Administrator.
func (s *server) roleChange(c *gin.Context) (domain.RoleChange, error) {
	acct, err := s.account(c, domain.ActionManageUsers)
	if err != nil {
		return domain.RoleChange{}, err
	}
	user, err := sidParam(c, "user", domain.PrefixUser)
	if err != nil {
		return domain.RoleChange{}, err
	}
	roles, err := s.rolesOf(c, acct.Sid)
	if err != nil {
		return domain.RoleChange{}, err
	}
	p := principal(c)
	return domain.RoleChange{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, UserSid: user,
		MayManageAdministrators: p.MayManageAdministrators(roles),
	}, nil
}

// setAccountUserRoles replaces the roles of a user on an account.
// Administrator supersedes the others: a set holding it is stored as
// Administrator alone, and the answer shows what was stored.
func (s *server) setAccountUserRoles(c *gin.Context) {
	change, err := s.roleChange(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req setAccountUserRolesRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if change.Roles, err = domain.NormalizeRoles(req.Roles); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	out, err := s.store.SetAccountUserRoles(c.Request.Context(), change,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUserRolesSet, change.AccountSid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccountUser(p.OrganizationSid)(out))
}

// removeAccountUser removes every role of a user on an account.
func (s *server) removeAccountUser(c *gin.Context) {
	change, err := s.roleChange(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	if err := s.store.RemoveAccountUser(c.Request.Context(), change,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUserRemoved, change.AccountSid, nil)); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

type transferOwnershipRequest struct {
	// Owner is the new owner: a User SID or the email of a managed user.
	Owner string `json:"owner"`
}

// transferOwnership moves a managed account to another managed user of the
// organization; the former owner stays on as Administrator. Transferring
// to the current owner changes nothing and answers 200.
func (s *server) transferOwnership(c *gin.Context) {
	acct, err := s.account(c, domain.ActionTransferOwnership)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req transferOwnershipRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if strings.TrimSpace(req.Owner) == "" {
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "owner is required: a User SID (US…) or the email of a managed user"))
		return
	}
	owner, err := s.resolveOwner(c, req.Owner)
	if err == nil {
		err = domain.CheckOwnershipTransfer(acct, owner)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	out, err := s.store.TransferOwnership(c.Request.Context(), domain.OwnershipTransfer{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, NewOwnerSid: owner.Sid, ExpectVersion: acct.Version,
	}, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventOwnershipTransferred, acct.Sid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	if out.Changed() {
		s.notifyOwnershipChange(c, out.Account, out.FormerOwner, out.NewOwner)
	}
	c.PureJSON(http.StatusOK, s.renderAccount(out.Account))
}
