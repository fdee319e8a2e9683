package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
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

func (s *Handlers) renderInvitation(inv domain.Invitation) invitationJSON {
	return invitationJSON{
		Sid: inv.Sid, AccountSid: inv.AccountSid, Email: inv.Email, Roles: inv.Roles, RoleNames: roleNames(inv.Roles), InviterSid: inv.InviterSid,
		Status: inv.Status, SentCount: inv.SentCount, LastSent: edge.OptTime(inv.LastSentAt), ExpiresAt: edge.OptTime(inv.ExpiresAt),
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

type inviteRequest struct {
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

// invite implements POST …/Accounts/{AC}/Invitations: 200 "granted" for a
// managed user of the organization (who has the roles at once), 201 with
// the pending invitation for anyone else.
func (s *Handlers) invite(c *gin.Context) {
	var req inviteRequest
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
		c.PureJSON(http.StatusOK, gin.H{"status": "granted", "email": g.Email, "user_sid": g.UserSid, "account_sid": g.AccountSid, "roles": g.Roles})
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
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(i domain.Invitation) string { return i.Sid }, s.renderInvitation))
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
