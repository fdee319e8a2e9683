package signin

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// keySSOFlow holds the sign-in under way at the organization's provider
// (domain.SSOFlow as JSON): state, nonce and PKCE verifier, single use.
const keySSOFlow = "sso_flow"

// registerSSO adds single sign-on through the organization's OpenID
// Connect provider: the page that asks for the email, and the callback.
func (h *Handlers) registerSSO(public gin.IRoutes) {
	public.GET("/sso", h.startSSO)
	public.GET("/sso/callback", h.ssoCallback)
}

// ssoPage is what the SSO templates read.
type ssoPage struct {
	page
	Organization string
}

// startSSO shows the form asking for an email; with an email (or an
// organization) it sends the browser to the organization's provider, the
// flow's secrets kept in the session.
func (h *Handlers) startSSO(c *gin.Context) {
	ctx := c.Request.Context()
	email, asked := c.GetQuery("email")
	p := ssoPage{page: page{Title: "Sign in with SSO", Email: email, Next: safeNext(c.Query("next"))}, Organization: c.Query("organization")}
	if !asked && p.Organization == "" {
		renderSSO(c, http.StatusOK, "sso.html", p)
		return
	}
	started, err := h.services.SSO.Begin(ctx, lifecycle.SSOBegin{Email: p.Email, OrganizationSid: p.Organization, Next: p.Next})
	if err != nil {
		var status int
		status, p.Problem, p.Field = problemOf(c, err)
		if status == http.StatusInternalServerError {
			return
		}
		p.Field = "email"
		renderSSO(c, status, "sso.html", p)
		return
	}
	flow, err := json.Marshal(started.Flow)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.sessions.Put(ctx, keySSOFlow, string(flow))
	c.Redirect(http.StatusSeeOther, started.AuthURL)
}

// ssoCallback completes the sign-in the provider sends the browser back
// from. The flow leaves the session first, whatever the outcome: a
// callback is answered once.
func (h *Handlers) ssoCallback(c *gin.Context) {
	ctx := c.Request.Context()
	var flow *domain.SSOFlow
	if raw := h.sessions.PopString(ctx, keySSOFlow); raw != "" {
		var f domain.SSOFlow
		if err := json.Unmarshal([]byte(raw), &f); err == nil {
			flow = &f
		}
	}
	q := c.Request.URL.Query()
	u, err := h.services.SSO.Complete(ctx, lifecycle.SSOCallback{
		Flow: flow, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), Client: source(c),
	})
	if err != nil {
		p := ssoPage{page: page{Title: "Single sign-on did not work"}}
		var status int
		status, p.Problem, _ = problemOf(c, err)
		if status == http.StatusInternalServerError {
			return
		}
		renderSSO(c, status, "sso_failed.html", p)
		return
	}
	next := "/console"
	if flow != nil {
		next = flow.Next
	}
	if err := h.establish(c, u, domain.SSOMethod, next); err != nil {
		_ = c.Error(err)
	}
}

func renderSSO(c *gin.Context, status int, name string, p ssoPage) {
	if name == "sso.html" {
		c.Header("Content-Security-Policy", edge.SSOFormPolicy)
	}
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, name, p); err != nil {
		_ = c.Error(err)
	}
}
