package workflows_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// fixture is an organization in a real SQLite store and the activities
// that work on it.
type fixture struct {
	st       *store.Store
	acts     *activities.Activities
	org      domain.Organization
	owner    domain.User
	standard domain.User // a managed Standard user of the organization
	external domain.User // a user of no organization
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "orgaccounts.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Migrate(ctx)
	require.NoError(t, err)

	now := time.Now()
	f := &fixture{st: st, acts: &activities.Activities{Store: st, Clock: domain.SystemClock{}}}
	f.org = domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Acme"}
	f.owner = domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: f.org.Sid, UserName: "owner@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleOwner, Active: true,
	}
	f.org.OwnerSid = f.owner.Sid
	verified := now
	dom := domain.VerifiedDomain{
		Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: f.org.Sid, DomainName: "acme.example.com",
		Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &verified,
	}
	cred := domain.Credential{
		Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: f.org.Sid, UserSid: f.owner.Sid,
		FriendlyName: "test", SecretHash: domain.HashSecret(domain.NewSecret(32)),
	}
	require.NoError(t, st.CreateOrganization(ctx, f.org, f.owner, dom, cred,
		domain.NewAuditEvent(domain.SystemActor, f.org.Sid, domain.EventOrganizationCreated, f.org.Sid, nil)))

	f.standard = domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: f.org.Sid, UserName: "standard@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true,
	}
	require.NoError(t, st.CreateUser(ctx, f.standard, domain.AuditEvent{}))
	f.external = domain.User{Sid: domain.NewSID(domain.PrefixUser, now), UserName: "someone@elsewhere.example.com", Active: true}
	require.NoError(t, st.CreateUser(ctx, f.external, domain.AuditEvent{}))
	return f
}

func (f *fixture) input(flex bool) workflows.CreateAccountInput {
	return workflows.CreateAccountInput{
		OrganizationSid: f.org.Sid,
		AccountSid:      domain.NewSID(domain.PrefixAccount, time.Now()),
		FriendlyName:    "Support line",
		Flex:            flex,
		CreatorSid:      f.owner.Sid,
		Actor:           domain.Actor{UserSid: f.owner.Sid, RequestID: "RQ-test"},
	}
}

// started records, in order, the activities the workflow started.
type started struct {
	mu    sync.Mutex
	names []string
	kinds []string // ProvisionInput.Kind of each ProvisionFlexResource
}

func (s *started) listener(info *activity.Info, _ context.Context, args converter.EncodedValues) { //nolint:revive // the SDK's listener signature
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = append(s.names, info.ActivityType.Name)
	if info.ActivityType.Name == "ProvisionFlexResource" {
		var in activities.ProvisionInput
		if err := args.Get(&in); err == nil {
			s.kinds = append(s.kinds, in.Kind)
		}
	}
}

// localListener records the steps run as local activities, with the
// others, in the order they started.
func (s *started) localListener(info *activity.Info, _ context.Context, _ []any) { //nolint:revive // the SDK's listener signature
	s.mu.Lock()
	defer s.mu.Unlock()
	s.names = append(s.names, info.ActivityType.Name)
}

func (s *started) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, got := range s.names {
		if got == name {
			n++
		}
	}
	return n
}

func (f *fixture) env(t *testing.T) (*testsuite.TestWorkflowEnvironment, *started) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute) // a wall-clock guard: the machine is shared and -race is slow
	// The activities of CreateAccountWorkflow, on the real store. (Whether
	// *Activities registers as a whole is the activities and worker
	// packages' concern.)
	for _, fn := range []any{f.acts.ResolveOwner, f.acts.CreateAccountRecord, f.acts.ProvisionFlexResource, f.acts.ActivateAccount, f.acts.DiscardAccount} {
		env.RegisterActivity(fn)
	}
	rec := &started{}
	env.SetOnActivityStartedListener(rec.listener)
	env.SetOnLocalActivityStartedListener(rec.localListener)
	return env, rec
}

// startUpdate is how a creation is answered: StartUpdate's outcome.
type startUpdate struct {
	account  domain.Account
	err      error
	accepted bool
	done     bool
}

// execute runs a creation as the API starts it: the workflow with its
// StartUpdate, whose answer it returns.
func execute(env *testsuite.TestWorkflowEnvironment, in workflows.CreateAccountInput) *startUpdate {
	u := &startUpdate{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, "start", &testsuite.TestUpdateCallback{
			OnAccept: func() { u.accepted = true },
			OnReject: func(err error) { u.err, u.done = err, true },
			OnComplete: func(v any, err error) {
				u.done, u.err = true, err
				if a, ok := v.(domain.Account); ok {
					u.account = a
				}
			},
		})
	}, 0)
	env.ExecuteWorkflow(workflows.CreateAccountWorkflow, in)
	return u
}

func progressOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.Progress {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var p workflows.Progress
	require.NoError(t, v.Get(&p))
	return p
}

func stepNames(p workflows.Progress) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Name)
	}
	return out
}

func requireAllCompleted(t *testing.T, p workflows.Progress) {
	t.Helper()
	require.Equal(t, workflows.StepCompleted, p.Status)
	require.Nil(t, p.Error)
	for _, s := range p.Steps {
		require.Equalf(t, workflows.StepCompleted, s.Status, "step %s", s.Name)
		require.Emptyf(t, s.Error, "step %s", s.Name)
	}
}

func (f *fixture) events(t *testing.T, resource, typ string) []domain.AuditEvent {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{
		OrganizationSid: f.org.Sid, ResourceSid: resource, Type: typ, Page: domain.PageRequest{Size: 100},
	})
	require.NoError(t, err)
	return evs
}

func (f *fixture) requireNoAccount(t *testing.T, accountSid string) {
	t.Helper()
	ctx := context.Background()
	_, err := f.st.FindAccount(ctx, f.org.Sid, accountSid)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "the account must not exist: %v", err)
	ras, err := f.st.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: f.org.Sid, Scope: accountSid, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	require.Empty(t, ras, "no role assignment may outlive the account")
	res, err := f.st.ListAccountResources(ctx, accountSid)
	require.NoError(t, err)
	require.Empty(t, res, "no provisioned resource may outlive the account")
}

func requireDomainError(t *testing.T, err error, code int) *domain.Error {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, activities.ErrorType, appErr.Type())
	require.True(t, appErr.NonRetryable(), "a domain failure must be non-retryable")
	de, ok := activities.AsDomainError(err)
	require.True(t, ok, "AsDomainError must recover the failure: %v", err)
	require.Equal(t, code, de.Code, "message: %s", de.Message)
	return de
}

func TestCreateAccountPlainAccountEndsActiveWithOwnerRole(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	in := f.input(false)
	in.RequestedAt = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

	execute(env, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.CreateAccountResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, in.AccountSid, res.Account.Sid)
	require.Truef(t, in.RequestedAt.Equal(res.Account.DateCreated), "date_created %v, requested at %v", res.Account.DateCreated, in.RequestedAt)
	require.Equal(t, domain.AccountActive, res.Account.Status)
	require.Equal(t, f.owner.Sid, res.Account.OwnerSid, "an empty OwnerSid means the organization owner")

	ctx := context.Background()
	acct, err := f.st.FindAccount(ctx, f.org.Sid, in.AccountSid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, acct.Status)
	require.Truef(t, in.RequestedAt.Equal(acct.DateCreated), "stored date_created %v, requested at %v", acct.DateCreated, in.RequestedAt)
	require.Equal(t, domain.AccountManaged, acct.Kind)
	require.Equal(t, "Support line", acct.FriendlyName)
	require.Equal(t, f.owner.Sid, acct.OwnerSid)
	require.False(t, acct.Flex)
	require.Equal(t, domain.NewAccountDefaults.Require2FA, acct.Require2FA)

	ras, err := f.st.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: f.org.Sid, Scope: in.AccountSid, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	require.Len(t, ras, 1, "the creator is the owner: no extra Administrator assignment")
	require.Equal(t, domain.RoleOwner, ras[0].RoleSid)
	require.Equal(t, f.owner.Sid, ras[0].Identity)
	require.True(t, domain.ValidSID(domain.PrefixRoleAssignment, ras[0].Sid), "assignment SID %q", ras[0].Sid)

	res2, err := f.st.ListAccountResources(ctx, in.AccountSid)
	require.NoError(t, err)
	require.Empty(t, res2, "a plain account provisions no Flex resources")

	p := progressOf(t, env)
	require.Equal(t, []string{workflows.StepValidateOwner, workflows.StepPersistAccount, workflows.StepActivate}, stepNames(p))
	requireAllCompleted(t, p)
	require.Equal(t, f.org.Sid, p.OrganizationSid)
	require.Equal(t, f.owner.Sid, p.RequestedBy)

	require.Len(t, f.events(t, in.AccountSid, domain.EventAccountCreated), 1)
	activated := f.events(t, in.AccountSid, domain.EventAccountActivated)
	require.Len(t, activated, 1)
	require.Equal(t, f.owner.Sid, activated[0].Actor, "the audit event names who asked")
	require.Equal(t, "RQ-test", activated[0].RequestID)
	require.Zero(t, rec.count("ProvisionFlexResource"))
}

func TestCreateAccountFlexRunsTheFlexStepsInOrder(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	in := f.input(true)

	execute(env, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	p := progressOf(t, env)
	want := append([]string{workflows.StepValidateOwner, workflows.StepPersistAccount}, domain.FlexProvisioningSteps...)
	want = append(want, workflows.StepActivate)
	require.Equal(t, want, stepNames(p))
	requireAllCompleted(t, p)
	require.Equal(t, []string{
		"flex_taskrouter_workspace", "flex_conversations_service", "flex_studio_flow", "flex_ui_configuration",
	}, rec.kinds, "the Flex steps run once each, in order")
	require.Equal(t, []string{
		"ResolveOwner", "CreateAccountRecord",
		"ProvisionFlexResource", "ProvisionFlexResource", "ProvisionFlexResource", "ProvisionFlexResource",
		"ActivateAccount",
	}, rec.names, "activation comes after every Flex resource")

	ctx := context.Background()
	acct, err := f.st.FindAccount(ctx, f.org.Sid, in.AccountSid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountActive, acct.Status)
	require.True(t, acct.Flex)

	rows, err := f.st.ListAccountResources(ctx, in.AccountSid)
	require.NoError(t, err)
	byKind := map[string]domain.AccountResource{}
	for _, r := range rows {
		byKind[r.Kind] = r
	}
	require.Len(t, rows, len(domain.FlexProvisioningSteps))
	require.Len(t, byKind, len(domain.FlexProvisioningSteps))
	for i, kind := range domain.FlexProvisioningSteps {
		r, ok := byKind[kind]
		require.Truef(t, ok, "no account_resources row for %s", kind)
		require.NotEmpty(t, r.ResourceSid)
		if i > 0 {
			prev := byKind[domain.FlexProvisioningSteps[i-1]]
			require.Falsef(t, r.DateCreated.Before(prev.DateCreated), "%s was recorded before %s", kind, prev.Kind)
		}
	}
	require.Len(t, f.events(t, in.AccountSid, domain.EventAccountProvisioned), len(domain.FlexProvisioningSteps))
}

func TestCreateAccountOwnerNotManagedFails25103(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		owner func(t *testing.T) string
	}{
		{"external user", func(*testing.T) string { return f.external.Sid }},
		{"unknown user", func(*testing.T) string { return domain.NewSID(domain.PrefixUser, time.Now()) }},
		{"managed user of another organization", func(t *testing.T) string {
			now := time.Now()
			other := domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Other"}
			u := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: other.Sid, UserName: "boss@other.example.com", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
			other.OwnerSid = u.Sid
			require.NoError(t, f.st.CreateOrganization(ctx, other, u,
				domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, now), DomainName: "other.example.com", Status: domain.DomainVerified, VerificationToken: "x"},
				domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, now), UserSid: u.Sid, SecretHash: "x"}, domain.AuditEvent{}))
			return u.Sid
		}},
		{"deactivated user of the organization", func(t *testing.T) string {
			u := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), OrganizationSid: f.org.Sid, UserName: "gone@acme.example.com", Managed: true, OrgRole: domain.OrgRoleStandard, Active: false}
			require.NoError(t, f.st.CreateUser(ctx, u, domain.AuditEvent{}))
			return u.Sid
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ownerSid := tc.owner(t)
			env, rec := f.env(t)
			in := f.input(false)
			in.OwnerSid = ownerSid

			execute(env, in)

			require.True(t, env.IsWorkflowCompleted())
			de := requireDomainError(t, env.GetWorkflowError(), domain.CodeOwnerNotManaged)
			require.Equal(t, domain.EInvalid, de.Kind)
			require.Contains(t, de.Message, ownerSid)
			require.Equal(t, 1, rec.count("ResolveOwner"), "a domain failure is not retried")
			require.Equal(t, []string{"ResolveOwner"}, rec.names, "nothing runs after a failed validation")

			p := progressOf(t, env)
			require.Equal(t, workflows.StepFailed, p.Status)
			require.NotNil(t, p.Error)
			require.Equal(t, domain.CodeOwnerNotManaged, p.Error.Code)
			require.Equal(t, workflows.StepValidateOwner, p.Steps[0].Name)
			require.Equal(t, workflows.StepFailed, p.Steps[0].Status)
			require.NotEmpty(t, p.Steps[0].Error)
			for _, s := range p.Steps[1:] {
				require.Equalf(t, workflows.StepPending, s.Status, "step %s", s.Name)
			}

			f.requireNoAccount(t, in.AccountSid)
			require.Empty(t, f.events(t, in.AccountSid, ""), "nothing was audited for an account that never existed")
		})
	}
}

// failNonRetryably is an activity failure that retrying cannot fix.
var failNonRetryably = temporal.NewNonRetryableApplicationError("the provider refused", "ProviderRefused", nil)

func TestCreateAccountFailureAfterPersistingDiscardsTheAccount(t *testing.T) {
	t.Run("activation fails", func(t *testing.T) {
		f := newFixture(t)
		env, rec := f.env(t)
		env.OnActivity(f.acts.ActivateAccount, mock.Anything, mock.Anything).Return(domain.Account{}, failNonRetryably)
		in := f.input(false)

		execute(env, in)

		require.True(t, env.IsWorkflowCompleted())
		err := env.GetWorkflowError()
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), "%v", err)
		require.Equal(t, "ProviderRefused", appErr.Type())
		require.Equal(t, 1, rec.count("DiscardAccount"))
		f.requireNoAccount(t, in.AccountSid)
		discarded := f.events(t, in.AccountSid, domain.EventAccountDiscarded)
		require.Len(t, discarded, 1)
		require.Equal(t, f.owner.Sid, discarded[0].Actor)

		p := progressOf(t, env)
		require.Equal(t, workflows.StepFailed, p.Status)
		require.Equal(t, workflows.StepActivate, p.Steps[len(p.Steps)-1].Name)
		require.Equal(t, workflows.StepFailed, p.Steps[len(p.Steps)-1].Status)
		require.NotNil(t, p.Error)
		require.Equal(t, domain.CodeInternal, p.Error.Code, "a non-domain failure is reported as internal")
		env.AssertExpectations(t)
	})

	t.Run("a Flex step fails", func(t *testing.T) {
		f := newFixture(t)
		env, rec := f.env(t)
		failing := domain.FlexProvisioningSteps[2]
		env.OnActivity(f.acts.ProvisionFlexResource, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.ProvisionInput) (domain.AccountResource, error) {
				if in.Kind == failing {
					return domain.AccountResource{}, failNonRetryably
				}
				return f.acts.ProvisionFlexResource(ctx, in)
			})
		in := f.input(true)
		// The creator is a Standard user: their Administrator assignment
		// must go with the account too.
		in.CreatorSid = f.standard.Sid

		execute(env, in)

		require.True(t, env.IsWorkflowCompleted())
		require.Error(t, env.GetWorkflowError())
		require.Equal(t, domain.FlexProvisioningSteps[:3], rec.kinds, "provisioning stops at the failed step")
		require.Zero(t, rec.count("ActivateAccount"), "a failed account is never activated")
		require.Equal(t, 1, rec.count("DiscardAccount"))
		f.requireNoAccount(t, in.AccountSid)
		require.Len(t, f.events(t, in.AccountSid, domain.EventAccountDiscarded), 1)

		p := progressOf(t, env)
		require.Equal(t, workflows.StepFailed, p.Status)
		status := map[string]string{}
		for _, s := range p.Steps {
			status[s.Name] = s.Status
		}
		require.Equal(t, workflows.StepCompleted, status[domain.FlexProvisioningSteps[1]])
		require.Equal(t, workflows.StepFailed, status[failing])
		require.Equal(t, workflows.StepPending, status[domain.FlexProvisioningSteps[3]])
		require.Equal(t, workflows.StepPending, status[workflows.StepActivate])
	})

	t.Run("persisting fails after the write", func(t *testing.T) {
		// The record was written, then the activity failed for good (the
		// creator's Administrator grant was refused, say).
		f := newFixture(t)
		env, rec := f.env(t)
		env.OnActivity(f.acts.CreateAccountRecord, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.CreateAccountRecordInput) (domain.Account, error) {
				if _, err := f.acts.CreateAccountRecord(ctx, in); err != nil {
					return domain.Account{}, err
				}
				return domain.Account{}, failNonRetryably
			})
		in := f.input(false)
		in.CreatorSid = f.standard.Sid

		execute(env, in)

		require.True(t, env.IsWorkflowCompleted())
		require.Error(t, env.GetWorkflowError())
		require.Zero(t, rec.count("ActivateAccount"))
		require.Equal(t, 1, rec.count("DiscardAccount"))
		f.requireNoAccount(t, in.AccountSid)
		require.Len(t, f.events(t, in.AccountSid, domain.EventAccountDiscarded), 1)
		p := progressOf(t, env)
		require.Equal(t, workflows.StepFailed, p.Status)
		require.Equal(t, workflows.StepFailed, p.Steps[1].Status)
		require.Equal(t, workflows.StepPersistAccount, p.Steps[1].Name)
	})
}

// A cancellation while the record is being written must not leave a
// provisioning account behind: it would never be shown nor finished, yet
// its owner could no longer be deleted.
func TestCreateAccountCancelledWhilePersistingDiscardsTheAccount(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	// Runs started before local activities persist in a regular one.
	env.SetOnActivityStartedListener(func(info *activity.Info, ctx context.Context, args converter.EncodedValues) {
		rec.listener(info, ctx, args)
		if info.ActivityType.Name == "CreateAccountRecord" {
			// Fires while the activity below is still running.
			env.RegisterDelayedCallback(env.CancelWorkflow, 100*time.Millisecond)
		}
	})
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, ctx context.Context, args []any) {
		rec.localListener(info, ctx, args)
		if info.ActivityType.Name == "CreateAccountRecord" {
			env.RegisterDelayedCallback(env.CancelWorkflow, 100*time.Millisecond)
		}
	})
	release := make(chan struct{})
	env.OnActivity(f.acts.CreateAccountRecord, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CreateAccountRecordInput) (domain.Account, error) {
			acct, err := f.acts.CreateAccountRecord(ctx, in)
			// The write is committed; the acknowledgement is late (a
			// local activity's is abandoned when the run is cancelled).
			select {
			case <-release:
			case <-ctx.Done():
			case <-time.After(time.Minute):
			}
			return acct, err
		})
	in := f.input(false)

	execute(env, in)
	close(release)

	require.True(t, env.IsWorkflowCompleted())
	var canceled *temporal.CanceledError
	require.True(t, errors.As(env.GetWorkflowError(), &canceled), "%v", env.GetWorkflowError())
	require.Zero(t, rec.count("ActivateAccount"))
	f.requireNoAccount(t, in.AccountSid)
	require.Len(t, f.events(t, in.AccountSid, domain.EventAccountDiscarded), 1)

	p := progressOf(t, env)
	require.Equal(t, workflows.StepFailed, p.Status)
	require.NotNil(t, p.Error)
	require.Equal(t, domain.CodeInvalidState, p.Error.Code)
	require.Equal(t, "cancelled", p.Error.Message)
}

func TestCreateAccountStandardCreatorGetsAdministrator(t *testing.T) {
	f := newFixture(t)
	env, _ := f.env(t)
	in := f.input(false)
	in.CreatorSid = f.standard.Sid
	in.Actor = domain.Actor{UserSid: f.standard.Sid}

	execute(env, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	ctx := context.Background()
	roles, err := f.st.RolesOn(ctx, in.AccountSid, f.standard.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleAdministrator}, roles)
	roles, err = f.st.RolesOn(ctx, in.AccountSid, f.owner.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleOwner}, roles, "the owner is the organization owner, not the creator")

	// A Standard user sees only the accounts they hold a role on: this one.
	visible, err := f.st.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: f.org.Sid, VisibleTo: f.standard.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, visible, 1)
	require.Equal(t, in.AccountSid, visible[0].Sid)
	requireAllCompleted(t, progressOf(t, env))
}

func TestCreateAccountRetriesTransientFailures(t *testing.T) {
	t.Run("the write committed but the activity failed", func(t *testing.T) {
		// A worker crash between the commit and the acknowledgement: the
		// retry must find the account instead of creating a second one.
		f := newFixture(t)
		env, rec := f.env(t)
		var calls atomic.Int32
		env.OnActivity(f.acts.CreateAccountRecord, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.CreateAccountRecordInput) (domain.Account, error) {
				acct, err := f.acts.CreateAccountRecord(ctx, in)
				if calls.Add(1) == 1 && err == nil {
					return domain.Account{}, errors.New("connection reset by peer")
				}
				return acct, err
			})
		in := f.input(false)
		in.CreatorSid = f.standard.Sid

		execute(env, in)

		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, int32(2), calls.Load())
		require.Equal(t, 2, rec.count("CreateAccountRecord"))
		var res workflows.CreateAccountResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.Equal(t, domain.AccountActive, res.Account.Status)

		ctx := context.Background()
		var n int64
		require.NoError(t, f.st.DB().WithContext(ctx).Table("accounts").Where("sid = ?", in.AccountSid).Count(&n).Error)
		require.Equal(t, int64(1), n)
		ras, err := f.st.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: f.org.Sid, Scope: in.AccountSid, Page: domain.PageRequest{Size: 100}})
		require.NoError(t, err)
		require.Len(t, ras, 2, "one Owner and one Administrator, each once")
		require.Len(t, f.events(t, in.AccountSid, domain.EventAccountCreated), 1)
		requireAllCompleted(t, progressOf(t, env))
	})

	t.Run("activation fails once", func(t *testing.T) {
		f := newFixture(t)
		env, rec := f.env(t)
		var calls atomic.Int32
		env.OnActivity(f.acts.ActivateAccount, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.AccountStepInput) (domain.Account, error) {
				if calls.Add(1) == 1 {
					return domain.Account{}, errors.New("database is restarting")
				}
				return f.acts.ActivateAccount(ctx, in)
			})
		in := f.input(false)

		execute(env, in)

		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, int32(2), calls.Load())
		require.Zero(t, rec.count("DiscardAccount"), "a transient failure must not discard the account")
		acct, err := f.st.FindAccount(context.Background(), f.org.Sid, in.AccountSid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountActive, acct.Status)
		requireAllCompleted(t, progressOf(t, env))
	})
}

// A failure that is not a domain error (the store keeps failing) is
// retried a bounded number of times, then the creation fails visibly and
// discards the account, instead of retrying forever while its progress
// says running.
func TestCreateAccountGivesUpOnAStepThatKeepsFailing(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	env.OnActivity(f.acts.ActivateAccount, mock.Anything, mock.Anything).Return(domain.Account{}, errors.New("relation \"accounts\" is locked"))
	in := f.input(false)

	u := execute(env, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, u.err, "the account was persisted: the start itself succeeded")
	require.Error(t, env.GetWorkflowError())
	require.Equal(t, workflows.MaxActivityAttempts, rec.count("ActivateAccount"))
	require.Equal(t, 1, rec.count("DiscardAccount"))
	f.requireNoAccount(t, in.AccountSid)
	p := progressOf(t, env)
	require.Equal(t, workflows.StepFailed, p.Status)
	require.Equal(t, domain.CodeInternal, p.Error.Code)
}

// An organization admin's creation (no creator to make Administrator)
// still says who asked, for operators reading its progress.
func TestCreateAccountProgressNamesWhoAsked(t *testing.T) {
	f := newFixture(t)
	env, _ := f.env(t)
	in := f.input(false)
	in.CreatorSid = ""

	execute(env, in)

	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, f.owner.Sid, progressOf(t, env).RequestedBy)
}

func TestCreateAccountInvalidInputFailsImmediately(t *testing.T) {
	f := newFixture(t)
	good := f.input(false)
	for name, mut := range map[string]func(*workflows.CreateAccountInput){
		"empty input":                 func(in *workflows.CreateAccountInput) { *in = workflows.CreateAccountInput{} },
		"no account SID":              func(in *workflows.CreateAccountInput) { in.AccountSid = "" },
		"account SID with bad hex":    func(in *workflows.CreateAccountInput) { in.AccountSid = "AC" + "zz" + in.AccountSid[4:] },
		"user SID as account SID":     func(in *workflows.CreateAccountInput) { in.AccountSid = f.owner.Sid },
		"no organization SID":         func(in *workflows.CreateAccountInput) { in.OrganizationSid = "" },
		"account SID as organization": func(in *workflows.CreateAccountInput) { in.OrganizationSid = good.AccountSid },
	} {
		t.Run(name, func(t *testing.T) {
			env, rec := f.env(t)
			in := good
			mut(&in)

			execute(env, in)

			require.True(t, env.IsWorkflowCompleted())
			de := requireDomainError(t, env.GetWorkflowError(), domain.CodeBadRequest)
			require.Equal(t, domain.EInvalid, de.Kind)
			require.Empty(t, rec.names, "no activity runs for invalid input")
		})
	}
	f.requireNoAccount(t, good.AccountSid)
}
