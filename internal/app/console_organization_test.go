package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// The Organization section's API keys and settings pages, each through
// Chromium and checked through the JSON API.

// keyRows are the SIDs of the keys page's rows, sorted.
func keyRows(b *console) string {
	b.t.Helper()
	return evalOn[string](b, `[...document.querySelectorAll("#keys tbody tr[data-sid]")].map(r => r.dataset.sid).sort().join()`)
}

// TestConsoleAPIKeys: an Owner sees every credential of the organization
// (the bootstrap one, an account's, a person's key), creates a key whose
// secret is shown once and works on the JSON API, and revokes it after a
// confirmation: the API refuses it, and its access token, at once. A
// Standard user sees and manages only its own keys.
func TestConsoleAPIKeys(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	dev := e.SCIMUser("dev@example.com")
	devKey := mintKey(t, e.Org, dev)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Keyed"})
	acctCred := e.AccountCredential(acct)
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/organization/keys", "#keys")
	b.checkA11y()
	rows := keyRows(b)
	for _, sid := range []string{e.Owner.User, devKey.User, acctCred.User} {
		require.Contains(t, rows, sid, "every credential of the organization is listed")
	}
	require.Equal(t, "Organization credential", b.text(`#keys tr[data-sid="`+e.Owner.User+`"] .kind`))
	require.Contains(t, b.text(`#keys tr[data-sid="`+acctCred.User+`"] .kind`), acct)
	require.Equal(t, "Personal API key", b.text(`#keys tr[data-sid="`+devKey.User+`"] .kind`))
	require.Contains(t, b.text(`#keys tr[data-sid="`+devKey.User+`"]`), dev)

	// A refused name is said next to the field, and nothing is made.
	b.run(chromedp.RemoveAttribute(chromedp.CSS("#friendly_name"), "maxlength"))
	b.fill("#friendly_name", strings.Repeat("x", 70))
	b.submit("#create-key", "#friendly_name-error .field-error")
	require.Equal(t, rows, keyRows(b), "the refusal made no key")

	b.fill("#friendly_name", "deploy bot")
	b.submit("#create-key", "#key-secret")
	require.Contains(t, b.text("#secret-warning"), "you will not see it again")
	require.True(t, evalOn[bool](b, `!document.querySelector('button[data-copy="key-secret"]').hidden`), "a copy button for the secret")
	b.checkA11y()
	sid, secret := b.text("#key-sid"), b.text("#key-secret")
	require.True(t, domain.ValidSID(domain.PrefixCredential, sid), sid)
	require.True(t, domain.ValidSecret(secret))

	key := e.Basic(sid, secret)
	r := key.Get(e.Path("/Accounts"))
	require.Equal(t, http.StatusOK, r.Status, "the new key works: %s", r.Body)
	tok := token(t, e.Org, sid, secret)
	require.Equal(t, http.StatusOK, tok.Status, "body: %s", tok.Body)
	bearer := e.Anonymous().WithHeader("Authorization", "Bearer "+tok.JSON(t)["access_token"].(string))
	require.Equal(t, http.StatusOK, bearer.Get(e.Path("/Accounts")).Status)
	listed := keysBySid(t, e.Org, e.Owner)[sid]
	require.Equal(t, "deploy bot", listed["friendly_name"])
	require.Equal(t, e.App.Boot.Owner.Sid, listed["user_sid"], "the key acts as the signed-in person")

	// The list shows it with its last use; the secret is never shown again.
	b.click("#done")
	b.waitFor(`#keys tr[data-sid="` + sid + `"]`)
	require.NotEqual(t, "Never", b.text(`#keys tr[data-sid="`+sid+`"] .last-used`))
	require.NotContains(t, evalOn[string](b, `document.documentElement.outerHTML`), secret)

	// Revoke asks first; Cancel changes nothing.
	b.click(`#keys tr[data-sid="` + sid + `"] .revoke`)
	b.waitFor("#revoke-form")
	require.Contains(t, b.text("#revoke-h"), "deploy bot")
	b.checkA11y()
	b.submit("#cancel-revoke", "#keys")
	b.waitJS(`!document.querySelector("#revoke-form")`, "Cancel leaves the confirmation")
	require.Equal(t, http.StatusOK, key.Get(e.Path("/Accounts")).Status)

	b.click(`#keys tr[data-sid="` + sid + `"] .revoke`)
	b.waitFor("#revoke-form")
	b.submit("#confirm-revoke", "#notice")
	require.Contains(t, b.text("#notice"), "revoked")
	require.NotContains(t, keyRows(b), sid)
	testenv.RequireError(t, key.Get(e.Path("/Accounts")), http.StatusUnauthorized, domain.CodeUnauthenticated)
	require.Equal(t, http.StatusUnauthorized, bearer.Get(e.Path("/Accounts")).Status, "its access token stopped too")
	require.NotContains(t, keysBySid(t, e.Org, e.Owner), sid)

	// A Standard user: only its own keys, and a key it makes acts as it.
	d := consoleAs(t, e, dev)
	d.open("/console/accounts", "#my-keys")
	d.click("#my-keys")
	d.waitFor("#keys")
	require.Equal(t, devKey.User, keyRows(d))
	require.False(t, evalOn[bool](d, `!!document.querySelector(".tabs a[href='/console/organization/settings']")`), "no organization tabs")
	d.checkA11y()
	// On the keyboard alone.
	d.tabTo("#friendly_name")
	d.press("laptop")
	d.tabTo("#create-key")
	d.press(kb.Enter)
	d.waitFor("#key-secret")
	mine := d.text("#key-sid")
	require.Equal(t, dev, keysBySid(t, e.Org, e.Owner)[mine]["user_sid"])
	d.open("/console/organization/keys", "#keys")
	require.ElementsMatch(t, []string{devKey.User, mine}, strings.Split(keyRows(d), ","))
	// Someone else's credential is not there to revoke.
	status := evalOn[int](d, `fetch("/console/organization/keys/`+e.Owner.User+`/revoke", {method: "POST", redirect: "manual"}).then(r => r.status)`,
		chromedp.EvalAwaitPromise)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, http.StatusOK, e.Owner.Get(e.Path("/Accounts")).Status, "the bootstrap credential still works")
}

// TestConsoleOrganizationSettings: an Owner turns on two-factor
// authentication for every account and configures single sign-on against
// a provider, each checked through the JSON API; the client secret is
// never shown back. A Standard user sees neither form, and the server
// refuses them anyway.
func TestConsoleOrganizationSettings(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	op := testenv.MustOIDC(t, testenv.OIDCUser{Email: "owner@example.com", EmailVerified: true})
	b := consoleAs(t, e, e.App.Boot.Owner.Sid)

	b.open("/console/organization/settings", "#require_2fa")
	b.checkA11y()
	require.Equal(t, "Not configured.", b.text("#sso-state"))
	require.False(t, evalOn[bool](b, `document.querySelector("#require_2fa").checked`))
	// On the keyboard alone.
	b.tabTo("#require_2fa")
	b.press(" ")
	b.tabTo("#save-org-settings")
	b.press(kb.Enter)
	b.waitFor("#notice")
	require.True(t, evalOn[bool](b, `document.querySelector("#require_2fa").checked`))
	require.Equal(t, "Required for every account", b.text("#org-2fa"))
	org := e.Owner.Get(e.Path(""))
	require.Equal(t, http.StatusOK, org.Status, "body: %s", org.Body)
	require.Equal(t, true, org.JSON(t)["require_2fa"])

	// A refused provider is said next to the form, and nothing is stored.
	b.fill("#issuer", "http://idp.example.com")
	b.fill("#client_id", op.ClientID)
	b.fill("#client_secret", op.ClientSecret)
	b.submit("#save-sso", "#sso-error .field-error")
	require.NotContains(t, evalOn[string](b, `document.documentElement.outerHTML`), op.ClientSecret, "a refused secret is not typed back")
	testenv.RequireError(t, e.Owner.Get(e.Path("/SSO")), http.StatusNotFound, domain.CodeSSONotConfigured)

	b.fill("#issuer", op.Issuer)
	b.fill("#client_id", op.ClientID)
	b.fill("#client_secret", op.ClientSecret)
	b.click("#sso_required")
	b.submit("#save-sso", "#notice")
	require.Contains(t, b.text("#sso-state"), op.Issuer)
	require.Contains(t, b.text("#sso-state"), "required")
	require.Equal(t, e.App.BaseURL+"/console/sso/callback", b.text("#sso-redirect"))
	require.Equal(t, "", evalOn[string](b, `document.querySelector("#client_secret").value`))
	require.NotContains(t, evalOn[string](b, `document.documentElement.outerHTML`), op.ClientSecret, "the secret is never shown back")
	b.checkA11y()
	sso := e.Owner.Get(e.Path("/SSO"))
	require.Equal(t, http.StatusOK, sso.Status, "body: %s", sso.Body)
	got := sso.JSON(t)
	assert.Equal(t, op.Issuer, got["issuer"])
	assert.Equal(t, op.ClientID, got["client_id"])
	assert.Equal(t, true, got["client_secret_set"])
	assert.Equal(t, true, got["required"])

	// Saving again without a secret keeps the stored one.
	b.click("#sso_required")
	b.click("#save-sso")
	b.waitJS(`!document.querySelector("#sso-state").innerText.includes("required")`, "the page shows SSO no longer required")
	got = e.Owner.Get(e.Path("/SSO")).JSON(t)
	assert.Equal(t, false, got["required"])
	stored, err := e.App.Store.FindSSOProvider(t.Context(), e.Sid)
	require.NoError(t, err)
	require.Equal(t, op.ClientSecret, stored.ClientSecret.Reveal())

	// A Standard user sees the organization, not its settings forms.
	s := consoleAs(t, e, e.SCIMUser("sam@example.com"))
	s.open("/console/organization/settings", "#org-name")
	require.False(t, evalOn[bool](s, `!!document.querySelector("#require_2fa, #sso-form, #remove-sso")`))
	s.checkA11y()
	postOn := func(path string, form url.Values) int {
		t.Helper()
		return evalOn[int](s, `fetch("`+path+`", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "`+form.Encode()+`", redirect: "manual"}).then(r => r.status)`,
			chromedp.EvalAwaitPromise)
	}
	require.Equal(t, http.StatusForbidden, postOn("/console/organization/settings", url.Values{}))
	require.Equal(t, http.StatusForbidden, postOn("/console/organization/sso", url.Values{"issuer": {"https://evil.example.com"}, "client_id": {"x"}, "client_secret": {"y"}}))
	require.Equal(t, http.StatusForbidden, postOn("/console/organization/sso/delete", url.Values{}))
	require.Equal(t, true, e.Owner.Get(e.Path("")).JSON(t)["require_2fa"])
	require.Equal(t, op.Issuer, e.Owner.Get(e.Path("/SSO")).JSON(t)["issuer"])

	// Remove.
	b.open("/console/organization/settings", "#remove-sso")
	b.submit("#remove-sso", "#notice")
	require.Equal(t, "Not configured.", b.text("#sso-state"))
	testenv.RequireError(t, e.Owner.Get(e.Path("/SSO")), http.StatusNotFound, domain.CodeSSONotConfigured)
}
