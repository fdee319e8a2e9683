package app_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// signUp creates a standalone account through the public sign-up and
// returns its SID.
func (e *env) signUp(emailAddr, name string) string {
	e.T.Helper()
	sid, _ := e.signUpToken(emailAddr, name)
	return sid
}

// signUpToken signs up and returns the account SID and its auth token.
func (e *env) signUpToken(emailAddr, name string) (string, string) {
	e.T.Helper()
	r := e.Anonymous().Post("/v1/Accounts", map[string]any{"email": emailAddr, "friendly_name": name})
	require.Equal(e.T, http.StatusCreated, r.Status, "body: %s", r.Body)
	got := r.JSON(e.T)
	require.Equal(e.T, domain.AccountStandalone, got["kind"])
	require.True(e.T, domain.ValidSecret(got["auth_token"].(string)), "the owner's credential is shown once")
	return got["account_sid"].(string), got["auth_token"].(string)
}

// pending returns the organization's pending-accounts listing, by SID.
func (e *env) pending(query string) map[string]map[string]any {
	e.T.Helper()
	r := e.Owner.Get(e.Path("/PendingAccounts" + query))
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
	out := map[string]map[string]any{}
	for _, x := range r.JSON(e.T)["content"].([]any) {
		m := x.(map[string]any)
		out[m["sid"].(string)] = m
	}
	return out
}

// listedInTemporal lists the workflow IDs an operator finds with query in
// the Temporal Web UI's search (the same visibility API).
func listedInTemporal(t *testing.T, a *testenv.RunningApp, query string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := a.Temporal.WorkflowService().ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query})
	if err != nil {
		t.Logf("list %q: %v", query, err)
		return nil
	}
	var ids []string
	for _, ex := range resp.GetExecutions() {
		ids = append(ids, ex.GetExecution().GetWorkflowId())
	}
	return ids
}

// TestImportConfirmedInABrowser: sign up on the organization's verified
// domain, import the account, read the email from a real SMTP server,
// visit the link (nothing happens), click Confirm in Chromium, and see the
// account managed by the organization.
func TestImportConfirmedInABrowser(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	browserCtx := testenv.MustBrowser(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	a := e.App

	acct, authToken := e.signUpToken("founder@example.com", "Founder's Lab")
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	// Twilio's Basic scheme: the Account SID and its auth token. Outside
	// any organization the token opens nothing here.
	founder := e.Basic(acct, authToken)
	testenv.RequireError(t, founder.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")), http.StatusUnauthorized, domain.CodeUnauthenticated)

	r := e.Owner.Post(e.Path("/Accounts/Imports"), map[string]any{"account_sid": acct})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	req := r.JSON(t)
	require.Equal(t, "import", req["kind"])
	require.Equal(t, "pending", req["status"])
	require.Equal(t, "founder@example.com", req["owner_email"])
	require.Equal(t, a.Boot.Owner.Sid, req["requested_by"])
	rq := req["sid"].(string)
	require.Equal(t, r.Header.Get("Location"), req["url"])
	require.Contains(t, e.pending(""), rq, "listed among pending accounts")

	// An operator finds the pending import by organization and by account.
	require.Eventually(t, func() bool {
		byOrg := listedInTemporal(t, a, "OrganizationSid = '"+e.Sid+"' AND WorkflowType = 'ImportAccountWorkflow'")
		byAcct := listedInTemporal(t, a, "AccountSid = '"+acct+"' AND ExecutionStatus = 'Running'")
		return contains(byOrg, "import-account/"+rq) && contains(byAcct, "import-account/"+rq)
	}, 20*time.Second, 200*time.Millisecond)

	msg := mp.WaitForMessage(t, "founder@example.com", "asks to import", 30*time.Second)
	require.Contains(t, msg.HTML, "Founder&#39;s Lab")
	links := msg.Links(a.BaseURL + "/confirm/")
	require.Len(t, links, 1, "text: %s", msg.Text)

	// Opening the link (all a mail scanner does) confirms nothing.
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.CSS("#accept"))))
	require.Contains(t, pageText(browserCtx, t, "#title"), "asks to import Founder's Lab")
	require.Contains(t, pageText(browserCtx, t, "#requester"), "owner@example.com")
	require.Equal(t, "Confirm import", pageText(browserCtx, t, "#accept"))
	require.Equal(t, "pending", e.pending("")[rq]["status"])
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)

	require.NoError(t, chromedp.Do(browserCtx, chromedp.Click(chromedp.CSS("#accept"))))
	waitText(browserCtx, t, "#title", "Account imported")

	got := e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)
	require.Equal(t, domain.AccountManaged, got["kind"])
	require.Equal(t, domain.AccountActive, got["status"])
	listed := false
	for _, x := range e.Owner.Get(e.Path("/Accounts")).JSON(t)["content"].([]any) {
		listed = listed || x.(map[string]any)["account_sid"] == acct
	}
	require.True(t, listed, "the account is listed among the organization's accounts")
	owner, err := a.Store.FindUserByEmailAnywhere(context.Background(), "founder@example.com")
	require.NoError(t, err)
	require.True(t, owner.IsManagedBy(e.Sid), "the owner is now a managed user")
	// The auth token now works on the account's own endpoints, as the owner.
	r = founder.Get(e.Path("/Accounts/" + acct + "/PhoneNumbers"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	testenv.RequireError(t, founder.Get(e.Path("/Accounts")), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, e.Basic(acct, strings.Repeat("x", 32)).Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")),
		http.StatusUnauthorized, domain.CodeUnauthenticated)
	// It is listed among the account's credentials and can be revoked.
	creds := e.Owner.Get(e.Path("/Accounts/" + acct + "/Credentials")).JSON(t)["credentials"].([]any)
	require.Len(t, creds, 1)
	tokenCred := creds[0].(map[string]any)
	require.Equal(t, "auth token", tokenCred["friendly_name"])
	require.Equal(t, owner.Sid, tokenCred["user_sid"])
	testenv.RequireError(t, founder.Get(e.Path("/Accounts/"+acct+"/Credentials")), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, e.Path("/Accounts/"+acct+"/Credentials/SK"+strings.Repeat("0", 32)), nil), http.StatusNotFound, 20404)
	r = e.Anonymous().Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {acct}, "client_secret": {authToken}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	bearer := e.Bearer(r.JSON(t)["access_token"].(string))
	require.Equal(t, http.StatusOK, bearer.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")).Status)
	require.Equal(t, http.StatusNoContent, e.Owner.Do(http.MethodDelete, e.Path("/Accounts/"+acct+"/Credentials/"+tokenCred["sid"].(string)), nil).Status)
	testenv.RequireError(t, founder.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")), http.StatusUnauthorized, domain.CodeUnauthenticated)
	testenv.RequireError(t, bearer.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")), http.StatusUnauthorized, domain.CodeUnauthenticated)
	require.Empty(t, e.Owner.Get(e.Path("/Accounts/" + acct + "/Credentials")).JSON(t)["credentials"])
	require.Equal(t, "accepted", e.pending("")[rq]["status"], "an ended request stays listed")
	mp.WaitForMessage(t, "owner@example.com", "accepted the import", 30*time.Second)

	// The page of a used link shows so and changes nothing.
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(links[0])))
	waitText(browserCtx, t, "#title", "already answered")
}

// TestShareAcceptedThenRelinquished: an outsider's account is shared with
// the organization through the emailed link, the granted user gets the
// roles, and relinquishing ends the access at once.
func TestShareAcceptedThenRelinquished(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	browserCtx := testenv.MustBrowser(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	a := e.App
	dev := e.SCIMUser("dev@example.com")

	acct, authToken := e.signUpToken("maker@outside.test", "Maker Shop")
	maker := e.Basic(acct, authToken)
	r := e.Owner.Post(e.Path("/Accounts/Shares"), map[string]any{"account_sid": acct,
		"grants": []map[string]any{{"identity": dev, "roles": []string{domain.RoleDeveloper}}}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Equal(t, "share", r.JSON(t)["kind"])

	msg := mp.WaitForMessage(t, "maker@outside.test", "asks to share", 30*time.Second)
	require.Contains(t, msg.Text, "dev@example.com as Developer")
	links := msg.Links(a.BaseURL + "/confirm/")
	require.Len(t, links, 1)
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.CSS("#accept"))))
	require.Contains(t, pageText(browserCtx, t, "#grants"), "dev@example.com as Developer")
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Click(chromedp.CSS("#accept"))))
	waitText(browserCtx, t, "#title", "Account shared")

	got := e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)
	require.Equal(t, domain.AccountIndependent, got["kind"])
	devClient := e.ClientFor(dev)
	require.Equal(t, http.StatusOK, devClient.Get(e.Path("/Accounts/"+acct)).Status, "the grantee sees the shared account")
	require.Equal(t, http.StatusOK, maker.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")).Status, "the owner's auth token works while shared")
	users := e.Owner.Get(e.Path("/Accounts/" + acct + "/Users?Role=" + domain.RoleDeveloper)).JSON(t)["content"].([]any)
	require.Len(t, users, 1)
	require.Equal(t, dev, users[0].(map[string]any)["user_sid"])

	// Relinquish: the access ends at once, the owner is told, the account
	// itself is as it was.
	testenv.RequireError(t, e.ClientFor(e.SCIMUser("std@example.com")).Post(e.Path("/Accounts/"+acct+"/Relinquish"), nil), http.StatusForbidden, domain.CodeForbidden)
	r = e.Owner.Post(e.Path("/Accounts/"+acct+"/Relinquish"), nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, "relinquished", r.JSON(t)["status"])
	testenv.RequireError(t, devClient.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	testenv.RequireError(t, maker.Get(e.Path("/Accounts/"+acct+"/PhoneNumbers")), http.StatusUnauthorized, domain.CodeUnauthenticated)
	mp.WaitForMessage(t, "maker@outside.test", "gave up its access", 30*time.Second)
	stored, owner, err := a.Store.FindAnyAccount(context.Background(), acct)
	require.NoError(t, err)
	require.Equal(t, "Maker Shop", stored.FriendlyName)
	require.Equal(t, domain.AccountActive, stored.Status)
	require.Equal(t, "maker@outside.test", owner.UserName)
	events := e.Owner.Get(e.Path("/Events?Resource=" + acct)).JSON(t)["content"].([]any)
	var types []string
	for _, ev := range events {
		types = append(types, ev.(map[string]any)["event_type"].(string))
	}
	require.Contains(t, types, domain.EventAccountShared)
	require.Contains(t, types, domain.EventAccountRelinquished)

	// Relinquished, it can be shared again.
	r = e.Owner.Post(e.Path("/Accounts/Shares"), map[string]any{"account_sid": acct, "grants": []any{}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
}

// TestAccountRequestRules: every refusal is a 4xx in the house format that
// records nothing; decline, cancel and expiry end the request and leave
// the account alone.
func TestAccountRequestRules(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, map[string]string{"ACCOUNT_REQUEST_TTL": "6s", "SIGNUP_RATE_PER_HOUR": "12"})
	imports, shares := e.Path("/Accounts/Imports"), e.Path("/Accounts/Shares")
	onDomain := e.signUp("insider@example.com", "Insider")
	outside := e.signUp("stranger@elsewhere.test", "Stranger")

	// Refusals.
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": outside}), http.StatusBadRequest, domain.CodeDomainNotVerified)
	testenv.RequireError(t, e.Owner.Post(shares, map[string]any{"account_sid": onDomain}), http.StatusConflict, domain.CodeInvalidState)
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": "AC" + strings.Repeat("0", 32)}), http.StatusNotFound, domain.CodeAccountNotFound)
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": "nope"}), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": onDomain, "extra": 1}), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Post(shares, map[string]any{"account_sid": outside, "grants": []map[string]any{{"identity": "US" + strings.Repeat("1", 32), "roles": []string{domain.RoleDeveloper}}}}),
		http.StatusNotFound, domain.CodeUserNotFound)
	testenv.RequireError(t, e.Owner.Post(shares, map[string]any{"account_sid": outside, "grants": []map[string]any{{"identity": e.App.Boot.Owner.Sid, "roles": []string{domain.RoleOwner}}}}),
		http.StatusBadRequest, domain.CodeInvalidRole)
	std := e.ClientFor(e.SCIMUser("standard@example.com"))
	testenv.RequireError(t, std.Post(imports, map[string]any{"account_sid": onDomain}), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, std.Get(e.Path("/PendingAccounts")), http.StatusForbidden, domain.CodeForbidden)
	managed := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Ours"})
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": managed}), http.StatusConflict, domain.CodeInvalidState)
	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+managed+"/Relinquish"), nil), http.StatusConflict, domain.CodeInvalidState)
	require.Empty(t, e.pending(""), "no refusal recorded anything")

	// A request, then a duplicate from this or another organization.
	r := e.Owner.Post(imports, map[string]any{"account_sid": onDomain})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	first := r.JSON(t)["sid"].(string)
	scrape := func() string { return string(e.Anonymous().Get("/metrics").Body) }
	require.Equal(t, float64(1), metricValue(t, scrape(), "orgaccounts_import_requests", `status="pending"`), "operators see the pending import")
	require.Equal(t, float64(0), metricValue(t, scrape(), "orgaccounts_share_requests", `status="pending"`))
	testenv.RequireError(t, e.Owner.Post(imports, map[string]any{"account_sid": onDomain}), http.StatusConflict, domain.CodeInvalidState)
	otherSid, other := e.OtherOrg()
	testenv.RequireError(t, other.Post("/Organizations/"+otherSid+"/Accounts/Shares", map[string]any{"account_sid": onDomain}), http.StatusConflict, domain.CodeInvalidState)

	// The owner declines through the link.
	b := newBrowser(t)
	links := e.waitLinks("insider@example.com", 1)
	status, page := b.get(links[0])
	require.Equal(t, http.StatusOK, status)
	status, page = b.click(links[0], page, "decline")
	require.Equal(t, http.StatusOK, status, page)
	require.Contains(t, page, "Request declined")
	require.Eventually(t, func() bool { return e.pending("")[first]["status"] == "declined" }, 10*time.Second, 50*time.Millisecond)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+onDomain)), http.StatusNotFound, domain.CodeAccountNotFound)
	_, page = b.get(links[0])
	require.Contains(t, page, "already declined")

	// Cancelled by the requester: the link then says so, and answering it
	// changes nothing.
	r = e.Owner.Post(imports, map[string]any{"account_sid": onDomain})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	second := r.JSON(t)["sid"].(string)
	links = e.waitLinks("insider@example.com", 2)
	_, page = b.get(links[1])
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, shares+"/"+second, nil), http.StatusNotFound, 20404)
	r = e.Owner.Do(http.MethodDelete, imports+"/"+second, nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, "cancelled", r.JSON(t)["status"])
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, imports+"/"+second, nil), http.StatusConflict, domain.CodeInvalidState)
	status, page = b.click(links[1], page, "accept")
	require.Equal(t, http.StatusConflict, status, page)
	require.Contains(t, page, "cancelled")
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+onDomain)), http.StatusNotFound, domain.CodeAccountNotFound)

	// Nobody answers: a reminder half-way (its link supersedes the first),
	// then the request expires.
	r = e.Owner.Post(shares, map[string]any{"account_sid": outside})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	third := r.JSON(t)["sid"].(string)
	links = e.waitLinks("stranger@elsewhere.test", 2)
	_, page = b.get(links[0])
	require.Contains(t, page, "no longer valid")
	require.Eventually(t, func() bool { return e.pending("")[third]["status"] == "expired" }, 20*time.Second, 100*time.Millisecond)
	_, page = b.get(links[1])
	require.Contains(t, page, "has expired")
	require.Len(t, e.pending("?Status=expired"), 1)
	require.Equal(t, float64(1), metricValue(t, scrape(), "orgaccounts_share_requests", `status="expired"`))
	require.Equal(t, float64(0), metricValue(t, scrape(), "orgaccounts_import_requests", `status="pending"`))
	require.Len(t, e.pending("?Kind=share"), 1)
	testenv.RequireError(t, e.Owner.Get(e.Path("/PendingAccounts?Status=odd")), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Get(e.Path("/PendingAccounts/"+third+"x")), http.StatusBadRequest, domain.CodeBadRequest)
	require.Equal(t, http.StatusOK, e.Owner.Get(e.Path("/PendingAccounts/"+third)).Status)

	// Sign-up: validation, one user per email, and a rate per client IP.
	anon := testenv.Client{T: t, BaseURL: e.App.BaseURL}
	testenv.RequireError(t, anon.Post("/v1/Accounts", map[string]any{"email": "not-an-email", "friendly_name": "X"}), http.StatusBadRequest, domain.CodeInvalidEmail)
	testenv.RequireError(t, anon.Post("/v1/Accounts", map[string]any{"email": "a@b.test"}), http.StatusBadRequest, domain.CodeBadRequest)
	// An email some user has is answered as a new one is, so a sign-up
	// tells nobody whether an address is known; that user is emailed.
	fresh := anon.Post("/v1/Accounts", map[string]any{"email": "newcomer@elsewhere.test", "friendly_name": "Again"})
	require.Equal(t, http.StatusCreated, fresh.Status, "body: %s", fresh.Body)
	known := anon.WithHeader("X-Request-Id", "signup-known-1").Post("/v1/Accounts", map[string]any{"email": "insider@example.com", "friendly_name": "Again"})
	require.Equal(t, http.StatusCreated, known.Status, "body: %s", known.Body)
	require.Equal(t, keysOf(fresh.JSON(t)), keysOf(known.JSON(t)), "the same answer, field for field")
	require.Equal(t, fresh.Header.Get("Cache-Control"), known.Header.Get("Cache-Control"))
	ghost := known.JSON(t)["account_sid"].(string)
	_, _, err := e.App.Store.FindAnyAccount(context.Background(), ghost)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "no account was created for a known email")
	require.Eventually(t, func() bool {
		sent, err := e.App.Store.EmailSent(context.Background(), "signup-existing/signup-known-1")
		return err == nil && sent
	}, 30*time.Second, 100*time.Millisecond, "the user who has the address is told")
	var last testenv.Response
	for i := 0; i < 12; i++ {
		last = anon.Post("/v1/Accounts", map[string]any{"email": "bulk" + string(rune('a'+i)) + "@spam.test", "friendly_name": "Bulk"})
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	testenv.RequireError(t, last, http.StatusTooManyRequests, domain.CodeRateLimited)
	require.NotEmpty(t, last.Header.Get("Retry-After"))
}

// keysOf lists a JSON object's keys, sorted.
func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closedRuns lists the workflow IDs of type typ for an account whose runs
// closed with status (Completed, Failed, …), as an operator finds them.
func closedRuns(t *testing.T, a *testenv.RunningApp, typ, acct, status string) []string {
	return listedInTemporal(t, a, "WorkflowType = '"+typ+"' AND AccountSid = '"+acct+"' AND ExecutionStatus = '"+status+"'")
}

// TestRefusedImportRecordsNothing: an import of an account whose owner is
// off the organization's verified domains is refused by the POST itself;
// the attempt's workflow ends at once with the refusal, and no request is
// recorded, so the account stays free for any organization.
func TestRefusedImportRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, nil)
	outside := e.signUp("stranger@elsewhere.test", "Stranger")

	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/Imports"), map[string]any{"account_sid": outside}), http.StatusBadRequest, domain.CodeDomainNotVerified)

	// The refused attempt is a failed run, never a running one.
	var failed []string
	require.Eventually(t, func() bool {
		failed = closedRuns(t, e.App, "ImportAccountWorkflow", outside, "Failed")
		return len(failed) == 1
	}, 20*time.Second, 200*time.Millisecond, "the refused import's run is listed as failed")
	require.True(t, strings.HasPrefix(failed[0], "import-account/"+domain.PrefixAccountRequest), failed[0])
	require.Empty(t, listedInTemporal(t, e.App, "AccountSid = '"+outside+"' AND ExecutionStatus = 'Running'"), "no workflow waits on the account")

	require.Empty(t, e.pending(""), "no request listed")
	rows, err := e.App.Store.ListAccountRequests(context.Background(), domain.AccountRequestFilter{OrganizationSid: e.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Empty(t, rows, "no request row")
	require.Empty(t, e.links("stranger@elsewhere.test"), "nobody was emailed")
	// The account is free: the organization may share it instead.
	r := e.Owner.Post(e.Path("/Accounts/Shares"), map[string]any{"account_sid": outside})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
}

// TestRelinquishRevokesInvitationsThroughTheAPI: relinquishing a shared
// account revokes its pending invitation, removes every role assignment
// on it and emails its owner, through RelinquishAccountWorkflow, which an
// operator finds by the account.
func TestRelinquishRevokesInvitationsThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, nil)
	ctx := context.Background()
	dev := e.SCIMUser("dev@example.com")
	acct := e.signUp("maker@outside.test", "Maker Shop")
	r := e.Owner.Post(e.Path("/Accounts/Shares"), map[string]any{"account_sid": acct,
		"grants": []map[string]any{{"identity": dev, "roles": []string{domain.RoleDeveloper}}}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	b := newBrowser(t)
	shareLink := e.waitLinks("maker@outside.test", 1)[0]
	_, page := b.get(shareLink)
	status, page := b.click(shareLink, page, "accept")
	require.Equal(t, http.StatusOK, status, page)
	_, ownerUser, err := e.App.Store.FindAnyAccount(ctx, acct)
	require.NoError(t, err)
	devClient := e.ClientFor(dev)
	require.Equal(t, http.StatusOK, devClient.Get(e.Path("/Accounts/"+acct)).Status, "the grantee sees the shared account")
	r = e.invite(e.Owner, acct, "guest@partner.test", domain.RoleSupport)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	inv := r.JSON(t)["sid"].(string)
	link := e.waitLinks("guest@partner.test", 1)[0]

	r = e.Owner.Post(e.Path("/Accounts/"+acct+"/Relinquish"), nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	got := r.JSON(t)
	require.Equal(t, "relinquished", got["status"])
	require.Equal(t, acct, got["account_sid"])
	require.Equal(t, ownerUser.Sid, got["owner_sid"])

	// All of it is done by the time the POST answers.
	stored, err := e.App.Store.FindInvitation(ctx, "", inv)
	require.NoError(t, err)
	require.Equal(t, domain.InvitationRevoked, stored.Status, "the pending invitation was revoked")
	roles, err := e.App.Store.RolesOn(ctx, acct, dev)
	require.NoError(t, err)
	require.Empty(t, roles, "the assignments are gone")
	testenv.RequireError(t, devClient.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	_, page = newBrowser(t).get(link)
	require.NotContains(t, page, `name="csrf"`, "the invitation link no longer offers to join")

	e.mail.WaitForMessage(t, "maker@outside.test", "gave up its access", 20*time.Second) // the owner is emailed
	require.Eventually(t, func() bool {
		return len(closedRuns(t, e.App, "RelinquishAccountWorkflow", acct, "Completed")) == 1
	}, 20*time.Second, 200*time.Millisecond, "the relinquish is a completed workflow run of the account")

	// Relinquished already: the organization no longer has the account.
	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+acct+"/Relinquish"), nil), http.StatusNotFound, domain.CodeAccountNotFound)
}
