package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestSignInPagesAccessible runs axe-core on every page of signing in, as
// a person meets them, each also with a refusal shown where it has one:
// sign-in, forgot password, a password link (and a used one), single
// sign-on (and its failure), "Your sign-in", the Security page (adding an
// authenticator app, the recovery codes, passkeys) and the second step of
// sign-in. No serious or critical violation, at 1280 and 375 px.
func TestSignInPagesAccessible(t *testing.T) {
	t.Parallel()
	ctx := testenv.MustBrowser(t)
	e := newPostgresEnv(t)
	b := &console{t: t, ctx: ctx, e: e}
	base := e.App.BaseURL
	owner := e.App.Boot.Owner

	// Before signing in: sign-in (and its refusal), forgot password.
	b.open("/console/sign-in", "#sign-in")
	b.checkA11y()
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#email"), owner.UserName), chromedp.SendKeys(chromedp.CSS("#password"), "not the password at all"),
		chromedp.Click(chromedp.CSS("#sign-in")))
	b.waitText("#problem", "wrong")
	b.checkA11y()
	b.open("/console/password/forgot", "#send-link")
	b.checkA11y()

	// A password link: the form, a refusal on it, and the link once used.
	link, err := e.App.Services().SignIn.IssuePasswordLink(context.Background(), owner.Sid, base)
	require.NoError(t, err)
	b.open(strings.TrimPrefix(link, base), "#set-password")
	b.checkA11y()
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#password"), testenv.TestPassword), chromedp.SendKeys(chromedp.CSS("#confirm"), "something else"),
		chromedp.Click(chromedp.CSS("#set-password")))
	b.waitText("#problem", "not the same")
	b.checkA11y()
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#password"), testenv.TestPassword), chromedp.SendKeys(chromedp.CSS("#confirm"), testenv.TestPassword),
		chromedp.Click(chromedp.CSS("#set-password")))
	b.waitText(".notice", "Your password is set")
	b.open(strings.TrimPrefix(link, base), "h1")
	b.waitText("h1", "This link is not valid")
	b.checkA11y()

	// Single sign-on: the form, an email without it, a failed callback.
	b.open("/console/sso", "#sso-continue")
	b.checkA11y()
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#sso-email"), "pat@unverified.test"), chromedp.Click(chromedp.CSS("#sso-continue")))
	b.waitText("#problem", "does not sign in with single sign-on")
	b.checkA11y()
	b.open("/console/sso/callback?state=none&code=none", "#try-again")
	b.checkA11y()

	// Signed in: "Your sign-in", then the Security page through adding an
	// authenticator app.
	passwordStep(ctx, t, base, owner.UserName, testenv.TestPassword, "/console/me")
	b.waitText("#me-email", owner.UserName)
	b.checkA11y()
	b.open("/console/security", "#add-totp")
	b.checkA11y()
	b.click("#add-totp")
	b.waitFor("#totp-secret")
	b.checkA11y()
	code, err := totp.GenerateCode(b.text("#totp-secret"), time.Now())
	require.NoError(t, err)
	browse(ctx, t, chromedp.SendKeys(chromedp.CSS("#totp-code"), code), chromedp.Click(chromedp.CSS("#confirm-totp")))
	b.waitText("#recovery-codes", "-")
	b.checkA11y()

	// The second step of signing in, and its refusal.
	signOutBrowser(ctx, t, base)
	b.checkA11y()
	passwordStep(ctx, t, base, owner.UserName, testenv.TestPassword, "/console/me")
	b.waitFor("#verify")
	b.checkA11y()
	secondFactorCode(ctx, t, "000000")
	b.waitText("#problem", "did not match")
	b.checkA11y()
}
