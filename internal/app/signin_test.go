package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestInvitedOutsiderSetsPasswordAndSignsIn: an outsider accepts an
// invitation from the email in Chromium, gets a second email with a link
// to choose a password, chooses one (a weak one first, refused next to the
// field), signs in, and sees themselves; signing out ends the session.
func TestInvitedOutsiderSetsPasswordAndSignsIn(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	browser := testenv.MustBrowser(t)
	logs := &testenv.LockedBuffer{}
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Logs: logs, Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	base := e.App.BaseURL
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Partner Desk"})
	r := e.Owner.Post(e.Path("/Accounts/"+acct+"/Invitations"), map[string]any{"email": "carol@partner.test", "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	invite := mp.WaitForMessage(t, "carol@partner.test", "invited you", 30*time.Second).Links(base + "/confirm/")
	require.Len(t, invite, 1)
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(invite[0]), chromedp.WaitVisible(chromedp.CSS("#accept")), chromedp.Click(chromedp.CSS("#accept"))))

	msg := mp.WaitForMessage(t, "carol@partner.test", "Set your password", 30*time.Second)
	links := msg.Links(base + "/console/password/")
	require.Len(t, links, 1, "text: %s", msg.Text)
	assert.NotContains(t, logs.String(), strings.TrimPrefix(links[0], base+"/console/password/"), "the token is in a log line")

	// Opening the link changes nothing; a weak password is refused next
	// to its field and the link still works.
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.CSS("#password"))))
	require.Equal(t, "carol@partner.test", pageText(browser, t, "#who"))
	require.NoError(t, chromedp.Do(browser,
		chromedp.SendKeys(chromedp.CSS("#password"), "password2024"), chromedp.SendKeys(chromedp.CSS("#confirm"), "password2024"),
		chromedp.Click(chromedp.CSS("#set-password"))))
	waitText(browser, t, "#problem", "attackers try")
	require.NoError(t, chromedp.Do(browser,
		chromedp.SendKeys(chromedp.CSS("#password"), testenv.TestPassword), chromedp.SendKeys(chromedp.CSS("#confirm"), testenv.TestPassword),
		chromedp.Click(chromedp.CSS("#set-password"))))
	waitText(browser, t, ".notice", "Your password is set")

	testenv.SignInBrowser(browser, t, base, "carol@partner.test", testenv.TestPassword)
	require.Equal(t, e.Sid, pageText(browser, t, "#me-org"), "an outsider acts in the organization of the account they hold a role on")
	require.Equal(t, "outside user", pageText(browser, t, "#me-role"))

	// The link was used up.
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(links[0])))
	waitText(browser, t, "h1", "This link is not valid")

	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(base+"/console/me"), chromedp.WaitVisible(chromedp.CSS("#sign-out")), chromedp.Click(chromedp.CSS("#sign-out"))))
	waitText(browser, t, ".notice", "You are signed out")
	require.NoError(t, chromedp.Do(browser, chromedp.Navigate(base+"/console/me")))
	waitText(browser, t, "h1", "Sign in")

	events := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSignedIn)).JSON(t)["content"].([]any)
	require.Len(t, events, 1)
	assert.Contains(t, events[0].(map[string]any)["user_agent"], "Chrome", "the sign-in event keeps the browser's user agent")
}

// TestSignInAnswersAlikeAndLocksOut: an unknown email and a wrong password
// get the same answer; too many failures lock the email out with 429 and
// Retry-After, even for the right password, and the lockout is an audit
// event.
func TestSignInAnswersAlikeAndLocksOut(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SIGN_IN_FAILURES": "3"}})
	email, password := e.OwnerPassword()
	try := func(email, password string) (int, string, http.Header) {
		resp, err := testenv.NoRedirects().PostForm(e.App.BaseURL+"/console/sign-in", url.Values{"email": {email}, "password": {password}})
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	unknownStatus, unknownBody, _ := try("nobody@example.com", password)
	wrongStatus, wrongBody, _ := try(email, "not the password at all")
	require.Equal(t, http.StatusUnauthorized, unknownStatus)
	require.Equal(t, unknownStatus, wrongStatus)
	require.Equal(t, strings.ReplaceAll(unknownBody, "nobody@example.com", email), wrongBody, "the two answers differ")

	try(email, "not the password either")
	status, _, _ := try(email, "third wrong password")
	require.Equal(t, http.StatusUnauthorized, status)
	status, body, h := try(email, password)
	require.Equal(t, http.StatusTooManyRequests, status, "body: %s", body)
	require.NotEmpty(t, h.Get("Retry-After"))
	require.Contains(t, body, "too many attempts")

	events := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSignInLockedOut)).JSON(t)["content"].([]any)
	require.NotEmpty(t, events, "no lockout event")
	failed := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSignInFailed)).JSON(t)["content"].([]any)
	require.Len(t, failed, 3, "one event per failed sign-in of the known user")
}

// TestSignOutEverywhere: two sessions of one person; "sign out
// everywhere" in one ends the other at its next request. The session
// cookie is HttpOnly and SameSite=Lax, and a new id is issued at sign-in.
func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t)})
	email, password := e.OwnerPassword()

	// A session id planted before sign-in is not the one after it.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := testenv.NoRedirects()
	c.Jar = jar
	resp, err := c.PostForm(e.App.BaseURL+"/console/sign-in", url.Values{"email": {email}, "password": {password}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "orgaccounts_session" {
			cookie = ck
		}
	}
	require.NotNil(t, cookie, "no session cookie")
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.False(t, cookie.Secure, "Secure on an http base URL would lose the cookie")
	second := e.SignedIn(email, password)
	u, _ := url.Parse(e.App.BaseURL)
	require.NotEqual(t, c.Jar.Cookies(u)[0].Value, second.Jar.Cookies(u)[0].Value, "two sign-ins share a session id")

	me := func(c *http.Client) int {
		resp, err := c.Get(e.App.BaseURL + "/console/me")
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, me(c))
	require.Equal(t, http.StatusOK, me(second))
	resp, err = second.PostForm(e.App.BaseURL+"/console/sign-out-everywhere", nil)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, http.StatusSeeOther, me(c), "the other session still works after sign out everywhere")
	require.Equal(t, http.StatusSeeOther, me(second))
	require.Equal(t, http.StatusOK, me(e.SignedIn(email, password)), "a new sign-in works")
}

// TestConsoleFormsRefuseCrossOrigin: a form posted from another site is
// refused before anything happens (http.CrossOriginProtection), with a
// page saying why.
func TestConsoleFormsRefuseCrossOrigin(t *testing.T) {
	t.Parallel()
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t)})
	email, password := e.OwnerPassword()
	c := e.SignedIn(email, password)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, e.App.BaseURL+"/console/sign-out-everywhere", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "a browser is answered with a page")
	require.Contains(t, string(body), "posted from another site")
	resp, err = c.Get(e.App.BaseURL + "/console/me")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the cross-site POST signed the person out")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
}

// TestForgotPasswordAnswersAlike: asking for a reset answers the same for
// a known and an unknown email; only the known one gets an email, whose
// link sets a new password that signs in (and the old one no longer does).
func TestForgotPasswordAnswersAlike(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	email, old := e.OwnerPassword()
	ask := func(email string) (int, string) {
		resp, err := testenv.NoRedirects().PostForm(e.App.BaseURL+"/console/password/forgot", url.Values{"email": {email}})
		require.NoError(t, err)
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	s1, b1 := ask("nobody@example.com")
	s2, b2 := ask(email)
	require.Equal(t, http.StatusOK, s1)
	require.Equal(t, s1, s2)
	require.Equal(t, strings.ReplaceAll(b1, "nobody@example.com", email), b2)
	links := mp.WaitForMessage(t, email, "Reset your password", 30*time.Second).Links(e.App.BaseURL + "/console/password/")
	require.Len(t, links, 1)
	resp, err := testenv.NoRedirects().PostForm(links[0], url.Values{"password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	e.SignedIn(email, "a brand new passphrase")
	resp, err = testenv.NoRedirects().PostForm(e.App.BaseURL+"/console/sign-in", url.Values{"email": {email}, "password": {old}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old password still signs in")
	for _, m := range mp.Messages(t) {
		require.NotContains(t, strings.Join(m.To, ","), "nobody@example.com", "an unknown email got a message")
	}
}
