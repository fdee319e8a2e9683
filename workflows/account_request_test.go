package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// requestFixture is a standalone account with a pending import or share
// request from the organization, in a real store.
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
	require.NoError(t, f.st.CreateAccountRequest(ctx, req, domain.AuditEvent{}))
	return &requestFixture{fixture: f, acct: acct, owner: owner, req: req, start: start}
}

func (f *requestFixture) env() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	env.SetStartTime(f.start)
	env.RegisterWorkflow(workflows.ImportAccountWorkflow)
	env.RegisterWorkflow(workflows.ShareAccountWorkflow)
	for _, fn := range []any{f.acts.SendAccountRequest, f.acts.FinishAccountRequest, f.acts.NotifyRequester} {
		env.RegisterActivity(fn)
	}
	return env
}

func (f *requestFixture) run(env *testsuite.TestWorkflowEnvironment) {
	in := workflows.AccountRequestInput{OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid, RequestSid: f.req.Sid, ExpiresAt: f.req.ExpiresAt,
		Actor: domain.Actor{UserSid: f.fixture.owner.Sid, RequestID: "rq-test"}}
	if f.req.Kind == domain.RequestShare {
		env.ExecuteWorkflow(workflows.ShareAccountWorkflow, in)
	} else {
		env.ExecuteWorkflow(workflows.ImportAccountWorkflow, in)
	}
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
	require.NoError(t, f.st.DeleteUser(context.Background(), f.org.Sid, f.standard.Sid, domain.AuditEvent{}))
	env := f.env()
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
	dup := f.req
	dup.Sid = domain.NewSID(domain.PrefixAccountRequest, time.Now())
	err := f.st.CreateAccountRequest(context.Background(), dup, domain.AuditEvent{})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err), "one pending request per account, for any organization")
}
