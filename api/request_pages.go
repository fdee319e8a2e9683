package api

import (
	"net/http"
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// loadRequestLink is loadLink for an import or share request: the page
// says who asks for what, and offers the buttons only while the link and
// the request are both valid.
func (s *server) loadRequestLink(c *gin.Context, token string, link domain.ConfirmationLink) (lc linkContext, ok bool) {
	ctx := c.Request.Context()
	req, err := s.store.FindAccountRequest(ctx, "", link.SubjectSid)
	if err != nil || req.Kind != link.Kind {
		invalidLink(c)
		return lc, false
	}
	org, err := s.store.FindOrganization(ctx, req.OrganizationSid)
	if err != nil {
		invalidLink(c)
		return lc, false
	}
	requester := "an administrator"
	if u, err := s.store.FindUser(ctx, req.OrganizationSid, req.RequesterSid); err == nil {
		requester = u.UserName
		if u.DisplayName != "" {
			requester = u.DisplayName + " (" + u.UserName + ")"
		}
	}
	var grants []string
	for _, g := range req.Grants {
		who := g.Identity
		if u, err := s.store.FindUser(ctx, req.OrganizationSid, g.Identity); err == nil {
			who = u.UserName
		}
		names := make([]string, len(g.Roles))
		for i, r := range g.Roles {
			names[i] = activities.RoleName(r)
		}
		grants = append(grants, who+" as "+strings.Join(names, " and "))
	}
	p := confirmPage{
		Request: true, Kind: req.Kind, Organization: org.FriendlyName, Account: req.AccountName, AccountSid: req.AccountSid,
		Requester: requester, Owner: req.OwnerEmail, Grants: strings.Join(grants, "; "), Token: token,
		Expires: req.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST"),
	}
	verb := "import"
	if req.Kind == domain.RequestImport {
		p.AcceptLabel = "Confirm import"
		p.Effect = org.FriendlyName + " will manage this account and you will become a managed user of the organization. You stay the account's owner."
	} else {
		verb = "share"
		p.AcceptLabel = "Accept and share"
		p.Effect = "People of " + org.FriendlyName + " get access to this account. You stay its owner, and the organization can give up its access at any time."
	}
	now := s.clock.Now()
	switch {
	case req.Status == domain.RequestCancelled:
		p.Title, p.Message, p.Tone = "This request was cancelled", "The organization withdrew it. Nothing was changed.", "error"
	case req.Status == domain.RequestAccepted:
		p.Title, p.Message, p.Tone = "Request already answered", "You accepted it: the account is with "+org.FriendlyName+" already.", "done"
	case req.Status == domain.RequestDeclined:
		p.Title, p.Message, p.Tone = "Request already declined", "Nothing else needs doing.", "done"
	case req.Status == domain.RequestExpired || link.State(now) == domain.LinkExpired:
		p.Title, p.Message, p.Tone = "This request has expired", "Nothing was changed. The organization may ask again.", "error"
	case link.State(now) == domain.LinkSuperseded:
		p.Title, p.Message, p.Tone = "This link is no longer valid", "A newer email was sent about this request: use the link in the latest one.", "error"
	case link.State(now) == domain.LinkUsed:
		p.Title, p.Message, p.Tone = "This link was already used", "Nothing was changed.", "error"
	default:
		p.Title, p.Ask = org.FriendlyName+" asks to "+verb+" "+req.AccountName, true
	}
	return linkContext{link: link, req: &req, page: p}, true
}

// answerRequest carries the owner's answer to the request's workflow and
// shows the outcome.
func (s *server) answerRequest(c *gin.Context, lc linkContext, accept bool) {
	actor := domain.Actor{UserSid: lc.req.OwnerSid, SourceIP: c.ClientIP(), RequestID: edge.RequestID(c)}
	_, err := s.workflows.AnswerAccountRequest(c.Request.Context(), lc.req.Kind, lc.req.Sid, workflows.AnswerRequest{LinkVersion: lc.link.Version, Accept: accept, Actor: actor})
	if err != nil {
		if domain.ErrorKind(err) == domain.EConflict {
			s.refuse(c, lc, "This request can no longer be answered", domain.ErrorMessage(err)+". Nothing was changed.")
			return
		}
		_ = c.Error(err)
		return
	}
	p := lc.page
	p.Ask, p.Tone = false, "done"
	switch {
	case !accept:
		p.Title, p.Message = "Request declined", "You declined. The account stays as it was."
	case lc.req.Kind == domain.RequestImport:
		p.Title, p.Message = "Account imported", "The account "+p.Account+" is now managed by "+p.Organization+"."
	default:
		p.Title, p.Message = "Account shared", "The account "+p.Account+" is now shared with "+p.Organization+"."
	}
	renderPage(c, http.StatusOK, p)
}
