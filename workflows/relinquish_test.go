package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// relinquishFixture is an account of the organization owned by an outsider
// (as a share makes it), with a Developer and a pending invitation, in a
// real store.
type relinquishFixture struct {
	*fixture
	acct     domain.Account
	inv      domain.Invitation
	requests *cancelRecorder
}

func newRelinquishFixture(t *testing.T, kind string) *relinquishFixture {
	t.Helper()
	f := &relinquishFixture{fixture: newFixture(t), requests: &cancelRecorder{}}
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.acts.Requests = f.requests
	ctx := context.Background()
	now := time.Now()
	owner := f.external.Sid
	if kind == domain.AccountManaged {
		owner = f.owner.Sid
	}
	var err error
	f.acct, err = f.st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid,
		FriendlyName: "Maker Shop", Status: domain.AccountActive, Kind: kind, OwnerSid: owner},
		domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	_, err = f.st.CreateRoleAssignment(ctx, domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid,
		RoleSid: domain.RoleDeveloper, Scope: f.acct.Sid, Identity: f.standard.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	f.inv = domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, now), OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid,
		Email: "guest@partner.example.com", Roles: []string{domain.RoleSupport}, InviterSid: f.owner.Sid}
	require.NoError(t, f.st.CreateInvitation(ctx, f.inv, domain.AuditEvent{}))
	return f
}

// relinquish runs the workflow as the requests service starts it, with its
// StartUpdate (and, when retry, the same StartUpdate again), and returns
// the answers.
func (f *relinquishFixture) relinquish(t *testing.T, retry bool) (*testsuite.TestWorkflowEnvironment, []*startAnswer) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterWorkflow(workflows.RelinquishAccountWorkflow)
	env.RegisterActivity(f.acts)
	answers := []*startAnswer{sendStart(env, "start", 0)}
	if retry {
		answers = append(answers, sendStart(env, "retry", 0))
	}
	env.ExecuteWorkflow(workflows.RelinquishAccountWorkflow, workflows.RelinquishInput{
		OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, Version: f.acct.Version, Actor: domain.Actor{UserSid: f.owner.Sid, RequestID: "rq-relinquish"},
	})
	return env, answers
}

type startAnswer struct {
	done    bool
	err     error
	account domain.Account
}

func sendStart(env *testsuite.TestWorkflowEnvironment, id string, delay time.Duration) *startAnswer {
	a := &startAnswer{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { a.err, a.done = err, true },
			OnComplete: func(v any, err error) {
				a.done, a.err = true, err
				if acct, ok := v.(domain.Account); ok {
					a.account = acct
				}
			},
		})
	}, delay)
	return a
}

func (f *relinquishFixture) emails(t *testing.T) []domain.SentEmail {
	t.Helper()
	out, err := f.st.ListEmails(context.Background(), f.acct.Sid)
	require.NoError(t, err)
	return out
}

func TestRelinquishRevokesInvitationsRemovesAccessAndTellsTheOwner(t *testing.T) {
	f := newRelinquishFixture(t, domain.AccountIndependent)
	env, answers := f.relinquish(t, true)
	ctx := context.Background()

	for _, a := range answers {
		require.True(t, a.done, "StartUpdate never answered")
		require.NoError(t, a.err)
		require.Equal(t, f.acct.Sid, a.account.Sid)
		require.Equal(t, domain.AccountStandalone, a.account.Kind, "answered with the account, standalone again")
	}
	require.Equal(t, answers[0].account, answers[1].account, "a retried request gets the same answer")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RelinquishResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, answers[0].account, res.Account)

	require.Equal(t, []string{f.inv.Sid}, f.requests.sids, "the invitation's workflow was told")
	inv, err := f.st.FindInvitation(ctx, "", f.inv.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.InvitationRevoked, inv.Status)
	roles, err := f.st.RolesOn(ctx, f.acct.Sid, f.standard.Sid)
	require.NoError(t, err)
	require.Empty(t, roles)
	_, err = f.st.FindAccount(ctx, f.org.Sid, f.acct.Sid)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "the organization no longer sees it")

	sent := f.emails(t)
	require.Len(t, sent, 1, "the owner is told once")
	require.Equal(t, email.TemplateRelinquished, sent[0].Template)
	require.Equal(t, f.external.UserName, sent[0].To)
}

func TestRelinquishManagedAccountRefused(t *testing.T) {
	f := newRelinquishFixture(t, domain.AccountManaged)
	env, answers := f.relinquish(t, false)
	ctx := context.Background()

	require.True(t, answers[0].done)
	e, ok := activities.AsDomainError(answers[0].err)
	require.True(t, ok, "not a domain error: %v", answers[0].err)
	require.Equal(t, domain.CodeInvalidState, e.Code)
	require.True(t, env.IsWorkflowCompleted())
	require.Error(t, env.GetWorkflowError())

	require.Empty(t, f.requests.sids, "nothing was revoked")
	inv, err := f.st.FindInvitation(ctx, "", f.inv.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.InvitationPending, inv.Status)
	roles, err := f.st.RolesOn(ctx, f.acct.Sid, f.standard.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleDeveloper}, roles)
	require.Empty(t, f.emails(t))
}
