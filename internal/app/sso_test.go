package app_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// registerSSO registers op as the organization's provider through the API.
func (e *env) registerSSO(op *testenv.OIDC, required bool) map[string]any {
	e.T.Helper()
	r := e.Owner.Do(http.MethodPut, e.Path("/SSO"), map[string]any{
		"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret, "required": required,
	})
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(e.T)
}

// TestSSOSettingsOverTheAPI: Owners and Administrators register the
// provider; the secret is write-only (never in an answer or an event); bad
// settings are 400 and change nothing; removing it is 204, then 404.
func TestSSOSettingsOverTheAPI(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	op := testenv.MustOIDC(t, testenv.OIDCUser{Email: "owner@example.com", EmailVerified: true})
	sso := e.Path("/SSO")

	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, sso, nil), http.StatusNotFound, domain.CodeSSONotConfigured)
	for name, body := range map[string]map[string]any{
		"http issuer off loopback": {"issuer": "http://idp.example.com", "client_id": "c", "client_secret": "s"},
		"issuer with a query":      {"issuer": "https://idp.example.com/?a=b", "client_id": "c", "client_secret": "s"},
		"no secret the first time": {"issuer": "https://idp.example.com", "client_id": "c"},
	} {
		r := e.Owner.Do(http.MethodPut, sso, body)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", name, r.Body)
		assert.Equal(t, float64(domain.CodeInvalidSSOSettings), r.JSON(t)["code"], name)
	}
	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)

	standard := e.ClientFor(e.SCIMUser("sam@example.com"))
	testenv.RequireError(t, standard.Get(sso), http.StatusForbidden, domain.CodeForbidden)
	r := standard.Do(http.MethodPut, sso, map[string]any{"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret})
	testenv.RequireError(t, r, http.StatusForbidden, domain.CodeForbidden)

	got := e.registerSSO(op, false)
	assert.Equal(t, op.Issuer, got["issuer"])
	assert.Equal(t, op.ClientID, got["client_id"])
	assert.Equal(t, true, got["client_secret_set"])
	assert.Equal(t, false, got["required"])
	assert.Equal(t, e.App.BaseURL+"/console/sso/callback", got["redirect_uri"])
	assert.NotContains(t, got, "client_secret")

	// a change without the secret keeps it
	r = e.Owner.Do(http.MethodPut, sso, map[string]any{"issuer": op.Issuer, "client_id": op.ClientID, "required": true})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, true, r.JSON(t)["required"])
	stored, err := e.App.Store.FindSSOProvider(t.Context(), e.Sid)
	require.NoError(t, err)
	assert.Equal(t, op.ClientSecret, stored.ClientSecret.Reveal())

	r = e.Owner.Get(sso)
	require.Equal(t, http.StatusOK, r.Status)
	assert.NotContains(t, string(r.Body), op.ClientSecret)
	events := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSSOProviderUpdated))
	require.Equal(t, http.StatusOK, events.Status)
	assert.Len(t, events.JSON(t)["content"], 2)
	assert.NotContains(t, string(events.Body), op.ClientSecret)
	assert.Contains(t, string(events.Body), `"client_secret_changed":true`)

	require.Equal(t, http.StatusNoContent, e.Owner.Do(http.MethodDelete, sso, nil).Status)
	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)
	assert.Len(t, e.Owner.Get(e.Path("/Events?Type=" + domain.EventSSOProviderDeleted)).JSON(t)["content"], 1)
}

// ssoStep starts single sign-on from the sign-in page with email and
// continues at the provider, leaving the browser where the callback sends
// it.
func ssoStep(ctx context.Context, t *testing.T, baseURL, email string) {
	t.Helper()
	browse(ctx, t,
		chromedp.Navigate(baseURL+"/console/sign-in"),
		chromedp.WaitVisible(chromedp.CSS("#sso")),
		chromedp.Click(chromedp.CSS("#sso")),
	)
	waitText(ctx, t, "h1", "Sign in with SSO")
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#sso-email"), email), chromedp.Click(chromedp.CSS("#sso-continue")))
	waitText(ctx, t, "h1", "Test identity provider")
	browse(ctx, t, chromedp.Click(chromedp.CSS("#continue")))
}

// TestSSOSignInInABrowser: the organization registers its provider over
// the API; a managed user on a verified domain chooses single sign-on on
// the sign-in page, passes the provider in Chromium, and lands on the
// Accounts list signed in as themselves, seeing only their account. The
// provider vouching for an unverified email, or for an email off the
// organization's verified domains, is refused with a page saying so, and
// signs no one in. Once SSO is required, the managed user's password is
// refused (25302).
func TestSSOSignInInABrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.MustBrowser(t)
	e := newPostgresEnv(t)
	base := e.App.BaseURL
	const email = "sam@example.com"
	sam, password := e.Person(email, domain.OrgRoleStandard)
	mine := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Sam's desk"})
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Not Sam's"})
	r := e.Owner.Post(e.Path("/Accounts/"+mine+"/Invitations"), map[string]any{"email": email, "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusOK, r.Status, "a managed user is granted at once; body: %s", r.Body)
	op := testenv.MustOIDC(t, testenv.OIDCUser{Subject: "idp-sam", Email: email, EmailVerified: true})
	e.registerSSO(op, false)

	ssoStep(ctx, t, base, email)
	waitText(ctx, t, "#title", "Accounts")
	require.Equal(t, mine, evalIn[string](ctx, t, `[...document.querySelectorAll("#accounts tbody tr[data-sid]")].map(r => r.dataset.sid).join()`),
		"the Accounts list shows Sam's account only")
	browse(ctx, t, chromedp.Navigate(base+"/console/me"))
	waitText(ctx, t, "#me-email", email)
	require.Contains(t, readText(ctx, t, "main"), "(sso)", "the page says how Sam signed in")
	auths := op.Authorizations()
	require.Len(t, auths, 1)
	require.Equal(t, "S256", auths[0].CodeChallengeMethod)
	require.NotEmpty(t, auths[0].Nonce)
	require.Equal(t, 1, op.TokensIssued())
	signedIn := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSignedIn)).JSON(t)["content"].([]any)
	require.Len(t, signedIn, 1)
	require.Equal(t, sam, signedIn[0].(map[string]any)["resource_sid"])
	require.Equal(t, map[string]any{"method": domain.SSOMethod}, signedIn[0].(map[string]any)["changes"])
	signOutBrowser(ctx, t, base)

	// Refused: the provider has not verified the email, or vouches for an
	// email off the organization's verified domains.
	for _, c := range []struct {
		user testenv.OIDCUser
		want string
	}{
		{testenv.OIDCUser{Subject: "idp-sam", Email: email, EmailVerified: false}, "has not verified your email address"},
		{testenv.OIDCUser{Subject: "idp-sam", Email: "sam@elsewhere.test", EmailVerified: true}, "not on a verified domain"},
	} {
		op.SetUser(c.user)
		ssoStep(ctx, t, base, email)
		waitText(ctx, t, "h1", "Single sign-on did not work")
		waitText(ctx, t, "#problem", c.want)
		require.Contains(t, readText(ctx, t, "main"), "Nothing was signed in")
		browse(ctx, t, chromedp.Navigate(base+"/console/me"))
		waitText(ctx, t, "h1", "Sign in")
	}
	failed := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSSOSignInFailed)).JSON(t)["content"].([]any)
	require.Len(t, failed, 2)

	// An email whose domain the organization has not verified does not
	// reach any provider.
	browse(ctx, t, chromedp.Navigate(base+"/console/sso"), chromedp.WaitVisible(chromedp.CSS("#sso-email")),
		chromedp.SendKeys(chromedp.CSS("#sso-email"), "pat@unverified.test"), chromedp.Click(chromedp.CSS("#sso-continue")))
	waitText(ctx, t, "#problem", "does not sign in with single sign-on")
	require.Len(t, op.Authorizations(), 3)

	// SSO required: Sam's password is refused, in the page and over HTTP.
	op.SetUser(testenv.OIDCUser{Subject: "idp-sam", Email: email, EmailVerified: true})
	e.registerSSO(op, true)
	passwordStep(ctx, t, base, email, password, "/console/me")
	waitText(ctx, t, "#problem", "single sign-on")
	resp, err := testenv.NoRedirects().PostForm(base+"/console/sign-in", url.Values{"email": {email}, "password": {password}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "body: %s", body)
	require.Contains(t, string(body), "signs you in with single sign-on")
	ssoStep(ctx, t, base, email)
	waitText(ctx, t, "#title", "Accounts")
}

// evalIn evaluates a script returning T on the browser's current page.
func evalIn[T any](ctx context.Context, t *testing.T, script string) T {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := chromedp.Run(rctx, chromedp.Evaluate[T](script))
	require.NoError(t, err)
	return out
}
