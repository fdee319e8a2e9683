package testenv

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// TestPassword is the password the fixtures give people.
const TestPassword = "plum kettle orbit 42"

// SetPassword sets a user's password the way a person does: a single-use
// link (made as `orgaccounts bootstrap` makes the owner's), then the
// link's form posted over HTTP. A link emailed meanwhile (a user just
// provisioned is sent one) supersedes the one made here: then a fresh one
// is made, until one sets the password or 30 s have passed.
func (o *Org) SetPassword(userSid, password string) {
	o.T.Helper()
	status := 0
	deadline := time.Now().Add(30 * time.Second)
	for {
		link, err := o.App.Services().SignIn.IssuePasswordLink(context.Background(), userSid, o.App.BaseURL)
		require.NoError(o.T, err)
		resp, err := NoRedirects().PostForm(link, url.Values{"password": {password}, "confirm": {password}})
		require.NoError(o.T, err)
		_ = resp.Body.Close()
		status = resp.StatusCode
		if status != http.StatusNotFound || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(o.T, http.StatusSeeOther, status, "setting the password of %s", userSid)
}

// OwnerPassword gives the bootstrap owner a password and returns the
// owner's email and that password.
func (o *Org) OwnerPassword() (email, password string) {
	o.T.Helper()
	o.SetPassword(o.App.Boot.Owner.Sid, TestPassword)
	return o.App.Boot.Owner.UserName, TestPassword
}

// Person makes a managed user of the organization with the organization
// role (through SCIM, then the role set by the owner) and a password, and
// returns its SID and password.
func (o *Org) Person(email string, role domain.OrgRole) (userSid, password string) {
	o.T.Helper()
	userSid = o.SCIMUser(email)
	if role != domain.OrgRoleStandard && role != domain.OrgRoleNone {
		u, err := o.App.Store.FindUser(context.Background(), o.Sid, userSid)
		require.NoError(o.T, err)
		u.OrgRole = role
		_, err = o.App.Store.UpdateUser(context.Background(), u, 0, domain.AuditEvent{})
		require.NoError(o.T, err)
	}
	o.SetPassword(userSid, TestPassword)
	return userSid, TestPassword
}

// NoRedirects is an HTTP client that shows redirects instead of following
// them.
func NoRedirects() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// SignedIn signs in to the console over HTTP (the sign-in form's POST)
// and returns a client that carries the session cookie and does not
// follow redirects. It fails the test unless the sign-in succeeds.
func (o *Org) SignedIn(email, password string) *http.Client {
	o.T.Helper()
	c := NoRedirects()
	jar, err := cookiejar.New(nil)
	require.NoError(o.T, err)
	c.Jar = jar
	resp, err := c.PostForm(o.App.BaseURL+"/console/sign-in", url.Values{"email": {email}, "password": {password}, "next": {"/console/me"}})
	require.NoError(o.T, err)
	_ = resp.Body.Close()
	require.Equal(o.T, http.StatusSeeOther, resp.StatusCode, "signing in as %s", email)
	require.Equal(o.T, "/console/me", resp.Header.Get("Location"))
	return c
}

// SignInBrowser signs in to the console in the browser through the
// sign-in page and waits for the page after it.
func SignInBrowser(ctx context.Context, tb testing.TB, baseURL, email, password string) {
	tb.Helper()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(tb, chromedp.Do(rctx,
		chromedp.Navigate(baseURL+"/console/sign-in?next=/console/me"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#me-email")),
	), "signing in as %s", email)
	shown, err := chromedp.Run(rctx, chromedp.Text(chromedp.CSS("#me-email")))
	require.NoError(tb, err)
	require.Equal(tb, email, strings.TrimSpace(shown))
}
