package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the raw baseline

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// BenchmarkListAccounts measures one page of GET
// /Organizations/{OR}/Accounts?PageSize=50 on PostgreSQL for an
// organization of 1,000 and of 100,000 accounts, beside the raw SQL keyset
// query that returns the same page. See docs/BENCHMARKS.md.
//
// Sub-benchmarks are named via={variant}/N={accounts}/page={first|middle}
// (key=value, so that benchstat -col /via puts the variants side by side):
//
//	raw        the keyset query alone, database/sql + pgx, rows scanned
//	raw+auth   raw plus the two point lookups HTTP Basic needs (credential, user)
//	store      store.ListAccounts (GORM), no HTTP
//	api-basic  the real handler in-process, HTTP Basic credentials
//	api-bearer the real handler in-process, a bearer token from /v1/token
//
// It needs PostgreSQL (TEST_DATABASE_URL or the default of testenv) and is
// skipped without it. It asserts the pages are right, never timings.
func BenchmarkListAccounts(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		env := newListEnv(b, n)
		for _, page := range []string{"first", "middle"} {
			after := ""
			if page == "middle" {
				after = env.sids[n/2-1]
			}
			name := func(variant string) string { return fmt.Sprintf("via=%s/N=%d/page=%s", variant, n, page) }
			b.Run(name("raw"), func(b *testing.B) { env.benchRaw(b, after, false) })
			b.Run(name("raw+auth"), func(b *testing.B) { env.benchRaw(b, after, true) })
			b.Run(name("store"), func(b *testing.B) { env.benchStore(b, after) })
			b.Run(name("api-basic"), func(b *testing.B) { env.benchAPI(b, after, env.basic) })
			b.Run(name("api-bearer"), func(b *testing.B) { env.benchAPI(b, after, env.bearer) })
		}
	}
}

const benchPageSize = 50

// listEnv is one organization of n accounts in a fresh database.
type listEnv struct {
	st      *store.Store
	raw     *sql.DB
	handler http.Handler
	org     domain.Organization
	owner   domain.User
	credSid string
	sids    []string // account SIDs in ascending order
	basic   string   // Authorization header values
	bearer  string
}

func newListEnv(b *testing.B, n int) *listEnv {
	b.Helper()
	url := testenv.MustPostgres(b)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: url})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = raw.Close() })

	// The organization, its owner, a verified domain and a credential whose
	// secret we know, as bootstrap makes them; and a neighbour organization
	// of 100,000 accounts created over the same period, interleaved with
	// ours in the primary key, as in a shared database.
	now := time.Now().UTC()
	org, owner, cred, secret := createOrganization(b, st, "bench", now)
	other, otherOwner, _, _ := createOrganization(b, st, "neighbour", now)
	token := domain.NewSecret(48)
	if err := st.CreateAccessToken(ctx, domain.AccessToken{
		TokenHash: domain.HashSecret(token), CredentialSid: cred.Sid, ExpiresAt: now.Add(24 * time.Hour),
	}); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	sids := seedAccounts(b, url, [2]string{org.Sid, owner.Sid}, [2]string{other.Sid, otherOwner.Sid}, n, now.Add(-(neighbourAccounts+1)*time.Millisecond))
	// What autovacuum would do after a bulk load: fresh planner statistics
	// and a visibility map.
	if _, err := raw.ExecContext(ctx, "VACUUM ANALYZE accounts"); err != nil {
		b.Fatal(err)
	}
	b.Logf("N=%d: seeded %d + %d neighbour accounts in %v", n, len(sids), neighbourAccounts, time.Since(start).Round(time.Millisecond))

	e := &listEnv{
		st: st, raw: raw, org: org, owner: owner, credSid: cred.Sid, sids: sids,
		basic:  "Basic " + basicAuth(cred.Sid, secret),
		bearer: "Bearer " + token,
		handler: api.NewHandler(api.Config{
			Store: st, BaseURL: "https://orgaccounts.example",
			// The access log is formatted as in production, then dropped.
			Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		}),
	}
	e.logPlan(b, n)
	return e
}

func createOrganization(b *testing.B, st *store.Store, name string, now time.Time) (domain.Organization, domain.User, domain.Credential, string) {
	b.Helper()
	org := domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: name}
	owner := domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: org.Sid, UserName: "owner@" + name + ".example",
		DisplayName: "Owner", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true,
	}
	org.OwnerSid = owner.Sid
	verified := now
	dom := domain.VerifiedDomain{
		Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: org.Sid, DomainName: name + ".example",
		Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &verified,
	}
	secret := domain.NewSecret(32)
	cred := domain.Credential{
		Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: org.Sid, UserSid: owner.Sid,
		FriendlyName: "bench", SecretHash: domain.HashSecret(secret),
	}
	if err := st.CreateOrganization(context.Background(), org, owner, dom, cred,
		domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventOrganizationCreated, org.Sid, nil)); err != nil {
		b.Fatal(err)
	}
	return org, owner, cred, secret
}

// neighbourAccounts is how many accounts another organization holds in the
// same database, created over the same period as the measured ones.
const neighbourAccounts = 100_000

// seedAccounts loads n active managed accounts for org and
// neighbourAccounts for the neighbour ({organization SID, owner SID}) with
// COPY. Their SIDs are made by domain.NewSID over the same span of time
// from t0, so they are time-ordered like real ones and the two
// organizations' are interleaved in the primary key. It returns org's SIDs
// in order.
func seedAccounts(b *testing.B, url string, org, neighbour [2]string, n int, t0 time.Time) []string {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	rows := make([][]any, 0, n+neighbourAccounts)
	add := func(o [2]string, i int, t time.Time) string {
		sid := domain.NewSID(domain.PrefixAccount, t)
		rows = append(rows, []any{sid, o[0], fmt.Sprintf("Account %d", i), domain.AccountActive, domain.AccountManaged,
			o[1], false, false, t, t, 1})
		return sid
	}
	sids := make([]string, n)
	for i := range n {
		sids[i] = add(org, i, t0.Add(time.Duration(i*neighbourAccounts/n)*time.Millisecond))
	}
	for i := range neighbourAccounts {
		add(neighbour, i, t0.Add(time.Duration(i)*time.Millisecond))
	}
	cols := []string{"sid", "organization_sid", "friendly_name", "status", "kind", "owner_sid", "flex", "require_2fa", "date_created", "date_updated", "version"}
	got, err := conn.CopyFrom(ctx, pgx.Identifier{"accounts"}, cols, pgx.CopyFromRows(rows))
	if err != nil {
		b.Fatal(err)
	}
	if got != int64(len(rows)) {
		b.Fatalf("copied %d accounts, want %d", got, len(rows))
	}
	for i := 1; i < n; i++ {
		if sids[i] <= sids[i-1] {
			b.Fatalf("SIDs are not time-ordered at %d", i)
		}
	}
	return sids
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// The raw baseline: the columns GORM selects, the same predicate, order and
// limit as store.ListAccounts for an organization administrator (LIMIT is
// benchPageSize+1, as GORM writes it: a literal).
const (
	rawCols        = `sid, organization_sid, friendly_name, status, kind, owner_sid, parent_sid, flex, require_2fa, date_created, date_updated, version`
	rawFirstPage   = `SELECT ` + rawCols + ` FROM accounts WHERE organization_sid = $1 AND status <> 'provisioning' ORDER BY sid LIMIT 51`
	rawAfterPage   = `SELECT ` + rawCols + ` FROM accounts WHERE organization_sid = $1 AND status <> 'provisioning' AND sid > $2 ORDER BY sid LIMIT 51`
	rawCredential  = `SELECT sid, organization_sid, user_sid, friendly_name, secret_hash, date_created FROM credentials WHERE sid = $1 LIMIT 1`
	rawUserByOrgID = `SELECT sid, organization_sid, user_name, external_id, given_name, family_name, display_name, managed, org_role,
		two_factor_enrolled, active, locale, timezone, date_created, date_updated, version FROM users WHERE sid = $1 AND organization_sid = $2 LIMIT 1`
)

type rawAccount struct {
	Sid, FriendlyName, Status, Kind, OwnerSid string
	OrganizationSid, ParentSid                sql.NullString
	Flex, Require2FA                          bool
	DateCreated, DateUpdated                  time.Time
	Version                                   int
}

func (e *listEnv) rawPage(ctx context.Context, after string) ([]rawAccount, error) {
	var rows *sql.Rows
	var err error
	if after == "" {
		rows, err = e.raw.QueryContext(ctx, rawFirstPage, e.org.Sid)
	} else {
		rows, err = e.raw.QueryContext(ctx, rawAfterPage, e.org.Sid, after)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]rawAccount, 0, benchPageSize+1)
	for rows.Next() {
		var a rawAccount
		if err := rows.Scan(&a.Sid, &a.OrganizationSid, &a.FriendlyName, &a.Status, &a.Kind, &a.OwnerSid, &a.ParentSid,
			&a.Flex, &a.Require2FA, &a.DateCreated, &a.DateUpdated, &a.Version); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// rawAuth runs the two lookups HTTP Basic authentication makes.
func (e *listEnv) rawAuth(ctx context.Context) error {
	var c struct {
		Sid, OrganizationSid, UserSid, FriendlyName, SecretHash string
		DateCreated                                             time.Time
	}
	if err := e.raw.QueryRowContext(ctx, rawCredential, e.credSid).Scan(&c.Sid, &c.OrganizationSid, &c.UserSid,
		&c.FriendlyName, &c.SecretHash, &c.DateCreated); err != nil {
		return err
	}
	var u struct {
		Sid, UserName, GivenName, FamilyName, DisplayName, OrgRole, Locale, Timezone string
		OrganizationSid, ExternalID                                                  sql.NullString
		Managed, TwoFactorEnrolled, Active                                           bool
		DateCreated, DateUpdated                                                     time.Time
		Version                                                                      int
	}
	return e.raw.QueryRowContext(ctx, rawUserByOrgID, c.UserSid, c.OrganizationSid).Scan(&u.Sid, &u.OrganizationSid,
		&u.UserName, &u.ExternalID, &u.GivenName, &u.FamilyName, &u.DisplayName, &u.Managed, &u.OrgRole,
		&u.TwoFactorEnrolled, &u.Active, &u.Locale, &u.Timezone, &u.DateCreated, &u.DateUpdated, &u.Version)
}

// want is the SID the page starting after `after` begins with.
func (e *listEnv) want(after string) string {
	if after == "" {
		return e.sids[0]
	}
	for i, s := range e.sids {
		if s == after {
			return e.sids[i+1]
		}
	}
	panic("unknown SID " + after)
}

func (e *listEnv) benchRaw(b *testing.B, after string, withAuth bool) {
	ctx := context.Background()
	got, err := e.rawPage(ctx, after)
	if err != nil {
		b.Fatal(err)
	}
	if len(got) != benchPageSize+1 || got[0].Sid != e.want(after) {
		b.Fatalf("raw page: %d rows starting %v, want %d starting %s", len(got), got[0].Sid, benchPageSize+1, e.want(after))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if withAuth {
			if err := e.rawAuth(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := e.rawPage(ctx, after); err != nil {
			b.Fatal(err)
		}
	}
}

func (e *listEnv) benchStore(b *testing.B, after string) {
	ctx := context.Background()
	f := domain.AccountFilter{OrganizationSid: e.org.Sid, Page: domain.PageRequest{Size: benchPageSize, After: after}}
	got, err := e.st.ListAccounts(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	if len(got) != benchPageSize+1 || got[0].Sid != e.want(after) {
		b.Fatalf("store page: %d rows, want %d starting %s", len(got), benchPageSize+1, e.want(after))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.st.ListAccounts(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}

func (e *listEnv) benchAPI(b *testing.B, after, authorization string) {
	target := "/Organizations/" + e.org.Sid + "/Accounts?PageSize=" + fmt.Sprint(benchPageSize)
	if after != "" {
		// The token a client holds after paging to the middle of the list.
		target += "&PageToken=" + domain.NextPageToken(len(e.sids)/2/benchPageSize-1, after)
	}
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Authorization", authorization)

	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if n := strings.Count(body, `"account_sid"`); n != benchPageSize || !strings.Contains(body, `"account_sid":"`+e.want(after)+`"`) ||
		!strings.Contains(body, `"next_page_url":"https://`) {
		b.Fatalf("GET %s: %d accounts, or not starting at %s, or no next page: %.300s", target, n, e.want(after), body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
	}
}

// logPlan logs PostgreSQL's plans for the first and the middle page, to
// show they walk accounts_org_sid from the page's start rather than the
// organization's accounts (or everyone's).
func (e *listEnv) logPlan(b *testing.B, n int) {
	b.Helper()
	explain := func(q string, args ...any) string {
		rows, err := e.raw.Query("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "+q, args...)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			plan = append(plan, "  "+line)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return strings.Join(plan, "\n")
	}
	b.Logf("N=%d: plan of the first page:\n%s", n, explain(rawFirstPage, e.org.Sid))
	b.Logf("N=%d: plan of the middle page:\n%s", n, explain(rawAfterPage, e.org.Sid, e.sids[n/2-1]))
}
