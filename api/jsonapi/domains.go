package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// registerDomains adds the routes of the organization's verified domains.
func (s *Handlers) registerDomains(org *gin.RouterGroup) {
	org.GET("/Domains", s.listDomains)
	org.POST("/Domains", s.addDomain)
	org.GET("/Domains/:domain", s.getDomain)
	org.DELETE("/Domains/:domain", s.deleteDomain)
}

func (s *Handlers) domainURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Domains/" + sid
}

// renderDomain is a domain on the wire, with the TXT record to publish to
// verify it.
func (s *Handlers) renderDomain(d domain.VerifiedDomain) wire.Domain {
	return wire.Domain{
		Sid: d.Sid, OrganizationSid: d.OrganizationSid, DomainName: d.DomainName, Status: wire.DomainStatus(d.Status),
		VerificationToken: d.VerificationToken,
		TXTRecord:         wire.TXTRecord{Name: d.RecordName(), Type: wire.DomainTXTRecordTypeTXT, Value: d.RecordValue()},
		DateCreated:       edge.RFC3339(d.DateCreated), DateVerified: edge.OptTime(d.DateVerified), DateLastChecked: edge.OptTime(d.LastCheckedAt),
		RecordMissingSince: edge.OptTime(d.MissingSince), RemovalDate: edge.OptTime(d.RemoveAfter), URL: s.domainURL(d.OrganizationSid, d.Sid),
	}
}

// addDomain starts verifying a domain: 201 with the record to publish. A
// domain the organization already has pending or verified answers 200 with
// that one; a failed or removed one is added anew.
func (s *Handlers) addDomain(c *gin.Context) {
	var req wire.AddDomainRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Domains.Add(c.Request.Context(), edge.Principal(c), req.DomainName)
	if err != nil {
		_ = c.Error(err)
		return
	}
	status := http.StatusOK
	if out.Created {
		status = http.StatusCreated
		s.workflowStarted(c, "DomainVerificationWorkflow", out.Run)
	}
	body := s.renderDomain(out.Domain)
	c.Header("Location", body.URL)
	c.PureJSON(status, body)
}

func (s *Handlers) listDomains(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixDomain, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Domains.List(c.Request.Context(), edge.Principal(c), page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(d domain.VerifiedDomain) string { return d.Sid }, s.renderDomain)
	c.PureJSON(http.StatusOK, wire.DomainPage{Content: content, Meta: meta})
}

func (s *Handlers) getDomain(c *gin.Context) {
	d, err := s.services.Domains.Get(c.Request.Context(), edge.Principal(c), c.Param("domain"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderDomain(d))
}

// deleteDomain removes a domain and ends its verification.
func (s *Handlers) deleteDomain(c *gin.Context) {
	if err := s.services.Domains.Delete(c.Request.Context(), edge.Principal(c), c.Param("domain")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
