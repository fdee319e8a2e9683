package api

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// invitationJSON is an invitation on the wire (the Pending Users tab).
type invitationJSON struct {
	Sid         string   `json:"sid"`
	AccountSid  string   `json:"account_sid"`
	Email       string   `json:"email"`
	Roles       []string `json:"roles"`
	RoleNames   []string `json:"role_names"`
	InviterSid  string   `json:"inviter_sid"`
	Status      string   `json:"status"`
	SentCount   int      `json:"sent_count"`
	LastSent    *string  `json:"last_sent"`
	ExpiresAt   *string  `json:"expires_at"`
	DateCreated string   `json:"date_created"`
	URL         string   `json:"url"`
}

func (s *server) renderInvitation(inv domain.Invitation) invitationJSON {
	names := make([]string, len(inv.Roles))
	for i, r := range inv.Roles {
		names[i] = activities.RoleName(r)
	}
	return invitationJSON{
		Sid: inv.Sid, AccountSid: inv.AccountSid, Email: inv.Email, Roles: inv.Roles, RoleNames: names, InviterSid: inv.InviterSid,
		Status: inv.Status, SentCount: inv.SentCount, LastSent: edge.OptTime(inv.LastSentAt), ExpiresAt: edge.OptTime(inv.ExpiresAt),
		DateCreated: edge.RFC3339(inv.DateCreated), URL: s.accountURL(inv.OrganizationSid, inv.AccountSid) + "/Invitations/" + inv.Sid,
	}
}

type inviteRequest struct {
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

// openAccount loads an account the caller may manage users of, refusing
// one that is not active (no new invitation on a closing account).
func (s *server) openAccount(c *gin.Context) (domain.Account, []string, error) {
	a, err := s.account(c, domain.ActionManageUsers)
	if err != nil {
		return a, nil, err
	}
	if err := domain.CheckAcceptsNewRequests(a); err != nil {
		return a, nil, err
	}
	roles, err := s.rolesOf(c, a.Sid)
	return a, roles, err
}

func (s *server) invite(c *gin.Context) {
	acct, callerRoles, err := s.openAccount(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req inviteRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	emailAddr, err := domain.NormalizeEmail("email", req.Email)
	if err != nil {
		_ = c.Error(err)
		return
	}
	roles, err := domain.NormalizeRoles(req.Roles)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	if roles[0] == domain.RoleAdministrator && !p.MayManageAdministrators(callerRoles) {
		_ = c.Error(domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only the account Owner or an organization Owner/Administrator may grant Administrator"))
		return
	}
	ctx := c.Request.Context()
	// A managed user of the organization gets access at once.
	if u, err := s.store.FindUserByEmail(ctx, p.OrganizationSid, emailAddr); err == nil && u.IsManagedBy(p.OrganizationSid) {
		for _, role := range roles {
			ra := domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, s.clock.Now()), OrganizationSid: p.OrganizationSid, RoleSid: role, Scope: acct.Sid, Identity: u.Sid}
			_, err := s.store.CreateRoleAssignment(ctx, ra, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventRoleAssigned, ra.Sid,
				map[string]any{"role_sid": role, "scope": acct.Sid, "identity": u.Sid}))
			if err != nil && domain.ErrorCode(err) != domain.CodeInvalidState {
				_ = c.Error(err)
				return
			}
		}
		held, err := s.store.RolesOn(ctx, acct.Sid, u.Sid)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusOK, gin.H{"status": "granted", "email": emailAddr, "user_sid": u.Sid, "account_sid": acct.Sid, "roles": held})
		return
	} else if err != nil && domain.ErrorKind(err) != domain.ENotFound {
		_ = c.Error(err)
		return
	}
	inv := domain.Invitation{Sid: s.newSID(c, domain.PrefixInvitation), OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, Email: emailAddr, Roles: roles, InviterSid: p.UserSid}
	if err := s.store.CreateInvitation(ctx, inv, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, "invitation.created", inv.Sid,
		map[string]any{"account_sid": acct.Sid, "email": emailAddr, "roles": roles})); err != nil {
		_ = c.Error(err)
		return
	}
	started, err := s.workflows.StartInvitation(ctx, workflows.InvitationInput{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, InvitationSid: inv.Sid, TTL: s.invitationTTL, ResendInterval: s.resendInterval, Actor: p.Actor(),
	})
	if err != nil {
		_ = s.store.DeleteInvitation(ctx, inv.Sid)
		_ = c.Error(err)
		return
	}
	s.workflowStarted(c, "InvitationWorkflow", started)
	stored, err := s.store.FindInvitation(ctx, acct.Sid, inv.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	body := s.renderInvitation(stored)
	c.Header("Location", body.URL)
	c.PureJSON(http.StatusCreated, body)
}

func (s *server) listInvitations(c *gin.Context) {
	acct, err := s.account(c, domain.ActionManageUsers)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := edge.PageRequest(c, domain.PrefixInvitation, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	status := c.DefaultQuery("Status", domain.InvitationPending)
	switch status {
	case domain.InvitationPending, domain.InvitationAccepted, domain.InvitationDeclined, domain.InvitationRevoked, domain.InvitationExpired:
	default:
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Status must be pending, accepted, declined, revoked or expired"))
		return
	}
	items, err := s.store.ListInvitations(c.Request.Context(), domain.InvitationFilter{AccountSid: acct.Sid, Status: status, Page: page})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, domain.PageFrom(page, items), func(i domain.Invitation) string { return i.Sid }, s.renderInvitation))
}

// invitation loads the invitation in the path on an account the caller may
// manage users of.
func (s *server) invitation(c *gin.Context) (domain.Invitation, error) {
	acct, err := s.account(c, domain.ActionManageUsers)
	if err != nil {
		return domain.Invitation{}, err
	}
	sid, err := edge.SIDParam(c, "invitation", domain.PrefixInvitation)
	if err != nil {
		return domain.Invitation{}, err
	}
	return s.store.FindInvitation(c.Request.Context(), acct.Sid, sid)
}

func (s *server) getInvitation(c *gin.Context) {
	inv, err := s.invitation(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderInvitation(inv))
}

func (s *server) resendInvitation(c *gin.Context) {
	inv, err := s.invitation(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if _, err := s.workflows.ResendInvitation(c.Request.Context(), inv.Sid); err != nil {
		_ = c.Error(err)
		return
	}
	if inv, err = s.store.FindInvitation(c.Request.Context(), inv.AccountSid, inv.Sid); err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderInvitation(inv))
}

func (s *server) revokeInvitation(c *gin.Context) {
	inv, err := s.invitation(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if _, err := s.workflows.RevokeInvitation(c.Request.Context(), inv.Sid, edge.Principal(c).Actor()); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rolesOf returns the caller's roles on an account (none needed for an
// organization Owner or Administrator).
func (s *server) rolesOf(c *gin.Context, scope string) ([]string, error) {
	p := edge.Principal(c)
	if p.IsOrgAdmin() {
		return nil, nil
	}
	return s.store.RolesOn(c.Request.Context(), scope, p.UserSid)
}
