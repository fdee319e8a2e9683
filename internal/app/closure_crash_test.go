package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// closable is an account loaded with what a closure releases, in a real
// store, and one more account so it may be closed.
type closable struct {
	st      *store.Store
	org     domain.Organization
	owner   domain.User
	acct    domain.Account
	subs    []string
	numbers int // phone numbers and short codes
	charges int
}

func newClosable(t *testing.T, st *store.Store, phones, shortCodes, charges, subs int) *closable {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	c := &closable{st: st, numbers: phones + shortCodes, charges: charges}
	seeded := testenv.SeedOrg(t, st, "Crash Co", "owner@crash.example")
	c.org, c.owner = seeded.Organization, seeded.Owner
	account := func(name, parent string) domain.Account {
		a, err := st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, time.Now()), OrganizationSid: c.org.Sid, FriendlyName: name,
			Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: c.owner.Sid, ParentSid: parent},
			domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, time.Now()), OrganizationSid: c.org.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
		return a
	}
	account("Keep", "")
	c.acct = account("Crashy", "")
	for i := 0; i < subs; i++ {
		c.subs = append(c.subs, account(fmt.Sprintf("Sub %d", i), c.acct.Sid).Sid)
	}
	acquire := func(kind, value string) {
		_, err := st.AcquireNumber(ctx, domain.Number{Sid: domain.NewSID(domain.NumberPrefix(kind), time.Now()), Kind: kind, Value: value,
			OrganizationSid: c.org.Sid, AccountSid: c.acct.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
	}
	base := 1000000 + now.UnixNano()%8000000 // distinct values per test
	for i := 0; i < phones; i++ {
		acquire(domain.NumberPhone, fmt.Sprintf("+1555%07d", base+int64(i)))
	}
	for i := 0; i < shortCodes; i++ {
		acquire(domain.NumberShortCode, fmt.Sprintf("7%05d", (base+int64(i))%100000))
	}
	for i := 0; i < charges; i++ {
		_, err := st.CreateSubscription(ctx, domain.Subscription{Sid: domain.NewSID(domain.PrefixSubscription, time.Now()), OrganizationSid: c.org.Sid,
			AccountSid: c.acct.Sid, Description: "Line", MonthlyPrice: "1.15", Currency: "USD"}, domain.AuditEvent{})
		require.NoError(t, err)
	}
	return c
}

// close begins the closure as the closure service does: Update-with-Start
// of its workflow on the given task queue, answered once the account is
// pending_closure.
func (c *closable) close(t *testing.T, wf workflows.Client) {
	t.Helper()
	begun, _, err := wf.CloseAccount(context.Background(), domain.ClosureStart{OrganizationSid: c.org.Sid, AccountSid: c.acct.Sid,
		PurgeAfter: time.Now().Add(time.Hour), Actor: domain.Actor{UserSid: c.owner.Sid}})
	require.NoError(t, err)
	require.True(t, begun.Started)
	require.Equal(t, domain.AccountPendingClosure, begun.Account.Status)
}

func (c *closable) releases(t *testing.T) int {
	t.Helper()
	rs, err := c.st.ListReleases(context.Background(), c.acct.Sid)
	if err != nil {
		return -1 // the database is restarting
	}
	return len(rs)
}

// requireReleasedOnce waits for the account to be closed, then checks that
// every number and charge has exactly one release record and one release
// event (written only by the call that made the release).
func (c *closable) requireReleasedOnce(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	require.Eventually(t, func() bool {
		a, err := c.st.FindAccount(ctx, c.org.Sid, c.acct.Sid)
		return err == nil && a.Status == domain.AccountClosed
	}, 60*time.Second, 100*time.Millisecond, "the closure never completed")
	rs, err := c.st.ListReleases(ctx, c.acct.Sid)
	require.NoError(t, err)
	perResource := map[string]int{}
	kinds := map[string]int{}
	for _, r := range rs {
		perResource[r.ResourceSid]++
		kinds[r.Kind]++
	}
	require.Len(t, perResource, c.numbers+c.charges, "every number and charge has a release record")
	for sid, n := range perResource {
		require.Equal(t, 1, n, "%s released %d times", sid, n)
	}
	require.Equal(t, c.charges, kinds[domain.ReleaseCharge])
	for typ, want := range map[string]int{domain.EventNumberReleased: c.numbers, domain.EventChargeStopped: c.charges} {
		events, err := c.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: c.org.Sid, ResourceSid: c.acct.Sid, Type: typ, Page: domain.PageRequest{Size: 100}})
		require.NoError(t, err)
		require.Len(t, events, want, "%s events: each release acted exactly once", typ)
	}
	numbers, err := c.st.ListNumbers(ctx, c.acct.Sid, "")
	require.NoError(t, err)
	require.Empty(t, numbers)
	for _, sub := range c.subs {
		a, err := c.st.FindAccount(ctx, c.org.Sid, sub)
		require.NoError(t, err)
		require.Equal(t, domain.AccountClosed, a.Status, "subaccount %s", sub)
	}
}

// startWorker runs `orgaccounts worker` as a separate process.
func startWorker(t *testing.T, databaseURL, taskQueue string) *exec.Cmd {
	t.Helper()
	bin, err := buildBinary()
	require.NoError(t, err)
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "TEMPORAL_ADDRESS="+temporal.Address, "TASK_QUEUE="+taskQueue,
		"CLOSURE_RELEASE_PACING=150ms", "LOG_LEVEL=error")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// TestCloseAccount_SurvivesSIGKILLOfTheWorker kills the worker process in
// the middle of releasing 50 numbers, 5 short codes and 3 charges (after
// closing 3 subaccounts): a new worker completes the closure and every
// release happened exactly once. Serial: the kill must land while the
// releases are under way, which parallel load makes a race.
func TestCloseAccount_SurvivesSIGKILLOfTheWorker(t *testing.T) {
	temporal.Require(t)
	db := testenv.MustPostgres(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: db, MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	c := newClosable(t, st, 50, 5, 3, 3)

	queue := testenv.RandomName("crash")
	first := startWorker(t, db, queue)
	c.close(t, workflows.Client{Temporal: temporal.Client(t), TaskQueue: queue})

	total := c.numbers + c.charges
	require.Eventually(t, func() bool { n := c.releases(t); return n >= 5 }, 60*time.Second, 10*time.Millisecond, "no release started")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()
	midway := c.releases(t)
	require.Less(t, midway, total, "the worker was killed after the closure had finished: nothing was tested")
	t.Logf("worker killed after %d of %d releases", midway, total)

	startWorker(t, db, queue)
	c.requireReleasedOnce(t)
}

// TestCloseAccount_SurvivesAPostgreSQLRestart stops and restarts the
// database in the middle of a closure: the activities retry and the
// closure completes, each release exactly once. Serial, like the other
// tests that stop something under a running service.
func TestCloseAccount_SurvivesAPostgreSQLRestart(t *testing.T) {
	pg := testenv.MustCluster(t)
	e := newClosureEnv(t, pg.URL, map[string]string{"CLOSURE_RELEASE_PACING": "100ms", "CLOSURE_RETENTION": "1h"})
	c := newClosable(t, e.App.Store, 30, 2, 3, 1)
	c.close(t, workflows.Client{Temporal: e.App.Temporal, TaskQueue: e.App.Config.TaskQueue})

	require.Eventually(t, func() bool { return c.releases(t) >= 3 }, 30*time.Second, 10*time.Millisecond, "no release started")
	pg.Stop()
	pg.Start()
	c.requireReleasedOnce(t)
	r := e.Owner.Get(e.Path("/Accounts"))
	require.Equal(t, http.StatusOK, r.Status, "the service works again")
}
