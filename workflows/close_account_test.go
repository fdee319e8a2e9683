package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// cancelRecorder stands for the Temporal client that revokes invitations
// through their workflows; it records what it was asked.
type cancelRecorder struct {
	mu   sync.Mutex
	sids []string
}

func (r *cancelRecorder) CancelRequest(_ context.Context, req domain.PendingRequest, _ domain.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sids = append(r.sids, req.Sid)
	return nil
}

// closeFixture is an active account holding two subaccounts, numbers,
// short codes, subscriptions, a pending invitation and a Developer, in a
// real store; its closure begins with the StartUpdate (see execute).
type closeFixture struct {
	*fixture
	acct      domain.Account
	subs      []domain.Account
	inv       domain.Invitation
	requests  *cancelRecorder
	purgeAt   time.Time
	start     time.Time
	numbers   int
	shortCode int
	charges   int
}

func (f *closeFixture) newAccount(t *testing.T, name, parent string) domain.Account {
	t.Helper()
	now := time.Now()
	a, err := f.st.CreateAccount(context.Background(), domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid,
		FriendlyName: name, Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: f.owner.Sid, ParentSid: parent},
		domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	return a
}

func newCloseFixture(t *testing.T) *closeFixture {
	t.Helper()
	f := &closeFixture{fixture: newFixture(t), requests: &cancelRecorder{}, numbers: 3, shortCode: 1, charges: 2}
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.acts.Requests = f.requests
	ctx := context.Background()
	f.newAccount(t, "Keeps the organization open", "")
	f.acct = f.newAccount(t, "Support desk", "")
	for i := 0; i < 2; i++ {
		f.subs = append(f.subs, f.newAccount(t, "Sub", f.acct.Sid))
	}
	now := time.Now()
	add := func(kind, value string) {
		_, err := f.st.AcquireNumber(ctx, domain.Number{Sid: domain.NewSID(domain.NumberPrefix(kind), now), Kind: kind, Value: value,
			OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
	}
	for i := 0; i < f.numbers; i++ {
		add(domain.NumberPhone, "+1555000000"+string(rune('0'+i)))
	}
	for i := 0; i < f.shortCode; i++ {
		add(domain.NumberShortCode, "8000"+string(rune('0'+i)))
	}
	for i := 0; i < f.charges; i++ {
		_, err := f.st.CreateSubscription(ctx, domain.Subscription{Sid: domain.NewSID(domain.PrefixSubscription, now), OrganizationSid: f.org.Sid,
			AccountSid: f.acct.Sid, Description: "Toll-free line", MonthlyPrice: "2.00", Currency: "USD"}, domain.AuditEvent{})
		require.NoError(t, err)
	}
	_, err := f.st.CreateRoleAssignment(ctx, domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid,
		RoleSid: domain.RoleDeveloper, Scope: f.acct.Sid, Identity: f.standard.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	f.inv = domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, now), OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid,
		Email: "guest@partner.example.com", Roles: []string{domain.RoleSupport}, InviterSid: f.owner.Sid}
	require.NoError(t, f.st.CreateInvitation(ctx, f.inv, domain.AuditEvent{}))

	f.start = time.Now().UTC().Truncate(time.Second)
	f.purgeAt = f.start.Add(30 * 24 * time.Hour)
	return f
}

// closeStart records the answers of the StartUpdates a test sent.
type closeStart struct {
	answers []domain.ClosureBegun
	errs    []error
}

// startUpdate sends a StartUpdate after delay, recording its answer.
func (u *closeStart) send(env *testsuite.TestWorkflowEnvironment, id string, delay time.Duration) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { u.errs = append(u.errs, err) },
			OnComplete: func(v any, err error) {
				if err != nil {
					u.errs = append(u.errs, err)
					return
				}
				u.answers = append(u.answers, v.(domain.ClosureBegun))
			},
		})
	}, delay)
}

// execute runs the closure as the client starts it: Update-with-Start,
// the StartUpdate delivered with the start.
func (f *closeFixture) execute(env *testsuite.TestWorkflowEnvironment, in workflows.CloseAccountInput) *closeStart {
	u := &closeStart{}
	u.send(env, "start", 0)
	env.ExecuteWorkflow(workflows.CloseAccountWorkflow, in)
	return u
}

func (f *closeFixture) env() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.SetStartTime(f.start)
	env.RegisterWorkflow(workflows.CloseAccountWorkflow)
	env.RegisterActivity(f.acts)
	return env
}

func (f *closeFixture) input() workflows.CloseAccountInput {
	return workflows.CloseAccountInput{OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, PurgeAfter: f.purgeAt,
		Actor: domain.Actor{UserSid: f.owner.Sid, RequestID: "rq-close"}}
}

func (f *closeFixture) progress(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.ClosureProgress {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var p workflows.ClosureProgress
	require.NoError(t, v.Get(&p))
	return p
}

// requireClosed checks the account as the closure leaves it before its
// purge: closed, subaccounts closed, nothing held, nobody with access,
// the invitation revoked, the owner emailed.
func (f *closeFixture) requireClosed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	a, err := f.st.FindAccount(ctx, f.org.Sid, f.acct.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountClosed, a.Status)
	require.NotNil(t, a.DateClosed)
	for _, s := range f.subs {
		sa, err := f.st.FindAccount(ctx, f.org.Sid, s.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountClosed, sa.Status, "subaccount %s", s.Sid)
		roles, err := f.st.RolesOn(ctx, s.Sid, f.owner.Sid)
		require.NoError(t, err)
		require.Empty(t, roles, "subaccount access removed")
	}
	numbers, err := f.st.ListNumbers(ctx, f.acct.Sid, "")
	require.NoError(t, err)
	require.Empty(t, numbers, "every number back in the inventory")
	subs, err := f.st.ListSubscriptions(ctx, f.acct.Sid)
	require.NoError(t, err)
	for _, s := range subs {
		require.Equal(t, domain.SubscriptionStopped, s.Status)
	}
	releases, err := f.st.ListReleases(ctx, f.acct.Sid)
	require.NoError(t, err)
	require.Len(t, releases, f.numbers+f.shortCode+f.charges, "one record per release and charge stop")
	for _, who := range []string{f.owner.Sid, f.standard.Sid} {
		roles, err := f.st.RolesOn(ctx, f.acct.Sid, who)
		require.NoError(t, err)
		require.Empty(t, roles)
	}
	events, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.acct.Sid, Type: domain.EventAccessRemoved, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, events, 1, "an audit record of who had access")
	require.Len(t, events[0].Changes["removed"], 2)
	inv, err := f.st.FindInvitation(ctx, "", f.inv.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.InvitationRevoked, inv.Status)
	require.Equal(t, []string{f.inv.Sid}, f.requests.sids, "the invitation's workflow was told")
	mails, err := f.st.ListEmails(ctx, f.acct.Sid)
	require.NoError(t, err)
	require.Len(t, mails, 1)
	require.Equal(t, email.TemplateAccountClosed, mails[0].Template)
	require.Equal(t, f.owner.UserName, mails[0].To)
}

// childStages records how the subaccounts' closures ended, by workflow
// ID.
func childStages(t *testing.T, env *testsuite.TestWorkflowEnvironment) map[string]string {
	t.Helper()
	stages := map[string]string{}
	env.SetOnChildWorkflowCompletedListener(func(info *workflow.Info, result converter.EncodedValue, err error) {
		require.NoError(t, err, info.WorkflowExecution.ID)
		var res workflows.ClosureResult
		require.NoError(t, result.Get(&res))
		stages[info.WorkflowExecution.ID] = res.Stage
	})
	return stages
}

// wantChildStages is every subaccount's closure ended at stage.
func (f *closeFixture) wantChildStages(stage string) map[string]string {
	want := map[string]string{}
	for _, sub := range f.subs {
		want[workflows.SubaccountClosureWorkflowID(f.acct.Sid, sub.Sid)] = stage
	}
	return want
}

func TestCloseAccount_EveryStepThenPurgeAfterTheWindow(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	children := childStages(t, env)
	checked := false
	env.RegisterDelayedCallback(func() {
		p := f.progress(t, env)
		require.Equal(t, workflows.StepRetention, p.Stage)
		require.Equal(t, 2, p.Subaccounts)
		require.Equal(t, f.numbers+f.shortCode, p.Released)
		require.Equal(t, f.charges, p.ChargesStopped)
		require.Equal(t, 1, p.Cancelled)
		for _, s := range p.Steps {
			if s.Name == workflows.StepRetention {
				require.Equal(t, workflows.StepRunning, s.Status)
			} else if s.Name != workflows.StepPurge {
				require.Equal(t, workflows.StepCompleted, s.Status, s.Name)
			}
		}
		f.requireClosed(t)
		checked = true
	}, 24*time.Hour)
	u := f.execute(env, f.input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, u.errs)
	require.Len(t, u.answers, 1)
	require.True(t, u.answers[0].Started)
	require.Equal(t, domain.AccountPendingClosure, u.answers[0].Account.Status, "answered once the account is cut off")
	require.Equal(t, f.purgeAt, u.answers[0].Account.PurgeAfter.UTC())
	require.True(t, checked, "the closed state was checked during the retention window")
	var res workflows.ClosureResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StagePurged, res.Stage)
	require.False(t, env.Now().Before(f.purgeAt), "not purged before the window ended")
	require.Equal(t, f.wantChildStages(workflows.StagePurged), children, "the subaccounts' closures end with their parent's")

	ctx := context.Background()
	for _, sid := range []string{f.acct.Sid, f.subs[0].Sid, f.subs[1].Sid} {
		_, err := f.st.FindAccount(ctx, f.org.Sid, sid)
		require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "%s purged", sid)
	}
	events, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.acct.Sid, Type: domain.EventAccountPurged, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, events, 1, "the tombstone")
	tomb := events[0].Changes
	require.Equal(t, f.org.Sid, tomb["organization_sid"])
	require.Equal(t, f.owner.Sid, tomb["closed_by"])
	require.NotEmpty(t, tomb["date_closed"])
	require.NotEmpty(t, tomb["date_purged"])
	releases, err := f.st.ListReleases(ctx, f.acct.Sid)
	require.NoError(t, err)
	require.Len(t, releases, f.numbers+f.shortCode+f.charges, "release records outlive the purge")
}

func TestCloseAccount_ReopenBeforePurge(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	children := childStages(t, env)
	var reopened domain.Account
	var reopenErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.ReopenUpdate, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { reopenErr = err },
			OnComplete: func(v any, err error) { reopenErr = err; reopened, _ = v.(domain.Account) },
		}, domain.Actor{UserSid: f.owner.Sid})
	}, 10*24*time.Hour)
	f.execute(env, f.input())
	require.NoError(t, env.GetWorkflowError())
	require.NoError(t, reopenErr)
	require.Equal(t, domain.AccountActive, reopened.Status)
	var res workflows.ClosureResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StageReopened, res.Stage)
	require.Equal(t, f.wantChildStages(workflows.StageReopened), children, "the subaccounts' closures say they were reopened")

	ctx := context.Background()
	for _, sid := range []string{f.acct.Sid, f.subs[0].Sid, f.subs[1].Sid} {
		a, err := f.st.FindAccount(ctx, f.org.Sid, sid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountActive, a.Status)
		require.Nil(t, a.PurgeAfter)
		roles, err := f.st.RolesOn(ctx, sid, f.owner.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleOwner}, roles, "back with its owner")
	}
	numbers, err := f.st.ListNumbers(ctx, f.acct.Sid, "")
	require.NoError(t, err)
	require.Empty(t, numbers, "released numbers are not restored")
	subs, err := f.st.ListSubscriptions(ctx, f.acct.Sid)
	require.NoError(t, err)
	require.Len(t, subs, f.charges)
	for _, s := range subs {
		require.Equal(t, domain.SubscriptionStopped, s.Status, "stopped charges are not restored")
	}
}

func TestCloseAccount_ReopenRefusedForASubaccountClosure(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.ReopenUpdate, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {}, OnReject: func(err error) { rejected = err }, OnComplete: func(any, error) {},
		}, domain.Actor{UserSid: f.owner.Sid})
	}, 0)
	in := f.input()
	in.AccountSid, in.Subaccount = f.subs[0].Sid, true
	env.ExecuteWorkflow(workflows.CloseAccountWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	e, ok := activities.AsDomainError(rejected)
	require.True(t, ok, "rejected with a domain error: %v", rejected)
	require.Equal(t, domain.CodeInvalidState, e.Code)
}

func TestCloseAccount_CancelledDuringRetentionPurgesNothing(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	env.RegisterDelayedCallback(env.CancelWorkflow, 24*time.Hour)
	f.execute(env, f.input())
	require.True(t, env.IsWorkflowCompleted())
	var canceled *temporal.CanceledError
	require.ErrorAs(t, env.GetWorkflowError(), &canceled)
	f.requireClosed(t)
	p := f.progress(t, env)
	require.Equal(t, workflows.StageCancelled, p.Stage)
}

func TestCloseAccount_FailedSubaccountClosureIsStartedAgain(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	failing := f.subs[1].Sid
	attempts := 0
	env.OnActivity(f.acts.BeginAccountClosure, mock.Anything, mock.MatchedBy(func(in activities.CloseStepInput) bool { return in.AccountSid == failing })).
		Return(func(ctx context.Context, in activities.CloseStepInput) (domain.Account, error) {
			attempts++
			if attempts == 1 {
				return domain.Account{}, temporal.NewNonRetryableApplicationError("the subaccount's database shard is read-only", "Outage", nil)
			}
			return f.acts.BeginAccountClosure(ctx, in)
		})
	env.OnActivity(f.acts.BeginAccountClosure, mock.Anything, mock.Anything).Return(f.acts.BeginAccountClosure)
	checked := false
	env.RegisterDelayedCallback(func() {
		f.requireClosed(t)
		checked = true
	}, 24*time.Hour)
	f.execute(env, f.input())
	require.NoError(t, env.GetWorkflowError())
	require.True(t, checked)
	require.Equal(t, 2, attempts, "the failed child closure ran again")
}

func TestCloseAccount_StartUpdateOnARunningClosureAnswersAlreadyClosing(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	var first, again closeStart
	first.send(env, "start", 0)
	again.send(env, "again", 24*time.Hour) // a second Close, during the retention window
	env.ExecuteWorkflow(workflows.CloseAccountWorkflow, f.input())
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, first.answers, 1)
	require.True(t, first.answers[0].Started)
	require.Empty(t, again.errs)
	require.Len(t, again.answers, 1)
	require.False(t, again.answers[0].Started, "the closure was running already")
	require.Equal(t, f.acct.Sid, again.answers[0].Account.Sid)
	require.Equal(t, domain.AccountClosed, again.answers[0].Account.Status)
}

func TestCloseAccount_RefusedByTheStartUpdateChangesNothingAndEnds(t *testing.T) {
	f := newCloseFixture(t)
	// The organization's only other open account closes first: this one
	// is the last.
	ctx := context.Background()
	accts, err := f.st.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: f.org.Sid, Page: domain.PageRequest{Size: 50}})
	require.NoError(t, err)
	for _, a := range accts {
		if a.Sid != f.acct.Sid && a.ParentSid == "" {
			_, _, err := f.st.BeginClosure(ctx, f.org.Sid, a.Sid, f.purgeAt, domain.AuditEvent{})
			require.NoError(t, err)
		}
	}
	env := f.env()
	u := f.execute(env, f.input())
	require.True(t, env.IsWorkflowCompleted())
	require.Empty(t, u.answers)
	require.Len(t, u.errs, 1)
	e, ok := activities.AsDomainError(u.errs[0])
	require.True(t, ok, "refused with a domain error: %v", u.errs[0])
	require.Equal(t, domain.CodeInvalidState, e.Code)
	werr, ok := activities.AsDomainError(env.GetWorkflowError())
	require.True(t, ok, "the run ends with the refusal: %v", env.GetWorkflowError())
	require.Equal(t, domain.CodeInvalidState, werr.Code)

	a, err := f.st.FindAccount(ctx, f.org.Sid, f.acct.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, a.Status, "nothing changed")
	numbers, err := f.st.ListNumbers(ctx, f.acct.Sid, "")
	require.NoError(t, err)
	require.Len(t, numbers, f.numbers+f.shortCode, "nothing released")
	p := f.progress(t, env)
	require.Equal(t, workflows.StepFailed, p.Status)
	require.Equal(t, workflows.StepBeginClosure, p.Steps[0].Name)
	require.Equal(t, workflows.StepFailed, p.Steps[0].Status)
	for _, s := range p.Steps[1:] {
		require.Equal(t, workflows.StepPending, s.Status, s.Name)
	}
}

// A closure stops the charges and releases the numbers side by side (two
// outside systems, each asked once its batch is ready), not one after the
// other, and the progress shows each as its own step, both running.
func TestCloseAccount_ChargesAndNumbersSideBySide(t *testing.T) {
	f := newCloseFixture(t)
	env := f.env()
	var mu sync.Mutex
	started := map[string]time.Time{}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		mu.Lock()
		defer mu.Unlock()
		if _, seen := started[info.ActivityType.Name]; !seen {
			started[info.ActivityType.Name] = env.Now()
		}
	})
	env.OnActivity(f.acts.StopCharges, mock.Anything, mock.Anything).After(time.Hour).Return(
		func(_ context.Context, b activities.ChargeBatch) (int, error) { return len(b.Subscriptions), nil })
	env.OnActivity(f.acts.ReleaseNumbers, mock.Anything, mock.Anything).After(time.Hour).Return(
		func(_ context.Context, b activities.ReleaseBatch) (int, error) { return len(b.Numbers), nil })
	var during workflows.ClosureProgress
	env.RegisterDelayedCallback(func() { during = f.progress(t, env) }, 30*time.Minute)
	u := f.execute(env, f.input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Empty(t, u.errs)

	mu.Lock()
	charges, numbers := started["StopCharges"], started["ReleaseNumbers"]
	mu.Unlock()
	require.False(t, charges.IsZero(), "the charges were stopped")
	require.False(t, numbers.IsZero(), "the numbers were released")
	gap := numbers.Sub(charges)
	require.Less(t, gap.Abs(), time.Minute, "both asked at once, not an hour apart (%s)", gap)
	status := map[string]string{}
	for _, s := range during.Steps {
		status[s.Name] = s.Status
	}
	require.Equal(t, workflows.StepRunning, status[workflows.StepStopCharges])
	require.Equal(t, workflows.StepRunning, status[workflows.StepReleaseNumbers])
	after := f.progress(t, env)
	require.Equal(t, f.numbers+f.shortCode, after.Released, "every number counted")
	require.Equal(t, f.charges, after.ChargesStopped, "every charge counted")
}
