// Package pages is the browser edge: today the emailed confirmation pages
// (invitations, imports, shares). A GET never changes anything; the
// page's CSRF-protected POST answers, through the confirmations service.
package pages

import (
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// The confirmation pages: what an emailed link (an invitation, or an
// import or share request) opens. The confirmations service decides
// everything (what the link is about, its state, whether two-factor
// enrolment comes first); this file only words it.

//go:embed *.html
var pageFiles embed.FS

var pageTemplates = template.Must(template.ParseFS(pageFiles, "*.html"))

// Handlers serve the pages.
type Handlers struct {
	services *lifecycle.Services
	baseURL  string
}

// New returns the pages' handlers.
func New(services *lifecycle.Services, baseURL string) *Handlers {
	return &Handlers{services: services, baseURL: baseURL}
}

// Register adds the confirmation pages, reached from emailed links
// without credentials.
func (s *Handlers) Register(r gin.IRoutes) {
	r.GET("/confirm/:token", s.showConfirm)
	r.POST("/confirm/:token", s.answerConfirm)
}

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

func notFromThePage(c *gin.Context) {
	renderPage(c, http.StatusForbidden, confirmPage{Title: "Please use the buttons on the page", Tone: "error",
		Message: "This answer did not come from the confirmation page (or the page is too old). Open the link again. Nothing was changed."})
}

// linkFailed writes what a failed look-up of a link shows: the invalid
// link page, or the error.
func linkFailed(c *gin.Context, err error) {
	if domain.ErrorKind(err) == domain.ENotFound {
		invalidLink(c)
		return
	}
	_ = c.Error(err)
}

// pageOf words a confirmation as its page: what it is about, and what it
// may offer in its state.
func pageOf(conf domain.Confirmation, token string) confirmPage {
	p := confirmPage{Token: token, Organization: conf.OrganizationName, Account: conf.AccountName, Ask: conf.Askable()}
	asker := conf.Asker
	if asker == "" {
		asker = "an administrator"
	}
	if conf.Kind == domain.LinkInvitation {
		p.Invitation, p.Roles, p.Inviter, p.Invitee = true, strings.Join(roleNames(conf.Roles), ", "), asker, conf.Recipient
		p.Need2FA = p.Ask && conf.Need2FA
	} else {
		grants := make([]string, len(conf.Grants))
		for i, g := range conf.Grants {
			grants[i] = g.Who + " as " + strings.Join(roleNames(g.Roles), " and ")
		}
		p.Request, p.Kind, p.AccountSid, p.Requester, p.Owner = true, requestVerb(conf.Kind), conf.AccountSid, asker, conf.Recipient
		p.Grants, p.Expires = strings.Join(grants, "; "), conf.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST")
		if conf.Kind == domain.LinkImport {
			p.AcceptLabel = "Confirm import"
			p.Effect = conf.OrganizationName + " will manage this account and you will become a managed user of the organization. You stay the account's owner."
		} else {
			p.AcceptLabel = "Accept and share"
			p.Effect = "People of " + conf.OrganizationName + " get access to this account. You stay its owner, and the organization can give up its access at any time."
		}
	}
	if p.Ask {
		if p.Invitation {
			p.Title = "You are invited to " + conf.AccountName
		} else {
			p.Title = conf.OrganizationName + " asks to " + p.Kind + " " + conf.AccountName
		}
		return p
	}
	p.Title, p.Message, p.Tone = stateWords(conf)
	return p
}

// requestVerb is what a request asks to do with the account.
func requestVerb(kind string) string {
	if kind == domain.LinkImport {
		return "import"
	}
	return "share"
}

// stateWords says why a link takes no answer.
func stateWords(conf domain.Confirmation) (title, message, tone string) {
	invitation := conf.Kind == domain.LinkInvitation
	switch conf.State {
	case domain.ConfirmRevoked:
		if invitation && conf.AccountLeft {
			return "This invitation was withdrawn", conf.OrganizationName + " gave up its access to the account " + conf.AccountName +
				", and the invitation ended with it. Nothing was changed.", "error"
		}
		if invitation {
			return "This invitation was revoked", "An administrator withdrew it. Nothing was changed.", "error"
		}
		return "This request was cancelled", "The organization withdrew it. Nothing was changed.", "error"
	case domain.ConfirmAccepted:
		if invitation {
			return "Invitation already accepted", "You have access to the account already.", "done"
		}
		return "Request already answered", "You accepted it: the account is with " + conf.OrganizationName + " already.", "done"
	case domain.ConfirmDeclined:
		if invitation {
			return "Invitation already declined", "Nothing else needs doing.", "done"
		}
		return "Request already declined", "Nothing else needs doing.", "done"
	case domain.ConfirmExpired:
		if invitation {
			return "This invitation has expired", "Ask the person who invited you to send it again.", "error"
		}
		return "This request has expired", "Nothing was changed. The organization may ask again.", "error"
	case domain.ConfirmSuperseded:
		if invitation {
			return "This link is no longer valid", "A newer invitation was sent: use the link in the latest email.", "error"
		}
		return "This link is no longer valid", "A newer email was sent about this request: use the link in the latest one.", "error"
	}
	return "This link was already used", "Nothing was changed.", "error"
}

// answeredWords says what an answer just did.
func answeredWords(conf domain.Confirmation, p confirmPage) (title, message string) {
	accepted := conf.State == domain.ConfirmAccepted
	switch {
	case conf.Kind == domain.LinkInvitation && accepted:
		return "Welcome to " + conf.AccountName, "You now have access to the account as " + p.Roles + "."
	case conf.Kind == domain.LinkInvitation:
		return "Invitation declined", "You declined the invitation. Nothing else changes."
	case !accepted:
		return "Request declined", "You declined. The account stays as it was."
	case conf.Kind == domain.LinkImport:
		return "Account imported", "The account " + conf.AccountName + " is now managed by " + conf.OrganizationName + "."
	}
	return "Account shared", "The account " + conf.AccountName + " is now shared with " + conf.OrganizationName + "."
}

// csrf returns the page's CSRF token, setting the cookie the first time:
// a form posted from anywhere but our page lacks the matching cookie.
func (s *Handlers) csrf(c *gin.Context) string {
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

// pageActor is whoever holds the link, as the audit events name them (the
// service names the user).
func pageActor(c *gin.Context) domain.Actor {
	return domain.Actor{SourceIP: c.ClientIP(), RequestID: edge.RequestID(c)}
}

// showConfirm implements GET /confirm/{token}. It never changes anything:
// mail scanners that prefetch links confirm nothing.
func (s *Handlers) showConfirm(c *gin.Context) {
	token := c.Param("token")
	conf, err := s.services.Confirmations.View(c.Request.Context(), token)
	if err != nil {
		linkFailed(c, err)
		return
	}
	p := pageOf(conf, token)
	if p.Ask {
		p.CSRF = s.csrf(c)
	}
	renderPage(c, http.StatusOK, p)
}

// postedFromThePage reads the link of a page POST: an invalid link is
// said first, then a form that did not come from the page (no matching
// CSRF token). ok is false when it has answered already.
func (s *Handlers) postedFromThePage(c *gin.Context) (token string, ok bool) {
	token = c.Param("token")
	if _, err := s.services.Confirmations.View(c.Request.Context(), token); err != nil {
		linkFailed(c, err)
		return token, false
	}
	if !checkCSRF(c) {
		notFromThePage(c)
		return token, false
	}
	return token, true
}

// answerConfirm implements POST /confirm/{token} from the page's buttons.
func (s *Handlers) answerConfirm(c *gin.Context) {
	token, ok := s.postedFromThePage(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	action := c.PostForm("action")
	if action != "accept" && action != "decline" {
		renderPage(c, http.StatusBadRequest, confirmPage{Title: "Unknown answer", Tone: "error", Message: "Use the buttons on the page. Nothing was changed."})
		return
	}
	conf, err := s.services.Confirmations.Answer(ctx, token, action == "accept", pageActor(c))
	p := pageOf(conf, token)
	switch {
	case err == nil:
		p.Title, p.Message = answeredWords(conf, p)
		p.Ask, p.Need2FA, p.Tone = false, false, "done"
		renderPage(c, http.StatusOK, p)
	case domain.ErrorKind(err) == domain.ENotFound:
		linkFailed(c, err)
	case domain.ErrorKind(err) != domain.EConflict:
		_ = c.Error(err)
	case !conf.Askable():
		// Answered, withdrawn, expired or superseded: the page says so.
		p.Tone = "error"
		renderPage(c, http.StatusConflict, p)
	case action == "accept" && conf.Need2FA:
		// The refusal says what to do; the page leads to the enrolment.
		p.CSRF = s.csrf(c)
		p.Message, p.Tone = edge.Sentence(domain.ErrorMessage(err)), "error"
		renderPage(c, http.StatusConflict, p)
	default:
		p.Title = "This link is no longer valid"
		if p.Request {
			p.Title = "This request can no longer be answered"
		}
		p.Message, p.Tone, p.Ask, p.Need2FA = edge.Sentence(domain.ErrorMessage(err))+" Nothing was changed.", "error", false, false
		renderPage(c, http.StatusConflict, p)
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
