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

func (h *Handlers) settings(c *gin.Context) {
	org, err := h.services.Organizations.Get(c.Request.Context(), edge.Principal(c))
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.render(c, http.StatusOK, "org-settings", view{Title: "Organization settings", Section: "organization", D: org})
}
