package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// organizationJSON is an organization on the wire.
type organizationJSON struct {
	OrganizationSid string `json:"organization_sid"`
	FriendlyName    string `json:"friendly_name"`
	OwnerSid        string `json:"owner_sid"`
	DateCreated     string `json:"date_created"`
	URL             string `json:"url"`
}

func (s *Handlers) getOrganization(c *gin.Context) {
	org, err := s.services.Organizations.Get(c.Request.Context(), edge.Principal(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, organizationJSON{
		OrganizationSid: org.Sid, FriendlyName: org.FriendlyName, OwnerSid: org.OwnerSid,
		DateCreated: edge.RFC3339(org.DateCreated), URL: s.baseURL + "/Organizations/" + org.Sid,
	})
}

// accountJSON is an account on the wire: the contract's five fields first,
// then ours (clients ignore fields they do not know).
type accountJSON struct {
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
	OwnerSid     string `json:"owner_sid"`
	DateCreated  string `json:"date_created"`
	DateUpdated  string `json:"date_updated"`
	Kind         string `json:"kind"`
	Flex         bool   `json:"flex"`
	Require2FA   bool   `json:"require_2fa"`
	URL          string `json:"url"`
	// A subaccount's parent; a closure's dates while it closes.
	ParentSid            string  `json:"parent_sid,omitempty"`
	DateClosureRequested *string `json:"date_closure_requested,omitempty"`
	DateClosed           *string `json:"date_closed,omitempty"`
	PurgeAfter           *string `json:"purge_after,omitempty"`
}

func (s *Handlers) accountURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Accounts/" + sid
}

func (s *Handlers) renderAccount(a domain.Account) accountJSON {
	return accountJSON{
		AccountSid: a.Sid, FriendlyName: a.FriendlyName, Status: a.Status, OwnerSid: a.OwnerSid,
		DateCreated: edge.RFC3339(a.DateCreated), DateUpdated: edge.RFC3339(a.DateUpdated), Kind: a.Kind,
		Flex: a.Flex, Require2FA: a.Require2FA, URL: s.accountURL(a.OrganizationSid, a.Sid), ParentSid: a.ParentSid,
		DateClosureRequested: edge.OptTime(a.DateClosureRequested), DateClosed: edge.OptTime(a.DateClosed), PurgeAfter: edge.OptTime(a.PurgeAfter),
	}
}

func (s *Handlers) listAccounts(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixAccount, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Accounts.List(c.Request.Context(), edge.Principal(c), page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(a domain.Account) string { return a.Sid }, s.renderAccount))
}

func (s *Handlers) getAccount(c *gin.Context) {
	a, err := s.services.Accounts.Get(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(a))
}

type createAccountRequest struct {
	FriendlyName string `json:"friendly_name"`
	// Owner is a User SID or the email of a managed user; empty means the
	// organization owner.
	Owner string `json:"owner"`
	Flex  bool   `json:"flex"`
	// ParentSid makes the new account a subaccount of an active top-level
	// account the caller may manage.
	ParentSid string `json:"parent_sid"`
}

// creationJSON answers POST …/Accounts and GET …/Accounts/{AC}/Creation.
type creationJSON struct {
	AccountSid string            `json:"account_sid"`
	Status     string            `json:"status"` // running | completed | failed
	Steps      []domain.Step     `json:"steps,omitempty"`
	Error      *domain.Failure   `json:"error,omitempty"`
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id"`
	Account    *accountJSON      `json:"account,omitempty"`
	Links      map[string]string `json:"links"`
}

func (s *Handlers) createAccount(c *gin.Context) {
	var req createAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	out, err := s.services.Accounts.Create(c.Request.Context(), p, lifecycle.CreateAccount{
		FriendlyName: req.FriendlyName, Owner: req.Owner, Flex: req.Flex, ParentSid: req.ParentSid,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.workflowStarted(c, "CreateAccountWorkflow", out.Run)
	acct := s.renderAccount(out.Account)
	creation := s.accountURL(p.OrganizationSid, out.Account.Sid) + "/Creation"
	c.Header("Location", creation)
	c.PureJSON(http.StatusAccepted, creationJSON{
		AccountSid: out.Account.Sid, Status: domain.StepRunning, WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID,
		Account: &acct, Links: map[string]string{"creation": creation, "account": acct.URL},
	})
}

// workflowStarted counts a start and logs it, so an operator can go from
// this request's log line to the workflow in the Web UI.
func (s *Handlers) workflowStarted(c *gin.Context, typ string, w domain.Run) {
	if s.metrics != nil {
		s.metrics.WorkflowStarts.WithLabelValues(typ).Inc()
	}
	s.log.InfoContext(c.Request.Context(), "workflow started", "request_id", edge.RequestID(c), "workflow_type", typ,
		"workflow_id", w.WorkflowID, "run_id", w.RunID)
}

func (s *Handlers) getCreation(c *gin.Context) {
	p := edge.Principal(c)
	out, err := s.services.Accounts.Progress(c.Request.Context(), p, c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	sid := out.AccountSid
	body := creationJSON{
		AccountSid: sid, Status: out.Progress.Status, Steps: out.Progress.Steps, Error: out.Progress.Error,
		WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID,
		Links: map[string]string{"creation": s.accountURL(p.OrganizationSid, sid) + "/Creation", "account": s.accountURL(p.OrganizationSid, sid)},
	}
	if out.Account != nil {
		aj := s.renderAccount(*out.Account)
		body.Account = &aj
	}
	c.PureJSON(http.StatusOK, body)
}

type updateAccountRequest struct {
	FriendlyName *string `json:"friendly_name"`
	Require2FA   *bool   `json:"require_2fa"`
}

func (s *Handlers) updateAccount(c *gin.Context) {
	var req updateAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Accounts.Update(c.Request.Context(), edge.Principal(c), c.Param("account"),
		domain.AccountUpdate{FriendlyName: req.FriendlyName, Require2FA: req.Require2FA})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(out))
}
