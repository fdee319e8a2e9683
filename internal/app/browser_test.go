package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// pageText reads the text of selector in the browser's current page.
func pageText(ctx context.Context, t *testing.T, selector string) string {
	t.Helper()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS(selector)))
	require.NoError(t, err)
	return s
}

// waitText waits until selector's text contains want (a page load after a
// click lands when it lands). The page is read by a script each time rather
// than through chromedp's view of the DOM, which a navigation replaces; a
// failure shows the page the browser was on and what it held.
func waitText(ctx context.Context, t *testing.T, selector, want string) {
	t.Helper()
	read := fmt.Sprintf(`[location.href, document.readyState, (document.querySelector(%q) || {}).innerText || ""]`, selector)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		page, err := chromedp.Run(rctx, chromedp.Evaluate[[]string](read))
		if !assert.NoError(c, err, "reading the page") || !assert.Len(c, page, 3) {
			return
		}
		assert.Contains(c, page[2], want, "%s on %s (%s)", selector, page[0], page[1])
	}, 20*time.Second, 100*time.Millisecond, "%s never showed %q", selector, want)
}

// TestInvitationByEmailInABrowser: invite → a real email through Mailpit →
// open the link in headless Chromium → click Accept → the user has the
// roles; a resend makes the first link show "no longer valid"; opening a
// link (GET only, as a mail scanner does) confirms nothing.
func TestInvitationByEmailInABrowser(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	browserCtx := testenv.MustBrowser(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{
		"SMTP_URL": mp.SMTPURL(), "INVITATION_RESEND_INTERVAL": "1s",
	}})
	a := e.App
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Browser Land"})
	invitations := e.Path("/Accounts/" + acct + "/Invitations")

	r := e.Owner.Post(invitations, map[string]any{"email": "alice@partner.test", "roles": []string{domain.RoleDeveloper, domain.RoleBillingManager}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	msg := mp.WaitForMessage(t, "alice@partner.test", "invited you", 30*time.Second)
	require.Contains(t, msg.HTML, "Browser Land")
	links := msg.Links(a.BaseURL + "/confirm/")
	require.Len(t, links, 1, "text: %s", msg.Text)

	// A visit alone, as a link scanner makes, answers nothing.
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(links[0]), chromedp.WaitVisible(chromedp.CSS("#accept"))))
	require.Equal(t, "Browser Land", pageText(browserCtx, t, "#account"))
	require.Equal(t, "Developer, Billing Manager", pageText(browserCtx, t, "#roles"))
	require.Contains(t, pageText(browserCtx, t, "#inviter"), "owner@example.com")
	require.Equal(t, "pending", e.Owner.Get(invitations).JSON(t)["content"].([]any)[0].(map[string]any)["status"])

	require.NoError(t, chromedp.Do(browserCtx, chromedp.Click(chromedp.CSS("#accept"))))
	waitText(browserCtx, t, "#title", "Welcome to Browser Land")

	u, err := a.Store.FindUserByEmailAnywhere(context.Background(), "alice@partner.test")
	require.NoError(t, err)
	r = e.Owner.Get(e.Path("/Accounts/" + acct + "/Users?Role=" + domain.RoleBillingManager))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	listed := r.JSON(t)["content"].([]any)
	require.Len(t, listed, 1, "body: %s", r.Body)
	require.Equal(t, u.Sid, listed[0].(map[string]any)["user_sid"])
	require.Equal(t, []any{"Developer", "Billing Manager"}, listed[0].(map[string]any)["role_names"], "Alice is listed with both roles")
	mp.WaitForMessage(t, "owner@example.com", "accepted your invitation", 30*time.Second)

	// Resend: the first link stops working, the second works.
	r = e.Owner.Post(invitations, map[string]any{"email": "bob@partner.test", "roles": []string{domain.RoleSupport}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	sid := r.JSON(t)["sid"].(string)
	first := mp.WaitForMessage(t, "bob@partner.test", "invited you", 30*time.Second).Links(a.BaseURL + "/confirm/")[0]
	require.Eventually(t, func() bool { return e.Owner.Post(invitations+"/"+sid+"/Resend", nil).Status == http.StatusOK }, 15*time.Second, 250*time.Millisecond)
	var second string
	require.Eventually(t, func() bool {
		for _, m := range mp.Messages(t) {
			if strings.Contains(strings.Join(m.To, ","), "bob@partner.test") {
				for _, l := range mp.Message(t, m.ID).Links(a.BaseURL + "/confirm/") {
					if l != first {
						second = l
					}
				}
			}
		}
		return second != ""
	}, 30*time.Second, 200*time.Millisecond, "no second email for bob")
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(first)))
	waitText(browserCtx, t, "#title", "no longer valid")
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(second)))
	waitText(browserCtx, t, "#title", "You are invited")
	shot, err := chromedp.Run(browserCtx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(shot), "\x89PNG"), "a PNG screenshot of the invitation page")
}
