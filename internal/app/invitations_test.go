package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// inviteEnv is an app whose email goes to a Mailpit of its own, read as
// a person reads their inbox; its log lines are kept for the tests that
// check what is logged.
type inviteEnv struct {
	*env
	logs *syncBuffer
	mail *testenv.Mailpit
}

func newInviteEnv(t *testing.T, extra map[string]string) *inviteEnv {
	t.Helper()
	logs := &syncBuffer{}
	mp := testenv.MustMailpit(t)
	envVars := map[string]string{"LOG_LEVEL": "info", "INVITATION_RESEND_INTERVAL": "1s", "SMTP_URL": mp.SMTPURL()}
	for k, v := range extra {
		envVars[k] = v
	}
	return &inviteEnv{env: newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Logs: logs, Env: envVars}), logs: logs, mail: mp}
}

// links returns every confirmation link emailed to to, oldest first.
func (e *inviteEnv) links(to string) []string {
	var out []string
	for _, s := range e.mail.Messages(e.T) { // newest first
		if !slices.ContainsFunc(s.Recipients(), func(a string) bool { return strings.EqualFold(a, to) }) {
			continue
		}
		out = append(e.mail.Message(e.T, s.ID).Links(e.App.BaseURL+"/confirm/"), out...)
	}
	return out
}

func (e *inviteEnv) waitLinks(to string, n int) []string {
	e.T.Helper()
	var got []string
	require.Eventually(e.T, func() bool { got = e.links(to); return len(got) >= n }, 20*time.Second, 50*time.Millisecond,
		"expected %d emailed link(s) for %s", n, to)
	return got
}

// browser is a person with a cookie jar following a link.
type browser struct {
	t  *testing.T
	hc *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: testenv.OpenAPITransport(t, api.OpenAPISpec(), nil)}}
}

func (b *browser) get(link string) (int, string) {
	b.t.Helper()
	resp, err := b.hc.Get(link)
	require.NoError(b.t, err)
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9]+)"`)

// click submits the page's form for action (accept or decline).
func (b *browser) click(link, page, action string) (int, string) {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(page)
	require.NotNil(b.t, m, "no form on the page: %s", page)
	resp, err := b.hc.PostForm(link, url.Values{"csrf": {m[1]}, "action": {action}})
	require.NoError(b.t, err)
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (e *inviteEnv) invite(c testenv.Client, acct, email string, roles ...string) testenv.Response {
	return c.Post(e.Path("/Accounts/"+acct+"/Invitations"), map[string]any{"email": email, "roles": roles})
}

func TestInvitationAcceptedThroughTheLink(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, nil)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Support desk"})
	r := e.invite(e.Owner, acct, "Guest@Partner.test", domain.RoleDeveloper, domain.RoleBillingManager)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	inv := r.JSON(t)
	require.Equal(t, "guest@partner.test", inv["email"])
	require.Equal(t, "pending", inv["status"])
	sid := inv["sid"].(string)

	link := e.waitLinks("guest@partner.test", 1)[0]
	// The send is recorded just after the email leaves.
	require.Eventually(t, func() bool {
		pending := e.Owner.Get(e.Path("/Accounts/" + acct + "/Invitations")).JSON(t)["content"].([]any)
		require.Len(t, pending, 1)
		return pending[0].(map[string]any)["sent_count"] == float64(1)
	}, 10*time.Second, 50*time.Millisecond, "the invitation never counted its first send")

	// GET shows who asks for what, and changes nothing (mail scanners).
	b := newBrowser(t)
	for i := 0; i < 3; i++ {
		code, page := b.get(link)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, page, "Support desk")
		require.Contains(t, page, "Example Organization")
		require.Contains(t, page, "Developer, Billing Manager")
		require.Contains(t, page, "owner@example.com")
	}
	require.Equal(t, "pending", e.Owner.Get(e.Path("/Accounts/" + acct + "/Invitations/" + sid)).JSON(t)["status"])

	// A POST that did not come from the page answers nothing.
	resp, err := http.PostForm(link, url.Values{"action": {"accept"}, "csrf": {strings.Repeat("a", 32)}})
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, "pending", e.Owner.Get(e.Path("/Accounts/" + acct + "/Invitations/" + sid)).JSON(t)["status"])

	_, page := b.get(link)
	code, page := b.click(link, page, "accept")
	require.Equal(t, http.StatusOK, code, page)
	require.Contains(t, page, "Welcome to Support desk")

	got := e.Owner.Get(e.Path("/Accounts/" + acct + "/Invitations/" + sid)).JSON(t)
	require.Equal(t, "accepted", got["status"])
	u, err := e.App.Store.FindUserByEmailAnywhere(context.Background(), "guest@partner.test")
	require.NoError(t, err)
	require.False(t, u.Managed, "partner.test is not a verified domain: an external user")
	roles, err := e.App.Store.RolesOn(context.Background(), acct, u.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleDeveloper, domain.RoleBillingManager}, roles)

	// The inviter is told; the link is spent.
	require.Eventually(t, func() bool {
		emails, _ := e.App.Store.ListEmails(context.Background(), sid)
		for _, m := range emails {
			if m.Template == "invitation_accepted" && m.To == "owner@example.com" {
				return true
			}
		}
		return false
	}, 20*time.Second, 50*time.Millisecond)
	code, page = b.get(link)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, page, "already accepted")
	require.NotContains(t, page, `id="accept"`)
}

func TestInvitationResendRevokeExpire(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, map[string]string{"INVITATION_TTL": "4s"})
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Ops"})
	inv := func(r testenv.Response) string {
		require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
		return r.JSON(t)["sid"].(string)
	}
	path := func(sid string) string { return e.Path("/Accounts/" + acct + "/Invitations/" + sid) }

	t.Run("ResendInvalidatesTheOldLink", func(t *testing.T) {
		sid := inv(e.invite(e.Owner, acct, "resend@partner.test", domain.RoleSupport))
		first := e.waitLinks("resend@partner.test", 1)[0]
		tooSoon := e.Owner.Post(path(sid)+"/Resend", nil)
		testenv.RequireError(t, tooSoon, http.StatusTooManyRequests, domain.CodeRateLimited)
		wait, err := strconv.Atoi(tooSoon.Header.Get("Retry-After"))
		require.NoError(t, err, "a 429 says how long to wait: %q", tooSoon.Header.Get("Retry-After"))
		require.True(t, wait >= 1 && wait <= 1, "Retry-After %d s for a 1 s resend interval", wait)
		var r testenv.Response
		require.Eventually(t, func() bool {
			r = e.Owner.Post(path(sid)+"/Resend", nil)
			return r.Status == http.StatusOK
		}, 10*time.Second, 200*time.Millisecond, "resend after the interval: %s", r.Body)
		require.Equal(t, float64(2), r.JSON(t)["sent_count"])
		links := e.waitLinks("resend@partner.test", 2)
		require.NotEqual(t, first, links[1])
		b := newBrowser(t)
		_, page := b.get(first)
		require.Contains(t, page, "no longer valid")
		code, page := b.get(links[1])
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, page, `id="accept"`)
	})

	t.Run("RevokedLinkSaysSo", func(t *testing.T) {
		sid := inv(e.invite(e.Owner, acct, "revoke@partner.test", domain.RoleSupport))
		link := e.waitLinks("revoke@partner.test", 1)[0]
		r := e.Owner.Do(http.MethodDelete, path(sid), nil)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		testenv.RequireError(t, e.Owner.Do(http.MethodDelete, path(sid), nil), http.StatusConflict, domain.CodeInvalidState)
		testenv.RequireError(t, e.Owner.Post(path(sid)+"/Resend", nil), http.StatusConflict, domain.CodeInvalidState)
		_, page := newBrowser(t).get(link)
		require.Contains(t, page, "revoked")
		require.Equal(t, "revoked", e.Owner.Get(path(sid)).JSON(t)["status"])
	})

	t.Run("Expires", func(t *testing.T) {
		sid := inv(e.invite(e.Owner, acct, "late@partner.test", domain.RoleSupport))
		link := e.waitLinks("late@partner.test", 1)[0]
		require.Eventually(t, func() bool { return e.Owner.Get(path(sid)).JSON(t)["status"] == "expired" }, 30*time.Second, 200*time.Millisecond)
		_, page := newBrowser(t).get(link)
		require.Contains(t, page, "expired")
	})

	t.Run("Declined", func(t *testing.T) {
		sid := inv(e.invite(e.Owner, acct, "no@partner.test", domain.RoleSupport))
		link := e.waitLinks("no@partner.test", 1)[0]
		b := newBrowser(t)
		_, page := b.get(link)
		code, page := b.click(link, page, "decline")
		require.Equal(t, http.StatusOK, code, page)
		require.Equal(t, "declined", e.Owner.Get(path(sid)).JSON(t)["status"])
		_, err := e.App.Store.FindUserByEmailAnywhere(context.Background(), "no@partner.test")
		require.Error(t, err, "declining creates no user")
	})
}

func TestInvitationRules(t *testing.T) {
	t.Parallel()
	e := newInviteEnv(t, nil)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Rules"})
	invitations := e.Path("/Accounts/" + acct + "/Invitations")

	t.Run("ManagedUserGetsAccessAtOnce", func(t *testing.T) {
		u := e.SCIMUser("colleague@example.com")
		r := e.invite(e.Owner, acct, "colleague@example.com", domain.RoleDeveloper)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, "granted", r.JSON(t)["status"])
		roles, err := e.App.Store.RolesOn(context.Background(), acct, u)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleDeveloper}, roles)
		require.Empty(t, e.Owner.Get(invitations).JSON(t)["content"], "no invitation for a managed user")
	})

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		testenv.RequireError(t, c.Post(invitations, map[string]any{"email": "not-an-email", "roles": []string{domain.RoleSupport}}), 400, domain.CodeInvalidEmail)
		testenv.RequireError(t, c.Post(invitations, map[string]any{"email": "x@partner.test", "roles": []string{}}), 400, domain.CodeInvalidRole)
		testenv.RequireError(t, c.Post(invitations, map[string]any{"email": "x@partner.test", "roles": []string{domain.RoleOwner}}), 400, domain.CodeInvalidRole)
		testenv.RequireError(t, c.Post(invitations, map[string]any{"email": "x@partner.test", "roles": []string{domain.RoleSupport}, "note": "hi"}), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(invitations+"?Status=maybe"), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(invitations+"/INnope"), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(invitations+"/IN"+strings.Repeat("0", 32)), 404, 20404)
		require.Equal(t, http.StatusCreated, e.invite(c, acct, "twice@partner.test", domain.RoleSupport).Status)
		testenv.RequireError(t, e.invite(c, acct, "twice@partner.test", domain.RoleDeveloper), 409, domain.CodeInvalidState)
		// The start itself refused the twin: no row, and its run ended
		// at once instead of waiting.
		pending := e.Owner.Get(invitations).JSON(t)["content"].([]any)
		require.Len(t, pending, 1, "only the first invitation is recorded")
		query := "WorkflowType = 'InvitationWorkflow' AND AccountSid = '" + acct + "' AND ExecutionStatus = "
		require.Eventually(t, func() bool {
			return len(listedInTemporal(t, e.App, query+"'Running'")) == 1 && len(listedInTemporal(t, e.App, query+"'Failed'")) == 1
		}, 20*time.Second, 200*time.Millisecond, "one invitation waits, the refused one ended")
	})

	t.Run("DeveloperCannotInvite", func(t *testing.T) {
		dev := e.SCIMUser("dev-inviter@example.com")
		require.Equal(t, http.StatusCreated, e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": acct, "identity": dev}).Status)
		c := e.ClientFor(dev)
		c.T = t
		testenv.RequireError(t, e.invite(c, acct, "friend@partner.test", domain.RoleSupport), 403, domain.CodeForbidden)
		testenv.RequireError(t, c.Get(invitations), 403, domain.CodeForbidden)
	})

	t.Run("TamperedLink", func(t *testing.T) {
		code, page := newBrowser(t).get(e.App.BaseURL + "/confirm/" + strings.Repeat("Z", 32))
		require.Equal(t, http.StatusNotFound, code)
		require.Contains(t, page, "not valid")
		code, _ = newBrowser(t).get(e.App.BaseURL + "/confirm/short")
		require.Equal(t, http.StatusNotFound, code)
	})

	t.Run("TwoFactorRequired", func(t *testing.T) {
		secure := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Vault"})
		require.Equal(t, http.StatusOK, e.Owner.Post(e.Path("/Accounts/"+secure), map[string]any{"require_2fa": true}).Status)
		require.Equal(t, http.StatusCreated, e.invite(e.Owner, secure, "careful@partner.test", domain.RoleSupport).Status)
		link := e.waitLinks("careful@partner.test", 1)[0]
		b := newBrowser(t)
		_, page := b.get(link)
		require.Contains(t, page, "requires two-factor authentication")
		require.Contains(t, page, `href="/console/sign-in?next=%2Fconsole%2Fsecurity"`, "the page leads to the enrolment")
		code, page2 := b.click(link, page, "accept")
		require.Equal(t, http.StatusConflict, code)
		require.Contains(t, page2, "Enrol in two-factor authentication first")

		// The invitee, a user by now with an authenticator app (the
		// browser enrolment is TestTwoFactorOutsiderEnrolsTOTPInABrowser's).
		ctx := context.Background()
		u := domain.NewInvitee(domain.NewSID(domain.PrefixUser, time.Now()), e.Sid, "careful@partner.test", false)
		require.NoError(t, e.App.Store.CreateUser(ctx, u, domain.AuditEvent{}))
		totp := domain.Factor{Sid: domain.NewSID(domain.PrefixFactor, time.Now()), UserSid: u.Sid, Kind: domain.FactorTOTP, Secret: "JBSWY3DPEHPK3PXP"}
		require.NoError(t, e.App.Store.StartTOTP(ctx, totp))
		_, err := e.App.Store.ConfirmTOTP(ctx, u.Sid, totp.Sid, 1, nil, domain.AuditEvent{})
		require.NoError(t, err)
		_, page = b.get(link)
		require.NotContains(t, page, "requires two-factor authentication")
		code, page = b.click(link, page, "accept")
		require.Equal(t, http.StatusOK, code, page)
	})
}
