package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

var acknowledged = map[string]any{"lose_access": true, "stop_charges": true, "release_resources": true, "schedule_deletion": true}

// newClosureEnv runs the service with the given closure settings.
func newClosureEnv(t *testing.T, databaseURL string, vars map[string]string) *env {
	t.Helper()
	return newAppEnv(t, testenv.AppOptions{DatabaseURL: databaseURL, Env: vars})
}

func TestCloseAccount_CutsCredentialsAtOnceClosesEverythingAndReopens(t *testing.T) {
	t.Parallel()
	e := newClosureEnv(t, testenv.MustPostgres(t), map[string]string{"CLOSURE_RETENTION": "1h"})
	keep := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keep"})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Doomed"})
	sub := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Doomed EU", "parent_sid": acct})
	require.Equal(t, acct, e.Owner.Get(e.Path("/Accounts/" + sub)).JSON(t)["parent_sid"])
	base := e.Path("/Accounts/" + acct)

	for _, p := range []struct {
		path string
		body map[string]any
	}{
		{"/PhoneNumbers", map[string]any{"phone_number": "+15005550006"}},
		{"/PhoneNumbers", map[string]any{}},
		{"/ShortCodes", map[string]any{"short_code": "80123"}},
		{"/Subscriptions", map[string]any{"description": "Toll-free line", "monthly_price": "2.00", "currency": "USD"}},
	} {
		r := e.Owner.Post(base+p.path, p.body)
		require.Equal(t, http.StatusCreated, r.Status, "%s: %s", p.path, r.Body)
	}
	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+keep+"/PhoneNumbers"), map[string]any{"phone_number": "+15005550006"}), http.StatusConflict, domain.CodeNumberUnavailable)

	acctClient, subClient := e.AccountCredential(acct), e.AccountCredential(sub)
	require.Equal(t, http.StatusOK, acctClient.Get(base+"/PhoneNumbers").Status)
	require.Equal(t, http.StatusOK, subClient.Get(e.Path("/Accounts/"+sub)).Status)
	testenv.RequireError(t, acctClient.Get(e.Path("/Accounts")), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, acctClient.Get(e.Path("/Accounts/"+keep+"/PhoneNumbers")), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, acctClient.Post(base+"/Close", acknowledged), http.StatusForbidden, domain.CodeForbidden)

	r := e.Owner.Post(base+"/Invitations", map[string]any{"email": "guest@partner.example", "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	invitation := r.JSON(t)["sid"].(string)

	// Roles: a Developer of the account may not close it.
	dev := e.SCIMUser("dev@example.com")
	require.Equal(t, http.StatusCreated, e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": acct, "identity": dev}).Status)
	testenv.RequireError(t, e.ClientFor(dev).Post(base+"/Close", acknowledged), http.StatusForbidden, domain.CodeForbidden)

	// Every acknowledgement is required, and named when missing.
	partial := map[string]any{"lose_access": true, "stop_charges": true, "release_resources": true}
	r = e.Owner.Post(base+"/Close", partial)
	testenv.RequireError(t, r, http.StatusBadRequest, domain.CodeBadRequest)
	require.Contains(t, r.JSON(t)["message"], "schedule_deletion")
	partial["schedule_deletion"] = false
	testenv.RequireError(t, e.Owner.Post(base+"/Close", partial), http.StatusBadRequest, domain.CodeBadRequest)
	require.Equal(t, "active", e.Owner.Get(base).JSON(t)["status"], "a refused close changes nothing")

	r = acctClient.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {acctClient.User}, "client_secret": {acctClient.Password}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	bearer := e.Bearer(r.JSON(t)["access_token"].(string))
	require.Equal(t, http.StatusOK, bearer.Get(base+"/Subscriptions").Status)

	r = e.Owner.Post(base+"/Close", acknowledged)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	first := r.JSON(t)
	require.Equal(t, "close-account/"+acct, first["workflow_id"])
	require.Equal(t, "pending_closure", first["account"].(map[string]any)["status"])
	purgeAfter, err := time.Parse(time.RFC3339, first["purge_after"].(string))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), purgeAfter, time.Minute)

	// At once: the account's credentials and its subaccount's are cut
	// off, and nothing new starts on it.
	testenv.RequireError(t, acctClient.Get(base+"/PhoneNumbers"), http.StatusForbidden, domain.CodeAccountNotActive)
	testenv.RequireError(t, subClient.Get(e.Path("/Accounts/"+sub)), http.StatusForbidden, domain.CodeAccountNotActive)
	testenv.RequireError(t, acctClient.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {acctClient.User}, "client_secret": {acctClient.Password}}),
		http.StatusForbidden, domain.CodeAccountNotActive)
	testenv.RequireError(t, bearer.Get(base+"/Subscriptions"), http.StatusForbidden, domain.CodeAccountNotActive)
	wrong := acctClient
	wrong.Password = domain.NewSecret(32)
	testenv.RequireError(t, wrong.Get(base+"/PhoneNumbers"), http.StatusUnauthorized, domain.CodeUnauthenticated)
	testenv.RequireError(t, e.Owner.Post(base+"/Invitations", map[string]any{"email": "late@partner.example", "roles": []string{domain.RoleDeveloper}}), http.StatusConflict, domain.CodeInvalidState)
	testenv.RequireError(t, e.Owner.Post(base+"/Owner", map[string]any{"owner": dev}), http.StatusConflict, domain.CodeInvalidState)
	testenv.RequireError(t, e.Owner.Post(base+"/PhoneNumbers", map[string]any{}), http.StatusConflict, domain.CodeInvalidState)
	testenv.RequireError(t, e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleSupport, "scope": acct, "identity": dev}), http.StatusConflict, domain.CodeInvalidState)

	// Closing again returns the running closure.
	r = e.Owner.Post(base+"/Close", acknowledged)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, first["run_id"], r.JSON(t)["run_id"])

	got := e.WaitStatus(e.Owner, acct, domain.AccountClosed)
	require.Equal(t, first["purge_after"], got["purge_after"])
	require.NotEmpty(t, got["date_closed"])
	e.WaitStatus(e.Owner, sub, domain.AccountClosed)
	var closure map[string]any
	require.Eventually(t, func() bool {
		closure = e.Owner.Get(base + "/Closure").JSON(t)
		return closure["stage"] == "retention"
	}, 30*time.Second, 50*time.Millisecond)
	// Where the Web UI looks: the closure is found by its stage.
	require.Eventually(t, func() bool {
		resp, err := e.App.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowId = 'close-account/%s' AND LifecycleStage = 'retention'", acct),
		})
		return err == nil && len(resp.Executions) == 1
	}, 20*time.Second, 200*time.Millisecond, "no closure with LifecycleStage=retention in the visibility store")
	// The subaccount's own closure, run by its parent's, answers for it.
	subClosure := e.Owner.Get(e.Path("/Accounts/" + sub + "/Closure"))
	require.Equal(t, http.StatusOK, subClosure.Status, "body: %s", subClosure.Body)
	require.Equal(t, "closed", subClosure.JSON(t)["stage"])
	counts := closure["counts"].(map[string]any)
	require.Equal(t, float64(1), counts["subaccounts_closed"])
	require.Equal(t, float64(1), counts["requests_cancelled"])
	require.Equal(t, float64(1), counts["charges_stopped"])
	require.Equal(t, float64(3), counts["numbers_released"])
	require.Equal(t, "revoked", e.Owner.Get(base + "/Invitations/" + invitation).JSON(t)["status"])
	require.Equal(t, 0, len(e.Owner.Get(base + "/PhoneNumbers").JSON(t)["content"].([]any)))
	require.Equal(t, 0, e.Count(e.Owner, base+"/Users"), "nobody has access any more")
	require.Equal(t, "stopped", e.Owner.Get(base + "/Subscriptions").JSON(t)["content"].([]any)[0].(map[string]any)["status"])
	// The released number is back in the inventory: another account
	// may take it.
	require.Equal(t, http.StatusCreated, e.Owner.Post(e.Path("/Accounts/"+keep+"/PhoneNumbers"), map[string]any{"phone_number": "+15005550006"}).Status)

	// The organization's last open account cannot be closed.
	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+keep+"/Close"), acknowledged), http.StatusConflict, domain.CodeInvalidState)

	// Reopen before the purge: back with its owner, and the answer says
	// what is not restored.
	testenv.RequireError(t, e.ClientFor(dev).Post(base+"/Reopen", nil), http.StatusForbidden, domain.CodeForbidden)
	r = e.Owner.Post(base+"/Reopen", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	re := r.JSON(t)
	require.Equal(t, "active", re["account"].(map[string]any)["status"])
	require.Nil(t, re["account"].(map[string]any)["purge_after"])
	require.Equal(t, map[string]any{"phone_numbers": float64(2), "short_codes": float64(1), "subscriptions": float64(1), "credentials": float64(1)}, re["not_restored"])
	require.Contains(t, re["message"], "not restored")
	require.Equal(t, "active", e.Owner.Get(e.Path("/Accounts/" + sub)).JSON(t)["status"])
	users := e.Owner.Get(base + "/Users").JSON(t)["content"].([]any)
	require.Len(t, users, 1)
	require.Equal(t, []any{domain.RoleOwner}, users[0].(map[string]any)["roles"])
	// Closing revoked the account's credentials for good: neither they,
	// nor a bearer token minted before the closure, nor its subaccount's
	// work again.
	testenv.RequireError(t, acctClient.Get(base+"/PhoneNumbers"), http.StatusUnauthorized, domain.CodeUnauthenticated)
	testenv.RequireError(t, bearer.Get(base+"/Subscriptions"), http.StatusUnauthorized, domain.CodeUnauthenticated)
	testenv.RequireError(t, subClient.Get(e.Path("/Accounts/"+sub)), http.StatusUnauthorized, domain.CodeUnauthenticated)
	require.Empty(t, e.Owner.Get(base + "/Credentials").JSON(t)["credentials"], "the account lists no credential")
	testenv.RequireError(t, e.Owner.Post(base+"/Reopen", nil), http.StatusConflict, domain.CodeInvalidState)
	require.Eventually(t, func() bool { return e.Owner.Get(base + "/Closure").JSON(t)["stage"] == "reopened" }, 10*time.Second, 50*time.Millisecond)
	// The subaccount came back with its parent: its closure says so, and
	// so does the Web UI, where its closure is no longer found as closed.
	require.Equal(t, "reopened", e.Owner.Get(e.Path("/Accounts/" + sub + "/Closure")).JSON(t)["stage"])
	subWorkflow := workflows.SubaccountClosureWorkflowID(acct, sub)
	require.Eventually(t, func() bool {
		return len(listedInTemporal(t, e.App, fmt.Sprintf("WorkflowId = '%s' AND LifecycleStage = 'reopened'", subWorkflow))) == 1
	}, 20*time.Second, 200*time.Millisecond, "the subaccount's closure is not LifecycleStage=reopened in the visibility store")
	require.Empty(t, listedInTemporal(t, e.App, fmt.Sprintf("WorkflowId = '%s' AND LifecycleStage = 'closed'", subWorkflow)))
}

func TestCloseAccount_PurgedAfterTheRetentionWindowLeavingATombstone(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) { t.Parallel(); purgedAfterTheWindow(t, testenv.MustPostgres(t)) })
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); purgedAfterTheWindow(t, "") })
}

func purgedAfterTheWindow(t *testing.T, databaseURL string) {
	e := newClosureEnv(t, databaseURL, map[string]string{"CLOSURE_RETENTION": "2s"})
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keep"})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Short-lived"})
	sub := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Short-lived EU", "parent_sid": acct})
	require.Equal(t, http.StatusCreated, e.Owner.Post(e.Path("/Accounts/"+acct+"/PhoneNumbers"), map[string]any{}).Status)
	r := e.Owner.Post(e.Path("/Accounts/"+acct+"/Close"), acknowledged)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	require.Eventually(t, func() bool {
		return e.Owner.Get(e.Path("/Accounts/"+acct)).Status == http.StatusNotFound
	}, 30*time.Second, 100*time.Millisecond, "never purged")
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts/"+sub)), http.StatusNotFound, domain.CodeAccountNotFound)
	require.Eventually(t, func() bool {
		return e.Owner.Get(e.Path("/Accounts/" + acct + "/Closure")).JSON(t)["stage"] == "purged"
	}, 10*time.Second, 50*time.Millisecond)
	events := e.Owner.Get(e.Path("/Events?Type=account.purged&Resource=" + acct)).JSON(t)["content"].([]any)
	require.Len(t, events, 1)
	changes := events[0].(map[string]any)["changes"].(map[string]any)
	require.Equal(t, acct, changes["account_sid"])
	require.Equal(t, e.Sid, changes["organization_sid"])
	require.Equal(t, e.App.Boot.Owner.Sid, changes["closed_by"], "the tombstone names who closed it")
	require.Equal(t, []any{sub}, changes["subaccounts"])
	require.NotEmpty(t, changes["date_closed"])
	require.NotEmpty(t, changes["date_purged"])
	testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+acct+"/Reopen"), nil), http.StatusNotFound, domain.CodeAccountNotFound)
	released, err := e.App.Store.ListReleases(context.Background(), acct)
	require.NoError(t, err)
	require.Len(t, released, 1, "the release record outlives the purge")
}

// TestCloseAccount_RacingTransferAndInvitationLeaveAConsistentAccount
// fires a transfer, an invitation and a closure at one account at once,
// several times: each account ends closed, with no live invitation and
// nobody holding a role (no new owner either); a transfer or invitation
// that succeeded did so before the closure began.
func TestCloseAccount_RacingTransferAndInvitationLeaveAConsistentAccount(t *testing.T) {
	t.Parallel()
	e := newClosureEnv(t, testenv.MustPostgres(t), map[string]string{"CLOSURE_RETENTION": "1h"})
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keep"})
	heir := e.SCIMUser("heir@example.com")
	for round := 0; round < 4; round++ {
		acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": fmt.Sprintf("Raced %d", round)})
		base := e.Path("/Accounts/" + acct)
		var transfer, invite, closing testenv.Response
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, f := range []func(){
			func() { transfer = e.Owner.Post(base+"/Owner", map[string]any{"owner": heir}) },
			func() {
				invite = e.Owner.Post(base+"/Invitations", map[string]any{"email": fmt.Sprintf("guest%d@partner.example", round), "roles": []string{domain.RoleDeveloper}})
			},
			func() { closing = e.Owner.Post(base+"/Close", acknowledged) },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				f()
			}()
		}
		close(start)
		wg.Wait()
		require.Equal(t, http.StatusAccepted, closing.Status, "round %d: close: %s", round, closing.Body)
		require.Contains(t, []int{http.StatusOK, http.StatusConflict}, transfer.Status, "round %d: transfer: %s", round, transfer.Body)
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, invite.Status, "round %d: invite: %s", round, invite.Body)

		e.WaitStatus(e.Owner, acct, domain.AccountClosed)
		require.Equal(t, 0, e.Count(e.Owner, base+"/Users"), "round %d: nobody holds a role, no new owner either", round)
		require.Equal(t, 0, e.Count(e.Owner, base+"/Invitations?Status=pending"), "round %d: no live invitation", round)
		if invite.Status == http.StatusCreated {
			inv := invite.JSON(t)["sid"].(string)
			require.Eventually(t, func() bool {
				return e.Owner.Get(base + "/Invitations/" + inv).JSON(t)["status"] == "revoked"
			}, 10*time.Second, 50*time.Millisecond, "round %d: the invitation made before the closure was revoked", round)
		}
		// What succeeded came before the closure began.
		events := e.Owner.Get(e.Path("/Events?Resource=" + acct)).JSON(t)["content"].([]any)
		closedAt := ""
		for _, ev := range events {
			m := ev.(map[string]any)
			if m["event_type"] == domain.EventClosureRequested {
				closedAt = m["sid"].(string)
			}
		}
		require.NotEmpty(t, closedAt)
		for _, ev := range events {
			m := ev.(map[string]any)
			if m["event_type"] == domain.EventOwnershipTransferred {
				require.Equal(t, http.StatusOK, transfer.Status)
				require.Less(t, m["sid"].(string), closedAt, "round %d: the transfer committed before the closure", round)
			}
		}
		t.Logf("round %d: transfer %d, invitation %d", round, transfer.Status, invite.Status)
	}
}

// TestCloseAccount_ByItsOwnerWhoKeepsSeeingTheClosure: the account Owner
// (a Standard user of the organization) may close it, and still gets the
// running closure back after its role went with the closure.
func TestCloseAccount_ByItsOwnerWhoKeepsSeeingTheClosure(t *testing.T) {
	t.Parallel()
	e := newClosureEnv(t, testenv.MustPostgres(t), map[string]string{"CLOSURE_RETENTION": "1h"})
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keep"})
	alice := e.SCIMUser("alice@example.com")
	ac := e.ClientFor(alice)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Alice's", "owner": alice})
	r := ac.Post(e.Path("/Accounts/"+acct+"/Close"), acknowledged)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	e.WaitStatus(e.Owner, acct, domain.AccountClosed)
	testenv.RequireError(t, ac.Get(e.Path("/Accounts/"+acct)), http.StatusNotFound, domain.CodeAccountNotFound)
	r = ac.Post(e.Path("/Accounts/"+acct+"/Close"), acknowledged)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, "closed", r.JSON(t)["stage"])
	r = ac.Get(e.Path("/Accounts/" + acct + "/Closure"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	testenv.RequireError(t, ac.Post(e.Path("/Accounts/"+acct+"/Reopen"), nil), http.StatusForbidden, domain.CodeForbidden)
	var mails []domain.SentEmail
	require.Eventually(t, func() bool {
		var err error
		mails, err = e.App.Store.ListEmails(context.Background(), acct)
		return err == nil && len(mails) == 1
	}, 10*time.Second, 50*time.Millisecond, "the owner was never emailed")
	require.Equal(t, "alice@example.com", mails[0].To)
}

// TestAccountNumbersArePaged: numbers, short codes and charges come in the
// page envelope, each page after the last SID of the one before.
func TestAccountNumbersArePaged(t *testing.T) {
	t.Parallel()
	e := newClosureEnv(t, testenv.MustPostgres(t), nil)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Many lines"})
	base := e.Path("/Accounts/" + acct)
	var want []any
	for i := 0; i < 5; i++ {
		r := e.Owner.Post(base+"/PhoneNumbers", map[string]any{})
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
		want = append(want, r.JSON(t)["sid"])
	}
	var got []any
	next := base + "/PhoneNumbers?PageSize=2"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 3, "5 numbers fit in 3 pages of 2")
		body := e.Owner.Get(next).JSON(t)
		for _, n := range body["content"].([]any) {
			got = append(got, n.(map[string]any)["sid"])
		}
		next = ""
		if u, ok := body["meta"].(map[string]any)["next_page_url"].(string); ok {
			next = strings.TrimPrefix(u, e.App.BaseURL)
		}
	}
	require.ElementsMatch(t, want, got, "every number once")
	require.Empty(t, e.Owner.Get(base + "/ShortCodes").JSON(t)["content"])
	testenv.RequireError(t, e.Owner.Get(base+"/PhoneNumbers?PageSize=0"), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Get(base+"/Subscriptions?PageToken=nope"), http.StatusBadRequest, domain.CodeInvalidPageToken)
}

// TestCloseAccount_RefusedAtItsStartLeavesTheAccountActive: closing the
// organization's last open account is refused by the closure's first
// step: the account stays active with its credentials, no closure is
// known or running, and once another account exists it closes.
func TestCloseAccount_RefusedAtItsStartLeavesTheAccountActive(t *testing.T) {
	t.Parallel()
	e := newClosureEnv(t, testenv.MustPostgres(t), map[string]string{"CLOSURE_RETENTION": "1h"})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "The only one"})
	base := e.Path("/Accounts/" + acct)
	for _, a := range e.Owner.Get(e.Path("/Accounts?PageSize=50")).JSON(t)["content"].([]any) {
		other := a.(map[string]any)
		if other["account_sid"] != acct && other["status"] == domain.AccountActive && other["parent_sid"] == nil {
			r := e.Owner.Post(e.Path("/Accounts/"+other["account_sid"].(string)+"/Close"), acknowledged)
			require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
		}
	}
	cred := e.AccountCredential(acct)

	r := e.Owner.Post(base+"/Close", acknowledged)
	testenv.RequireError(t, r, http.StatusConflict, domain.CodeInvalidState)
	require.Contains(t, r.JSON(t)["message"], "last")
	require.Equal(t, domain.AccountActive, e.Owner.Get(base).JSON(t)["status"])
	require.Equal(t, http.StatusOK, cred.Get(base+"/PhoneNumbers").Status, "its credentials still work")
	testenv.RequireError(t, e.Owner.Get(base+"/Closure"), http.StatusNotFound, domain.CodeAccountNotFound)
	require.Eventually(t, func() bool {
		desc, err := e.App.Temporal.DescribeWorkflow(context.Background(), "close-account/"+acct, "")
		return err == nil && desc.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 20*time.Second, 50*time.Millisecond, "a closure is running")

	// With another open account, it closes.
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keep"})
	r = e.Owner.Post(base+"/Close", acknowledged)
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	testenv.RequireError(t, cred.Get(base+"/PhoneNumbers"), http.StatusForbidden, domain.CodeAccountNotActive)
	e.WaitStatus(e.Owner, acct, domain.AccountClosed)
}
