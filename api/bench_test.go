//go:build unix

package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/lifecycle"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the raw baseline

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
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
//	raw+auth   raw plus, in raw SQL, the two lookups HTTP Basic makes (credential, user)
//	store      store.ListAccounts (GORM), no HTTP
//	api-basic  the real handler in-process, HTTP Basic credentials
//	api-bearer the real handler in-process, a bearer token from POST /v1/token
//	paired     all five in turn in one loop, reporting each one's time per
//	           call ({variant}-ns/op) and its ratio to raw ({variant}/raw):
//	           interleaved, they see the same load on a shared machine
//
// It needs PostgreSQL (TEST_DATABASE_URL or the default of testenv) and is
// skipped without it. It asserts the pages are right, never timings.
func BenchmarkListAccounts(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		e := newListEnv(b, n)
		for _, page := range []string{"first", "middle"} {
			after := ""
			if page == "middle" {
				after = e.sids[n/2-1]
			}
			name := func(variant string) string { return fmt.Sprintf("via=%s/N=%d/page=%s", variant, n, page) }
			ops := []namedOp{
				{"raw", e.rawOp(b, after, false)},
				{"raw+auth", e.rawOp(b, after, true)},
				{"store", e.storeOp(b, after)},
				{"api-basic", e.apiOp(b, after, e.basic)},
				{"api-bearer", e.apiOp(b, after, e.bearer)},
			}
			for _, op := range ops {
				b.Run(name(op.name), func(b *testing.B) { benchOp(b, op.run) })
			}
			b.Run(name("paired"), func(b *testing.B) { benchPaired(b, ops) })
		}
	}
}

const benchPageSize = 50

// listEnv is an organization of n accounts, beside a neighbour of
// neighbourAccounts, in a fresh database.
type listEnv struct {
	st      *store.Store
	raw     *sql.DB
	handler http.Handler
	org     domain.Organization
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

	start := time.Now()
	sids := seedAccounts(b, url, [2]string{org.Sid, owner.Sid}, [2]string{other.Sid, otherOwner.Sid}, n, now.Add(-(neighbourAccounts+1)*time.Millisecond))
	// What autovacuum would do after a bulk load: fresh planner statistics
	// and a visibility map.
	if _, err := raw.ExecContext(ctx, "VACUUM ANALYZE accounts"); err != nil {
		b.Fatal(err)
	}
	b.Logf("N=%d: seeded %d + %d neighbour accounts in %v", n, len(sids), neighbourAccounts, time.Since(start).Round(time.Millisecond))

	e := &listEnv{
		st: st, raw: raw, org: org, credSid: cred.Sid, sids: sids,
		basic: "Basic " + basicAuth(cred.Sid, secret),
		handler: api.NewHandler(api.Config{
			Services:    lifecycle.New(lifecycle.Deps{Store: st, TokenTTL: 24 * time.Hour}),
			Idempotency: st, BaseURL: "https://orgaccounts.example",
			Metrics: telemetry.NewMetrics(), // recorded as in production
			// The access log is formatted as in production, then dropped.
			Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		}),
	}
	e.bearer = "Bearer " + e.token(b)
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
	defer func() { _ = conn.Close(ctx) }()
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

// token gets a bearer token from POST /v1/token with the Basic credentials.
func (e *listEnv) token(b *testing.B) string {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, "/v1/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", e.basic)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != http.StatusOK || err != nil || out.AccessToken == "" {
		b.Fatalf("POST /v1/token: %d %s", rec.Code, rec.Body)
	}
	return out.AccessToken
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// The raw baseline: the columns, predicate, order and limit of
// store.ListAccounts for an organization administrator, parameterized as
// GORM sends them (the status is a parameter, LIMIT benchPageSize+1 a
// literal) so that PostgreSQL plans both alike. Written with the status as
// a literal instead, the cached statement gets a generic plan that walks
// the primary key through other organizations' accounts: see
// docs/BENCHMARKS.md.
const (
	rawCols        = `sid, organization_sid, friendly_name, status, kind, owner_sid, parent_sid, flex, require_2fa, date_created, date_updated, version`
	rawFirstPage   = `SELECT ` + rawCols + ` FROM accounts WHERE organization_sid = $1 AND status <> $2 ORDER BY sid LIMIT 51`
	rawAfterPage   = `SELECT ` + rawCols + ` FROM accounts WHERE organization_sid = $1 AND status <> $2 AND sid > $3 ORDER BY sid LIMIT 51`
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
		rows, err = e.raw.QueryContext(ctx, rawFirstPage, e.org.Sid, domain.AccountProvisioning)
	} else {
		rows, err = e.raw.QueryContext(ctx, rawAfterPage, e.org.Sid, domain.AccountProvisioning, after)
	}
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
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

type namedOp struct {
	name string
	run  func() error
}

// rawOp checks the raw page once and returns it as an operation.
func (e *listEnv) rawOp(b *testing.B, after string, withAuth bool) func() error {
	ctx := context.Background()
	got, err := e.rawPage(ctx, after)
	if err != nil {
		b.Fatal(err)
	}
	if len(got) != benchPageSize+1 || got[0].Sid != e.want(after) {
		b.Fatalf("raw page: %d rows, want %d starting %s", len(got), benchPageSize+1, e.want(after))
	}
	return func() error {
		if withAuth {
			if err := e.rawAuth(ctx); err != nil {
				return err
			}
		}
		_, err := e.rawPage(ctx, after)
		return err
	}
}

// storeOp checks store.ListAccounts' page once and returns it as an
// operation.
func (e *listEnv) storeOp(b *testing.B, after string) func() error {
	ctx := context.Background()
	f := domain.AccountFilter{OrganizationSid: e.org.Sid, Page: domain.PageRequest{Size: benchPageSize, After: after}}
	got, err := e.st.ListAccounts(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	if len(got) != benchPageSize+1 || got[0].Sid != e.want(after) {
		b.Fatalf("store page: %d rows, want %d starting %s", len(got), benchPageSize+1, e.want(after))
	}
	return func() error {
		_, err := e.st.ListAccounts(ctx, f)
		return err
	}
}

// apiOp checks the API's page once and returns GET …/Accounts as an
// operation.
func (e *listEnv) apiOp(b *testing.B, after, authorization string) func() error {
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
	return func() error {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return fmt.Errorf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		return nil
	}
}

func benchOp(b *testing.B, op func() error) {
	b.ReportAllocs()
	stopCPU := reportCPU(b)
	defer stopCPU()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPaired runs every operation once per iteration, starting with a
// different one each time, and reports each one's mean time and its ratio
// to the first (raw).
func benchPaired(b *testing.B, ops []namedOp) {
	spent := make([]time.Duration, len(ops))
	i := 0
	for b.Loop() {
		for j := range ops {
			k := (i + j) % len(ops)
			start := time.Now()
			if err := ops[k].run(); err != nil {
				b.Fatal(err)
			}
			spent[k] += time.Since(start)
		}
		i++
	}
	for k, op := range ops {
		b.ReportMetric(float64(spent[k].Nanoseconds())/float64(b.N), op.name+"-ns/op")
		if k > 0 {
			b.ReportMetric(float64(spent[k])/float64(spent[0]), op.name+"/raw")
		}
	}
}

// reportCPU reports the CPU time this process (the benchmark and the
// handler, garbage collection included; not PostgreSQL) spends per
// operation, as cpu-ns/op: unlike ns/op it hardly moves when other work
// competes for the machine. Call it right before the loop and defer the
// function it returns.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// logPlan logs PostgreSQL's plans for the first and the middle page, to
// show they walk accounts_org_sid from the page's start rather than the
// organization's accounts (or everyone's); and, for the middle page, which
// plans a pooled connection running the statement over and over gets.
func (e *listEnv) logPlan(b *testing.B, n int) {
	b.Helper()
	ctx := context.Background()
	conn, err := e.raw.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	lines := func(q string, args ...any) string {
		rows, err := conn.QueryContext(ctx, q, args...)
		if err != nil {
			return "  (" + err.Error() + ")"
		}
		defer func() { _ = rows.Close() }()
		var out []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				b.Fatal(err)
			}
			out = append(out, "  "+line)
		}
		if err := rows.Err(); err != nil {
			return "  (" + err.Error() + ")"
		}
		return strings.Join(out, "\n")
	}
	const explain = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
	mid := e.sids[n/2-1]
	b.Logf("N=%d: plan of the first page:\n%s", n, lines(explain+rawFirstPage, e.org.Sid, domain.AccountProvisioning))
	b.Logf("N=%d: plan of the middle page:\n%s", n, lines(explain+rawAfterPage, e.org.Sid, domain.AccountProvisioning, mid))
	for range 10 {
		if _, err := conn.ExecContext(ctx, rawAfterPage, e.org.Sid, domain.AccountProvisioning, mid); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("N=%d: the middle page's statement, run 10 times on one connection, was planned:\n%s", n,
		lines(`SELECT format('generic plans %s, custom plans %s', generic_plans, custom_plans) FROM pg_prepared_statements WHERE statement = $1`, rawAfterPage))
}
