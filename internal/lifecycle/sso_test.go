package lifecycle_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

const ssoBase = "http://127.0.0.1:1"

var ssoRedirect = ssoBase + domain.SSOCallbackPath

// shiftClock is the real time plus an offset the test moves.
type shiftClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *shiftClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.off)
}

func (c *shiftClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// ssoFixture is the lifecycle fixture's organization with a loopback
// provider registered, signing in its Standard user.
type ssoFixture struct {
	*fixture
	op    *testenv.OIDC
	clock *shiftClock
}

func newSSOFixture(t *testing.T) *ssoFixture {
	t.Helper()
	f := &ssoFixture{fixture: newFixture(t), clock: &shiftClock{}}
	f.svc = lifecycle.New(lifecycle.Deps{Store: f.st, Engine: f.engine, Clock: f.clock, BaseURL: ssoBase + "/"})
	f.op = testenv.MustOIDC(t, testenv.OIDCUser{Subject: "idp-1", Email: f.standard.UserName, EmailVerified: true})
	_, err := f.svc.SSO.Configure(context.Background(), f.admin, domain.SSOSettings{Issuer: f.op.Issuer, ClientID: f.op.ClientID, ClientSecret: domain.Secret(f.op.ClientSecret)})
	require.NoError(t, err)
	return f
}

// begin starts a sign-in by email and returns the flow and the callback
// the provider sends the browser to.
func (f *ssoFixture) begin(t *testing.T, email string) (domain.SSOFlow, url.Values) {
	t.Helper()
	started, err := f.svc.SSO.Begin(context.Background(), lifecycle.SSOBegin{Email: email, Next: "/console"})
	require.NoError(t, err)
	back, err := f.op.Approve(context.Background(), started.AuthURL)
	require.NoError(t, err)
	u, err := url.Parse(back)
	require.NoError(t, err)
	return started.Flow, u.Query()
}

func (f *ssoFixture) complete(flow *domain.SSOFlow, q url.Values) (domain.User, error) {
	return f.svc.SSO.Complete(context.Background(), lifecycle.SSOCallback{
		Flow: flow, State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		Client: domain.Actor{SourceIP: "192.0.2.7", RequestID: "RQ-sso"},
	})
}

func (f *ssoFixture) failures(t *testing.T) []string {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventSSOSignInFailed, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	var out []string
	for _, ev := range evs {
		assert.Equal(t, "192.0.2.7", ev.SourceIP)
		out = append(out, ev.Changes["reason"].(string))
	}
	return out
}

func TestSSOSettingsAreForOrganizationAdminsAndTheSecretIsWriteOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	standard := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.standard.Sid, OrgRole: domain.OrgRoleStandard}
	good := domain.SSOSettings{Issuer: "https://idp.example.com", ClientID: "orgaccounts", ClientSecret: "top-secret-value"}

	_, err := f.svc.SSO.Configure(ctx, standard, good)
	assert.Equal(t, domain.CodeForbidden, domain.ErrorCode(err))
	_, err = f.svc.SSO.Settings(ctx, f.admin)
	assert.Equal(t, domain.CodeSSONotConfigured, domain.ErrorCode(err))

	for name, bad := range map[string]domain.SSOSettings{
		"http off loopback":  {Issuer: "http://idp.example.com", ClientID: "c", ClientSecret: "s"},
		"not a URL":          {Issuer: "idp.example.com", ClientID: "c", ClientSecret: "s"},
		"query":              {Issuer: "https://idp.example.com/?tenant=1", ClientID: "c", ClientSecret: "s"},
		"no client id":       {Issuer: "https://idp.example.com", ClientSecret: "s"},
		"spaces":             {Issuer: "https://idp.example.com", ClientID: "c d", ClientSecret: "s"},
		"no secret at first": {Issuer: "https://idp.example.com", ClientID: "c"},
	} {
		_, err := f.svc.SSO.Configure(ctx, f.admin, bad)
		assert.Equal(t, domain.CodeInvalidSSOSettings, domain.ErrorCode(err), name)
	}

	got, err := f.svc.SSO.Configure(ctx, f.admin, good)
	require.NoError(t, err)
	assert.Equal(t, "top-secret-value", got.ClientSecret.Reveal())
	got, err = f.svc.SSO.Configure(ctx, f.admin, domain.SSOSettings{Issuer: good.Issuer, ClientID: "orgaccounts", Required: true})
	require.NoError(t, err)
	assert.True(t, got.Required)
	assert.Equal(t, "top-secret-value", got.ClientSecret.Reveal(), "no secret sent: the stored one stays")

	evs, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventSSOProviderUpdated, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, true, evs[0].Changes["client_secret_changed"])
	assert.Equal(t, false, evs[1].Changes["client_secret_changed"])
	for _, ev := range evs {
		assert.NotContains(t, ev.Changes, "client_secret")
		for _, v := range ev.Changes {
			assert.NotEqual(t, "top-secret-value", v)
		}
	}

	require.Equal(t, domain.CodeForbidden, domain.ErrorCode(f.svc.SSO.Remove(ctx, standard)))
	require.NoError(t, f.svc.SSO.Remove(ctx, f.admin))
	assert.Equal(t, domain.CodeSSONotConfigured, domain.ErrorCode(f.svc.SSO.Remove(ctx, f.admin)))
}

func TestSSOSecretNeverPrints(t *testing.T) {
	t.Parallel()
	p := domain.SSOProvider{ClientSecret: "hunter2-but-longer"}
	for _, s := range []string{p.ClientSecret.String(), p.ClientSecret.GoString()} {
		assert.NotContains(t, s, "hunter2")
	}
	text, err := p.ClientSecret.MarshalText()
	require.NoError(t, err)
	assert.NotContains(t, string(text), "hunter2")
}

func TestSSOBeginSendsTheBrowserWithPKCEStateAndNonce(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	ctx := context.Background()
	started, err := f.svc.SSO.Begin(ctx, lifecycle.SSOBegin{Email: "Someone@ACME.example.com", Next: "/console/x"})
	require.NoError(t, err)
	assert.Equal(t, f.org.Sid, started.Flow.OrganizationSid)
	assert.Equal(t, "/console/x", started.Flow.Next)
	assert.WithinDuration(t, time.Now().Add(domain.SSOFlowTTL), started.Flow.ExpiresAt, time.Minute)
	_, err = f.op.Approve(ctx, started.AuthURL)
	require.NoError(t, err)
	auths := f.op.Authorizations()
	require.Len(t, auths, 1)
	a := auths[0]
	assert.Equal(t, f.op.ClientID, a.ClientID)
	assert.Equal(t, ssoRedirect, a.RedirectURI)
	assert.Equal(t, ssoRedirect, f.svc.SSO.RedirectURL())
	assert.Equal(t, "S256", a.CodeChallengeMethod)
	assert.NotEmpty(t, a.CodeChallenge)
	assert.NotContains(t, started.AuthURL, started.Flow.Verifier, "only the challenge leaves")
	assert.Equal(t, started.Flow.State, a.State)
	assert.Equal(t, started.Flow.Nonce, a.Nonce)
	assert.Contains(t, a.Scope, "openid")

	again, err := f.svc.SSO.Begin(ctx, lifecycle.SSOBegin{OrganizationSid: f.org.Sid})
	require.NoError(t, err)
	assert.NotEqual(t, started.Flow.State, again.Flow.State)
	assert.NotEqual(t, started.Flow.Nonce, again.Flow.Nonce)
	assert.NotEqual(t, started.Flow.Verifier, again.Flow.Verifier)

	for name, b := range map[string]lifecycle.SSOBegin{
		"domain of no organization": {Email: "a@nowhere.example.org"},
		"malformed organization":    {OrganizationSid: "OR123"},
		"nothing":                   {},
		"not an email":              {Email: "not an email"},
	} {
		_, err := f.svc.SSO.Begin(ctx, b)
		assert.Error(t, err, name)
		assert.Contains(t, []int{domain.CodeSSONotConfigured, domain.CodeBadRequest, domain.CodeInvalidEmail}, domain.ErrorCode(err), name)
	}
	require.NoError(t, f.svc.SSO.Remove(ctx, f.admin))
	_, err = f.svc.SSO.Begin(ctx, lifecycle.SSOBegin{Email: f.standard.UserName})
	assert.Equal(t, domain.CodeSSONotConfigured, domain.ErrorCode(err), "an organization without a provider")
}

func TestSSOCompleteSignsInTheManagedUser(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	flow, q := f.begin(t, f.standard.UserName)
	u, err := f.complete(&flow, q)
	require.NoError(t, err)
	assert.Equal(t, f.standard.Sid, u.Sid)
	assert.Empty(t, f.failures(t))
	assert.Equal(t, 1, f.op.TokensIssued())

	// the same callback again: the code is spent at the provider
	_, err = f.complete(&flow, q)
	assert.Equal(t, domain.CodeSSOFailed, domain.ErrorCode(err))
	assert.Equal(t, []string{domain.SSOReasonExchange}, f.failures(t))
}

func TestSSOCompleteRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		arrange func(t *testing.T, f *ssoFixture)
		act     func(f *ssoFixture, flow *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values)
		code    int
		reason  string
		tokens  int // codes exchanged at the provider
	}{
		{name: "wrong state", code: domain.CodeSSOFailed, reason: domain.SSOReasonState,
			act: func(_ *ssoFixture, flow *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values) {
				q.Set("state", "forged-"+q.Get("state"))
				return flow, q
			}},
		{name: "no flow in the session", code: domain.CodeSSOFailed, reason: "",
			act: func(_ *ssoFixture, _ *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values) { return nil, q }},
		{name: "expired flow", code: domain.CodeSSOFailed, reason: domain.SSOReasonExpired,
			act: func(f *ssoFixture, flow *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values) {
				f.clock.advance(domain.SSOFlowTTL + time.Second)
				return flow, q
			}},
		{name: "provider error", code: domain.CodeSSOFailed, reason: domain.SSOReasonProviderError,
			act: func(_ *ssoFixture, flow *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values) {
				q.Del("code")
				q.Set("error", "access_denied")
				return flow, q
			}},
		{name: "wrong PKCE verifier", code: domain.CodeSSOFailed, reason: domain.SSOReasonExchange,
			act: func(_ *ssoFixture, flow *domain.SSOFlow, q url.Values) (*domain.SSOFlow, url.Values) {
				other := *flow
				other.Verifier = "x" + flow.Verifier[1:]
				return &other, q
			}},
		{name: "token for another client", code: domain.CodeSSOFailed, reason: domain.SSOReasonToken, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) { f.op.Tamper(func(c map[string]any) { c["aud"] = "someone-else" }) }},
		{name: "token from another issuer", code: domain.CodeSSOFailed, reason: domain.SSOReasonToken, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) {
				f.op.Tamper(func(c map[string]any) { c["iss"] = "https://evil.example.com" })
			}},
		{name: "expired token", code: domain.CodeSSOFailed, reason: domain.SSOReasonToken, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) {
				f.op.Tamper(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })
			}},
		{name: "nonce of another sign-in", code: domain.CodeSSOFailed, reason: domain.SSOReasonNonce, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) { f.op.Tamper(func(c map[string]any) { c["nonce"] = "replayed" }) }},
		{name: "email not verified", code: domain.CodeSSORefused, reason: domain.SSOReasonEmailNotVerified, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) {
				f.op.SetUser(testenv.OIDCUser{Email: f.standard.UserName, EmailVerified: false})
			}},
		{name: "email off the verified domains", code: domain.CodeSSORefused, reason: domain.SSOReasonDomainNotVerified, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) {
				f.op.SetUser(testenv.OIDCUser{Email: "standard@elsewhere.example.net", EmailVerified: true})
			}},
		{name: "unknown user", code: domain.CodeSSORefused, reason: domain.SSOReasonUnknownUser, tokens: 1,
			arrange: func(_ *testing.T, f *ssoFixture) {
				f.op.SetUser(testenv.OIDCUser{Email: "nobody@acme.example.com", EmailVerified: true})
			}},
		{name: "inactive user", code: domain.CodeSSORefused, reason: domain.SSOReasonInactiveUser, tokens: 1,
			arrange: func(t *testing.T, f *ssoFixture) {
				u := f.standard
				u.Active = false
				_, err := f.st.UpdateUser(context.Background(), u, u.Version, domain.AuditEvent{})
				require.NoError(t, err)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newSSOFixture(t)
			if tc.arrange != nil {
				tc.arrange(t, f)
			}
			flow, q := f.begin(t, f.standard.UserName)
			fp := &flow
			if tc.act != nil {
				fp, q = tc.act(f, fp, q)
			}
			u, err := f.complete(fp, q)
			require.Error(t, err)
			assert.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			assert.Empty(t, u.Sid)
			if tc.reason == "" {
				assert.Empty(t, f.failures(t), "no organization to record it for")
			} else {
				assert.Equal(t, []string{tc.reason}, f.failures(t))
			}
			assert.Equal(t, tc.tokens, f.op.TokensIssued())
		})
	}
}

func TestSSORequiredRefusesPasswordsOfManagedUsersOnly(t *testing.T) {
	t.Parallel()
	f := newSSOFixture(t)
	ctx := context.Background()
	outsider := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), UserName: "guest@partner.example", Active: true}

	require.NoError(t, f.svc.SSO.CheckPasswordSignIn(ctx, f.standard), "SSO offered, not required")
	_, err := f.svc.SSO.Configure(ctx, f.admin, domain.SSOSettings{Issuer: f.op.Issuer, ClientID: f.op.ClientID, Required: true})
	require.NoError(t, err)
	err = f.svc.SSO.CheckPasswordSignIn(ctx, f.standard)
	assert.Equal(t, domain.CodeSSORequired, domain.ErrorCode(err))
	assert.Contains(t, domain.ErrorMessage(err), "Sign in with SSO")
	assert.NoError(t, f.svc.SSO.CheckPasswordSignIn(ctx, outsider), "outside users keep their passwords")
}
