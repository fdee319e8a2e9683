package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// persisted writes the account of in as the API does before it starts the
// run (store.OpenAccount) and returns the run's input.
func (f *fixture) persisted(t *testing.T, in workflows.CreateAccountInput) workflows.CreateAccountInput {
	t.Helper()
	in.OwnerSid, in.Persisted = f.owner.Sid, true
	in.RequestedAt = time.Now().UTC().Truncate(time.Second)
	now := time.Now()
	_, err := f.st.OpenAccount(context.Background(), domain.AccountOpening{
		Account: domain.Account{Sid: in.AccountSid, OrganizationSid: in.OrganizationSid, FriendlyName: in.FriendlyName,
			Status: domain.AccountProvisioning, Kind: domain.AccountManaged, OwnerSid: in.OwnerSid, Flex: in.Flex, DateCreated: in.RequestedAt},
		Owner: domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: in.OrganizationSid,
			RoleSid: domain.RoleOwner, Scope: in.AccountSid, Identity: in.OwnerSid},
		Creation: domain.AccountCreation{OrganizationSid: in.OrganizationSid, AccountSid: in.AccountSid, OwnerSid: in.OwnerSid, Flex: in.Flex},
	})
	require.NoError(t, err)
	return in
}

func (f *fixture) requireNothingPending(t *testing.T) {
	t.Helper()
	pending, err := f.st.PendingCreations(context.Background(), time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, pending, "the creation is no longer pending")
}

// A run started after the API persisted the account begins at the Flex
// steps: the owner is not resolved and nothing is persisted again.
func TestCreateAccountPersistedByTheAPIGoesOnFromThere(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	in := f.persisted(t, f.input(true))

	env.ExecuteWorkflow(workflows.CreateAccountWorkflow, in)

	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.CreateAccountResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, domain.AccountActive, res.Account.Status)
	require.Zero(t, rec.count("ResolveOwner"))
	require.Zero(t, rec.count("CreateAccountRecord"))
	require.Equal(t, len(domain.FlexProvisioningSteps), rec.count("ProvisionFlexResource"))
	require.Equal(t, 1, rec.count("ActivateAccount"))
	p := progressOf(t, env)
	want := append([]string{workflows.StepValidateOwner, workflows.StepPersistAccount}, domain.FlexProvisioningSteps...)
	require.Equal(t, append(want, workflows.StepActivate), stepNames(p))
	requireAllCompleted(t, p)
	f.requireNothingPending(t)
}

// A persisted creation that fails later is discarded with its pending
// start, as before.
func TestCreateAccountPersistedByTheAPIIsDiscardedWhenAStepFails(t *testing.T) {
	f := newFixture(t)
	env, rec := f.env(t)
	env.OnActivity(f.acts.ProvisionFlexResource, mock.Anything, mock.Anything).Return(domain.AccountResource{}, failNonRetryably)
	in := f.persisted(t, f.input(true))

	env.ExecuteWorkflow(workflows.CreateAccountWorkflow, in)

	require.True(t, env.IsWorkflowCompleted())
	require.Error(t, env.GetWorkflowError())
	require.Equal(t, 1, rec.count("DiscardAccount"))
	f.requireNoAccount(t, in.AccountSid)
	f.requireNothingPending(t)
}

// StartUpdate belongs to the runs that persist the account themselves: a
// run the API persisted for refuses it.
func TestCreateAccountPersistedByTheAPIRefusesStartUpdate(t *testing.T) {
	f := newFixture(t)
	env, _ := f.env(t)
	in := f.persisted(t, f.input(false))
	var rejected error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, "start", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { rejected = err },
			OnComplete: func(any, error) {},
		})
	}, 0)
	env.ExecuteWorkflow(workflows.CreateAccountWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	_ = requireDomainError(t, rejected, domain.CodeInvalidState)
}
