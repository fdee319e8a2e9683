package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestConsoleCreateAccount follows the guide's "create an account": the
// Create New Account panel, then a Flex account whose extra steps the page
// shows completing one by one; the Accounts list's search and filters find
// them, and the JSON API agrees.
func TestConsoleCreateAccount(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console", "#create-account")
	require.Equal(t, "Accounts", b.text("#title"))
	b.checkA11y()
	b.click("#create-account")
	b.waitFor("#friendly_name")
	// The Flex switch shows the extra steps it runs.
	// (Polled: the panel can be in the page before its stylesheet applies.)
	b.waitJS(`!document.querySelector("#flex-steps").checkVisibility()`, "the Flex steps are hidden until Flex is on")
	b.checkA11y()

	// A refusal is said next to its field, and nothing is created.
	b.fill("#owner", "nobody@elsewhere.test")
	b.fill("#friendly_name", "Refused")
	b.submit("#create", "#owner-error .field-error")
	require.Contains(t, b.text("#owner-error"), "not a managed user")
	require.Equal(t, 0, e.Count(e.Owner, e.Path("/Accounts?Search=Refused")))

	b.fill("#owner", "")
	b.fill("#friendly_name", "Support Desk")
	b.submit("#create", "#creation-progress")
	b.waitText("#creation-status", "completed")
	sid := strings.TrimPrefix(b.text("#title"), "Creating account ")
	require.True(t, domain.ValidSID(domain.PrefixAccount, sid), "title: %s", b.text("#title"))
	got := e.WaitActive(e.Owner, sid)
	require.Equal(t, "Support Desk", got["friendly_name"])
	require.Equal(t, false, got["flex"])
	b.checkA11y()

	// A Flex account: its four extra steps complete as the page watches.
	b.open("/console/accounts/new", "#friendly_name")
	b.click("#flex")
	b.waitJS(`document.querySelector("#flex-steps").checkVisibility()`, "Flex on shows its steps")
	require.Equal(t, 4, evalOn[int](b, `document.querySelectorAll("#flex-steps li").length`))
	b.fill("#friendly_name", "Contact Center")
	b.submit("#create", "#creation-progress")
	for _, step := range domain.FlexProvisioningSteps {
		b.waitJS(`!!document.querySelector('#creation-progress [data-step="`+step+`"].completed')`, "step %s never completed on the page", step)
	}
	b.waitText("#creation-status", "completed")
	flexSid := strings.TrimPrefix(b.text("#title"), "Creating account ")
	got = e.WaitActive(e.Owner, flexSid)
	require.Equal(t, true, got["flex"])
	r := e.Owner.Get(e.Path("/Accounts/" + flexSid + "/Creation"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Len(t, r.JSON(t)["steps"], len(domain.FlexProvisioningSteps)+3, "body: %s", r.Body)
	b.click("#open-account")
	b.waitText("#account-sid", flexSid)

	// The list: search by name or SID, filter by status and kind.
	b.open("/console/accounts", "#accounts")
	require.Equal(t, 2, evalOn[int](b, `document.querySelectorAll("#accounts tbody tr[data-sid]").length`), "the two new accounts")
	b.fill("#q", "contact")
	b.submit("#filter", "#accounts")
	b.waitJS(`document.querySelectorAll("#accounts tbody tr[data-sid]").length === 1`, "search by name")
	require.Equal(t, flexSid, evalOn[string](b, `document.querySelector("#accounts tbody tr[data-sid]").dataset.sid`))
	b.open("/console/accounts?q="+sid, "#accounts")
	require.Equal(t, sid, evalOn[string](b, `[...document.querySelectorAll("#accounts tbody tr[data-sid]")].map(r => r.dataset.sid).join()`))
	b.open("/console/accounts?status=closed", "#no-accounts")
	b.open("/console/accounts?kind=managed&status=active", "#accounts")
	require.Equal(t, 2, evalOn[int](b, `document.querySelectorAll("#accounts tbody tr[data-sid]").length`))
	b.open("/console/accounts?status=gone", "#filter-error .field-error")
	require.Contains(t, b.text("#filter-error"), "Status must be one of")

	// The same filters on the JSON API, with keyset paging kept.
	require.Equal(t, 1, e.Count(e.Owner, e.Path("/Accounts?Search=CONTACT")))
	require.Equal(t, 1, e.Count(e.Owner, e.Path("/Accounts?Search="+flexSid)))
	require.Equal(t, 2, e.Count(e.Owner, e.Path("/Accounts?Status=active&Kind=managed")))
	require.Equal(t, 0, e.Count(e.Owner, e.Path("/Accounts?Kind=independent")))
	require.Equal(t, 0, e.Count(e.Owner, e.Path("/Accounts?Search=%25")), "a LIKE wildcard is matched literally")
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts?Status=gone")), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Accounts?Kind=other")), http.StatusBadRequest, domain.CodeBadRequest)
	first := e.Owner.Get(e.Path("/Accounts?Status=active&PageSize=1")).JSON(t)
	next := first["meta"].(map[string]any)["next_page_url"].(string)
	require.Contains(t, next, "Status=active")
	r = e.Owner.Get(strings.TrimPrefix(next, e.App.BaseURL))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Len(t, r.JSON(t)["content"], 1)

	b.open("/console/accounts", "#accounts")
	b.screenshot("accounts")
}
