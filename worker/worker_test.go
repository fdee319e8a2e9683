package worker_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/worker"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// The Temporal dev server shared by the tests of this package (none under
// -short: the tests are then skipped).
var temporalServer *testenv.Temporal

func TestMain(m *testing.M) {
	flag.Parse()
	temporalServer = testenv.StartTemporal()
	code := m.Run()
	temporalServer.Stop()
	os.Exit(code)
}

// env is a worker on its own task queue, with activities on a fresh
// PostgreSQL database holding one organization.
type env struct {
	temporal client.Client
	wf       workflows.Client
	accounts *lifecycle.Accounts
	st       *store.Store
	org      domain.Organization
	owner    domain.User
	external domain.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	temporalServer.Require(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DatabaseURL: testenv.MustPostgres(t), MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Migrate(ctx)
	require.NoError(t, err)

	e := &env{st: st}
	seeded := testenv.SeedOrg(t, st, "Acme", "owner@acme.example.com")
	e.org, e.owner = seeded.Organization, seeded.Owner
	e.external = domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), UserName: "someone@elsewhere.example.com", Active: true}
	require.NoError(t, st.CreateUser(ctx, e.external, domain.AuditEvent{}))

	e.temporal = temporalServer.Client(t)
	taskQueue := testenv.RandomName("orgaccounts-worker-test")
	e.wf = workflows.Client{Temporal: e.temporal, TaskQueue: taskQueue}
	e.accounts = lifecycle.New(lifecycle.Deps{Store: st, Engine: e.wf}).Accounts

	// Registered last so it runs first: the worker stops before the client
	// and the store it uses go away.
	w := worker.New(e.temporal, taskQueue, &activities.Activities{Store: st, Clock: domain.SystemClock{}}, 10*time.Second)
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(runCtx, w) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "worker.Run")
		case <-time.After(time.Minute):
			t.Errorf("worker.Run did not return within a minute of its context ending")
		}
	})
	return e
}

// wait waits for the run to close and returns its result.
func (e *env) wait(t *testing.T, s workflows.Started) (workflows.CreateAccountResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var res workflows.CreateAccountResult
	err := e.temporal.GetWorkflow(ctx, s.WorkflowID, s.RunID).Get(ctx, &res)
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the workflow did not finish in time")
	return res, err
}

func (e *env) history(t *testing.T, s workflows.Started) *historypb.History {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := e.temporal.GetWorkflowHistory(ctx, s.WorkflowID, s.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	require.NotEmpty(t, h.Events)
	return h
}

func (e *env) listed(t *testing.T, query string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := e.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
	if err != nil {
		t.Logf("ListWorkflow %q: %v", query, err)
		return nil
	}
	var ids []string
	for _, ex := range resp.GetExecutions() {
		ids = append(ids, ex.GetExecution().GetWorkflowId())
	}
	return ids
}

// closedAddress is a loopback address where nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	port, err := testenv.FreePort()
	require.NoError(t, err)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// ownerPrincipal is the organization's owner calling the API.
func (e *env) ownerPrincipal() domain.Principal {
	return domain.Principal{OrganizationSid: e.org.Sid, UserSid: e.owner.Sid, OrgRole: domain.OrgRoleOwner, RequestID: "RQ-worker-test"}
}

// created waits for an account to leave provisioning (polling the store)
// and returns it.
func (e *env) created(t *testing.T, sid string) domain.Account {
	t.Helper()
	var acct domain.Account
	require.Eventually(t, func() bool {
		a, err := e.st.FindAccount(context.Background(), e.org.Sid, sid)
		acct = a
		return err == nil && a.Status != domain.AccountProvisioning
	}, 2*time.Minute, 50*time.Millisecond, "account %s is still provisioning", sid)
	return acct
}

func TestCreateAccountOnARealServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	cr, err := e.accounts.Create(ctx, e.ownerPrincipal(), lifecycle.CreateAccount{FriendlyName: "Support line", Flex: true})
	require.NoError(t, err)
	sid := cr.Account.Sid
	started := cr.Run
	require.Equal(t, workflows.CreateAccountWorkflowID(sid), started.WorkflowID)
	require.NotEmpty(t, started.RunID)
	require.Equal(t, domain.AccountProvisioning, cr.Account.Status, "the answer is the persisted account")
	require.Equal(t, e.owner.Sid, cr.Account.OwnerSid, "no owner named: the organization owner")

	res, err := e.wait(t, started)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, res.Account.Status)
	require.Equal(t, sid, res.Account.Sid)

	acct, err := e.st.FindAccount(ctx, e.org.Sid, sid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, acct.Status)
	require.Equal(t, e.owner.Sid, acct.OwnerSid)
	require.True(t, acct.Flex)
	roles, err := e.st.RolesOn(ctx, sid, e.owner.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleOwner}, roles)
	resources, err := e.st.ListAccountResources(ctx, sid)
	require.NoError(t, err)
	require.Len(t, resources, len(domain.FlexProvisioningSteps))
	pending, err := e.st.PendingCreations(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, pending, "an active account has no pending creation")

	// Started again after the run closed (a retried request, the relay),
	// the creation names the same run and does not run again.
	again, err := e.wf.StartAccountCreation(ctx, domain.AccountCreation{OrganizationSid: e.org.Sid, AccountSid: sid, OwnerSid: e.owner.Sid, Flex: true})
	require.NoError(t, err)
	require.Equal(t, started, again, "a start after completion must not run the creation again")

	for _, q := range []string{
		fmt.Sprintf("AccountSid = %q", sid),
		fmt.Sprintf("OrganizationSid = %q", e.org.Sid),
		fmt.Sprintf("OrganizationSid = %q AND AccountSid = %q", e.org.Sid, sid),
	} {
		require.Eventuallyf(t, func() bool {
			got := e.listed(t, q)
			return len(got) == 1 && got[0] == started.WorkflowID
		}, 30*time.Second, 200*time.Millisecond, "the workflow is not found by %s", q)
	}
	require.Empty(t, e.listed(t, fmt.Sprintf("AccountSid = %q", domain.NewSID(domain.PrefixAccount, time.Now()))))

	p, s, err := e.wf.CreateAccountProgress(ctx, sid)
	require.NoError(t, err)
	require.Equal(t, started, s)
	require.Equal(t, workflows.StepCompleted, p.Status)
	require.Nil(t, p.Error)
	require.Len(t, p.Steps, 3+len(domain.FlexProvisioningSteps))
	for _, step := range p.Steps {
		require.Equalf(t, workflows.StepCompleted, step.Status, "step %s", step.Name)
	}

	require.Len(t, e.listed(t, fmt.Sprintf("AccountSid = %q", sid)), 1, "still exactly one run")
}

func TestCreateAccountOwnerNotManagedOnARealServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	// The refusal is the request's own answer: nothing is persisted and
	// no workflow is started.
	_, err := e.accounts.Create(ctx, e.ownerPrincipal(), lifecycle.CreateAccount{FriendlyName: "Outsider's", Owner: e.external.Sid})
	require.Error(t, err)
	require.Equal(t, domain.CodeOwnerNotManaged, domain.ErrorCode(err), "the client must see the domain failure: %v", err)
	require.Equal(t, domain.EInvalid, domain.ErrorKind(err))

	pending, err := e.st.PendingCreations(ctx, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, pending)
	require.Empty(t, e.listed(t, fmt.Sprintf("OrganizationSid = %q", e.org.Sid)), "no workflow was started")
}

// A creation persisted while the workflow service could not be reached is
// answered all the same, and its workflow is started by the relay of
// pending creations once the service is back: the account becomes
// active, once.
func TestCreateAccountStartedLaterWhenTheServiceWasDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	down, err := client.NewLazyClient(client.Options{HostPort: closedAddress(t)})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	unreachable := lifecycle.New(lifecycle.Deps{Store: e.st, Engine: workflows.Client{Temporal: down, TaskQueue: e.wf.TaskQueue}}).Accounts
	callCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	cr, err := unreachable.Create(callCtx, e.ownerPrincipal(), lifecycle.CreateAccount{FriendlyName: "Later"})
	require.NoError(t, err, "the account is persisted, its creation pending")
	require.Empty(t, cr.Run.RunID, "no run was started")
	require.Equal(t, workflows.CreateAccountWorkflowID(cr.Account.Sid), cr.Run.WorkflowID, "the workflow to follow is named")
	require.Equal(t, domain.AccountProvisioning, cr.Account.Status)

	// Until its workflow starts, the creation reads as running, to whom
	// may see it, whether the engine is reachable or not.
	for _, svc := range []*lifecycle.Accounts{unreachable, e.accounts} {
		askCtx, cancelAsk := context.WithTimeout(ctx, 3*time.Second)
		pending, err := svc.Progress(askCtx, e.ownerPrincipal(), cr.Account.Sid)
		cancelAsk()
		require.NoError(t, err)
		require.Equal(t, domain.StepRunning, pending.Progress.Status)
		require.Empty(t, pending.Progress.Steps)
		require.Equal(t, workflows.CreateAccountWorkflowID(cr.Account.Sid), pending.Run.WorkflowID)
		require.Empty(t, pending.Run.RunID)
	}
	stranger := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), OrganizationSid: e.org.Sid, UserName: "stranger@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
	require.NoError(t, e.st.CreateUser(ctx, stranger, domain.AuditEvent{}))
	_, err = e.accounts.Progress(ctx, domain.Principal{OrganizationSid: e.org.Sid, UserSid: stranger.Sid, OrgRole: domain.OrgRoleStandard}, cr.Account.Sid)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "a user with no role on it does not see it: %v", err)

	// Only creations older than the cut-off are started again.
	n, err := e.accounts.ResumeCreations(ctx, cr.Account.DateCreated.Add(-time.Minute), 10)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = e.accounts.ResumeCreations(ctx, time.Now().Add(time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, domain.AccountActive, e.created(t, cr.Account.Sid).Status)

	n, err = e.accounts.ResumeCreations(ctx, time.Now().Add(time.Minute), 10)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is left pending")
	require.Len(t, e.listed(t, fmt.Sprintf("AccountSid = %q", cr.Account.Sid)), 1, "exactly one run")
}

func TestCreateAccountProgressOfUnknownAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, _, err := e.wf.CreateAccountProgress(context.Background(), domain.NewSID(domain.PrefixAccount, time.Now()))
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "%v", err)
	require.Equal(t, domain.ENotFound, domain.ErrorKind(err))
}

// TestCreateAccountHistoriesReplay replays real histories against the
// current workflow code. A change that is not deterministic (a new or
// reordered activity, a side effect moved) fails here before it can break
// the runs in flight in production.
func TestCreateAccountHistoriesReplay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	for name, flex := range map[string]bool{"flex account": true, "plain account": false} {
		t.Run(name, func(t *testing.T) {
			cr, err := e.accounts.Create(ctx, e.ownerPrincipal(), lifecycle.CreateAccount{FriendlyName: name, Flex: flex})
			require.NoError(t, err)
			_, err = e.wait(t, cr.Run)
			require.NoError(t, err)
			h := e.history(t, cr.Run)
			last := h.Events[len(h.Events)-1].GetEventType()
			require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, last, "the run is closed")

			replayer := sdkworker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.CreateAccountWorkflow)
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}

// A Standard user who creates an account for the organization's owner
// becomes its Administrator with it, so they can reach it; the account is
// the owner's.
func TestCreateAccountByAStandardUserForTheOwner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	standard := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), OrganizationSid: e.org.Sid, UserName: "standard@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
	require.NoError(t, e.st.CreateUser(ctx, standard, domain.AuditEvent{}))
	p := domain.Principal{OrganizationSid: e.org.Sid, UserSid: standard.Sid, OrgRole: domain.OrgRoleStandard, RequestID: "RQ-standard"}

	cr, err := e.accounts.Create(ctx, p, lifecycle.CreateAccount{FriendlyName: "For the owner", Owner: e.owner.UserName})
	require.NoError(t, err)
	require.Equal(t, e.owner.Sid, cr.Account.OwnerSid)
	require.Equal(t, domain.AccountActive, e.created(t, cr.Account.Sid).Status)
	roles, err := e.st.RolesOn(ctx, cr.Account.Sid, standard.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleAdministrator}, roles)
	got, err := e.accounts.Get(ctx, p, cr.Account.Sid)
	require.NoError(t, err, "the creator reaches the account")
	require.Equal(t, "For the owner", got.FriendlyName)
}
