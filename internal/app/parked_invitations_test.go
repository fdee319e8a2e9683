package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// TestParkedInvitations_AnswerAfterEviction parks 240 invitations on a
// worker process whose sticky cache holds 8 workflows, so nearly all of
// them are evicted while they wait, then answers each one — a third
// resent, a third revoked, a third accepted — and checks every answer
// against the database: an evicted workflow is replayed from its history
// when its update arrives and carries on as if it had stayed in memory.
// The worker's goroutines (through its DEBUG_ADDR listener) show that the
// parked workflows did not stay in memory.
func TestParkedInvitations_AnswerAfterEviction(t *testing.T) {
	temporal.Require(t)
	t.Parallel()
	const parked, cache = 240, 8
	db := testenv.MustPostgres(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: db, MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	seeded := testenv.SeedOrg(t, st, "Parked Co", "owner@parked.example")
	org, owner := seeded.Organization, seeded.Owner
	acct, err := st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, time.Now()), OrganizationSid: org.Sid, FriendlyName: "Parked",
		Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: owner.Sid},
		domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, time.Now()), OrganizationSid: org.Sid}, domain.AuditEvent{})
	require.NoError(t, err)

	queue := testenv.RandomName("parked")
	port, err := testenv.FreePort()
	require.NoError(t, err)
	debug := "127.0.0.1:" + strconv.Itoa(port)
	startWorkerWith(t, db, queue, "WORKER_STICKY_CACHE_SIZE="+strconv.Itoa(cache), "DEBUG_ADDR="+debug)
	wf := workflows.Client{Temporal: temporal.Client(t), TaskQueue: queue, InvitationTTL: time.Hour, ResendInterval: time.Millisecond}
	actor := domain.Actor{UserSid: owner.Sid}

	sids := make([]string, parked)
	inParallelT(t, parked, func(i int) error {
		inv := domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, time.Now()), OrganizationSid: org.Sid, AccountSid: acct.Sid,
			Email: fmt.Sprintf("parked%03d@elsewhere.example", i), Roles: []string{domain.RoleDeveloper}, InviterSid: owner.Sid}
		got, _, err := wf.Invite(ctx, inv, actor)
		sids[i] = got.Sid
		return err
	})
	// Every invitation waits for its answer once its first link is sent.
	require.Eventually(t, func() bool {
		n := 0
		for _, sid := range sids {
			if inv, err := st.FindInvitation(ctx, acct.Sid, sid); err == nil && inv.SentCount == 1 {
				n++
			}
		}
		return n == parked
	}, 180*time.Second, 200*time.Millisecond, "not every invitation was sent")
	// The Web UI lists each with a sentence saying what it waits for.
	desc, err := wf.Temporal.DescribeWorkflow(ctx, workflows.InvitationWorkflowID(sids[0]), "")
	require.NoError(t, err)
	var summary string
	require.NoError(t, converter.GetDefaultDataConverter().FromPayload(desc.RawResponse.GetExecutionConfig().GetUserMetadata().GetSummary(), &summary))
	require.Equal(t, "Invitation "+sids[0]+" to account "+acct.Sid+": wait for the invitee's answer", summary)

	goroutines := workerGoroutines(t, debug)
	t.Logf("worker goroutines with %d invitations parked and a cache of %d: %d", parked, cache, goroutines)
	require.Less(t, goroutines, parked, "the parked workflows stayed in the worker's memory")

	inParallelT(t, parked, func(i int) error {
		sid := sids[i]
		switch i % 3 {
		case 0:
			st, err := wf.ResendInvitation(ctx, sid)
			if err == nil && (st.LinkVersion != 2 || st.SentCount != 2 || st.Status != domain.InvitationPending) {
				return fmt.Errorf("%s resent: %+v", sid, st)
			}
			return err
		case 1:
			st, err := wf.RevokeInvitation(ctx, sid, actor)
			if err == nil && st.Status != domain.InvitationRevoked {
				return fmt.Errorf("%s revoked: %+v", sid, st)
			}
			return err
		default:
			return wf.AnswerLink(ctx, domain.LinkInvitation, sid, domain.LinkAnswer{LinkVersion: 1, Accept: true})
		}
	})
	want := map[int]string{0: domain.InvitationPending, 1: domain.InvitationRevoked, 2: domain.InvitationAccepted}
	require.Eventually(t, func() bool {
		for i, sid := range sids {
			inv, err := st.FindInvitation(ctx, acct.Sid, sid)
			if err != nil || inv.Status != want[i%3] || (i%3 == 0 && inv.SentCount != 2) {
				return false
			}
		}
		return true
	}, 60*time.Second, 200*time.Millisecond, "an answer did not land")
	// A resent invitation still takes an answer for its new link only.
	err = wf.AnswerLink(ctx, domain.LinkInvitation, sids[0], domain.LinkAnswer{LinkVersion: 1, Accept: true})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err), "the first link of a resent invitation: %v", err)
	require.NoError(t, wf.AnswerLink(ctx, domain.LinkInvitation, sids[0], domain.LinkAnswer{LinkVersion: 2, Accept: false}))
	inv, err := st.FindInvitation(ctx, acct.Sid, sids[0])
	require.NoError(t, err)
	require.Equal(t, domain.InvitationDeclined, inv.Status)
}

// startWorkerWith runs `orgaccounts worker` as a separate process, with
// the extra environment variables given.
func startWorkerWith(t *testing.T, databaseURL, taskQueue string, vars ...string) *exec.Cmd {
	t.Helper()
	bin, err := buildBinary()
	require.NoError(t, err)
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "TEMPORAL_ADDRESS="+temporal.Address, "TASK_QUEUE="+taskQueue, "LOG_LEVEL=error")
	cmd.Env = append(cmd.Env, vars...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// workerGoroutines reads the worker's goroutine count from its pprof
// listener, waiting for it to come up.
func workerGoroutines(t *testing.T, debugAddr string) int {
	t.Helper()
	total := regexp.MustCompile(`goroutine profile: total (\d+)`)
	n := -1
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return false
		}
		m := total.FindSubmatch(b)
		if m == nil {
			return false
		}
		n, err = strconv.Atoi(string(m[1]))
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the worker's debug listener never answered")
	return n
}

// inParallelT runs fn for 0..n-1 on a few goroutines and fails the test
// with the first error.
func inParallelT(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(12)
	for i := range n {
		g.Go(func() error {
			if err := fn(i); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
}
