package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// The guide's procedures other than creating an account, each through the
// console's pages in Chromium and checked through the JSON API.

// answerLink opens an emailed confirmation link in a browser of its own
// (the recipient's) and clicks its accept button.
func answerLink(t *testing.T, link, want string) {
	t.Helper()
	ctx := testenv.MustBrowser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#accept")), chromedp.Click(chromedp.CSS("#accept"))))
	waitText(ctx, t, "#title", want)
}

// TestConsoleAddExistingAccount: Add Existing Account by SID explains
// why an owner off the verified domains is refused; an owner on one
// confirms from the email, and the pending page follows the request until
// it leaves Pending.
func TestConsoleAddExistingAccount(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	outside := e.signUp("stranger@elsewhere.test", "Stranger")
	acct := e.signUp("founder@example.com", "Founder Lab")
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/accounts", "#add-existing")
	b.click("#add-existing")
	b.waitFor("#account_sid")
	b.checkA11y()
	b.fill("#account_sid", outside)
	b.submit("#import", "#account_sid-error .field-error")
	require.Contains(t, b.text("#account_sid-error"), "verified domains")
	require.Equal(t, "true", evalOn[string](b, `document.querySelector("#account_sid").getAttribute("aria-invalid")`))
	require.Empty(t, e.pending(""), "the refusal recorded nothing")

	b.fill("#account_sid", acct)
	b.submit("#import", "#request-progress")
	b.waitText("#request-status", "pending")
	b.checkA11y()
	require.Len(t, e.pending(""), 1)

	msg := mp.WaitForMessage(t, "founder@example.com", "asks to import", 30*time.Second)
	links := msg.Links(e.App.BaseURL + "/confirm/")
	require.Len(t, links, 1, "text: %s", msg.Text)
	answerLink(t, links[0], "Account imported")

	// The console's page follows the request to its end by itself.
	b.waitText("#request-status", "accepted")
	b.click("#open-account")
	b.waitText("#account-sid", acct)
	got := e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)
	require.Equal(t, domain.AccountManaged, got["kind"])
	require.Equal(t, domain.AccountActive, got["status"])
	for sid, r := range e.pending("") {
		require.NotEqual(t, "pending", r["status"], "request %s left Pending", sid)
	}
	b.open("/console/pending", "#pending")
	b.checkA11y()

	// Cancel, from the Pending accounts list.
	second := e.signUp("second@example.com", "Second Lab")
	b.open("/console/accounts/add", "#account_sid")
	b.fill("#account_sid", second)
	b.submit("#import", "#request-progress")
	rq := strings.TrimPrefix(b.url(), e.App.BaseURL+"/console/pending/")
	b.open("/console/pending", "#pending")
	b.submit(`#pending tr[data-sid="`+rq+`"] button`, "#request-progress")
	b.waitText("#request-status", "cancelled")
	require.Equal(t, "cancelled", e.pending("")[rq]["status"])
}

// TestConsoleUsersFilterByRole: the Users tab lists each user with its
// roles and two-factor state, and "Select account roles" keeps those
// holding the role.
func TestConsoleUsersFilterByRole(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	alice := e.SCIMUser("alice@example.com")
	bob := e.SCIMUser("bob@example.com")
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Roles Lab"})
	invitations := e.Path("/Accounts/" + acct + "/Invitations")
	for email, roles := range map[string][]string{"alice@example.com": {domain.RoleDeveloper}, "bob@example.com": {domain.RoleBillingManager, domain.RoleSupport}} {
		r := e.Owner.Post(invitations, map[string]any{"email": email, "roles": roles})
		require.Equal(t, http.StatusOK, r.Status, "a managed user has the roles at once: %s", r.Body)
	}
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/accounts/"+acct, "#tab-users")
	b.checkA11y()
	b.click("#tab-users")
	b.waitFor("#users")
	rows := func() string {
		return evalOn[string](b, `[...document.querySelectorAll("#users tbody tr[data-sid]")].map(r => r.dataset.sid).sort().join()`)
	}
	require.Equal(t, 3, len(strings.Split(rows(), ",")), "the owner, Alice and Bob: %s", rows())
	require.Equal(t, "Billing Manager, Support", b.text(`#users tr[data-sid="`+bob+`"] .roles`))
	require.Contains(t, b.text(`#users tr[data-sid="`+bob+`"]`), "not enrolled")
	b.checkA11y()
	b.screenshot("users")

	require.True(t, evalOn[bool](b, `(document.querySelector("#role").value = "`+domain.RoleDeveloper+`") !== ""`))
	b.submit("#filter-users", "#users")
	b.waitJS(`location.search.includes("role=`+domain.RoleDeveloper+`")`, "the filter is in the address")
	// The address changes before the new page has its rows: wait for them.
	require.Eventually(t, func() bool { return rows() == alice }, 15*time.Second, 100*time.Millisecond, "the filtered list: %s", rows())
	r := e.Owner.Get(e.Path("/Accounts/" + acct + "/Users?Role=" + domain.RoleDeveloper))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	listed := r.JSON(t)["content"].([]any)
	require.Len(t, listed, 1)
	require.Equal(t, alice, listed[0].(map[string]any)["user_sid"])

	b.open("/console/accounts/"+acct+"/users?role="+domain.RoleSupport, "#users")
	require.Equal(t, bob, rows())
	b.open("/console/accounts/"+acct+"/users?role="+domain.RoleAdministrator, "#no-users")
	b.open("/console/accounts/"+acct+"/users?role=IX0", "#role-error .field-error")
}

// TestConsoleInviteResendAccept: Invite User emails an outsider; Pending
// Users says when the next resend is allowed, resends, and the invitee
// accepts from the newest email.
func TestConsoleInviteResendAccept(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{
		"SMTP_URL": mp.SMTPURL(), "INVITATION_RESEND_INTERVAL": "2s",
	}})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Partner Space"})
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/accounts/"+acct+"/users", "#invite-user")
	b.click("#invite-user")
	b.waitFor("#email")
	b.checkA11y()
	b.fill("#email", "not-an-email")
	b.submit("#send-invite", "#email-error .field-error")
	b.fill("#email", "carol@partner.test")
	b.click("#invite-role-" + domain.RoleDeveloper)
	b.submit("#send-invite", "#invitations")
	b.waitText("#invitations", "carol@partner.test")
	b.checkA11y()
	first := mp.WaitForMessage(t, "carol@partner.test", "invited you", 30*time.Second).Links(e.App.BaseURL + "/confirm/")
	require.Len(t, first, 1)

	// Until the resend interval has passed the tab says when; then it
	// offers Resend (the tab updates itself, or a reload shows it).
	require.True(t, evalOn[bool](b, `!!document.querySelector("#invitations .next-resend") || !!document.querySelector("#invitations .resend")`))
	require.Eventually(t, func() bool {
		b.open("/console/accounts/"+acct+"/pending-users", "#invitations")
		return evalOn[bool](b, `!!document.querySelector("#invitations .resend")`)
	}, 20*time.Second, 500*time.Millisecond, "Resend never offered")
	b.submit("#invitations .resend", "#notice")
	require.Contains(t, b.text("#notice"), "sent again")
	var second string
	require.Eventually(t, func() bool {
		for _, m := range mp.Messages(t) {
			if strings.Contains(strings.Join(m.To, ","), "carol@partner.test") {
				for _, l := range mp.Message(t, m.ID).Links(e.App.BaseURL + "/confirm/") {
					if l != first[0] {
						second = l
					}
				}
			}
		}
		return second != ""
	}, 30*time.Second, 200*time.Millisecond, "no second email")
	inv := e.Owner.Get(e.Path("/Accounts/" + acct + "/Invitations")).JSON(t)["content"].([]any)
	require.Len(t, inv, 1)
	require.EqualValues(t, 2, inv[0].(map[string]any)["sent_count"])

	answerLink(t, second, "Welcome to Partner Space")
	b.open("/console/accounts/"+acct+"/pending-users", "#no-invitations")
	b.open("/console/accounts/"+acct+"/users", "#users")
	require.Contains(t, b.text("#users"), "carol@partner.test")
	users := e.Owner.Get(e.Path("/Accounts/" + acct + "/Users?Role=" + domain.RoleDeveloper)).JSON(t)["content"].([]any)
	require.Len(t, users, 1)
	require.Equal(t, "carol@partner.test", users[0].(map[string]any)["email"])
}

// TestConsoleChangeOwner: the General tab's Change owner takes a managed
// user's email (offered as it is typed) or User SID, and explains a
// refusal next to the field.
func TestConsoleChangeOwner(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	alice := e.SCIMUser("alice@example.com")
	bob := e.SCIMUser("bob@example.com")
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Handover"})
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/accounts/"+acct, "#change-owner")
	b.click("#change-owner")
	b.waitFor("#owner")
	b.checkA11y()
	require.True(t, evalOn[bool](b, `[...document.querySelectorAll("#managed-users option")].some(o => o.value === "alice@example.com")`),
		"the type-ahead offers the managed users")

	b.fill("#owner", "someone@elsewhere.test")
	b.submit("#save-owner", "#owner-error .field-error")
	require.Contains(t, b.text("#owner-error"), "not a managed user")
	require.Equal(t, e.App.Boot.Owner.Sid, e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)["owner_sid"])

	b.fill("#owner", "alice@example.com")
	b.submit("#save-owner", "#notice")
	require.Equal(t, alice, b.text("#account-owner"))
	require.Equal(t, alice, e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)["owner_sid"])

	b.open("/console/accounts/"+acct+"/owner", "#owner")
	b.fill("#owner", bob)
	b.submit("#save-owner", "#notice")
	require.Equal(t, bob, b.text("#account-owner"))
	require.Equal(t, bob, e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)["owner_sid"])
}

// TestConsoleCloseAndReopen: the Close dialog's button is enabled only
// once the four acknowledgements are ticked (and the server refuses fewer);
// the closure's page follows it to the end with its counts and purge
// date; Reopen makes the account active again.
func TestConsoleCloseAndReopen(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keeps the lights on"})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Old Project"})
	r := e.Owner.Post(e.Path("/Accounts/"+acct+"/PhoneNumbers"), map[string]any{})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/accounts/"+acct, "#close-account")
	b.click("#close-account")
	b.waitFor("#close-form")
	require.Equal(t, 4, evalOn[int](b, `document.querySelectorAll("#close-form input.acknowledgement").length`))
	disabled := func() bool { return evalOn[bool](b, `document.querySelector("#confirm-close").disabled`) }
	require.True(t, disabled(), "nothing ticked")
	for _, name := range []string{"lose_access", "stop_charges", "release_resources"} {
		b.click("#ack-" + name)
		require.True(t, disabled(), "%s ticked, not all four", name)
	}
	b.checkA11y()
	// The server refuses fewer than four, whatever the page allowed.
	require.True(t, evalOn[bool](b, `(f => (HTMLFormElement.prototype.submit.call(f), true))(document.querySelector("#close-form"))`))
	b.waitFor("#acknowledgements-error .field-error")
	require.Contains(t, b.text("#acknowledgements-error"), "schedule_deletion")
	require.Equal(t, domain.AccountActive, e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)["status"])

	for _, name := range []string{"lose_access", "stop_charges", "release_resources", "schedule_deletion"} {
		if !evalOn[bool](b, `document.querySelector("#ack-`+name+`").checked`) {
			b.click("#ack-" + name)
		}
	}
	require.False(t, disabled(), "all four ticked")
	b.screenshot("close")
	b.submit("#confirm-close", "#closure-progress")
	b.waitText("#closure-stage", "retention")
	require.Equal(t, "1", b.text("#closure-released"))
	require.NotEmpty(t, b.text("#closure-purge"))
	b.checkA11y()
	got := e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)
	require.Equal(t, domain.AccountClosed, got["status"])
	require.NotEmpty(t, got["purge_after"])

	b.submit("#reopen", "#notice")
	require.Contains(t, b.text("#notice"), "reopened")
	b.waitText("#account-status", "active")
	require.Equal(t, domain.AccountActive, e.Owner.Get(e.Path("/Accounts/" + acct)).JSON(t)["status"])
}

// TestConsoleStandardUser: a Standard user sees only the accounts it holds
// a role on and only the actions its roles allow; the server refuses the
// hidden ones anyway.
func TestConsoleStandardUser(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	dev := e.SCIMUser("dev@example.com")
	mine := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Mine"})
	other := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Not Mine"})
	r := e.Owner.Post(e.Path("/Accounts/"+mine+"/Invitations"), map[string]any{"email": "dev@example.com", "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	b := consoleAs(t, e, dev)

	b.open("/console/accounts", "#accounts")
	require.Equal(t, mine, evalOn[string](b, `[...document.querySelectorAll("#accounts tbody tr[data-sid]")].map(r => r.dataset.sid).join()`))
	require.False(t, evalOn[bool](b, `!!document.querySelector("#add-existing, #share-account, #pending-accounts, a[href='/console/organization/domains']")`),
		"no organization-admin actions")
	b.checkA11y()

	b.open("/console/accounts/"+mine, "#account-sid")
	require.False(t, evalOn[bool](b, `!!document.querySelector("#close-account, #change-owner, #save-settings, #tab-pending-users")`),
		"a Developer may not close, transfer, change settings or manage users")
	b.open("/console/accounts/"+mine+"/users", "#users")
	require.False(t, evalOn[bool](b, `!!document.querySelector("#invite-user, #users details")`))

	// What the page hides, the server refuses.
	postOn := func(path, body string) int {
		t.Helper()
		return evalOn[int](b, `fetch("`+path+`", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "`+body+`", redirect: "manual"}).then(r => r.status)`,
			chromedp.EvalAwaitPromise)
	}
	require.Equal(t, http.StatusForbidden, postOn("/console/accounts/"+mine+"/close", "lose_access=on&stop_charges=on&release_resources=on&schedule_deletion=on"))
	require.Equal(t, http.StatusForbidden, postOn("/console/accounts/"+mine+"/settings", "friendly_name=Renamed"))
	require.Equal(t, http.StatusForbidden, postOn("/console/accounts/"+mine+"/invite", "email=x%40partner.test&roles="+domain.RoleSupport))
	require.Equal(t, http.StatusNotFound, postOn("/console/accounts/"+other+"/close", "lose_access=on&stop_charges=on&release_resources=on&schedule_deletion=on"))
	got := e.Owner.Get(e.Path("/Accounts/" + mine)).JSON(t)
	require.Equal(t, "Mine", got["friendly_name"])
	require.Equal(t, domain.AccountActive, got["status"])
	require.Equal(t, 0, e.Count(e.Owner, e.Path("/Accounts/"+mine+"/Invitations")))

	b.open("/console/accounts/"+other, "#problem")
	b.checkA11y()
	b.open("/console/organization/events", "#problem")
	b.open("/console/pending", "#problem")
	b.open("/console/organization/domains", "#domains")
	require.False(t, evalOn[bool](b, `!!document.querySelector("#add-domain, #domains button.danger")`), "domains are read-only for a Standard user")
	require.Equal(t, http.StatusForbidden, postOn("/console/organization/domains", "domain_name=new.example.org"))
}

// TestConsoleOrganizationPages: the verified domains (a new one with the
// TXT record to publish and its copy button), managed users, audit events
// with filters, and settings, each accessible.
func TestConsoleOrganizationPages(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	e.SCIMUser("scim@example.com")
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Audited"})
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/organization/domains", "#domain_name")
	b.fill("#domain_name", "new.example.org")
	b.submit("#add-domain", "#notice")
	require.Contains(t, b.text("#domains"), "new.example.org")
	require.Contains(t, b.text("#domains"), "_orgaccounts")
	require.True(t, evalOn[bool](b, `[...document.querySelectorAll("#domains button.copy")].some(x => !x.hidden)`), "a copy button for the TXT value")
	b.checkA11y()
	domains := e.Owner.Get(e.Path("/Domains")).JSON(t)["content"].([]any)
	names := make([]string, 0, len(domains))
	for _, d := range domains {
		names = append(names, d.(map[string]any)["domain_name"].(string))
	}
	require.Contains(t, names, "new.example.org")

	b.open("/console/organization/users", "#org-users")
	require.Contains(t, b.text("#org-users"), "scim@example.com")
	b.checkA11y()

	b.open("/console/organization/events?resource="+acct, "#events")
	require.Contains(t, b.text("#events"), "account.created")
	require.NotContains(t, b.text("#events"), "domain.")
	b.checkA11y()
	b.open("/console/organization/events?start=2020-13-01", "#filter-error .field-error")

	b.open("/console/organization/settings", "#org-name")
	require.Equal(t, e.App.Boot.Organization.FriendlyName, b.text("#org-name"))
	b.checkA11y()

	b.open("/console/organization/keys", "#keys")
	b.checkA11y()
	b.open("/console/accounts/share", "#account_sid")
	b.checkA11y()
}
