package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

func (s *Handlers) getOrganization(c *gin.Context) {
	org, err := s.services.Organizations.Get(c.Request.Context(), edge.Principal(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderOrganization(org))
}

func (s *Handlers) updateOrganization(c *gin.Context) {
	var req wire.UpdateOrganizationRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	org, err := s.services.Organizations.Update(c.Request.Context(), edge.Principal(c), req.Require2FA)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderOrganization(org))
}

func (s *Handlers) renderOrganization(org domain.Organization) wire.Organization {
	return wire.Organization{
		OrganizationSid: org.Sid, FriendlyName: org.FriendlyName, OwnerSid: org.OwnerSid, Require2FA: org.Require2FA,
		DateCreated: edge.RFC3339(org.DateCreated), URL: s.baseURL + "/Organizations/" + org.Sid,
	}
}

func (s *Handlers) accountURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Accounts/" + sid
}

// renderAccount is an account on the wire; a subaccount has its parent, a
// closing or closed one its closure's dates.
func (s *Handlers) renderAccount(a domain.Account) wire.Account {
	return wire.Account{
		AccountSid: a.Sid, FriendlyName: a.FriendlyName, Status: wire.AccountStatus(a.Status), OwnerSid: a.OwnerSid,
		DateCreated: edge.RFC3339(a.DateCreated), DateUpdated: edge.RFC3339(a.DateUpdated), Kind: wire.AccountKind(a.Kind),
		Flex: a.Flex, Require2FA: a.Require2FA, URL: s.accountURL(a.OrganizationSid, a.Sid), ParentSid: optString(a.ParentSid),
		DateClosureRequested: edge.OptTime(a.DateClosureRequested), DateClosed: edge.OptTime(a.DateClosed), PurgeAfter: edge.OptTime(a.PurgeAfter),
	}
}

// renderCreationAccount is an account as its creation shows it (the
// contract's CreationAccount: no closure dates).
func (s *Handlers) renderCreationAccount(a domain.Account) *wire.CreationAccount {
	return &wire.CreationAccount{
		AccountSid: a.Sid, FriendlyName: a.FriendlyName, Status: wire.CreationAccountStatus(a.Status), OwnerSid: a.OwnerSid,
		DateCreated: edge.RFC3339(a.DateCreated), DateUpdated: edge.RFC3339(a.DateUpdated), Kind: wire.CreationAccountKind(a.Kind),
		Flex: a.Flex, Require2FA: a.Require2FA, URL: s.accountURL(a.OrganizationSid, a.Sid), ParentSid: optString(a.ParentSid),
	}
}

// renderSteps is a workflow's steps on the wire (nil when it has none).
func renderSteps(steps []domain.Step) []wire.Step {
	if steps == nil {
		return nil
	}
	out := make([]wire.Step, len(steps))
	for i, st := range steps {
		out[i] = wire.Step{Name: wire.StepName(st.Name), Status: wire.StepStatus(st.Status), Error: optString(st.Error)}
	}
	return out
}

// renderFailure is why a workflow failed, on the wire.
func renderFailure(f *domain.Failure) *wire.Failure {
	if f == nil {
		return nil
	}
	return &wire.Failure{Code: f.Code, Message: f.Message}
}

func (s *Handlers) listAccounts(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixAccount, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Accounts.List(c.Request.Context(), edge.Principal(c), domain.AccountFilter{
		Status: c.Query("Status"), Kind: c.Query("Kind"), Search: c.Query("Search"), Page: page,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(a domain.Account) string { return a.Sid }, s.renderAccount)
	c.PureJSON(http.StatusOK, wire.AccountPage{Content: content, Meta: meta})
}

func (s *Handlers) getAccount(c *gin.Context) {
	a, err := s.services.Accounts.Get(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(a))
}

// createAccount implements POST …/Accounts. An absent owner means the
// organization owner; a parent_sid makes the new account a subaccount of
// an active top-level account the caller may manage.
func (s *Handlers) createAccount(c *gin.Context) {
	var req wire.CreateAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	out, err := s.services.Accounts.Create(c.Request.Context(), p, lifecycle.CreateAccount{
		FriendlyName: req.FriendlyName, Owner: deref(req.Owner), Flex: deref(req.Flex), ParentSid: deref(req.ParentSid),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	if out.Run.RunID != "" {
		s.workflowStarted(c, "CreateAccountWorkflow", out.Run)
	}
	acct := s.renderCreationAccount(out.Account)
	creation := s.accountURL(p.OrganizationSid, out.Account.Sid) + "/Creation"
	c.Header("Location", creation)
	c.PureJSON(http.StatusAccepted, wire.Creation{
		AccountSid: out.Account.Sid, Status: wire.CreationStatusRunning, WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID,
		Account: acct, Links: wire.CreationLinks{Creation: creation, Account: acct.URL},
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
	body := wire.Creation{
		AccountSid: sid, Status: wire.CreationStatus(out.Progress.Status), Steps: renderSteps(out.Progress.Steps),
		Error: renderFailure(out.Progress.Error), WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID,
		Links: wire.CreationLinks{Creation: s.accountURL(p.OrganizationSid, sid) + "/Creation", Account: s.accountURL(p.OrganizationSid, sid)},
	}
	if out.Account != nil {
		body.Account = s.renderCreationAccount(*out.Account)
	}
	c.PureJSON(http.StatusOK, body)
}

func (s *Handlers) updateAccount(c *gin.Context) {
	var req wire.UpdateAccountRequest
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
