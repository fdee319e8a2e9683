package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// requestFixture is a standalone account and the import or share request
// the organization is about to make for it, in a real store: the request
// is recorded by the workflow's StartUpdate.
type requestFixture struct {
	*fixture
	acct  domain.Account
	owner domain.User
	req   domain.AccountRequest
	start time.Time
}

const requestTTL = 15 * 24 * time.Hour

func newRequestFixture(t *testing.T, kind, ownerEmail string, grants func(*fixture) []domain.Grant) *requestFixture {
	t.Helper()
	f := newFixture(t)
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.acts.BaseURL = "http://orgaccounts.test"
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, start), UserName: ownerEmail, Active: true}
	acct := domain.Account{Sid: domain.NewSID(domain.PrefixAccount, start), FriendlyName: "Side project", Status: domain.AccountActive,
		Kind: domain.AccountStandalone, OwnerSid: owner.Sid}
	require.NoError(t, f.st.SignUp(ctx, acct, owner, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{}))
	req := domain.AccountRequest{Sid: domain.NewSID(domain.PrefixAccountRequest, start), OrganizationSid: f.org.Sid, AccountSid: acct.Sid,
		Kind: kind, RequesterSid: f.owner.Sid, OwnerSid: owner.Sid, OwnerEmail: owner.UserName, ExpiresAt: start.Add(requestTTL)}
	if grants != nil {
		req.Grants = grants(f)
	}
	return &requestFixture{fixture: f, acct: acct, owner: owner, req: req, start: start}
}

func (f *requestFixture) env() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.SetStartTime(f.start)
	env.RegisterWorkflow(workflows.ImportAccountWorkflow)
	env.RegisterWorkflow(workflows.ShareAccountWorkflow)
	for _, fn := range []any{f.acts.OpenAccountRequest, f.acts.SendAccountRequest, f.acts.FinishAccountRequest, f.acts.NotifyRequester} {
		env.RegisterActivity(fn)
	}
	return env
}

// opened is StartUpdate's answer.
type opened struct {
	done    bool
	err     error
	request domain.AccountRequest
}

// startRequest sends StartUpdate (update ID id) after delay.
func startRequest(env *testsuite.TestWorkflowEnvironment, id string, delay time.Duration) *opened {
	o := &opened{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, id, &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { o.err, o.done = err, true },
			OnComplete: func(v any, err error) {
				o.done, o.err = true, err
				if r, ok := v.(domain.AccountRequest); ok {
					o.request = r
				}
			},
		})
	}, delay)
	return o
}

// run runs the request's workflow as the requests service starts it: with
// its StartUpdate, whose answer it returns.
func (f *requestFixture) run(env *testsuite.TestWorkflowEnvironment) *opened {
	o := startRequest(env, "start", 0)
	in := workflows.AccountRequestInput{OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, RequestSid: f.req.Sid, ExpiresAt: f.req.ExpiresAt,
		Actor: domain.Actor{UserSid: f.fixture.owner.Sid, RequestID: "rq-test"}, RequesterSid: f.req.RequesterSid, Grants: f.req.Grants}
	if f.req.Kind == domain.RequestShare {
		env.ExecuteWorkflow(workflows.ShareAccountWorkflow, in)
	} else {
		env.ExecuteWorkflow(workflows.ImportAccountWorkflow, in)
	}
	return o
}

// refused checks StartUpdate answered with code, the run failed with it,
// and nothing was recorded or emailed.
func (f *requestFixture) refused(t *testing.T, env *testsuite.TestWorkflowEnvironment, o *opened, code int) {
	t.Helper()
	require.True(t, o.done, "StartUpdate never answered")
	e, ok := activities.AsDomainError(o.err)
	require.True(t, ok, "not a domain error: %v", o.err)
	require.Equal(t, code, e.Code, e.Message)
	require.True(t, env.IsWorkflowCompleted())
	e, ok = activities.AsDomainError(env.GetWorkflowError())
	require.True(t, ok, "the run fails with the refusal: %v", env.GetWorkflowError())
	require.Equal(t, code, e.Code)
	_, err := f.st.FindAccountRequest(context.Background(), "", f.req.Sid)
	require.Equal(t, domain.ENotFound, domain.ErrorKind(err), "nothing recorded")
	require.Empty(t, f.templates(t), "nothing emailed")
}

// result checks the workflow ended cleanly and the store agrees with it.
func (f *requestFixture) result(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.RequestState {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.RequestState
	require.NoError(t, env.GetWorkflowResult(&st))
	stored, err := f.st.FindAccountRequest(context.Background(), f.org.Sid, f.req.Sid)
	require.NoError(t, err)
	require.Equal(t, st.Status, stored.Status, "the store agrees with the workflow")
	require.NotNil(t, stored.DateEnded)
	return st
}

// templates lists the emails of the request, oldest first.
func (f *requestFixture) templates(t *testing.T) []string {
	t.Helper()
	emails, err := f.st.ListEmails(context.Background(), f.req.Sid)
	require.NoError(t, err)
	var out []string
	for _, m := range emails {
		out = append(out, m.Template)
	}
	return out
}

// standalone asserts the account is still outside any organization.
func (f *requestFixture) standalone(t *testing.T) {
	t.Helper()
	a, owner, err := f.st.FindAnyAccount(context.Background(), f.acct.Sid)
	require.NoError(t, err)
	require.Equal(t, "", a.OrganizationSid)
	require.Equal(t, domain.AccountStandalone, a.Kind)
	require.False(t, owner.Managed)
	_, err = f.st.FindAccount(context.Background(), f.org.Sid, f.acct.Sid)
	require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(err), "the organization does not see it")
}

func TestImportConfirmed(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	answer := update(env, time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	f.run(env)
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestAccepted, f.result(t, env).Status)

	ctx := context.Background()
	a, err := f.st.FindAccount(ctx, f.org.Sid, f.acct.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountManaged, a.Kind)
	owner, err := f.st.FindUser(ctx, f.org.Sid, f.owner.Sid)
	require.NoError(t, err)
	require.True(t, owner.IsManagedBy(f.org.Sid), "the owner became a managed user")
	roles, err := f.st.RolesOn(ctx, f.acct.Sid, f.owner.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleOwner}, roles)
	require.Equal(t, []string{email.TemplateAccountRequest, email.TemplateRequestEnded}, f.templates(t), "asked, then the requester told")
	events, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.acct.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, domain.EventAccountImported, events[0].Type)
	require.Equal(t, f.owner.Sid, events[0].Actor, "the owner's confirmation is audited as theirs")
}

func TestImportDeclined(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	answer := update(env, time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: false})
	f.run(env)
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestDeclined, f.result(t, env).Status)
	f.standalone(t)
	require.Equal(t, []string{email.TemplateAccountRequest, email.TemplateRequestEnded}, f.templates(t))
}

func TestImportCancelledByRequester(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	cancel := update(env, time.Hour, workflows.RequestCancelUpdate, domain.Actor{UserSid: f.fixture.owner.Sid})
	late := update(env, 2*time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	f.run(env)
	require.NoError(t, cancel.completed)
	require.Equal(t, domain.RequestCancelled, f.result(t, env).Status)
	if late.done { // a confirmation after the cancel is refused
		requireRejected(t, late, domain.CodeInvalidState)
	}
	f.standalone(t)
	require.Equal(t, []string{email.TemplateAccountRequest}, f.templates(t), "the requester who cancelled is not told")
}

func TestImportRemindsHalfWayThenExpires(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	var beforeReminder, afterReminder []string
	env.RegisterDelayedCallback(func() { beforeReminder = f.templates(t) }, requestTTL/2-time.Hour)
	env.RegisterDelayedCallback(func() { afterReminder = f.templates(t) }, requestTTL/2+time.Hour)
	stale := update(env, requestTTL/2+2*time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	f.run(env)
	require.Equal(t, []string{email.TemplateAccountRequest}, beforeReminder)
	require.Equal(t, []string{email.TemplateAccountRequest, email.TemplateAccountRequest + "_reminder"}, afterReminder, "one reminder half-way")
	requireRejected(t, stale, domain.CodeInvalidState) // the first link was superseded by the reminder's
	st := f.result(t, env)
	require.Equal(t, domain.RequestExpired, st.Status)
	require.True(t, st.Reminded)
	f.standalone(t)
	stored, err := f.st.FindAccountRequest(context.Background(), "", f.req.Sid)
	require.NoError(t, err)
	require.NotNil(t, stored.RemindedAt)
	require.Equal(t, 2, stored.SentCount)
	require.Equal(t, []string{email.TemplateAccountRequest, email.TemplateAccountRequest + "_reminder", email.TemplateRequestEnded}, f.templates(t))
}

func TestImportAnsweredWithReminderLink(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	answer := update(env, requestTTL/2+time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 2, Accept: true})
	f.run(env)
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestAccepted, f.result(t, env).Status)
}

func TestImportAnswerAfterExpiryRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	// Sent while the workflow is waiting for its handlers, after expiry.
	late := update(env, requestTTL+time.Second, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 2, Accept: true})
	f.run(env)
	require.Equal(t, domain.RequestExpired, f.result(t, env).Status)
	if late.done {
		requireRejected(t, late, domain.CodeInvalidState)
	}
	f.standalone(t)
}

func TestShareAcceptedGrantsRoles(t *testing.T) {
	f := newRequestFixture(t, domain.RequestShare, "maker@outside.example.net", func(f *fixture) []domain.Grant {
		return []domain.Grant{{Identity: f.standard.Sid, Roles: []string{domain.RoleDeveloper, domain.RoleSupport}}}
	})
	env := f.env()
	answer := update(env, time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	f.run(env)
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestAccepted, f.result(t, env).Status)

	ctx := context.Background()
	a, err := f.st.FindAccount(ctx, f.org.Sid, f.acct.Sid)
	require.NoError(t, err)
	require.Equal(t, domain.AccountIndependent, a.Kind)
	require.Equal(t, f.owner.Sid, a.OwnerSid, "the outsider keeps the account")
	_, owner, err := f.st.FindAnyAccount(ctx, f.acct.Sid)
	require.NoError(t, err)
	require.False(t, owner.Managed, "the owner of an independent account stays outside")
	roles, err := f.st.RolesOn(ctx, f.acct.Sid, f.standard.Sid)
	require.NoError(t, err)
	require.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, roles)

	// Relinquishing ends the access at once and leaves the account as it was.
	_, err = f.st.Relinquish(ctx, f.org.Sid, f.acct.Sid, domain.AuditEvent{Type: domain.EventAccountRelinquished, OrganizationSid: f.org.Sid})
	require.NoError(t, err)
	roles, err = f.st.RolesOn(ctx, f.acct.Sid, f.standard.Sid)
	require.NoError(t, err)
	require.Empty(t, roles)
	f.standalone(t)
}

func TestShareGranteeWhoLeftIsSkipped(t *testing.T) {
	f := newRequestFixture(t, domain.RequestShare, "maker@outside.example.net", func(f *fixture) []domain.Grant {
		return []domain.Grant{{Identity: f.standard.Sid, Roles: []string{domain.RoleDeveloper}}}
	})
	env := f.env()
	// The grantee leaves after the request was made, before the owner
	// answers.
	env.RegisterDelayedCallback(func() {
		require.NoError(t, f.st.DeleteUser(context.Background(), f.org.Sid, f.standard.Sid, domain.AuditEvent{}))
	}, time.Minute)
	answer := update(env, time.Hour, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
	f.run(env)
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestAccepted, f.result(t, env).Status)
	events, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.acct.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, []any{f.standard.Sid}, events[0].Changes["skipped"])
}

func TestDuplicateRequestRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	// An earlier request for the account is pending.
	other := f.req
	other.Sid = domain.NewSID(domain.PrefixAccountRequest, time.Now())
	require.NoError(t, f.st.CreateAccountRequest(context.Background(), other, domain.AuditEvent{}))
	env := f.env()
	f.refused(t, env, f.run(env), domain.CodeInvalidState) // one pending request per account, for any organization
}

func TestImportRequestRecordedByStartUpdate(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	var listed []domain.AccountRequest
	env.RegisterDelayedCallback(func() {
		var err error
		listed, err = f.st.ListAccountRequests(context.Background(), domain.AccountRequestFilter{OrganizationSid: f.org.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
	}, time.Minute)
	// A retried request (the same StartUpdate again) gets the same answer.
	retried := startRequest(env, "retry", time.Minute)
	cancel := update(env, time.Hour, workflows.RequestCancelUpdate, domain.Actor{UserSid: f.fixture.owner.Sid})
	o := f.run(env)
	require.True(t, o.done)
	require.NoError(t, o.err)
	require.Equal(t, f.req.Sid, o.request.Sid)
	require.Equal(t, domain.RequestPending, o.request.Status)
	require.Equal(t, "founder@acme.example.com", o.request.OwnerEmail, "the owner was resolved as the request was recorded")
	require.Equal(t, f.owner.Sid, o.request.OwnerSid)
	require.Equal(t, "Side project", o.request.AccountName)
	require.Equal(t, f.fixture.owner.Sid, o.request.RequesterSid)
	require.True(t, retried.done)
	require.NoError(t, retried.err)
	require.Equal(t, o.request, retried.request)
	require.Len(t, listed, 1, "one request recorded")
	require.NoError(t, cancel.completed)
	require.Equal(t, domain.RequestCancelled, f.result(t, env).Status)
	events, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.req.Sid, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
	}
	require.ElementsMatch(t, []string{domain.EventRequestCreated, "account_request." + domain.RequestCancelled}, types)
}

func TestImportOffTheVerifiedDomainsRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@elsewhere.example.net", nil)
	env := f.env()
	f.refused(t, env, f.run(env), domain.CodeDomainNotVerified)
	f.standalone(t)
}

func TestShareOnTheVerifiedDomainRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestShare, "founder@acme.example.com", nil)
	env := f.env()
	f.refused(t, env, f.run(env), domain.CodeInvalidState)
}

func TestShareGrantToNonMemberRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestShare, "maker@outside.example.net", func(f *fixture) []domain.Grant {
		return []domain.Grant{{Identity: f.external.Sid, Roles: []string{domain.RoleDeveloper}}}
	})
	env := f.env()
	f.refused(t, env, f.run(env), domain.CodeUserNotFound)
}

func TestAnswerBeforeTheRequestIsRecordedRefused(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@elsewhere.example.net", nil)
	env := f.env()
	// The refused request's run is still there for an instant: an answer
	// reaching it is refused too.
	answer := update(env, 0, workflows.RequestAnswerUpdate, workflows.AnswerRequest{LinkVersion: 0, Accept: true})
	f.refused(t, env, f.run(env), domain.CodeDomainNotVerified)
	if answer.done {
		requireRejected(t, answer, domain.CodeInvalidState)
	}
	f.standalone(t)
}

// An owner may answer from the email before the activity that sent it has
// reported back to the workflow: the link is current from the moment it
// is issued, so the answer is taken, not refused as superseded.
func TestImportAnsweredWhileItsEmailIsStillBeingSent(t *testing.T) {
	f := newRequestFixture(t, domain.RequestImport, "founder@acme.example.com", nil)
	env := f.env()
	release := make(chan struct{})
	answer := &outcome{}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name != "SendAccountRequest" {
			return
		}
		// Fires while the send below still holds its completion back.
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.RequestAnswerUpdate, "", &testsuite.TestUpdateCallback{
				OnAccept: func() { close(release) },
				OnReject: func(err error) { answer.rejected, answer.done = err, true; close(release) },
				OnComplete: func(_ any, err error) {
					answer.completed, answer.done = err, true
				},
			}, workflows.AnswerRequest{LinkVersion: 1, Accept: true})
		}, 100*time.Millisecond)
	})
	env.OnActivity(f.acts.SendAccountRequest, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.SendRequestInput) error {
			err := f.acts.SendAccountRequest(ctx, in) // the email is out
			select {
			case <-release:
			case <-time.After(time.Minute):
			}
			return err
		})

	f.run(env)

	require.True(t, answer.done, "the answer never finished")
	require.NoError(t, answer.rejected, "the link in the email just sent is current")
	require.NoError(t, answer.completed)
	require.Equal(t, domain.RequestAccepted, f.result(t, env).Status)
}
