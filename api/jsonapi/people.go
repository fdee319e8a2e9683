package jsonapi

import (
	"net/http"
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// registerPeople adds the routes for the users of an account and its
// ownership.
func (s *Handlers) registerPeople(org *gin.RouterGroup) {
	org.GET("/Accounts/:account/Users", s.listAccountUsers)
	org.PUT("/Accounts/:account/Users/:user", s.setAccountUserRoles)
	org.DELETE("/Accounts/:account/Users/:user", s.removeAccountUser)
	org.POST("/Accounts/:account/Owner", s.transferOwnership)
}

// renderAccountUser is a user with access to an account and its roles
// there.
func (s *Handlers) renderAccountUser(orgSid string) func(domain.AccountUser) wire.AccountUser {
	return func(au domain.AccountUser) wire.AccountUser {
		u := au.User
		name := u.DisplayName
		if name == "" {
			name = strings.TrimSpace(u.GivenName + " " + u.FamilyName)
		}
		out := wire.AccountUser{
			UserSid: u.Sid, AccountSid: au.AccountSid, Email: u.UserName, DisplayName: name, Managed: u.Managed, TwoFactorEnrolled: u.TwoFactorEnrolled,
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

func (s *Handlers) listAccountUsers(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixUser, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	out, err := s.services.People.Users(c.Request.Context(), p, c.Param("account"), domain.AccountUserFilter{Role: c.Query("Role"), Page: page})
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(u domain.AccountUser) string { return u.User.Sid }, s.renderAccountUser(p.OrganizationSid))
	c.PureJSON(http.StatusOK, wire.AccountUserPage{Content: content, Meta: meta})
}

// setAccountUserRoles replaces the roles of a user on an account.
func (s *Handlers) setAccountUserRoles(c *gin.Context) {
	var req wire.SetAccountUserRolesRequest
	malformed := edge.DecodeJSON(c, &req)
	p := edge.Principal(c)
	out, err := s.services.People.SetRoles(c.Request.Context(), p, lifecycle.SetRoles{
		AccountSid: c.Param("account"), UserSid: c.Param("user"), Roles: req.Roles, Malformed: malformed,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccountUser(p.OrganizationSid)(out))
}

// removeAccountUser removes every role of a user on an account.
func (s *Handlers) removeAccountUser(c *gin.Context) {
	if err := s.services.People.Remove(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("user")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// transferOwnership moves a managed account to another managed user of the
// organization (the owner: a User SID or the email of a managed user).
func (s *Handlers) transferOwnership(c *gin.Context) {
	var req wire.TransferOwnershipRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.People.TransferOwnership(c.Request.Context(), edge.Principal(c), c.Param("account"), req.Owner)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(out))
}
