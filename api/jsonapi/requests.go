package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

func (s *Handlers) requestURL(r domain.AccountRequest) string {
	return s.baseURL + "/Organizations/" + r.OrganizationSid + "/PendingAccounts/" + r.Sid
}

// renderRequest is an import or share request on the wire (the Pending
// accounts tab); grants is [] when there are none.
func (s *Handlers) renderRequest(out lifecycle.PendingAccount) wire.AccountRequest {
	r := out.Request
	grants := make([]wire.Grant, len(r.Grants))
	for i, g := range r.Grants {
		grants[i] = wire.Grant{Identity: g.Identity, Roles: g.Roles}
	}
	return wire.AccountRequest{
		Sid: r.Sid, Kind: wire.AccountRequestKind(r.Kind), AccountSid: r.AccountSid, AccountName: r.AccountName,
		Status: wire.AccountRequestStatus(r.Status), RequestedBy: r.RequesterSid,
		OwnerSid: r.OwnerSid, OwnerEmail: r.OwnerEmail, Grants: grants, SentCount: r.SentCount, DateReminded: edge.OptTime(r.RemindedAt),
		DateCreated: edge.RFC3339(r.DateCreated), ExpiresAt: edge.RFC3339(r.ExpiresAt), DateEnded: edge.OptTime(r.DateEnded),
		WorkflowID: out.Run.WorkflowID, URL: s.requestURL(r),
	}
}

// renderPending answers with a request just started (201 and its
// Location).
func (s *Handlers) renderPending(c *gin.Context, typ string, out lifecycle.PendingAccount) {
	s.workflowStarted(c, typ, out.Run)
	body := s.renderRequest(out)
	c.Header("Location", body.URL)
	c.PureJSON(http.StatusCreated, body)
}

func (s *Handlers) importAccount(c *gin.Context) {
	var req wire.ImportAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Requests.Import(c.Request.Context(), edge.Principal(c), lifecycle.ImportAccount{AccountSid: req.AccountSid})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderPending(c, "ImportAccountWorkflow", out)
}

func (s *Handlers) shareAccount(c *gin.Context) {
	var req wire.ShareAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	var grants []domain.Grant
	if req.Grants != nil {
		grants = make([]domain.Grant, len(req.Grants))
		for i, g := range req.Grants {
			grants[i] = domain.Grant{Identity: g.Identity, Roles: g.Roles}
		}
	}
	out, err := s.services.Requests.Share(c.Request.Context(), edge.Principal(c), lifecycle.ShareAccount{AccountSid: req.AccountSid, Grants: grants})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.renderPending(c, "ShareAccountWorkflow", out)
}

func (s *Handlers) getPendingAccount(c *gin.Context) {
	out, err := s.services.Requests.Get(c.Request.Context(), edge.Principal(c), c.Param("request"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderRequest(out))
}

func (s *Handlers) cancelRequest(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		out, err := s.services.Requests.Cancel(c.Request.Context(), edge.Principal(c), kind, c.Param("request"))
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusOK, s.renderRequest(out))
	}
}

// optQuery is a query parameter, nil when absent.
func optQuery(c *gin.Context, name string) *string {
	if v, ok := c.GetQuery(name); ok {
		return &v
	}
	return nil
}

func (s *Handlers) listPendingAccounts(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixAccountRequest, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Requests.List(c.Request.Context(), edge.Principal(c), lifecycle.ListRequests{
		Status: optQuery(c, "Status"), Kind: optQuery(c, "Kind"), Page: page,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(r lifecycle.PendingAccount) string { return r.Request.Sid }, s.renderRequest)
	c.PureJSON(http.StatusOK, wire.AccountRequestPage{Content: content, Meta: meta})
}

// relinquish implements POST …/Accounts/{AC}/Relinquish: the organization's
// access to an independent account ends at once; the owner is told.
func (s *Handlers) relinquish(c *gin.Context) {
	p := edge.Principal(c)
	out, err := s.services.Requests.Relinquish(c.Request.Context(), p, c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.workflowStarted(c, "RelinquishAccountWorkflow", out.Run)
	a := out.Account
	c.PureJSON(http.StatusOK, wire.Relinquishment{
		AccountSid: a.Sid, OrganizationSid: p.OrganizationSid, Status: wire.RelinquishmentStatusRelinquished,
		DateRelinquished: edge.RFC3339(a.DateUpdated), OwnerSid: a.OwnerSid,
	})
}
