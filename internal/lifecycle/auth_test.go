package lifecycle

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// memCreds holds credentials; those of a closing account answer 20005
// beside the credential, as the store does.
type memCreds struct {
	creds   map[string]domain.Credential
	users   map[string]domain.User
	closing map[string]bool // account SIDs
	tokens  map[string]domain.AccessToken
	events  []domain.AuditEvent
}

var errBad = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "bad credentials")

func (m *memCreds) TouchCredential(_ context.Context, sid string, at time.Time) error {
	c := m.creds[sid]
	c.DateLastUsed = at
	m.creds[sid] = c
	return nil
}

func (m *memCreds) RecordEvent(_ context.Context, ev domain.AuditEvent) error {
	m.events = append(m.events, ev)
	return nil
}

func (m *memCreds) FindCredential(_ context.Context, sid string) (domain.Credential, error) {
	c, ok := m.creds[sid]
	if !ok {
		return c, errBad
	}
	return c, nil
}

func (m *memCreds) CredentialPrincipal(_ context.Context, sid string) (domain.Credential, domain.User, error) {
	c, ok := m.creds[sid]
	if !ok {
		return domain.Credential{}, domain.User{}, errBad
	}
	var err error
	if m.closing[c.AccountSid] {
		err = domain.Errorf(domain.EForbidden, domain.CodeAccountNotActive, "the account is closing")
	}
	return c, m.users[c.UserSid], err
}

func (m *memCreds) TokenPrincipal(ctx context.Context, hash string, now time.Time) (domain.Credential, domain.User, error) {
	t, ok := m.tokens[hash]
	if !ok || !now.Before(t.ExpiresAt) {
		return domain.Credential{}, domain.User{}, errBad
	}
	return m.CredentialPrincipal(ctx, t.CredentialSid)
}

func (m *memCreds) CreateAccessToken(_ context.Context, t domain.AccessToken) error {
	m.tokens[t.TokenHash] = t
	return nil
}

const (
	orgCred     = "SK00000000000000000000000000000001"
	acctSid     = "AC00000000000000000000000000000002"
	closingSid  = "AC00000000000000000000000000000003"
	orgSecret   = "abcdefghijklmnopqrstuvwxyz012345"
	tokenSecret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
)

func newAuth() (*Auth, *memCreds, *testClock) {
	m := &memCreds{
		creds: map[string]domain.Credential{
			orgCred: {Sid: orgCred, OrganizationSid: testOrg, UserSid: admin.UserSid, SecretHash: domain.HashSecret(orgSecret)},
			domain.AuthTokenCredentialSid(acctSid): {Sid: domain.AuthTokenCredentialSid(acctSid), OrganizationSid: testOrg,
				UserSid: standard.UserSid, SecretHash: domain.HashSecret(tokenSecret), AccountSid: acctSid},
			domain.AuthTokenCredentialSid(closingSid): {Sid: domain.AuthTokenCredentialSid(closingSid), OrganizationSid: testOrg,
				UserSid: standard.UserSid, SecretHash: domain.HashSecret(tokenSecret), AccountSid: closingSid},
		},
		users: map[string]domain.User{
			admin.UserSid:    {Sid: admin.UserSid, OrgRole: domain.OrgRoleAdministrator, Active: true},
			standard.UserSid: {Sid: standard.UserSid, OrgRole: domain.OrgRoleStandard, Active: true},
		},
		closing: map[string]bool{closingSid: true},
		tokens:  map[string]domain.AccessToken{},
	}
	clock := &testClock{t: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	return newAuthService(m, clock, slog.New(slog.DiscardHandler), time.Hour), m, clock
}

type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

func TestAuthBasic(t *testing.T) {
	ctx := context.Background()
	a, m, _ := newAuth()

	p, err := a.Authenticate(ctx, Credentials{Scheme: SchemeBasic, ID: orgCred, Secret: orgSecret})
	if err != nil || p.OrganizationSid != testOrg || p.UserSid != admin.UserSid || p.CredentialSid != orgCred || p.OrgRole != domain.OrgRoleAdministrator || p.AccountSid != "" {
		t.Fatalf("organization credential: %+v, %v", p, err)
	}
	// An Account SID and its auth token are Basic credentials too.
	p, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBasic, ID: acctSid, Secret: tokenSecret})
	if err != nil || p.AccountSid != acctSid || p.CredentialSid != domain.AuthTokenCredentialSid(acctSid) {
		t.Fatalf("account auth token: %+v, %v", p, err)
	}
	for _, cr := range []Credentials{
		{},
		{Scheme: SchemeBasic, ID: orgCred, Secret: tokenSecret},
		{Scheme: SchemeBasic, ID: orgCred, Secret: "short"},
		{Scheme: SchemeBasic, ID: "SK00000000000000000000000000000009", Secret: orgSecret},
		{Scheme: SchemeBasic, ID: "nonsense", Secret: orgSecret},
		// The secret is checked before the closing account is told.
		{Scheme: SchemeBasic, ID: closingSid, Secret: orgSecret},
	} {
		_, err = a.Authenticate(ctx, cr)
		requireCode(t, err, domain.CodeUnauthenticated)
	}
	_, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBasic, ID: closingSid, Secret: tokenSecret})
	requireCode(t, err, domain.CodeAccountNotActive)

	u := m.users[admin.UserSid]
	u.Active = false
	m.users[admin.UserSid] = u
	_, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBasic, ID: orgCred, Secret: orgSecret})
	requireCode(t, err, domain.CodeUnauthenticated)
}

func TestAuthToken(t *testing.T) {
	ctx := context.Background()
	a, _, clock := newAuth()

	_, err := a.Token(ctx, domain.Actor{}, "", orgSecret)
	requireCode(t, err, domain.CodeBadRequest)
	_, err = a.Token(ctx, domain.Actor{}, orgCred, tokenSecret)
	requireCode(t, err, domain.CodeUnauthenticated)
	// The secret first, then the closing account.
	_, err = a.Token(ctx, domain.Actor{}, closingSid, orgSecret)
	requireCode(t, err, domain.CodeUnauthenticated)
	_, err = a.Token(ctx, domain.Actor{}, closingSid, tokenSecret)
	requireCode(t, err, domain.CodeAccountNotActive)

	tok, err := a.Token(ctx, domain.Actor{}, orgCred, orgSecret)
	if err != nil || tok.ExpiresIn != time.Hour || tok.AccessToken == "" {
		t.Fatalf("token: %+v, %v", tok, err)
	}
	p, err := a.Authenticate(ctx, Credentials{Scheme: SchemeBearer, Token: tok.AccessToken})
	if err != nil || p.CredentialSid != orgCred || p.UserSid != admin.UserSid {
		t.Fatalf("bearer: %+v, %v", p, err)
	}
	acct, err := a.Token(ctx, domain.Actor{}, acctSid, tokenSecret)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Authenticate(ctx, Credentials{Scheme: SchemeBearer, Token: acct.AccessToken}); err != nil || p.AccountSid != acctSid {
		t.Fatalf("account bearer: %+v, %v", p, err)
	}
	_, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBearer, Token: tok.AccessToken + "x"})
	requireCode(t, err, domain.CodeUnauthenticated)
	_, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBearer})
	requireCode(t, err, domain.CodeUnauthenticated)

	clock.t = clock.t.Add(time.Hour)
	_, err = a.Authenticate(ctx, Credentials{Scheme: SchemeBearer, Token: tok.AccessToken})
	requireCode(t, err, domain.CodeUnauthenticated)
}
