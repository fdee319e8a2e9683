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

// inviteFixture is an active account with a pending invitation, in a real
// store, and the activities on it mailing into the outbox.
type inviteFixture struct {
	*fixture
	acct domain.Account
	inv  domain.Invitation
}

func newInviteFixture(t *testing.T) *inviteFixture {
	t.Helper()
	f := newFixture(t)
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.acts.BaseURL = "http://orgaccounts.test"
	ctx := context.Background()
	now := time.Now()
	acct, err := f.st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid, FriendlyName: "Desk",
		Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: f.owner.Sid},
		domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	inv := domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, now), OrganizationSid: f.org.Sid, AccountSid: acct.Sid,
		Email: "guest@partner.example.com", Roles: []string{domain.RoleDeveloper}, InviterSid: f.owner.Sid}
	require.NoError(t, f.st.CreateInvitation(ctx, inv, domain.AuditEvent{}))
	return &inviteFixture{fixture: f, acct: acct, inv: inv}
}

func (f *inviteFixture) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterWorkflow(workflows.InvitationWorkflow)
	for _, fn := range []any{f.acts.SendInvitation, f.acts.FinishInvitation, f.acts.NotifyInviter} {
		env.RegisterActivity(fn)
	}
	return env
}

func (f *inviteFixture) input(ttl time.Duration) workflows.InvitationInput {
	return workflows.InvitationInput{OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, InvitationSid: f.inv.Sid, TTL: ttl,
		ResendInterval: time.Minute, Actor: domain.Actor{UserSid: f.owner.Sid, RequestID: "rq-test"}}
}

// update sends an update at delay and records its outcome.
type outcome struct {
	rejected  error
	completed error
	done      bool
}

func update(env *testsuite.TestWorkflowEnvironment, delay time.Duration, name string, args ...any) *outcome {
	o := &outcome{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { o.rejected, o.done = err, true },
			OnComplete: func(_ any, err error) { o.completed, o.done = err, true },
		}, args...)
	}, delay)
	return o
}

func requireRejected(t *testing.T, o *outcome, code int) {
	t.Helper()
	require.True(t, o.done, "the update never finished")
	require.Error(t, o.rejected)
	e, ok := activities.AsDomainError(o.rejected)
	require.True(t, ok, "not a domain error: %v", o.rejected)
	require.Equal(t, code, e.Code, e.Message)
}

func (f *inviteFixture) result(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.InvitationState {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.InvitationState
	require.NoError(t, env.GetWorkflowResult(&st))
	stored, err := f.st.FindInvitation(context.Background(), "", f.inv.Sid)
	require.NoError(t, err)
	require.Equal(t, st.Status, stored.Status, "the store agrees with the workflow")
	return st
}

func TestInvitationAccepted(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	answer := update(env, time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	require.NoError(t, answer.completed)
	require.Equal(t, domain.InvitationAccepted, f.result(t, env).Status)
	u, err := f.st.FindUserByEmailAnywhere(context.Background(), f.inv.Email)
	require.NoError(t, err)
	roles, err := f.st.RolesOn(context.Background(), f.acct.Sid, u.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleDeveloper}, roles)
	emails, err := f.st.ListEmails(context.Background(), f.inv.Sid)
	require.NoError(t, err)
	var templates []string
	for _, m := range emails {
		templates = append(templates, m.Template)
	}
	require.Equal(t, []string{email.TemplateInvitation, email.TemplateInvitationAccepted}, templates, "invited, then the inviter told")
}

func TestInvitationDeclined(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	answer := update(env, time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: false})
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	require.NoError(t, answer.completed)
	require.Equal(t, domain.InvitationDeclined, f.result(t, env).Status)
	_, err := f.st.FindUserByEmailAnywhere(context.Background(), f.inv.Email)
	require.Equal(t, domain.CodeUserNotFound, domain.ErrorCode(err), "declining creates no user")
}

func TestInvitationRevoked(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	revoke := update(env, time.Hour, workflows.RevokeUpdate, domain.Actor{UserSid: f.owner.Sid})
	late := update(env, 2*time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	require.NoError(t, revoke.completed)
	require.Equal(t, domain.InvitationRevoked, f.result(t, env).Status)
	require.False(t, late.done && late.completed == nil, "no answer after a revocation")
}

func TestInvitationExpires(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	start := env.Now()
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	require.Equal(t, domain.InvitationExpired, f.result(t, env).Status)
	require.GreaterOrEqual(t, env.Now().Sub(start), 7*24*time.Hour, "not before the link's expiry")
}

func TestInvitationResendInvalidatesTheOldLinkAndRestartsTheExpiry(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	resend := update(env, 50*time.Minute, workflows.ResendUpdate)
	stale := update(env, 55*time.Minute, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	var midway workflows.InvitationState
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&midway))
	}, 70*time.Minute)
	fresh := update(env, 80*time.Minute, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 2, Accept: true})
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(time.Hour))
	require.NoError(t, resend.completed)
	requireRejected(t, stale, domain.CodeInvalidState)
	require.Equal(t, domain.InvitationPending, midway.Status, "the resend restarted the one-hour expiry")
	require.Equal(t, 2, midway.SentCount)
	require.NoError(t, fresh.completed)
	require.Equal(t, domain.InvitationAccepted, f.result(t, env).Status)
}

func TestInvitationResendLimits(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	tooSoon := update(env, 10*time.Second, workflows.ResendUpdate)
	var ok []*outcome
	for i := 1; i <= domain.MaxResends; i++ {
		ok = append(ok, update(env, time.Duration(i)*2*time.Minute, workflows.ResendUpdate))
	}
	sixth := update(env, 20*time.Minute, workflows.ResendUpdate)
	update(env, 21*time.Minute, workflows.RevokeUpdate, domain.Actor{UserSid: f.owner.Sid})
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	requireRejected(t, tooSoon, domain.CodeRateLimited)
	for i, o := range ok {
		require.NoError(t, o.completed, "resend %d", i+1)
	}
	requireRejected(t, sixth, domain.CodeRateLimited)
	st := f.result(t, env)
	require.Equal(t, 1+domain.MaxResends, st.SentCount)
	emails, err := f.st.ListEmails(context.Background(), f.inv.Sid)
	require.NoError(t, err)
	require.Len(t, emails, 1+domain.MaxResends, "one email per send, none for refused resends")
}

// An invitation revoked by its account's closure before its workflow could
// send it ends revoked, unsent, and the workflow does not fail.
func TestInvitationRevokedBeforeItWasSentEndsRevoked(t *testing.T) {
	f := newInviteFixture(t)
	_, err := f.st.FinishInvitation(context.Background(), f.inv.Sid, domain.InvitationRevoked, "", domain.AuditEvent{})
	require.NoError(t, err)
	env := f.env(t)
	env.ExecuteWorkflow(workflows.InvitationWorkflow, f.input(7*24*time.Hour))
	require.Equal(t, domain.InvitationRevoked, f.result(t, env).Status)
	emails, err := f.st.ListEmails(context.Background(), f.inv.Sid)
	require.NoError(t, err)
	require.Empty(t, emails, "nothing was sent")
}
