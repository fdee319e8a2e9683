package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

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

func numbersPath(kind string) string {
	if kind == domain.NumberShortCode {
		return "/ShortCodes"
	}
	return "/PhoneNumbers"
}

// renderNumber is a phone number or a short code on the wire.
func (s *Handlers) renderNumber(n domain.Number) wire.Number {
	out := wire.Number{Sid: n.Sid, AccountSid: n.AccountSid, DateCreated: edge.RFC3339(n.DateCreated), DateUpdated: edge.RFC3339(n.DateUpdated),
		URL: s.accountURL(n.OrganizationSid, n.AccountSid) + numbersPath(n.Kind)}
	if n.Kind == domain.NumberShortCode {
		out.ShortCode = optString(n.Value)
	} else {
		out.PhoneNumber = optString(n.Value)
	}
	return out
}

// acquireNumber implements POST …/PhoneNumbers and …/ShortCodes, each with
// its own request body: the other kind's field is an unknown field there.
func (s *Handlers) acquireNumber(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var cmd lifecycle.AcquireNumber
		var err error
		if kind == domain.NumberShortCode {
			var req wire.AcquireShortCodeRequest
			err = edge.DecodeJSON(c, &req)
			cmd.ShortCode = req.ShortCode
		} else {
			var req wire.AcquirePhoneNumberRequest
			err = edge.DecodeJSON(c, &req)
			cmd.PhoneNumber = req.PhoneNumber
		}
		if err != nil {
			_ = c.Error(err)
			return
		}
		n, err := s.services.Closure.AcquireNumber(c.Request.Context(), edge.Principal(c), c.Param("account"), kind, cmd)
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
		content, meta := edge.Envelope(s.baseURL, c, out, func(n domain.Number) string { return n.Sid }, s.renderNumber)
		if kind == domain.NumberShortCode {
			c.PureJSON(http.StatusOK, wire.ShortCodePage{Content: content, Meta: meta})
			return
		}
		c.PureJSON(http.StatusOK, wire.PhoneNumberPage{Content: content, Meta: meta})
	}
}

// renderSubscription is a recurring charge on the wire.
func renderSubscription(sub domain.Subscription) wire.Subscription {
	return wire.Subscription{Sid: sub.Sid, AccountSid: sub.AccountSid, Description: sub.Description, MonthlyPrice: sub.MonthlyPrice,
		Currency: sub.Currency, Status: wire.SubscriptionStatus(sub.Status), DateCreated: edge.RFC3339(sub.DateCreated), DateStopped: edge.OptTime(sub.DateStopped)}
}

func (s *Handlers) createSubscription(c *gin.Context) {
	var req wire.CreateSubscriptionRequest
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
	content, meta := edge.Envelope(s.baseURL, c, out, func(sub domain.Subscription) string { return sub.Sid }, renderSubscription)
	c.PureJSON(http.StatusOK, wire.SubscriptionPage{Content: content, Meta: meta})
}

// createAccountCredential issues a credential scoped to the account; the
// secret is shown once.
func (s *Handlers) createAccountCredential(c *gin.Context) {
	var req wire.AccountCredentialRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	name, err := optionalName(req.FriendlyName)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Closure.CreateCredential(c.Request.Context(), edge.Principal(c), c.Param("account"), name)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusCreated, wire.AccountCredential{Sid: out.Credential.Sid, AccountSid: out.Credential.AccountSid,
		FriendlyName: out.Credential.FriendlyName, Secret: out.Secret})
}

// listAccountCredentials lists the credentials scoped to the account.
func (s *Handlers) listAccountCredentials(c *gin.Context) {
	creds, err := s.services.Closure.Credentials(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := wire.AccountCredentialList{Credentials: make([]wire.AccountCredentialSummary, len(creds))}
	for i, cr := range creds {
		out.Credentials[i] = wire.AccountCredentialSummary{Sid: cr.Sid, AccountSid: cr.AccountSid, FriendlyName: cr.FriendlyName, UserSid: cr.UserSid,
			DateCreated: edge.RFC3339(cr.DateCreated)}
	}
	c.PureJSON(http.StatusOK, out)
}

// revokeAccountCredential deletes a credential scoped to the account.
func (s *Handlers) revokeAccountCredential(c *gin.Context) {
	if err := s.services.Closure.RevokeCredential(c.Request.Context(), edge.Principal(c), c.Param("account"), c.Param("credential")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Handlers) closureLinks(orgSid, sid string) wire.ClosureLinks {
	u := s.accountURL(orgSid, sid)
	return wire.ClosureLinks{Closure: u + "/Closure", Account: u, Reopen: u + "/Reopen"}
}

// renderClosureSteps is a closure's steps on the wire (nil when it has
// none).
func renderClosureSteps(steps []domain.Step) []wire.ClosureStep {
	if steps == nil {
		return nil
	}
	out := make([]wire.ClosureStep, len(steps))
	for i, st := range steps {
		out[i] = wire.ClosureStep{Name: wire.ClosureStepName(st.Name), Status: wire.ClosureStepStatus(st.Status), Error: optString(st.Error)}
	}
	return out
}

// closeAccount starts closing an account: 202 once it is pending_closure
// (its credentials stop working at once), the closure going on; 200 with
// the running closure when it was closing already.
func (s *Handlers) closeAccount(c *gin.Context) {
	var req wire.CloseAccountRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p := edge.Principal(c)
	// An acknowledgement absent, null or false is refused alike.
	out, err := s.services.Closure.Close(c.Request.Context(), p, c.Param("account"), domain.CloseAcknowledgements{
		LoseAccess: &req.LoseAccess, StopCharges: &req.StopCharges, ReleaseResources: &req.ReleaseResources, ScheduleDeletion: &req.ScheduleDeletion,
	})
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
	c.Header("Location", links.Closure)
	c.PureJSON(status, wire.Closure{
		AccountSid: acct.Sid, Status: wire.ClosureStatusRunning, Stage: wire.ClosureStage(acct.Status), PurgeAfter: edge.RFC3339(*acct.PurgeAfter),
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
	body := wire.Closure{
		AccountSid: sid, Status: wire.ClosureStatus(progress.Status), Stage: wire.ClosureStage(progress.Stage), PurgeAfter: edge.RFC3339(progress.PurgeAfter),
		Steps: renderClosureSteps(progress.Steps),
		Counts: map[string]int{
			"subaccounts_closed": progress.Subaccounts, "requests_cancelled": progress.Cancelled, "charges_stopped": progress.ChargesStopped,
			"numbers_released": progress.Released, "role_assignments_removed": progress.AccessRemoved,
		},
		Error: renderFailure(progress.Error), WorkflowID: out.Run.WorkflowID, RunID: out.Run.RunID, Links: s.closureLinks(p.OrganizationSid, sid),
	}
	if out.Account != nil {
		aj := s.renderAccount(*out.Account)
		body.Account = &aj
	}
	c.PureJSON(http.StatusOK, body)
}

// reopenAccount makes a closing or closed account active again with its
// owner, before its purge. Released numbers and stopped charges stay so:
// the answer is the account and what did not come back.
func (s *Handlers) reopenAccount(c *gin.Context) {
	out, err := s.services.Closure.Reopen(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, wire.Reopened{
		Account: s.renderAccount(out.Account),
		NotRestored: wire.NotRestored{PhoneNumbers: out.PhoneNumbers, ShortCodes: out.ShortCodes, Subscriptions: out.Subscriptions,
			Credentials: out.Credentials},
		Message: "The account is active again with its owner. Released phone numbers and short codes, stopped subscriptions and the account's credentials (revoked for good by the closure, bearer tokens included) are not restored: acquire, subscribe and issue credentials again.",
	})
}
