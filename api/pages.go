package api

import (
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

//go:embed pages/*.html
var pageFiles embed.FS

var pageTemplates = template.Must(template.ParseFS(pageFiles, "pages/*.html"))

// confirmPage is what a confirmation page shows.
type confirmPage struct {
	Title, Message, Tone                           string
	Invitation                                     bool
	Organization, Account, Roles, Inviter, Invitee string
	Ask, Need2FA                                   bool
	Token, CSRF                                    string
	// An import or share request: what it asks, and the buttons' words.
	Request                                    bool
	Kind, AccountSid, Requester, Owner, Grants string
	Effect, Expires, AcceptLabel               string
}

const csrfCookie = "orgaccounts_csrf"

// renderPage writes a page with headers that keep the token in the URL
// private (no referrer, no caching, no framing).
func renderPage(c *gin.Context, status int, p confirmPage) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Frame-Options", "DENY")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplates.ExecuteTemplate(c.Writer, "confirm.html", p)
}

func invalidLink(c *gin.Context) {
	renderPage(c, http.StatusNotFound, confirmPage{Title: "This link is not valid", Tone: "error",
		Message: "Check that you opened the whole link from the email. Nothing was changed."})
}

// linkContext is a link with what it is about.
type linkContext struct {
	link    domain.ConfirmationLink
	inv     domain.Invitation
	acct    domain.Account
	page    confirmPage
	invitee domain.User // zero when the invitee has no user yet
	// req is set for an import or share link instead of inv.
	req *domain.AccountRequest
}

// loadLink finds the link of the token in the path and what it is about,
// and decides what the page may offer. ok is false when it wrote a page
// already.
func (s *server) loadLink(c *gin.Context) (lc linkContext, ok bool) {
	token := c.Param("token")
	if !domain.ValidSecret(token) {
		invalidLink(c)
		return lc, false
	}
	ctx := c.Request.Context()
	link, err := s.store.FindLink(ctx, domain.HashSecret(token))
	if err == nil && (link.Kind == domain.LinkImport || link.Kind == domain.LinkShare) {
		return s.loadRequestLink(c, token, link)
	}
	if err != nil || link.Kind != domain.LinkInvitation {
		if err != nil && domain.ErrorKind(err) != domain.ENotFound {
			_ = c.Error(err)
			return lc, false
		}
		invalidLink(c)
		return lc, false
	}
	inv, err := s.store.FindInvitation(ctx, "", link.SubjectSid)
	if err != nil {
		invalidLink(c)
		return lc, false
	}
	acct, aerr := s.store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
	org, oerr := s.store.FindOrganization(ctx, inv.OrganizationSid)
	if aerr != nil || oerr != nil {
		invalidLink(c)
		return lc, false
	}
	inviter := "an administrator"
	if u, err := s.store.FindUser(ctx, inv.OrganizationSid, inv.InviterSid); err == nil {
		inviter = u.UserName
		if u.DisplayName != "" {
			inviter = u.DisplayName + " (" + u.UserName + ")"
		}
	}
	names := make([]string, len(inv.Roles))
	for i, r := range inv.Roles {
		names[i] = activities.RoleName(r)
	}
	lc = linkContext{link: link, inv: inv, acct: acct, page: confirmPage{
		Invitation: true, Organization: org.FriendlyName, Account: acct.FriendlyName, Roles: strings.Join(names, ", "),
		Inviter: inviter, Invitee: inv.Email, Token: token,
	}}
	if u, err := s.store.FindUserByEmailAnywhere(ctx, inv.Email); err == nil {
		lc.invitee = u
	}
	p := &lc.page
	switch {
	case inv.Status == domain.InvitationRevoked:
		p.Title, p.Message, p.Tone = "This invitation was revoked", "An administrator withdrew it. Nothing was changed.", "error"
	case inv.Status == domain.InvitationAccepted:
		p.Title, p.Message, p.Tone = "Invitation already accepted", "You have access to the account already.", "done"
	case inv.Status == domain.InvitationDeclined:
		p.Title, p.Message, p.Tone = "Invitation already declined", "Nothing else needs doing.", "done"
	case inv.Status == domain.InvitationExpired:
		p.Title, p.Message, p.Tone = "This invitation has expired", "Ask the person who invited you to send it again.", "error"
	case link.State(s.clock.Now()) == domain.LinkSuperseded:
		p.Title, p.Message, p.Tone = "This link is no longer valid", "A newer invitation was sent: use the link in the latest email.", "error"
	case link.State(s.clock.Now()) == domain.LinkUsed:
		p.Title, p.Message, p.Tone = "This link was already used", "Nothing was changed.", "error"
	case link.State(s.clock.Now()) == domain.LinkExpired:
		p.Title, p.Message, p.Tone = "This invitation has expired", "Ask the person who invited you to send it again.", "error"
	default:
		p.Title, p.Ask = "You are invited to "+acct.FriendlyName, true
		p.Need2FA = acct.Require2FA && !lc.invitee.TwoFactorEnrolled
	}
	return lc, true
}

// csrf returns the page's CSRF token, setting the cookie the first time:
// a form posted from anywhere but our page lacks the matching cookie.
func (s *server) csrf(c *gin.Context) string {
	if v, err := c.Cookie(csrfCookie); err == nil && domain.ValidSecret(v) {
		return v
	}
	v := domain.NewSecret(32)
	http.SetCookie(c.Writer, &http.Cookie{Name: csrfCookie, Value: v, Path: "/confirm", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(s.baseURL, "https://")})
	return v
}

func checkCSRF(c *gin.Context) bool {
	cookie, err := c.Cookie(csrfCookie)
	form := c.PostForm("csrf")
	return err == nil && domain.ValidSecret(cookie) && subtle.ConstantTimeCompare([]byte(cookie), []byte(form)) == 1
}

// showConfirm implements GET /confirm/{token}. It never changes anything:
// mail scanners that prefetch links confirm nothing.
func (s *server) showConfirm(c *gin.Context) {
	lc, ok := s.loadLink(c)
	if !ok {
		return
	}
	if lc.page.Ask {
		lc.page.CSRF = s.csrf(c)
	}
	renderPage(c, http.StatusOK, lc.page)
}

func (s *server) refuse(c *gin.Context, lc linkContext, title, msg string) {
	lc.page.Title, lc.page.Message, lc.page.Tone, lc.page.Ask, lc.page.Need2FA = title, msg, "error", false, false
	renderPage(c, http.StatusConflict, lc.page)
}

// answerConfirm implements POST /confirm/{token} from the page's buttons.
func (s *server) answerConfirm(c *gin.Context) {
	lc, ok := s.loadLink(c)
	if !ok {
		return
	}
	if !checkCSRF(c) {
		renderPage(c, http.StatusForbidden, confirmPage{Title: "Please use the buttons on the page", Tone: "error",
			Message: "This answer did not come from the invitation page (or the page is too old). Open the link again. Nothing was changed."})
		return
	}
	if !lc.page.Ask {
		lc.page.Tone = "error"
		renderPage(c, http.StatusConflict, lc.page)
		return
	}
	action := c.PostForm("action")
	if action != "accept" && action != "decline" {
		renderPage(c, http.StatusBadRequest, confirmPage{Title: "Unknown answer", Tone: "error", Message: "Use the buttons on the page. Nothing was changed."})
		return
	}
	if lc.req != nil {
		s.answerRequest(c, lc, action == "accept")
		return
	}
	if action == "accept" && lc.page.Need2FA {
		lc.page.CSRF = s.csrf(c)
		lc.page.Message, lc.page.Tone = "Enrol in two-factor authentication first: the account requires it.", "error"
		renderPage(c, http.StatusConflict, lc.page)
		return
	}
	actor := domain.Actor{UserSid: lc.invitee.Sid, SourceIP: c.ClientIP(), RequestID: edge.RequestID(c)}
	_, err := s.workflows.AnswerInvitation(c.Request.Context(), lc.inv.Sid, workflows.AnswerRequest{LinkVersion: lc.link.Version, Accept: action == "accept", Actor: actor})
	if err != nil {
		if domain.ErrorKind(err) == domain.EConflict {
			s.refuse(c, lc, "This link is no longer valid", domain.ErrorMessage(err)+". Nothing was changed.")
			return
		}
		_ = c.Error(err)
		return
	}
	p := lc.page
	p.Ask, p.Need2FA, p.Tone = false, false, "done"
	if action == "accept" {
		p.Title, p.Message = "Welcome to "+lc.acct.FriendlyName, "You now have access to the account as "+p.Roles+"."
	} else {
		p.Title, p.Message = "Invitation declined", "You declined the invitation. Nothing else changes."
	}
	renderPage(c, http.StatusOK, p)
}

// enrolTwoFactor implements POST /confirm/{token}/two-factor: it stands in
// for a real second-factor enrolment, which is not this service's job.
func (s *server) enrolTwoFactor(c *gin.Context) {
	lc, ok := s.loadLink(c)
	if !ok {
		return
	}
	if !checkCSRF(c) || !lc.page.Ask || lc.req != nil {
		renderPage(c, http.StatusForbidden, confirmPage{Title: "Please use the buttons on the page", Tone: "error", Message: "Open the link again. Nothing was changed."})
		return
	}
	ctx := c.Request.Context()
	u := lc.invitee
	if u.Sid == "" {
		managed, err := s.store.IsVerifiedDomain(ctx, lc.inv.OrganizationSid, domain.EmailDomain(lc.inv.Email))
		if err != nil {
			_ = c.Error(err)
			return
		}
		u = domain.NewInvitee(domain.NewSID(domain.PrefixUser, s.clock.Now()), lc.inv.OrganizationSid, lc.inv.Email, managed)
		err = s.store.CreateUser(ctx, u, domain.NewAuditEvent(domain.Actor{UserSid: u.Sid, SourceIP: c.ClientIP(), RequestID: edge.RequestID(c)},
			lc.inv.OrganizationSid, domain.EventUserCreated, u.Sid, map[string]any{"userName": u.UserName, "managed": managed}))
		if err != nil && domain.ErrorCode(err) != domain.CodeDuplicateUser {
			_ = c.Error(err)
			return
		}
		if u, err = s.store.FindUserByEmailAnywhere(ctx, lc.inv.Email); err != nil {
			_ = c.Error(err)
			return
		}
	}
	if err := s.store.EnrollTwoFactor(ctx, u.Sid); err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/confirm/"+lc.page.Token)
}
