package api

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// registerClosure adds the routes for what an account owns (numbers,
// subscriptions, account credentials) and for closing and reopening it.
func (s *server) registerClosure(org *gin.RouterGroup) {
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

// accountCredentialRoutes are the routes a credential scoped to an account
// may call, on that account only.
var accountCredentialRoutes = map[string]bool{
	"GET /Organizations/:org/Accounts/:account":                true,
	"GET /Organizations/:org/Accounts/:account/PhoneNumbers":   true,
	"POST /Organizations/:org/Accounts/:account/PhoneNumbers":  true,
	"GET /Organizations/:org/Accounts/:account/ShortCodes":     true,
	"POST /Organizations/:org/Accounts/:account/ShortCodes":    true,
	"GET /Organizations/:org/Accounts/:account/Subscriptions":  true,
	"POST /Organizations/:org/Accounts/:account/Subscriptions": true,
}

// accountCredentialScope keeps a credential scoped to an account to that
// account's endpoints (25105 elsewhere).
func (s *server) accountCredentialScope(c *gin.Context) {
	p := principal(c)
	if p.AccountSid != "" && (!accountCredentialRoutes[c.Request.Method+" "+c.FullPath()] || c.Param("account") != p.AccountSid) {
		_ = c.Error(domain.Errorf(domain.EForbidden, domain.CodeForbidden, "account credentials are accepted only on their account's own endpoints (the account, its phone numbers, short codes and subscriptions)"))
		c.Abort()
		return
	}
	c.Next()
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

func (s *server) renderNumber(n domain.Number) numberJSON {
	out := numberJSON{Sid: n.Sid, AccountSid: n.AccountSid, DateCreated: rfc3339(n.DateCreated), DateUpdated: rfc3339(n.DateUpdated),
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

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}

func (s *server) acquireNumber(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		acct, err := s.account(c, domain.ActionUpdateSettings)
		if err != nil {
			_ = c.Error(err)
			return
		}
		var req acquireNumberRequest
		if err := decodeJSON(c, &req); err != nil {
			_ = c.Error(err)
			return
		}
		field, value := req.PhoneNumber, ""
		other := req.ShortCode
		if kind == domain.NumberShortCode {
			field, other = req.ShortCode, req.PhoneNumber
		}
		if other != nil {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "this endpoint acquires a %s; the other field is not accepted here", strings.ReplaceAll(kind, "_", " ")))
			return
		}
		switch {
		case field != nil:
			value = *field
		case kind == domain.NumberShortCode:
			value = "8" + randomDigits(5)
		default:
			value = "+1555" + randomDigits(7)
		}
		if err := domain.ValidateNumber(kind, value); err != nil {
			_ = c.Error(err)
			return
		}
		p := principal(c)
		n, err := s.store.AcquireNumber(c.Request.Context(), domain.Number{
			Sid: s.newSID(c, domain.NumberPrefix(kind)), Kind: kind, Value: value, OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid,
		}, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventNumberAcquired, acct.Sid, nil))
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusCreated, s.renderNumber(n))
	}
}

func (s *server) listNumbers(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		acct, err := s.account(c, domain.ActionReadAccount)
		if err != nil {
			_ = c.Error(err)
			return
		}
		prefix := domain.PrefixPhoneNumber
		if kind == domain.NumberShortCode {
			prefix = domain.PrefixShortCode
		}
		page, err := pageRequest(c, prefix, domain.DefaultPageSize, domain.MaxPageSize)
		if err != nil {
			_ = c.Error(err)
			return
		}
		items, err := s.store.PageNumbers(c.Request.Context(), acct.Sid, kind, page)
		if err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(n domain.Number) string { return n.Sid }, s.renderNumber))
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
		Currency: sub.Currency, Status: sub.Status, DateCreated: rfc3339(sub.DateCreated), DateStopped: optTime(sub.DateStopped)}
}

type createSubscriptionRequest struct {
	Description  string `json:"description"`
	MonthlyPrice string `json:"monthly_price"`
	Currency     string `json:"currency"`
}

func (s *server) createSubscription(c *gin.Context) {
	acct, err := s.account(c, domain.ActionUpdateSettings)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req createSubscriptionRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	sub := domain.Subscription{Sid: s.newSID(c, domain.PrefixSubscription), OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid,
		Description: req.Description, MonthlyPrice: req.MonthlyPrice, Currency: req.Currency}
	if err := sub.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.store.CreateSubscription(c.Request.Context(), sub, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSubscriptionAdded, acct.Sid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusCreated, renderSubscription(out))
}

func (s *server) listSubscriptions(c *gin.Context) {
	acct, err := s.account(c, domain.ActionReadAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := pageRequest(c, domain.PrefixSubscription, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	items, err := s.store.PageSubscriptions(c.Request.Context(), acct.Sid, page)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(sub domain.Subscription) string { return sub.Sid }, renderSubscription))
}

type accountCredentialRequest struct {
	FriendlyName string `json:"friendly_name"`
}

// createAccountCredential issues a credential scoped to the account; the
// secret is shown once.
func (s *server) createAccountCredential(c *gin.Context) {
	acct, err := s.account(c, domain.ActionUpdateSettings)
	if err == nil {
		err = domain.CheckAcceptsNewRequests(acct)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req accountCredentialRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if req.FriendlyName != "" {
		if err := domain.ValidateFriendlyName("friendly_name", req.FriendlyName); err != nil {
			_ = c.Error(err)
			return
		}
	}
	p := principal(c)
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: s.newSID(c, domain.PrefixCredential), OrganizationSid: p.OrganizationSid, UserSid: p.UserSid,
		FriendlyName: req.FriendlyName, SecretHash: domain.HashSecret(secret), AccountSid: acct.Sid}
	if err := s.store.CreateCredential(c.Request.Context(), cred, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountCredentials, acct.Sid,
		map[string]any{"credential_sid": cred.Sid})); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusCreated, gin.H{"sid": cred.Sid, "account_sid": acct.Sid, "friendly_name": cred.FriendlyName, "secret": secret})
}

// credentialJSON is an account credential on the wire, without its secret.
type credentialJSON struct {
	Sid          string `json:"sid"`
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	UserSid      string `json:"user_sid"`
	DateCreated  string `json:"date_created"`
}

// listAccountCredentials lists the credentials scoped to the account
// (the auth token of an imported or shared account among them).
func (s *server) listAccountCredentials(c *gin.Context) {
	acct, err := s.account(c, domain.ActionUpdateSettings)
	if err != nil {
		_ = c.Error(err)
		return
	}
	creds, err := s.store.ListAccountCredentials(c.Request.Context(), acct.OrganizationSid, acct.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out := make([]credentialJSON, len(creds))
	for i, cr := range creds {
		out[i] = credentialJSON{Sid: cr.Sid, AccountSid: cr.AccountSid, FriendlyName: cr.FriendlyName, UserSid: cr.UserSid, DateCreated: rfc3339(cr.DateCreated)}
	}
	c.PureJSON(http.StatusOK, gin.H{"credentials": out})
}

// revokeAccountCredential deletes a credential scoped to the account: it
// stops working at once, bearer tokens issued from it included. Revoking
// is allowed whatever the account's status.
func (s *server) revokeAccountCredential(c *gin.Context) {
	acct, err := s.account(c, domain.ActionUpdateSettings)
	if err != nil {
		_ = c.Error(err)
		return
	}
	sid, err := sidParam(c, "credential", domain.PrefixCredential)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	if err := s.store.RevokeAccountCredential(c.Request.Context(), acct.OrganizationSid, acct.Sid, sid,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventCredentialRevoked, acct.Sid, map[string]any{"credential_sid": sid})); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}

// closureJSON answers Close and GET …/Closure.
type closureJSON struct {
	AccountSid string             `json:"account_sid"`
	Status     string             `json:"status"` // running | completed | failed
	Stage      string             `json:"stage"`
	PurgeAfter string             `json:"purge_after"`
	Steps      []workflows.Step   `json:"steps,omitempty"`
	Counts     map[string]int     `json:"counts,omitempty"`
	Error      *workflows.Failure `json:"error,omitempty"`
	WorkflowID string             `json:"workflow_id"`
	RunID      string             `json:"run_id"`
	Account    *accountJSON       `json:"account,omitempty"`
	Links      map[string]string  `json:"links"`
}

func (s *server) closureLinks(orgSid, sid string) map[string]string {
	u := s.accountURL(orgSid, sid)
	return map[string]string{"closure": u + "/Closure", "account": u, "reopen": u + "/Reopen"}
}

// closeAccount starts closing an account: synchronously it becomes
// pending_closure (its credentials stop working at once), then
// CloseAccountWorkflow does the rest. Closing it again answers the
// running closure.
func (s *server) closeAccount(c *gin.Context) {
	acct, err := s.account(c, domain.ActionCloseAccount)
	if domain.ErrorCode(err) == domain.CodeAccountNotFound && acct.OwnerSid != "" && acct.OwnerSid == principal(c).UserSid &&
		(acct.Status == domain.AccountPendingClosure || acct.Status == domain.AccountClosed) {
		// Its owner lost its role to the closure, not the right to be
		// answered with it.
		err = nil
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req domain.CloseAcknowledgements
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if err := req.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	ctx := c.Request.Context()
	acct, started, err := s.store.BeginClosure(ctx, p.OrganizationSid, acct.Sid, s.clock.Now().Add(s.retention),
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventClosureRequested, acct.Sid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	if acct.PurgeAfter == nil {
		_ = c.Error(fmt.Errorf("account %s is %s without a purge time", acct.Sid, acct.Status))
		return
	}
	// Started even for a repeat: should the first request have died
	// before starting the workflow, this one does.
	run, err := s.workflows.StartCloseAccount(ctx, workflows.CloseAccountInput{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, PurgeAfter: *acct.PurgeAfter, Actor: p.Actor(),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	status, stage := http.StatusOK, acct.Status
	if started {
		status, stage = http.StatusAccepted, workflows.StepBeginClosure
		s.workflowStarted(c, "CloseAccountWorkflow", run)
	}
	aj := s.renderAccount(acct)
	links := s.closureLinks(p.OrganizationSid, acct.Sid)
	c.Header("Location", links["closure"])
	c.PureJSON(status, closureJSON{
		AccountSid: acct.Sid, Status: workflows.StepRunning, Stage: stage, PurgeAfter: rfc3339(*acct.PurgeAfter),
		WorkflowID: run.WorkflowID, RunID: run.RunID, Account: &aj, Links: links,
	})
}

// getClosure shows where the latest closure of an account stands.
func (s *server) getClosure(c *gin.Context) {
	sid, err := sidParam(c, "account", domain.PrefixAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	progress, run, err := s.workflows.CloseAccountProgress(c.Request.Context(), sid)
	if err == nil && progress.OrganizationSid != p.OrganizationSid {
		err = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	// The role assignments go with the closure: its requester and the
	// organization's admins still see it.
	if !p.IsOrgAdmin() && progress.RequestedBy != p.UserSid {
		if _, err := s.account(c, domain.ActionReadAccount); err != nil {
			_ = c.Error(err)
			return
		}
	}
	body := closureJSON{
		AccountSid: sid, Status: progress.Status, Stage: progress.Stage, PurgeAfter: rfc3339(progress.PurgeAfter), Steps: progress.Steps,
		Counts: map[string]int{
			"subaccounts_closed": progress.Subaccounts, "requests_cancelled": progress.Cancelled, "charges_stopped": progress.ChargesStopped,
			"numbers_released": progress.Released, "role_assignments_removed": progress.AccessRemoved,
		},
		Error: progress.Error, WorkflowID: run.WorkflowID, RunID: run.RunID, Links: s.closureLinks(p.OrganizationSid, sid),
	}
	if a, err := s.store.FindAccount(c.Request.Context(), p.OrganizationSid, sid); err == nil {
		aj := s.renderAccount(a)
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
func (s *server) reopenAccount(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	acct, err := s.account(c, domain.ActionReadAccount)
	if err == nil {
		err = domain.CheckReopenable(acct)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	out, err := s.workflows.ReopenAccount(ctx, acct.Sid, p.Actor())
	if err != nil {
		_ = c.Error(err)
		return
	}
	releases, err := s.store.ListReleases(ctx, acct.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	gone := map[string]int{"phone_numbers": 0, "short_codes": 0, "subscriptions": 0}
	for _, r := range releases {
		switch r.Kind {
		case domain.NumberPhone:
			gone["phone_numbers"]++
		case domain.NumberShortCode:
			gone["short_codes"]++
		case domain.ReleaseCharge:
			gone["subscriptions"]++
		}
	}
	c.PureJSON(http.StatusOK, reopenJSON{
		Account: s.renderAccount(out), NotRestored: gone,
		Message: "The account is active again with its owner. Released phone numbers and short codes and stopped subscriptions are not restored: acquire and subscribe again.",
	})
}
