package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// roleAssignmentJSON is a role assignment on the wire.
type roleAssignmentJSON struct {
	Sid      string `json:"sid"`
	RoleSid  string `json:"role_sid"`
	Scope    string `json:"scope"`
	Identity string `json:"identity"`
}

func renderRoleAssignment(ra domain.RoleAssignment) roleAssignmentJSON {
	return roleAssignmentJSON{Sid: ra.Sid, RoleSid: ra.RoleSid, Scope: ra.Scope, Identity: ra.Identity}
}

// rolesOf returns the caller's roles on an account (none needed for an
// organization Owner or Administrator).
func (s *server) rolesOf(c *gin.Context, scope string) ([]string, error) {
	p := principal(c)
	if p.IsOrgAdmin() {
		return nil, nil
	}
	return s.store.RolesOn(c.Request.Context(), scope, p.UserSid)
}

func (s *server) listRoleAssignments(c *gin.Context) {
	p := principal(c)
	page, err := pageRequest(c, domain.PrefixRoleAssignment, domain.MaxPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := domain.RoleAssignmentFilter{OrganizationSid: p.OrganizationSid, Identity: c.Query("Identity"), Scope: c.Query("Scope"), Page: page}
	if err := f.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	// Outside the organization's Owner and Administrators, a user sees its
	// own assignments and those on accounts it can read.
	if !p.IsOrgAdmin() {
		if f.Scope != "" {
			roles, err := s.rolesOf(c, f.Scope)
			if err == nil {
				err = p.AuthorizeAccount(domain.ActionReadAccount, roles)
			}
			if err != nil {
				_ = c.Error(err)
				return
			}
		} else if f.Identity != p.UserSid {
			_ = c.Error(domain.Errorf(domain.EForbidden, domain.CodeForbidden, "you may list only your own role assignments"))
			return
		}
	}
	items, err := s.store.ListRoleAssignments(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(r domain.RoleAssignment) string { return r.Sid }, renderRoleAssignment))
}

type createRoleAssignmentRequest struct {
	RoleSid  string `json:"role_sid"`
	Scope    string `json:"scope"`
	Identity string `json:"identity"`
}

func (s *server) createRoleAssignment(c *gin.Context) {
	p := principal(c)
	var req createRoleAssignmentRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.CheckGrantableRole(req.RoleSid); err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.CheckSID("scope", domain.PrefixAccount, req.Scope); err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.CheckSID("identity", domain.PrefixUser, req.Identity); err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	acct, err := s.store.FindAccount(ctx, p.OrganizationSid, req.Scope)
	if domain.ErrorKind(err) == domain.ENotFound {
		acct, err = domain.Account{Sid: req.Scope}, nil
	}
	if err == nil {
		err = domain.CheckRoleScope(acct)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	roles, err := s.rolesOf(c, acct.Sid)
	if err == nil {
		err = p.AuthorizeAccount(domain.ActionManageUsers, roles)
	}
	if err == nil && req.RoleSid == domain.RoleAdministrator && !p.MayManageAdministrators(roles) {
		err = domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only the account Owner or an organization Owner/Administrator may grant Administrator")
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.store.FindUser(ctx, p.OrganizationSid, req.Identity)
	if err != nil || !u.IsManagedBy(p.OrganizationSid) {
		if err != nil && domain.ErrorKind(err) != domain.ENotFound {
			_ = c.Error(err)
			return
		}
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeIdentityNotManaged, "identity %s is not a managed user of this organization", req.Identity))
		return
	}
	ra := domain.RoleAssignment{Sid: s.newSID(c, domain.PrefixRoleAssignment), OrganizationSid: p.OrganizationSid, RoleSid: req.RoleSid, Scope: req.Scope, Identity: req.Identity}
	ra, err = s.store.CreateRoleAssignment(ctx, ra, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventRoleAssigned, ra.Sid,
		map[string]any{"role_sid": ra.RoleSid, "scope": ra.Scope, "identity": ra.Identity}))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusCreated, renderRoleAssignment(ra))
}

func (s *server) deleteRoleAssignment(c *gin.Context) {
	p := principal(c)
	sid, err := sidParam(c, "assignment", domain.PrefixRoleAssignment)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	ra, err := s.store.FindRoleAssignment(ctx, p.OrganizationSid, sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	roles, err := s.rolesOf(c, ra.Scope)
	if err == nil {
		err = p.AuthorizeAccount(domain.ActionManageUsers, roles)
	}
	if err == nil && ra.RoleSid == domain.RoleAdministrator && !p.MayManageAdministrators(roles) {
		err = domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only the account Owner or an organization Owner/Administrator may remove Administrator")
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := s.store.DeleteRoleAssignment(ctx, p.OrganizationSid, sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventRoleRemoved, sid, nil)); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
