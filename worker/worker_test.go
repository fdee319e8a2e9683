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

func (e *env) input(flex bool) domain.AccountCreation {
	return domain.AccountCreation{
		OrganizationSid: e.org.Sid,
		AccountSid:      domain.NewSID(domain.PrefixAccount, time.Now()),
		FriendlyName:    "Support line",
		Flex:            flex,
		CreatorSid:      e.owner.Sid,
		Actor:           domain.Actor{UserSid: e.owner.Sid, RequestID: "RQ-worker-test"},
	}
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

func TestCreateAccountOnARealServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := e.input(true)

	persisted, started, err := e.wf.CreateAccount(ctx, in)
	require.NoError(t, err)
	require.Equal(t, workflows.CreateAccountWorkflowID(in.AccountSid), started.WorkflowID)
	require.NotEmpty(t, started.RunID)
	require.Equal(t, in.AccountSid, persisted.Sid, "the start answers with the persisted account")
	require.Equal(t, domain.AccountProvisioning, persisted.Status)
	require.Equal(t, e.owner.Sid, persisted.OwnerSid, "no owner named: the organization owner")

	// A retried request, while the first run may still be going, gets the
	// same run back.
	_, again, err := e.wf.CreateAccount(ctx, in)
	require.NoError(t, err)
	require.Equal(t, started, again, "a second start must not create a twin")

	res, err := e.wait(t, started)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, res.Account.Status)
	require.Equal(t, in.AccountSid, res.Account.Sid)

	acct, err := e.st.FindAccount(ctx, e.org.Sid, in.AccountSid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, acct.Status)
	require.Equal(t, e.owner.Sid, acct.OwnerSid)
	require.True(t, acct.Flex)
	roles, err := e.st.RolesOn(ctx, in.AccountSid, e.owner.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleOwner}, roles)
	resources, err := e.st.ListAccountResources(ctx, in.AccountSid)
	require.NoError(t, err)
	require.Len(t, resources, len(domain.FlexProvisioningSteps))

	// After the run closed, the same request still finds it.
	done, later, err := e.wf.CreateAccount(ctx, in)
	require.NoError(t, err)
	require.Equal(t, started, later, "a start after completion must not run the creation again")
	require.Equal(t, domain.AccountActive, done.Status, "and answers with the account as the creation left it")

	for _, q := range []string{
		fmt.Sprintf("AccountSid = %q", in.AccountSid),
		fmt.Sprintf("OrganizationSid = %q", in.OrganizationSid),
		fmt.Sprintf("OrganizationSid = %q AND AccountSid = %q", in.OrganizationSid, in.AccountSid),
	} {
		require.Eventuallyf(t, func() bool {
			got := e.listed(t, q)
			return len(got) == 1 && got[0] == started.WorkflowID
		}, 30*time.Second, 200*time.Millisecond, "the workflow is not found by %s", q)
	}
	require.Empty(t, e.listed(t, fmt.Sprintf("AccountSid = %q", domain.NewSID(domain.PrefixAccount, time.Now()))))

	p, s, err := e.wf.CreateAccountProgress(ctx, in.AccountSid)
	require.NoError(t, err)
	require.Equal(t, started, s)
	require.Equal(t, workflows.StepCompleted, p.Status)
	require.Nil(t, p.Error)
	require.Len(t, p.Steps, 3+len(domain.FlexProvisioningSteps))
	for _, step := range p.Steps {
		require.Equalf(t, workflows.StepCompleted, step.Status, "step %s", step.Name)
	}

	require.Len(t, e.listed(t, fmt.Sprintf("AccountSid = %q", in.AccountSid)), 1, "still exactly one run")
}

func TestCreateAccountOwnerNotManagedOnARealServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	in := e.input(false)
	in.Owner = e.external.Sid

	// The refusal is the start's own answer: the caller learns it at once.
	_, _, err := e.wf.CreateAccount(ctx, in)
	require.Error(t, err)
	require.Equal(t, domain.CodeOwnerNotManaged, domain.ErrorCode(err), "the client must see the domain failure: %v", err)
	require.Equal(t, domain.EInvalid, domain.ErrorKind(err))

	_, err = e.st.FindAccount(ctx, e.org.Sid, in.AccountSid)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err))

	p, _, err := e.wf.CreateAccountProgress(ctx, in.AccountSid)
	require.NoError(t, err)
	require.Equal(t, workflows.StepFailed, p.Status)
	require.NotNil(t, p.Error)
	require.Equal(t, domain.CodeOwnerNotManaged, p.Error.Code)
	require.Equal(t, workflows.StepValidateOwner, p.Steps[0].Name)
	require.Equal(t, workflows.StepFailed, p.Steps[0].Status)
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

	flex := e.input(true)
	notManaged := e.input(false)
	notManaged.Owner = e.external.Sid
	for name, in := range map[string]domain.AccountCreation{"flex account created": flex, "owner not managed": notManaged} {
		t.Run(name, func(t *testing.T) {
			_, started, err := e.wf.CreateAccount(ctx, in)
			if in.Owner != "" {
				require.Error(t, err)
				started = workflows.Started{WorkflowID: workflows.CreateAccountWorkflowID(in.AccountSid)}
			}
			_, err = e.wait(t, started)
			if in.Owner == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			h := e.history(t, started)
			last := h.Events[len(h.Events)-1].GetEventType()
			require.Contains(t, []enumspb.EventType{
				enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
			}, last, "the run is closed")

			replayer := sdkworker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.CreateAccountWorkflow)
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}
