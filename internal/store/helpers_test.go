package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// testClock is a domain.Clock that moves forward by one millisecond on
// every reading, so everything the store stamps (dates, event SIDs) gets a
// distinct, increasing time without sleeping.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(time.Millisecond)
	return t
}

// dialect knows how to make a fresh, empty database of its kind.
type dialect struct {
	name    string
	options func(t *testing.T) store.Options
}

var dialects = []dialect{
	{store.SQLite, func(t *testing.T) store.Options {
		return store.Options{SQLitePath: filepath.Join(t.TempDir(), "data", "orgaccounts.db")}
	}},
	{store.Postgres, func(t *testing.T) store.Options {
		return store.Options{DatabaseURL: testenv.MustPostgres(t), MaxOpenConns: 8}
	}},
}

// openStore opens a store on opts and closes it when the test ends.
func openStore(t *testing.T, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// eachDatabase runs fn once per dialect, in parallel subtests named after
// the dialect, with the options of a fresh, unmigrated database.
func eachDatabase(t *testing.T, fn func(t *testing.T, opts store.Options)) {
	t.Helper()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d.options(t))
		})
	}
}

// eachDialectClock runs fn once per dialect on a freshly migrated store
// that reads clk.
func eachDialectClock(t *testing.T, fn func(t *testing.T, s *store.Store, clk *testClock)) {
	t.Helper()
	eachDatabase(t, func(t *testing.T, opts store.Options) {
		clk := newTestClock()
		opts.Clock = clk
		s := openStore(t, opts)
		_, err := s.Migrate(context.Background())
		require.NoError(t, err)
		fn(t, s, clk)
	})
}

// eachDialect runs fn once per dialect ("sqlite", "postgres") on a freshly
// migrated store.
func eachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	eachDialectClock(t, func(t *testing.T, s *store.Store, _ *testClock) { fn(t, s) })
}

// requireCode fails unless err is a domain error with the Twilio code.
func requireCode(t *testing.T, want int, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, domain.ErrorCode(err), "got error %v", err)
}

func newSID(prefix string) string { return domain.NewSID(prefix, time.Now()) }

// fixtureOrg is an organization with its owner and the owner's credential.
type fixtureOrg struct {
	domain.Organization
	Owner  domain.User
	Domain string
	Cred   domain.Credential
	Secret string
}

// createOrg creates an organization whose verified domain is
// <name>.example.com and whose owner is owner@<name>.example.com.
func createOrg(t *testing.T, s *store.Store, name string) fixtureOrg {
	t.Helper()
	orgSid := newSID(domain.PrefixOrganization)
	dom := name + ".example.com"
	owner := domain.User{
		Sid: newSID(domain.PrefixUser), OrganizationSid: orgSid, UserName: "owner@" + dom,
		GivenName: "Olive", FamilyName: "Owner", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true,
	}
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: orgSid, UserSid: owner.Sid, FriendlyName: "bootstrap", SecretHash: domain.HashSecret(secret)}
	org := domain.Organization{Sid: orgSid, FriendlyName: name, OwnerSid: owner.Sid}
	vd := domain.VerifiedDomain{Sid: newSID(domain.PrefixDomain), DomainName: dom, Status: domain.DomainVerified, VerificationToken: "token-" + name}
	ev := domain.NewAuditEvent(domain.SystemActor, orgSid, domain.EventOrganizationCreated, orgSid, nil)
	require.NoError(t, s.CreateOrganization(context.Background(), org, owner, vd, cred, ev))
	stored, err := s.FindUser(context.Background(), orgSid, owner.Sid)
	require.NoError(t, err)
	return fixtureOrg{Organization: org, Owner: stored, Domain: dom, Cred: cred, Secret: secret}
}

// createUser creates a Standard managed user of org named local@<org domain>.
func createUser(t *testing.T, s *store.Store, org fixtureOrg, local string, edit ...func(*domain.User)) domain.User {
	t.Helper()
	u := domain.User{
		Sid: newSID(domain.PrefixUser), OrganizationSid: org.Sid, UserName: local + "@" + org.Domain,
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true,
	}
	for _, e := range edit {
		e(&u)
	}
	ev := domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventUserCreated, u.Sid, nil)
	require.NoError(t, s.CreateUser(context.Background(), u, ev))
	stored, err := s.FindUser(context.Background(), org.Sid, u.Sid)
	require.NoError(t, err)
	return stored
}

// createAccount creates an account of org owned by owner in status.
func createAccount(t *testing.T, s *store.Store, org fixtureOrg, owner domain.User, name, status string) domain.Account {
	t.Helper()
	a := domain.Account{
		Sid: newSID(domain.PrefixAccount), OrganizationSid: org.Sid, FriendlyName: name,
		Status: status, Kind: domain.AccountManaged, OwnerSid: owner.Sid,
	}
	ra := domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: org.Sid, Scope: a.Sid, Identity: owner.Sid}
	ev := domain.NewAuditEvent(domain.Actor{UserSid: owner.Sid}, org.Sid, domain.EventAccountCreated, a.Sid, nil)
	got, err := s.CreateAccount(context.Background(), a, ra, ev)
	require.NoError(t, err)
	return got
}

// grant gives user role on account.
func grant(ctx context.Context, s *store.Store, org fixtureOrg, account, user, role string) (domain.RoleAssignment, error) {
	ra := domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: org.Sid, RoleSid: role, Scope: account, Identity: user}
	return s.CreateRoleAssignment(ctx, ra, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventRoleAssigned, ra.Sid, nil))
}

func mustGrant(t *testing.T, s *store.Store, org fixtureOrg, account, user, role string) domain.RoleAssignment {
	t.Helper()
	ra, err := grant(context.Background(), s, org, account, user, role)
	require.NoError(t, err)
	return ra
}

// eventsOf lists every event of org of the given type (all types when
// empty), oldest first.
func eventsOf(t *testing.T, s *store.Store, orgSid, typ string) []domain.AuditEvent {
	t.Helper()
	evs, err := s.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: orgSid, Type: typ, Page: domain.PageRequest{Size: 1000}})
	require.NoError(t, err)
	return evs
}

func sids[T any](items []T, sid func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = sid(it)
	}
	return out
}

func sorted(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}

func TestEachDialect_RunsOnBothDialects(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]bool{}
	t.Run("run", func(t *testing.T) {
		eachDialect(t, func(t *testing.T, s *store.Store) {
			mu.Lock()
			defer mu.Unlock()
			seen[s.Dialect()] = true
			assert.Contains(t, t.Name(), fmt.Sprintf("/%s", s.Dialect()), "subtest named after its dialect")
		})
	})
	// the subtests above are parallel: t.Run returns once they are done.
	if testenv.InCI() || len(seen) == 2 {
		assert.Equal(t, map[string]bool{store.SQLite: true, store.Postgres: true}, seen)
	} else {
		assert.Equal(t, map[string]bool{store.SQLite: true}, seen, "only PostgreSQL may be skipped")
	}
}
