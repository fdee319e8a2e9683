package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// requestJSON is an import or share request on the wire (the Pending
// accounts tab).
type requestJSON struct {
	Sid          string         `json:"sid"`
	Kind         string         `json:"kind"`
	AccountSid   string         `json:"account_sid"`
	AccountName  string         `json:"account_name"`
	Status       string         `json:"status"`
	RequestedBy  string         `json:"requested_by"`
	OwnerSid     string         `json:"owner_sid"`
	OwnerEmail   string         `json:"owner_email"`
	Grants       []domain.Grant `json:"grants"`
	SentCount    int            `json:"sent_count"`
	DateReminded *string        `json:"date_reminded"`
	DateCreated  string         `json:"date_created"`
	ExpiresAt    string         `json:"expires_at"`
	DateEnded    *string        `json:"date_ended"`
	WorkflowID   string         `json:"workflow_id"`
	URL          string         `json:"url"`
}

func (s *Handlers) requestURL(r domain.AccountRequest) string {
	return s.baseURL + "/Organizations/" + r.OrganizationSid + "/PendingAccounts/" + r.Sid
}

func (s *Handlers) renderRequest(out lifecycle.PendingAccount) requestJSON {
	r := out.Request
	grants := r.Grants
	if grants == nil {
		grants = []domain.Grant{}
	}
	return requestJSON{
		Sid: r.Sid, Kind: r.Kind, AccountSid: r.AccountSid, AccountName: r.AccountName, Status: r.Status, RequestedBy: r.RequesterSid,
		OwnerSid: r.OwnerSid, OwnerEmail: r.OwnerEmail, Grants: grants, SentCount: r.SentCount, DateReminded: edge.OptTime(r.RemindedAt),
		DateCreated: edge.RFC3339(r.DateCreated), ExpiresAt: edge.RFC3339(r.ExpiresAt), DateEnded: edge.OptTime(r.DateEnded),
		WorkflowID: out.Run.WorkflowID, URL: s.requestURL(r),
	}
}

type importRequest struct {
	AccountSid string `json:"account_sid"`
}

type shareRequest struct {
	AccountSid string         `json:"account_sid"`
	Grants     []domain.Grant `json:"grants"`
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
	var req importRequest
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
	var req shareRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Requests.Share(c.Request.Context(), edge.Principal(c), lifecycle.ShareAccount{AccountSid: req.AccountSid, Grants: req.Grants})
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
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(r lifecycle.PendingAccount) string { return r.Request.Sid }, s.renderRequest))
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
	c.PureJSON(http.StatusOK, gin.H{
		"account_sid": a.Sid, "organization_sid": p.OrganizationSid, "status": "relinquished",
		"date_relinquished": edge.RFC3339(a.DateUpdated), "owner_sid": a.OwnerSid,
	})
}
