package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// browse runs chromedp steps, one after the other, with a deadline. A
// step that finds its node gone (chromedp's copy of the DOM still held the
// page before a redirect landed) did nothing, and is tried again.
func browse(ctx context.Context, t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, step := range steps {
		err := chromedp.Do(rctx, step)
		for err != nil && strings.Contains(err.Error(), "Could not find node with given id") && rctx.Err() == nil {
			err = chromedp.Do(rctx, step)
		}
		require.NoError(t, err)
	}
}

// passwordStep signs in with email and password in the browser, asking
// to land on next, and stops where the console sends the person.
func passwordStep(ctx context.Context, t *testing.T, baseURL, email, password, next string) {
	t.Helper()
	browse(ctx, t,
		chromedp.Navigate(baseURL+"/console/sign-in?next="+next),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
	)
}

// signOutBrowser signs out from the "Your sign-in" page.
func signOutBrowser(ctx context.Context, t *testing.T, baseURL string) {
	t.Helper()
	browse(ctx, t, chromedp.Navigate(baseURL+"/console/me"), chromedp.WaitVisible(chromedp.CSS("#sign-out")), chromedp.Click(chromedp.CSS("#sign-out")))
	waitText(ctx, t, "body", "You are signed out")
}

// secondFactorCode enters a code on the second step of sign-in.
func secondFactorCode(ctx context.Context, t *testing.T, code string) {
	t.Helper()
	waitText(ctx, t, "h1", "Two-factor authentication")
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#code"), code), chromedp.Click(chromedp.CSS("#verify")))
}

// acceptInvitation opens an emailed invitation link and clicks Accept.
func acceptInvitation(ctx context.Context, t *testing.T, link string) {
	t.Helper()
	browse(ctx, t, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#accept")), chromedp.Click(chromedp.CSS("#accept")))
}

// An invited outsider sets a password from the emailed link, signs in,
// adds an authenticator app (the code computed from the secret the page
// shows), and only then gets into the account that requires two-factor
// authentication; signing in afterwards takes a second factor, and a
// recovery code works once.
func TestTwoFactorOutsiderEnrolsTOTPInABrowser(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	ctx := testenv.MustBrowser(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	base := e.App.BaseURL
	const email = "olga@partner.test"
	sandbox := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Sandbox"})
	vault := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Vault"})
	r := e.Owner.Post(e.Path("/Accounts/"+vault), map[string]any{"require_2fa": true})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)

	// The outsider joins the Sandbox and sets a password from the email.
	r = e.Owner.Post(e.Path("/Accounts/"+sandbox+"/Invitations"), map[string]any{"email": email, "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	acceptInvitation(ctx, t, mp.WaitForMessage(t, email, "invited you to Sandbox", 30*time.Second).Links(base + "/confirm/")[0])
	waitText(ctx, t, "#title", "Welcome to Sandbox")
	pwLinks := mp.WaitForMessage(t, email, "Set your password", 30*time.Second).Links(base + "/console/password/")
	require.Len(t, pwLinks, 1)
	browse(ctx, t, chromedp.Navigate(pwLinks[0]), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#password"), testenv.TestPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), testenv.TestPassword),
		chromedp.Click(chromedp.CSS("#set-password")))
	waitText(ctx, t, "body", "Your password is set")

	// Invited to the Vault, which requires two-factor authentication: the
	// page says to enrol first, and an acceptance is refused.
	r = e.Owner.Post(e.Path("/Accounts/"+vault+"/Invitations"), map[string]any{"email": email, "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	vaultLink := mp.WaitForMessage(t, email, "invited you to Vault", 30*time.Second).Links(base + "/confirm/")[0]
	browse(ctx, t, chromedp.Navigate(vaultLink), chromedp.WaitVisible(chromedp.CSS("#two-factor")))
	require.Contains(t, readText(ctx, t, "#two-factor"), "requires two-factor authentication")
	require.Equal(t, 0, countNodes(ctx, t, "#accept"), "no Accept before enrolment")
	u, err := e.App.Store.FindUserByEmailAnywhere(context.Background(), email)
	require.NoError(t, err)
	roles, err := e.App.Store.RolesOn(context.Background(), vault, u.Sid)
	require.NoError(t, err)
	require.Empty(t, roles, "refused the 2FA account")

	// Sign in (no second factor yet). The Sandbox now requires two-factor
	// authentication too: neither the page nor a personal key opens it.
	r = e.Owner.Post(e.Path("/Accounts/"+sandbox), map[string]any{"require_2fa": true})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	key := mintKey(t, e.Org, u.Sid)
	testenv.RequireError(t, key.Get(e.Path("/Accounts/"+sandbox)), http.StatusForbidden, domain.CodeTwoFactorRequired)
	passwordStep(ctx, t, base, email, testenv.TestPassword, "/console/accounts/"+sandbox)
	waitText(ctx, t, "#problem", "requires two-factor authentication")
	browse(ctx, t, chromedp.Navigate(base+"/console/security"))
	waitText(ctx, t, "#two-factor-state", "is off")
	browse(ctx, t, chromedp.Click(chromedp.CSS("#add-totp")))
	waitText(ctx, t, "body", "Or type this secret")
	secret := strings.TrimSpace(readText(ctx, t, "#totp-secret"))
	src, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('#totp-qr').getAttribute('src')"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(src, "data:image/png;base64,"), "the QR code is an image")
	code, err := totp.GenerateCode(secret, time.Now())
	require.NoError(t, err)
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#totp-code"), code), chromedp.Click(chromedp.CSS("#confirm-totp")))
	waitText(ctx, t, "#two-factor-state", "is on")
	waitText(ctx, t, "#recovery-codes", "-")
	codesText := readText(ctx, t, "#recovery-codes")
	recovery := strings.Fields(codesText)
	require.Len(t, recovery, domain.RecoveryCodeCount, "ten recovery codes, shown once: %q", codesText)

	// Now the Sandbox opens, and the Vault's invitation can be accepted.
	browse(ctx, t, chromedp.Navigate(base+"/console/accounts/"+sandbox))
	waitText(ctx, t, "#account-sid", sandbox)
	require.Equal(t, http.StatusOK, key.Get(e.Path("/Accounts/"+sandbox)).Status)
	acceptInvitation(ctx, t, vaultLink)
	waitText(ctx, t, "#title", "Welcome to Vault")
	r = e.Owner.Get(e.Path("/Accounts/" + vault + "/Users"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var listed map[string]any
	for _, x := range r.JSON(t)["content"].([]any) {
		if x.(map[string]any)["email"] == email {
			listed = x.(map[string]any)
		}
	}
	require.NotNil(t, listed, "body: %s", r.Body)
	require.Equal(t, true, listed["two_factor_enrolled"])

	// Signing in again takes a second factor: a recovery code, once.
	signOutBrowser(ctx, t, base)
	passwordStep(ctx, t, base, email, testenv.TestPassword, "/console/me")
	waitText(ctx, t, "h1", "Two-factor authentication")
	secondFactorCode(ctx, t, recovery[0])
	waitText(ctx, t, "#me-email", email)
	signOutBrowser(ctx, t, base)
	passwordStep(ctx, t, base, email, testenv.TestPassword, "/console/me")
	secondFactorCode(ctx, t, recovery[0])
	waitText(ctx, t, "#problem", "did not match")
	// The app's next code works (the one that confirmed it was spent).
	next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	require.NoError(t, err)
	secondFactorCode(ctx, t, next)
	waitText(ctx, t, "#me-email", email)

	evs := e.Owner.Get(e.Path("/Events?Resource=" + u.Sid)).JSON(t)["content"].([]any)
	var added map[string]any
	for _, ev := range evs {
		if ev.(map[string]any)["event_type"] == domain.EventFactorAdded {
			added = ev.(map[string]any)
		}
	}
	require.NotNil(t, added, "a factor.added event: %v", evs)
}

// A passkey added on the Security page with Chromium's virtual
// authenticator enrols its owner, and signing in again takes it as the
// second factor (both pages pass axe-core with a passkey on them);
// removing it turns two-factor authentication off.
func TestTwoFactorPasskeyInABrowser(t *testing.T) {
	t.Parallel()
	ctx := testenv.MustBrowser(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Host: "localhost"})
	base := e.App.BaseURL
	require.True(t, strings.HasPrefix(base, "http://localhost:"), base)
	email, password := e.OwnerPassword()
	userSid := e.App.Boot.Owner.Sid

	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := chromedp.Call(rctx, webauthn.Enable, webauthn.EnableParams{})
	require.NoError(t, err)
	_, err = chromedp.Call(rctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	require.NoError(t, err)

	passwordStep(ctx, t, base, email, password, "/console/security")
	waitText(ctx, t, "#two-factor-state", "is off")
	b := &console{t: t, ctx: ctx, e: e}
	b.waitFor("#add-passkey") // the page's script, which handles the click, has run
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#passkey-name"), "Test key"), chromedp.Click(chromedp.CSS("#add-passkey")))
	waitText(ctx, t, "#two-factor-state", "is on")
	waitText(ctx, t, "#factors", "Test key")
	waitText(ctx, t, "#recovery-codes", "-")
	require.Len(t, strings.Fields(readText(ctx, t, "#recovery-codes")), domain.RecoveryCodeCount)

	// Signing in again takes the passkey, from the same authenticator.
	signOutBrowser(ctx, t, base)
	passwordStep(ctx, t, base, email, password, "/console/me")
	waitText(ctx, t, "h1", "Two-factor authentication")
	b.waitFor("#use-passkey")
	b.checkA11y()
	browse(ctx, t, chromedp.Click(chromedp.CSS("#use-passkey")))
	waitText(ctx, t, "#me-email", email)
	require.Contains(t, readText(ctx, t, "main"), "(passkey)", "the page says how the person signed in")

	// Remove it: two-factor authentication is off again.
	browse(ctx, t, chromedp.Navigate(base+"/console/security"))
	waitText(ctx, t, "#factors", "Test key")
	b.checkA11y()
	browse(ctx, t, chromedp.Click(chromedp.CSS("#factors button")))
	waitText(ctx, t, "#two-factor-state", "is off")
	st, err := e.App.Services().TwoFactor.SecondFactors(context.Background(), userSid)
	require.NoError(t, err)
	require.False(t, st.Enrolled())
	require.Zero(t, st.RecoveryCodesLeft)
}

// readText reads the text of selector on the current page by a script
// (chromedp's view of the DOM may be one navigation behind).
func readText(ctx context.Context, t *testing.T, selector string) string {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(rctx, chromedp.Evaluate[string]("(document.querySelector("+jsString(selector)+") || {}).innerText || ''"))
	require.NoError(t, err)
	return s
}

// countNodes counts the elements matching selector on the current page.
func countNodes(ctx context.Context, t *testing.T, selector string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll("+jsString(selector)+").length"))
	require.NoError(t, err)
	return n
}

func jsString(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }
