package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// registerDomains adds the routes of the organization's verified domains.
func (s *server) registerDomains(org *gin.RouterGroup) {
	org.GET("/Domains", s.listDomains)
	org.POST("/Domains", s.addDomain)
	org.GET("/Domains/:domain", s.getDomain)
	org.DELETE("/Domains/:domain", s.deleteDomain)
}

// txtRecordJSON is the record to publish to verify a domain.
type txtRecordJSON struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
}

// domainJSON is a domain on the wire.
type domainJSON struct {
	Sid                string        `json:"sid"`
	OrganizationSid    string        `json:"organization_sid"`
	DomainName         string        `json:"domain_name"`
	Status             string        `json:"status"`
	VerificationToken  string        `json:"verification_token"`
	TXTRecord          txtRecordJSON `json:"txt_record"`
	DateCreated        string        `json:"date_created"`
	DateVerified       *string       `json:"date_verified"`
	DateLastChecked    *string       `json:"date_last_checked"`
	RecordMissingSince *string       `json:"record_missing_since"`
	RemovalDate        *string       `json:"removal_date"`
	URL                string        `json:"url"`
}

func (s *server) domainURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Domains/" + sid
}

func (s *server) renderDomain(d domain.VerifiedDomain) domainJSON {
	return domainJSON{
		Sid: d.Sid, OrganizationSid: d.OrganizationSid, DomainName: d.DomainName, Status: d.Status,
		VerificationToken: d.VerificationToken,
		TXTRecord:         txtRecordJSON{Name: d.RecordName(), Type: "TXT", Value: d.RecordValue()},
		DateCreated:       rfc3339(d.DateCreated), DateVerified: optTime(d.DateVerified), DateLastChecked: optTime(d.LastCheckedAt),
		RecordMissingSince: optTime(d.MissingSince), RemovalDate: optTime(d.RemoveAfter), URL: s.domainURL(d.OrganizationSid, d.Sid),
	}
}

type addDomainRequest struct {
	DomainName string `json:"domain_name"`
}

// addDomain starts verifying a domain: 201 with the record to publish. A
// domain the organization already has pending or verified answers 200 with
// that one; a failed or removed one is added anew.
func (s *server) addDomain(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	var req addDomainRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.CheckDomainName("domain_name", req.DomainName); err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	if v, err := s.store.FindVerifiedDomain(ctx, req.DomainName); err == nil && v.OrganizationSid != p.OrganizationSid {
		_ = c.Error(domain.DomainTakenError(req.DomainName))
		return
	} else if err != nil && domain.ErrorCode(err) != domain.CodeDomainNotFound {
		_ = c.Error(err)
		return
	}
	existing := func() bool {
		d, err := s.store.FindLiveDomain(ctx, p.OrganizationSid, req.DomainName)
		if err != nil {
			return false
		}
		c.Header("Location", s.domainURL(d.OrganizationSid, d.Sid))
		c.PureJSON(http.StatusOK, s.renderDomain(d))
		return true
	}
	if existing() {
		return
	}
	d := domain.VerifiedDomain{
		Sid: s.newSID(c, domain.PrefixDomain), OrganizationSid: p.OrganizationSid, DomainName: req.DomainName,
		VerificationToken: domain.NewSecret(32),
	}
	err := s.store.CreateDomain(ctx, d, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventDomainCreated, d.Sid,
		map[string]any{"domain_name": d.DomainName}))
	if domain.ErrorCode(err) == domain.CodeInvalidState && existing() {
		return // added by a concurrent request
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	started, err := s.workflows.StartDomainVerification(ctx, workflows.DomainVerificationInput{
		OrganizationSid: p.OrganizationSid, DomainSid: d.Sid, DomainName: d.DomainName, Timings: s.domainTimings, Actor: p.Actor(),
	})
	if err != nil {
		_ = s.store.DeleteDomain(ctx, p.OrganizationSid, d.Sid, domain.AuditEvent{})
		_ = c.Error(err)
		return
	}
	s.workflowStarted(c, "DomainVerificationWorkflow", started)
	stored, err := s.store.FindDomain(ctx, p.OrganizationSid, d.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	body := s.renderDomain(stored)
	c.Header("Location", body.URL)
	c.PureJSON(http.StatusCreated, body)
}

// Reads are open to every user of the organization: the records are
// public in DNS anyway.
func (s *server) listDomains(c *gin.Context) {
	page, err := pageRequest(c, domain.PrefixDomain, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	items, err := s.store.ListDomains(c.Request.Context(), domain.DomainFilter{OrganizationSid: principal(c).OrganizationSid, Page: page})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(d domain.VerifiedDomain) string { return d.Sid }, s.renderDomain))
}

func (s *server) domain(c *gin.Context) (domain.VerifiedDomain, error) {
	sid, err := sidParam(c, "domain", domain.PrefixDomain)
	if err != nil {
		return domain.VerifiedDomain{}, err
	}
	return s.store.FindDomain(c.Request.Context(), principal(c).OrganizationSid, sid)
}

func (s *server) getDomain(c *gin.Context) {
	d, err := s.domain(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderDomain(d))
}

// deleteDomain removes a domain and ends its verification. The
// organization's last verified domain stays (25314): its managed users and
// imports depend on it.
func (s *server) deleteDomain(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	d, err := s.domain(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	if err := s.store.DeleteDomain(ctx, p.OrganizationSid, d.Sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventDomainDeleted, d.Sid,
		map[string]any{"domain_name": d.DomainName, "status": d.Status})); err != nil {
		_ = c.Error(err)
		return
	}
	// The domain is gone: should the cancellation not get through, the
	// workflow ends by itself at its next check.
	if err := s.workflows.CancelDomainVerification(ctx, d.Sid); err != nil {
		s.log.WarnContext(ctx, "cancelling a domain verification", "request_id", requestID(c), "DomainSid", d.Sid, "error", err)
	}
	c.Status(http.StatusNoContent)
}
