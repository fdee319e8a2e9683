package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// inviteFixture is an active account in a real store, an invitation to
// it not recorded yet (its workflow's StartUpdate records it), and the
// activities on it mailing into the outbox.
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
	return &inviteFixture{fixture: f, acct: acct, inv: inv}
}

func (f *inviteFixture) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.RegisterWorkflow(workflows.InvitationWorkflow)
	for _, fn := range []any{f.acts.OpenInvitation, f.acts.SendInvitation, f.acts.FinishInvitation, f.acts.NotifyInviter} {
		env.RegisterActivity(fn)
	}
	return env
}

func (f *inviteFixture) input(ttl time.Duration) workflows.InvitationInput {
	return workflows.InvitationInput{OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, InvitationSid: f.inv.Sid, TTL: ttl,
		ResendInterval: time.Minute, Actor: domain.Actor{UserSid: f.owner.Sid, RequestID: "rq-test"},
		Email: f.inv.Email, Roles: f.inv.Roles, InviterSid: f.inv.InviterSid}
}

// opening is StartUpdate's outcome: the recorded invitation or the
// refusal.
type opening struct {
	invitation domain.Invitation
	err        error
	done       bool
}

// start runs the invitation as the service starts it: the workflow with
// its StartUpdate (Update-with-Start), whose answer it returns.
func start(env *testsuite.TestWorkflowEnvironment, in workflows.InvitationInput) *opening {
	o := &opening{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, "start", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.err, o.done = err, true },
			OnComplete: func(v any, err error) {
				o.done, o.err = true, err
				if inv, ok := v.(domain.Invitation); ok {
					o.invitation = inv
				}
			},
		})
	}, 0)
	env.ExecuteWorkflow(workflows.InvitationWorkflow, in)
	return o
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
	opened := start(env, f.input(7*24*time.Hour))
	require.True(t, opened.done)
	require.NoError(t, opened.err)
	require.Equal(t, f.inv.Sid, opened.invitation.Sid, "StartUpdate answers with the recorded invitation")
	require.Equal(t, domain.InvitationPending, opened.invitation.Status)
	require.Equal(t, f.inv.Email, opened.invitation.Email)
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
	start(env, f.input(7*24*time.Hour))
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
	start(env, f.input(7*24*time.Hour))
	require.NoError(t, revoke.completed)
	require.Equal(t, domain.InvitationRevoked, f.result(t, env).Status)
	require.False(t, late.done && late.completed == nil, "no answer after a revocation")
}

func TestInvitationExpires(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	began := env.Now()
	start(env, f.input(7*24*time.Hour))
	require.Equal(t, domain.InvitationExpired, f.result(t, env).Status)
	require.GreaterOrEqual(t, env.Now().Sub(began), 7*24*time.Hour, "not before the link's expiry")
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
	start(env, f.input(time.Hour))
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
	start(env, f.input(7*24*time.Hour))
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

// An invitation revoked by its account's closure after it was recorded
// but before its workflow could send it ends revoked, unsent, and the
// workflow does not fail.
func TestInvitationRevokedBeforeItWasSentEndsRevoked(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	env.OnActivity(f.acts.OpenInvitation, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.OpenInvitationInput) (domain.Invitation, error) {
			inv, err := f.acts.OpenInvitation(ctx, in)
			if err == nil {
				inv, err = f.st.FinishInvitation(ctx, inv.Sid, domain.InvitationRevoked, "", domain.AuditEvent{})
			}
			return inv, err
		})
	start(env, f.input(7*24*time.Hour))
	require.Equal(t, domain.InvitationRevoked, f.result(t, env).Status)
	emails, err := f.st.ListEmails(context.Background(), f.inv.Sid)
	require.NoError(t, err)
	require.Empty(t, emails, "nothing was sent")
}

// The start is the invitation's one rule check: a second pending
// invitation for the same email is refused by StartUpdate itself, and
// nothing is left behind: no row, no email, and no run waiting.
func TestInvitationDuplicateIsRefusedByTheStart(t *testing.T) {
	f := newInviteFixture(t)
	ctx := context.Background()
	first := f.inv
	first.Sid = domain.NewSID(domain.PrefixInvitation, time.Now())
	require.NoError(t, f.st.CreateInvitation(ctx, first, domain.AuditEvent{}))
	env := f.env(t)
	opened := start(env, f.input(7*24*time.Hour))
	require.True(t, opened.done, "StartUpdate answered")
	_ = requireDomainError(t, opened.err, domain.CodeInvalidState)
	require.True(t, env.IsWorkflowCompleted(), "no run is left waiting")
	_ = requireDomainError(t, env.GetWorkflowError(), domain.CodeInvalidState)
	_, err := f.st.FindInvitation(ctx, "", f.inv.Sid)
	require.Equal(t, domain.ErrorCode(errInvitationNotFound()), domain.ErrorCode(err), "nothing recorded: %v", err)
	emails, err := f.st.ListEmails(ctx, f.inv.Sid)
	require.NoError(t, err)
	require.Empty(t, emails)
	pending, err := f.st.ListInvitations(ctx, domain.InvitationFilter{AccountSid: f.acct.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, pending, 1, "only the first invitation")
}

// A closing account takes no invitation: the start refuses it.
func TestInvitationToAClosingAccountIsRefusedByTheStart(t *testing.T) {
	f := newInviteFixture(t)
	ctx := context.Background()
	_, err := f.st.SetAccountStatus(ctx, f.acct.Sid, domain.AccountActive, domain.AccountPendingClosure, domain.AuditEvent{})
	require.NoError(t, err)
	env := f.env(t)
	opened := start(env, f.input(7*24*time.Hour))
	_ = requireDomainError(t, opened.err, domain.CodeInvalidState)
	require.True(t, env.IsWorkflowCompleted())
	_, err = f.st.FindInvitation(ctx, "", f.inv.Sid)
	require.Error(t, err, "nothing recorded")
}

// A StartUpdate sent again (a retried request) gets the first answer; the
// invitation is recorded and emailed once.
func TestInvitationStartRetriedAnswersTheSame(t *testing.T) {
	f := newInviteFixture(t)
	env := f.env(t)
	var second opening
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, "retry", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { second.err, second.done = err, true },
			OnComplete: func(v any, err error) {
				second.done, second.err = true, err
				second.invitation, _ = v.(domain.Invitation)
			},
		})
	}, time.Second)
	update(env, time.Hour, workflows.RevokeUpdate, domain.Actor{UserSid: f.owner.Sid})
	first := start(env, f.input(7*24*time.Hour))
	require.NoError(t, first.err)
	require.True(t, second.done)
	require.NoError(t, second.err)
	require.Equal(t, first.invitation.Sid, second.invitation.Sid)
	require.Equal(t, domain.InvitationRevoked, f.result(t, env).Status)
	emails, err := f.st.ListEmails(context.Background(), f.inv.Sid)
	require.NoError(t, err)
	require.Len(t, emails, 1)
}

// An account that requires two-factor authentication refuses an
// acceptance by an invitee who is not enrolled, at the workflow, whoever
// sends the answer: nothing is granted, the invitation stays pending and
// the same link accepts once the invitee has enrolled.
func TestInvitationTwoFactorRefusedAtTheWorkflow(t *testing.T) {
	f := newInviteFixture(t)
	ctx := context.Background()
	yes := true
	_, err := f.st.UpdateAccount(ctx, f.org.Sid, f.acct.Sid, domain.AccountUpdate{Require2FA: &yes}, domain.AuditEvent{})
	require.NoError(t, err)
	env := f.env(t)
	refused := update(env, time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	var midway workflows.InvitationState
	var storedMidway domain.Invitation
	var userMidway error
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.ProgressQuery)
		require.NoError(t, err)
		require.NoError(t, v.Get(&midway))
		storedMidway, err = f.st.FindInvitation(ctx, "", f.inv.Sid)
		require.NoError(t, err)
		_, userMidway = f.st.FindUserByEmailAnywhere(ctx, f.inv.Email)
		// The invitee enrols (an authenticator app).
		u := domain.NewInvitee(domain.NewSID(domain.PrefixUser, time.Now()), f.org.Sid, f.inv.Email, false)
		require.NoError(t, f.st.CreateUser(ctx, u, domain.AuditEvent{}))
		totp := domain.Factor{Sid: domain.NewSID(domain.PrefixFactor, time.Now()), UserSid: u.Sid, Kind: domain.FactorTOTP, Secret: "JBSWY3DPEHPK3PXP"}
		require.NoError(t, f.st.StartTOTP(ctx, totp))
		_, err = f.st.ConfirmTOTP(ctx, u.Sid, totp.Sid, 1, nil, domain.AuditEvent{})
		require.NoError(t, err)
	}, 2*time.Hour)
	accepted := update(env, 3*time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	start(env, f.input(7*24*time.Hour))

	require.True(t, refused.done)
	de := requireDomainError(t, refused.completed, domain.CodeInvalidState)
	require.Contains(t, de.Message, "two-factor")
	require.Equal(t, domain.InvitationPending, midway.Status, "the refusal leaves the invitation pending")
	require.Equal(t, domain.InvitationPending, storedMidway.Status)
	require.Equal(t, domain.CodeUserNotFound, domain.ErrorCode(userMidway), "nothing was written: no user")

	require.NoError(t, accepted.completed, "the same link accepts once enrolled")
	require.Equal(t, domain.InvitationAccepted, f.result(t, env).Status)
	u, err := f.st.FindUserByEmailAnywhere(ctx, f.inv.Email)
	require.NoError(t, err)
	roles, err := f.st.RolesOn(ctx, f.acct.Sid, u.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleDeveloper}, roles)
}

// A managed invitee (an email on a verified domain of the organization,
// with no user yet) who accepts gets the roles through the one grant
// (domain.GrantInvitee): one assignment and one event per role.
func TestInvitationAcceptedByAManagedInviteeGrantsOnce(t *testing.T) {
	f := newInviteFixture(t)
	f.inv.Email = "newcomer@acme.example.com"
	env := f.env(t)
	answer := update(env, time.Hour, workflows.AnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	start(env, f.input(7*24*time.Hour))
	require.NoError(t, answer.completed)
	require.Equal(t, domain.InvitationAccepted, f.result(t, env).Status)
	ctx := context.Background()
	u, err := f.st.FindUserByEmailAnywhere(ctx, f.inv.Email)
	require.NoError(t, err)
	require.True(t, u.IsManagedBy(f.org.Sid), "on a verified domain: a managed user")
	ras, err := f.st.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: f.org.Sid, Identity: u.Sid, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	require.Len(t, ras, 1)
	require.Equal(t, domain.RoleDeveloper, ras[0].RoleSid)
	evs := f.events(t, ras[0].Sid, domain.EventRoleAssigned)
	require.Len(t, evs, 1)
	require.Equal(t, f.inv.Sid, evs[0].Changes["invitation_sid"])
}

func errInvitationNotFound() error { return domain.Errorf(domain.ENotFound, 20404, "") }
