package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// renderInvitation is an invitation on the wire (the Pending Users tab).
func (s *Handlers) renderInvitation(inv domain.Invitation) wire.Invitation {
	return wire.Invitation{
		Sid: inv.Sid, AccountSid: inv.AccountSid, Email: inv.Email, Roles: inv.Roles, RoleNames: roleNames(inv.Roles), InviterSid: inv.InviterSid,
		Status: wire.InvitationStatus(inv.Status), SentCount: inv.SentCount, LastSent: edge.OptTime(inv.LastSentAt), ExpiresAt: edge.OptTime(inv.ExpiresAt),
		DateCreated: edge.RFC3339(inv.DateCreated), URL: s.accountURL(inv.OrganizationSid, inv.AccountSid) + "/Invitations/" + inv.Sid,
	}
}

// roleNames names role SIDs for people.
func roleNames(roles []string) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = domain.RoleName(r)
	}
	return names
}

// invite implements POST …/Accounts/{AC}/Invitations: 200 "granted" for a
// managed user of the organization (who has the roles at once), 201 with
// the pending invitation for anyone else.
func (s *Handlers) invite(c *gin.Context) {
	var req wire.InviteRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Invitations.Invite(c.Request.Context(), edge.Principal(c), c.Param("account"), lifecycle.Invite{Email: req.Email, Roles: req.Roles})
	if err != nil {
		_ = c.Error(err)
		return
	}
	if g := out.Granted; g != nil {
		c.PureJSON(http.StatusOK, wire.InvitationGrant{Status: wire.InvitationGrantStatusGranted, Email: g.Email, UserSid: g.UserSid, AccountSid: g.AccountSid,
			Roles: g.Roles})
		return
	}
	s.workflowStarted(c, "InvitationWorkflow", out.Run)
	body := s.renderInvitation(*out.Invitation)
	c.Header("Location", body.URL)
	c.PureJSON(http.StatusCreated, body)
}

func (s *Handlers) listInvitations(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixInvitation, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Invitations.List(c.Request.Context(), edge.Principal(c), c.Param("account"),
		domain.InvitationFilter{Status: c.DefaultQuery("Status", domain.InvitationPending), Page: page})
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(i domain.Invitation) string { return i.Sid }, s.renderInvitation)
	c.PureJSON(http.StatusOK, wire.InvitationPage{Content: content, Meta: meta})
}

func (s *Handlers) getInvitation(c *gin.Context) {
	inv, err := s.services.Invitations.Get(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("invitation"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderInvitation(inv))
}

func (s *Handlers) resendInvitation(c *gin.Context) {
	inv, err := s.services.Invitations.Resend(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("invitation"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderInvitation(inv))
}

func (s *Handlers) revokeInvitation(c *gin.Context) {
	if err := s.services.Invitations.Revoke(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("invitation")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
