package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// registerClosure adds the routes for what an account owns (numbers,
// subscriptions, account credentials) and for closing and reopening it.
func (s *Handlers) registerClosure(org *gin.RouterGroup) {
	org.GET("/Accounts/:account/PhoneNumbers", s.listNumbers(domain.NumberPhone))
	org.POST("/Accounts/:account/PhoneNumbers", s.acquireNumber(domain.NumberPhone))
	org.GET("/Accounts/:account/ShortCodes", s.listNumbers(domain.NumberShortCode))
	org.POST("/Accounts/:account/ShortCodes", s.acquireNumber(domain.NumberShortCode))
	org.GET("/Accounts/:account/Subscriptions", s.listSubscriptions)
	org.POST("/Accounts/:account/Subscriptions", s.createSubscription)
	org.POST("/Accounts/:account/Credentials", s.createAccountCredential)
	org.GET("/Accounts/:account/Credentials", s.listAccountCredentials)
	org.DELETE("/Accounts/:account/Credentials/:credential", s.revokeAccountCredential)
	org.POST("/Accounts/:account/Close", s.closeAccount)
	org.GET("/Accounts/:account/Closure", s.getClosure)
	org.POST("/Accounts/:account/Reopen", s.reopenAccount)
}

// numberJSON is a phone number or a short code on the wire.
type numberJSON struct {
	Sid         string `json:"sid"`
	AccountSid  string `json:"account_sid"`
	PhoneNumber string `json:"phone_number,omitempty"`
	ShortCode   string `json:"short_code,omitempty"`
	DateCreated string `json:"date_created"`
	DateUpdated string `json:"date_updated"`
	URL         string `json:"url"`
}

func numbersPath(kind string) string {
	if kind == domain.NumberShortCode {
		return "/ShortCodes"
	}
	return "/PhoneNumbers"
}

func (s *Handlers) renderNumber(n domain.Number) numberJSON {
	out := numberJSON{Sid: n.Sid, AccountSid: n.AccountSid, DateCreated: edge.RFC3339(n.DateCreated), DateUpdated: edge.RFC3339(n.DateUpdated),
		URL: s.accountURL(n.OrganizationSid, n.AccountSid) + numbersPath(n.Kind)}
	if n.Kind == domain.NumberShortCode {
		out.ShortCode = n.Value
	} else {
		out.PhoneNumber = n.Value
	}
	return out
}

type acquireNumberRequest struct {
	PhoneNumber *string `json:"phone_number"`
	ShortCode   *string `json:"short_code"`
}

func (s *Handlers) acquireNumber(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var req acquireNumberRequest
		if err := edge.DecodeJSON(c, &req); err != nil {
			_ = c.Error(err)
			return
		}
		n, err := s.services.Closure.AcquireNumber(c.Request.Context(), edge.Principal(c), c.Param("account"), kind,
			lifecycle.AcquireNumber{PhoneNumber: req.PhoneNumber, ShortCode: req.ShortCode})
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusCreated, s.renderNumber(n))
	}
}

func (s *Handlers) listNumbers(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		page, err := edge.PageRequest(c, domain.NumberPrefix(kind), domain.DefaultPageSize, domain.MaxPageSize)
		if err != nil {
			_ = c.Error(err)
			return
		}
		out, err := s.services.Closure.Numbers(c.Request.Context(), edge.Principal(c), c.Param("account"), kind, page)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(n domain.Number) string { return n.Sid }, s.renderNumber))
	}
}

// subscriptionJSON is a recurring charge on the wire.
type subscriptionJSON struct {
	Sid          string  `json:"sid"`
	AccountSid   string  `json:"account_sid"`
	Description  string  `json:"description"`
	MonthlyPrice string  `json:"monthly_price"`
	Currency     string  `json:"currency"`
	Status       string  `json:"status"`
	DateCreated  string  `json:"date_created"`
	DateStopped  *string `json:"date_stopped"`
}

func renderSubscription(sub domain.Subscription) subscriptionJSON {
	return subscriptionJSON{Sid: sub.Sid, AccountSid: sub.AccountSid, Description: sub.Description, MonthlyPrice: sub.MonthlyPrice,
		Currency: sub.Currency, Status: sub.Status, DateCreated: edge.RFC3339(sub.DateCreated), DateStopped: edge.OptTime(sub.DateStopped)}
}

type createSubscriptionRequest struct {
	Description  string `json:"description"`
	MonthlyPrice string `json:"monthly_price"`
	Currency     string `json:"currency"`
}

func (s *Handlers) createSubscription(c *gin.Context) {
	var req createSubscriptionRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Closure.CreateSubscription(c.Request.Context(), edge.Principal(c), c.Param("account"),
		lifecycle.CreateSubscription{Description: req.Description, MonthlyPrice: req.MonthlyPrice, Currency: req.Currency})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusCreated, renderSubscription(out))
}

func (s *Handlers) listSubscriptions(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixSubscription, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Closure.Subscriptions(c.Request.Context(), edge.Principal(c), c.Param("account"), page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(sub domain.Subscription) string { return sub.Sid }, renderSubscription))
}

type accountCredentialRequest struct {
	FriendlyName string `json:"friendly_name"`
}

// createAccountCredential issues a credential scoped to the account; the
// secret is shown once.
func (s *Handlers) createAccountCredential(c *gin.Context) {
	var req accountCredentialRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Closure.CreateCredential(c.Request.Context(), edge.Principal(c), c.Param("account"), req.FriendlyName)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusCreated, gin.H{"sid": out.Credential.Sid, "account_sid": out.Credential.AccountSid, "friendly_name": out.Credential.FriendlyName, "secret": out.Secret})
}

// credentialJSON is an account credential on the wire, without its secret.
type credentialJSON struct {
	Sid          string `json:"sid"`
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	UserSid      string `json:"user_sid"`
	DateCreated  string `json:"date_created"`
}

// listAccountCredentials lists the credentials scoped to the account.
func (s *Handlers) listAccountCredentials(c *gin.Context) {
	creds, err := s.services.Closure.Credentials(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]credentialJSON, len(creds))
	for i, cr := range creds {
		out[i] = credentialJSON{Sid: cr.Sid, AccountSid: cr.AccountSid, FriendlyName: cr.FriendlyName, UserSid: cr.UserSid, DateCreated: edge.RFC3339(cr.DateCreated)}
	}
	c.PureJSON(http.StatusOK, gin.H{"credentials": out})
}

// revokeAccountCredential deletes a credential scoped to the account.
func (s *Handlers) revokeAccountCredential(c *gin.Context) {
	if err := s.services.Closure.RevokeCredential(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("credential")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// closureJSON answers Close and GET …/Closure.
type closureJSON struct {
	AccountSid string            `json:"account_sid"`
	Status     string            `json:"status"` // running | completed | failed
	Stage      string            `json:"stage"`
	PurgeAfter string            `json:"purge_after"`
	Steps      []domain.Step     `json:"steps,omitempty"`
	Counts     map[string]int    `json:"counts,omitempty"`
	Error      *domain.Failure   `json:"error,omitempty"`
	WorkflowID string            `json:"workflow_id"`
	RunID      string            `json:"run_id"`
	Account    *accountJSON      `json:"account,omitempty"`
	Links      map[string]string `json:"links"`
}

func (s *Handlers) closureLinks(orgSid, sid string) map[string]string {
	u := s.accountURL(orgSid, sid)
	return map[string]string{"closure": u + "/Closure", "account": u, "reopen": u + "/Reopen"}
}

// closeAccount starts closing an account: 202 once it is pending_closure
// (its credentials stop working at once), the closure going on; 200 with
// the running closure when it was closing already.
func (s *Handlers) closeAccount(c *gin.Context) {
	var req domain.CloseAcknowledgements
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	out, err := s.services.Closure.Close(c.Request.Context(), p, c.Param("account"), req)
	if err != nil {
		_ = c.Error(err)
		return
	}
	acct := out.Account
	status := http.StatusOK
	if out.Started {
		status = http.StatusAccepted
		s.workflowStarted(c, "CloseAccountWorkflow", out.Run)
	}
	aj := s.renderAccount(acct)
	links := s.closureLinks(p.OrganizationSid, acct.Sid)
	c.Header("Location", links["closure"])
	c.PureJSON(status, closureJSON{
		AccountSid: acct.Sid, Status: domain.StepRunning, Stage: acct.Status, PurgeAfter: edge.RFC3339(*acct.PurgeAfter),
		WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID, Account: &aj, Links: links,
	})
}

// getClosure shows where the latest closure of an account stands.
func (s *Handlers) getClosure(c *gin.Context) {
	p := edge.Principal(c)
	out, err := s.services.Closure.Progress(c.Request.Context(), p, c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	progress, sid := out.Progress, out.AccountSid
	body := closureJSON{
		AccountSid: sid, Status: progress.Status, Stage: progress.Stage, PurgeAfter: edge.RFC3339(progress.PurgeAfter), Steps: progress.Steps,
		Counts: map[string]int{
			"subaccounts_closed": progress.Subaccounts, "requests_cancelled": progress.Cancelled, "charges_stopped": progress.ChargesStopped,
			"numbers_released": progress.Released, "role_assignments_removed": progress.AccessRemoved,
		},
		Error: progress.Error, WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID, Links: s.closureLinks(p.OrganizationSid, sid),
	}
	if out.Account != nil {
		aj := s.renderAccount(*out.Account)
		body.Account = &aj
	}
	c.PureJSON(http.StatusOK, body)
}

// reopenJSON answers Reopen: the account, and what did not come back.
type reopenJSON struct {
	Account     accountJSON    `json:"account"`
	NotRestored map[string]int `json:"not_restored"`
	Message     string         `json:"message"`
}

// reopenAccount makes a closing or closed account active again with its
// owner, before its purge. Released numbers and stopped charges stay so.
func (s *Handlers) reopenAccount(c *gin.Context) {
	out, err := s.services.Closure.Reopen(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, reopenJSON{
		Account: s.renderAccount(out.Account),
		NotRestored: map[string]int{"phone_numbers": out.PhoneNumbers, "short_codes": out.ShortCodes, "subscriptions": out.Subscriptions,
			"credentials": out.Credentials},
		Message: "The account is active again with its owner. Released phone numbers and short codes, stopped subscriptions and the account's credentials (revoked for good by the closure, bearer tokens included) are not restored: acquire, subscribe and issue credentials again.",
	})
}
