package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// The Organization section: verified domains, managed users, audit events
// and settings. The services keep it to organization Owners and
// Administrators.

func (h *Handlers) registerOrganization(g gin.IRoutes) {
	g.GET("/organization", func(c *gin.Context) { see(c, Prefix+"/organization/domains") })
	g.GET("/organization/domains", h.domains)
	g.POST("/organization/domains", h.addDomain)
	g.POST("/organization/domains/:domain/delete", h.deleteDomain)
	g.GET("/organization/users", h.managedUsers)
	g.GET("/organization/events", h.events)
	g.GET("/organization/settings", h.settings)
	g.POST("/organization/settings", h.saveSettings)
	g.POST("/organization/sso", h.saveSSO)
	g.POST("/organization/sso/delete", h.deleteSSO)
	g.GET("/organization/keys", h.keys)
	g.POST("/organization/keys", h.createKey)
	g.POST("/organization/keys/:key/revoke", h.revokeKey)
}

// domainsPage is the verified domains page.
type domainsPage struct {
	Domains    []domain.VerifiedDomain
	Next, Prev string
}

func (h *Handlers) domains(c *gin.Context) {
	v := view{Title: "Verified domains", Section: "organization", Notice: domainNotices[c.Query("done")]}
	req, err := pageRequest(c, domain.PrefixDomain)
	if err != nil {
		h.problem(c, err, Prefix+"/organization/domains")
		return
	}
	out, err := h.services.Domains.List(c.Request.Context(), edge.Principal(c), req)
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	d := domainsPage{Domains: out.Items}
	d.Next, d.Prev = pageLinks(c, out, func(d domain.VerifiedDomain) string { return d.Sid })
	v.D = d
	h.render(c, http.StatusOK, "org-domains", v)
}

var domainNotices = map[string]string{
	"added":   "Domain added: publish its TXT record; it is checked until it is found.",
	"removed": "Domain removed.",
}

// addDomain starts verifying a domain.
func (h *Handlers) addDomain(c *gin.Context) {
	if _, err := h.services.Domains.Add(c.Request.Context(), edge.Principal(c), strings.TrimSpace(c.PostForm("domain_name"))); err != nil {
		h.problem(c, err, Prefix+"/organization/domains")
		return
	}
	see(c, Prefix+"/organization/domains?done=added")
}

// deleteDomain removes a domain.
func (h *Handlers) deleteDomain(c *gin.Context) {
	if err := h.services.Domains.Delete(c.Request.Context(), edge.Principal(c), c.Param("domain")); err != nil {
		h.problem(c, err, Prefix+"/organization/domains")
		return
	}
	see(c, Prefix+"/organization/domains?done=removed")
}

// usersPage is the organization's users, a page at a time.
type usersPage struct {
	Users      []domain.User
	Total      int
	Next, Prev string
}

func (h *Handlers) managedUsers(c *gin.Context) {
	start := c.DefaultQuery("start", "1")
	out, err := h.services.Directory.Users(c.Request.Context(), edge.Principal(c), lifecycle.UserQuery{
		StartIndex: start, Count: "50",
	})
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	d := usersPage{Users: out.Users, Total: out.TotalResults}
	if end := out.StartIndex - 1 + len(out.Users); end < out.TotalResults {
		d.Next = Prefix + "/organization/users?start=" + strconv.Itoa(end+1)
	}
	if out.StartIndex > 1 {
		d.Prev = Prefix + "/organization/users?start=" + strconv.Itoa(max(1, out.StartIndex-50))
	}
	h.render(c, http.StatusOK, "org-users", view{Title: "Managed users", Section: "organization", D: d})
}

// eventsPage is the audit log with its filters.
type eventsPage struct {
	Events     []domain.AuditEvent
	Next, Prev string
}

func (h *Handlers) events(c *gin.Context) {
	v := view{Title: "Audit events", Section: "organization", Form: c.Request.URL.Query()}
	f := domain.EventFilter{Actor: strings.TrimSpace(c.Query("actor")), ResourceSid: strings.TrimSpace(c.Query("resource")), Type: strings.TrimSpace(c.Query("type"))}
	var err error
	for _, q := range []struct {
		name string
		dst  **time.Time
	}{{"start", &f.Start}, {"end", &f.End}} {
		if raw := c.Query(q.name); raw != "" && err == nil {
			t, perr := time.Parse("2006-01-02", raw)
			if perr != nil {
				err = domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "dates are YYYY-MM-DD")
				continue
			}
			if q.name == "end" {
				t = t.Add(24 * time.Hour)
			}
			*q.dst = &t
		}
	}
	d := eventsPage{}
	if err == nil {
		if f.Page, err = pageRequest(c, domain.PrefixEvent); err == nil {
			var out domain.Page[domain.AuditEvent]
			if out, err = h.services.Organizations.Events(c.Request.Context(), edge.Principal(c), f); err == nil {
				d.Events = out.Items
				d.Next, d.Prev = pageLinks(c, out, func(e domain.AuditEvent) string { return e.Sid })
			}
		}
	}
	v.D = d
	if err != nil {
		h.badFilter(c, err, "org-events", "filter", v)
		return
	}
	h.render(c, http.StatusOK, "org-events", v)
}

// settingsPage is the organization's settings: its facts, and for its
// Owners and Administrators the organization-wide two-factor requirement
// and single sign-on.
type settingsPage struct {
	Org domain.Organization
	// SSO is the identity provider (nil: none).
	SSO *domain.SSOProvider
	// RedirectURL is the redirect URI to register at the provider.
	RedirectURL string
}

var settingsNotices = map[string]string{
	"saved":       "Settings saved.",
	"sso":         "Single sign-on saved.",
	"sso-removed": "Single sign-on removed: managed users sign in with their passwords again.",
}

func (h *Handlers) settings(c *gin.Context) {
	d, err := h.settingsData(c)
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.render(c, http.StatusOK, "org-settings", view{Title: "Organization settings", Section: "organization", Notice: settingsNotices[c.Query("done")], D: d})
}

// settingsData reads what the settings page shows: the single sign-on
// settings only for those who may change them.
func (h *Handlers) settingsData(c *gin.Context) (settingsPage, error) {
	p := edge.Principal(c)
	org, err := h.services.Organizations.Get(c.Request.Context(), p)
	if err != nil {
		return settingsPage{}, err
	}
	d := settingsPage{Org: org, RedirectURL: h.services.SSO.RedirectURL()}
	if !p.IsOrgAdmin() {
		return d, nil
	}
	prov, err := h.services.SSO.Settings(c.Request.Context(), p)
	switch {
	case err == nil:
		d.SSO = &prov
	case domain.ErrorCode(err) != domain.CodeSSONotConfigured:
		return settingsPage{}, err
	}
	return d, nil
}

// settingsRefused shows the settings page again with a refusal next to
// field.
func (h *Handlers) settingsRefused(c *gin.Context, err error, field string) {
	d, derr := h.settingsData(c)
	if derr != nil || domain.ErrorKind(err) == domain.EForbidden {
		h.problem(c, err, Prefix+"/organization/settings")
		return
	}
	h.failed(c, err, "org-settings", field, view{Title: "Organization settings", Section: "organization", D: d})
}

// saveSettings applies the organization-wide two-factor requirement.
func (h *Handlers) saveSettings(c *gin.Context) {
	require2FA := c.PostForm("require_2fa") == "on"
	if _, err := h.services.Organizations.Update(c.Request.Context(), edge.Principal(c), &require2FA); err != nil {
		h.settingsRefused(c, err, "require_2fa")
		return
	}
	see(c, Prefix+"/organization/settings?done=saved")
}

// saveSSO sets the identity provider; an empty secret keeps the stored
// one.
func (h *Handlers) saveSSO(c *gin.Context) {
	set := domain.SSOSettings{
		Issuer: strings.TrimSpace(c.PostForm("issuer")), ClientID: strings.TrimSpace(c.PostForm("client_id")),
		ClientSecret: domain.Secret(c.PostForm("client_secret")), Required: c.PostForm("sso_required") == "on",
	}
	if _, err := h.services.SSO.Configure(c.Request.Context(), edge.Principal(c), set); err != nil {
		h.settingsRefused(c, err, "sso")
		return
	}
	see(c, Prefix+"/organization/settings?done=sso")
}

// deleteSSO removes the identity provider.
func (h *Handlers) deleteSSO(c *gin.Context) {
	if err := h.services.SSO.Remove(c.Request.Context(), edge.Principal(c)); err != nil {
		h.problem(c, err, Prefix+"/organization/settings")
		return
	}
	see(c, Prefix+"/organization/settings?done=sso-removed")
}
