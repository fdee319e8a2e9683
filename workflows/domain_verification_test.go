package workflows_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/dnstxt"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// domainFixture is an organization adding a domain (persisted by the
// StartUpdate of its verification: see execute) in a real store, a real
// DNS server on loopback the test publishes records on, and the
// activities asking it.
type domainFixture struct {
	*fixture
	dns   *testenv.DNS
	dom   domain.VerifiedDomain
	start time.Time
}

func newDomainFixture(t *testing.T) *domainFixture {
	t.Helper()
	f := newFixture(t)
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := testenv.MustDNS(t)
	r, err := dnstxt.New(srv.Addr)
	require.NoError(t, err)
	f.acts.Resolver = r
	d := domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, time.Now()), OrganizationSid: f.org.Sid, DomainName: "corp.example", VerificationToken: domain.NewSecret(32)}
	return &domainFixture{fixture: f, dns: srv, dom: d, start: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// timings: checks every 5 minutes for an hour, then daily re-checks and
// three days of grace.
var testTimings = workflows.DomainTimings{
	CheckInterval: 5 * time.Minute, Window: time.Hour, RecheckInterval: 24 * time.Hour, GracePeriod: 72 * time.Hour, ChecksPerRun: 1000,
}

func (f *domainFixture) input(t workflows.DomainTimings) workflows.DomainVerificationInput {
	return workflows.DomainVerificationInput{OrganizationSid: f.org.Sid, DomainSid: f.dom.Sid, DomainName: f.dom.DomainName,
		VerificationToken: f.dom.VerificationToken, Timings: t, Actor: domain.Actor{UserSid: f.owner.Sid, RequestID: "rq-test"}}
}

// domainStart is the answer of a StartUpdate.
type domainStart struct {
	added domain.VerifiedDomain
	err   error
	done  bool
}

// execute runs the verification as the client starts it:
// Update-with-Start, the StartUpdate delivered with the start.
func (f *domainFixture) execute(env *testsuite.TestWorkflowEnvironment, in workflows.DomainVerificationInput) *domainStart {
	u := &domainStart{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.StartUpdate, "start", &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { u.err, u.done = err, true },
			OnComplete: func(v any, err error) {
				u.err, u.done = err, true
				u.added, _ = v.(domain.VerifiedDomain)
			},
		})
	}, 0)
	env.ExecuteWorkflow(workflows.DomainVerificationWorkflow, in)
	return u
}

func (f *domainFixture) env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	env.SetStartTime(f.start)
	env.RegisterWorkflow(workflows.DomainVerificationWorkflow)
	env.RegisterActivity(f.acts.CreateDomainRecord)
	env.RegisterActivity(f.acts.CheckDomainRecord)
	env.RegisterActivity(f.acts.TransitionDomain)
	env.RegisterActivity(f.acts.SendEmail)
	return env
}

func (f *domainFixture) publish() {
	f.dns.SetTXT(f.dom.RecordName(), "v=spf1 -all", f.dom.RecordValue())
}
func (f *domainFixture) unpublish() { f.dns.RemoveTXT(f.dom.RecordName()) }

// at runs fn at workflow time start+d.
func (f *domainFixture) at(env *testsuite.TestWorkflowEnvironment, d time.Duration, fn func()) {
	env.RegisterDelayedCallback(fn, d)
}

func (f *domainFixture) progress(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.DomainVerificationState {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var st workflows.DomainVerificationState
	require.NoError(t, v.Get(&st))
	return st
}

func (f *domainFixture) stored(t *testing.T) domain.VerifiedDomain {
	t.Helper()
	d, err := f.st.FindDomain(context.Background(), f.org.Sid, f.dom.Sid)
	require.NoError(t, err)
	return d
}

// domainEvents lists the types of the audit events of the domain.
func (f *domainFixture) domainEvents(t *testing.T) []string {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.dom.Sid, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func (f *domainFixture) emailTemplates(t *testing.T) []string {
	t.Helper()
	ms, err := f.st.ListEmails(context.Background(), f.dom.Sid)
	require.NoError(t, err)
	var out []string
	for _, m := range ms {
		require.Equal(t, f.owner.UserName, m.To)
		out = append(out, m.Template)
	}
	return out
}

func requireCanceled(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	err := env.GetWorkflowError()
	require.Error(t, err)
	var canceled *temporal.CanceledError
	require.True(t, errors.As(err, &canceled), "want cancelled, got %v", err)
}

func TestDomainVerification_VerifiedOnFirstCheckThenRecheckedDaily(t *testing.T) {
	f := newDomainFixture(t)
	f.publish()
	env := f.env(t)
	var afterFirst workflows.DomainVerificationState
	f.at(env, time.Minute, func() { afterFirst = f.progress(t, env) })
	f.at(env, 50*time.Hour, func() { env.CancelWorkflow() })
	f.execute(env, f.input(testTimings))
	requireCanceled(t, env)

	assert.Equal(t, domain.DomainVerified, afterFirst.Status)
	assert.Equal(t, 1, afterFirst.Checks)
	assert.Equal(t, f.start.Add(24*time.Hour), afterFirst.NextCheckAt)
	st := f.progress(t, env)
	assert.Equal(t, 3, st.Checks, "checked at 0h, 24h and 48h")
	d := f.stored(t)
	assert.Equal(t, domain.DomainVerified, d.Status)
	assert.Equal(t, f.start, *d.DateVerified)
	assert.Equal(t, f.start.Add(48*time.Hour), *d.LastCheckedAt)
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified}, f.domainEvents(t))
	assert.Equal(t, []string{email.TemplateDomainVerified}, f.emailTemplates(t))
	ok, err := f.st.IsVerifiedDomain(context.Background(), f.org.Sid, "corp.example")
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestDomainVerification_VerifiedAfterSeveralChecks(t *testing.T) {
	f := newDomainFixture(t)
	env := f.env(t)
	f.at(env, 17*time.Minute, f.publish)
	var at19 workflows.DomainVerificationState
	f.at(env, 19*time.Minute, func() { at19 = f.progress(t, env) })
	f.at(env, 2*time.Hour, func() { env.CancelWorkflow() })
	f.execute(env, f.input(testTimings))
	requireCanceled(t, env)

	assert.Equal(t, domain.DomainPending, at19.Status)
	assert.Equal(t, 4, at19.Checks, "checked at 0, 5, 10 and 15 minutes")
	assert.Equal(t, f.start.Add(20*time.Minute), at19.NextCheckAt)
	d := f.stored(t)
	assert.Equal(t, domain.DomainVerified, d.Status)
	assert.Equal(t, f.start.Add(20*time.Minute), *d.DateVerified, "found at the fifth check")
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified}, f.domainEvents(t))
	assert.Equal(t, 5, f.dns.Queries(f.dom.RecordName()))
}

func TestDomainVerification_FailsWhenTheWindowEnds(t *testing.T) {
	f := newDomainFixture(t)
	env := f.env(t)
	f.dns.SetTXT(f.dom.RecordName(), "orgaccounts-domain-verification=someone-elses-token")
	f.execute(env, f.input(testTimings))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.DomainVerificationState
	require.NoError(t, env.GetWorkflowResult(&st))
	assert.Equal(t, domain.DomainFailed, st.Status)
	assert.Equal(t, 13, st.Checks, "every 5 minutes from 0 to 60")
	assert.Equal(t, f.start.Add(time.Hour), *st.LastCheckedAt)
	assert.Equal(t, domain.DomainFailed, f.stored(t).Status)
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainFailed}, f.domainEvents(t))
	assert.Equal(t, []string{email.TemplateDomainFailed}, f.emailTemplates(t))
}

func TestDomainVerification_VanishedRecordRestoredWithinGrace(t *testing.T) {
	f := newDomainFixture(t)
	f.publish()
	env := f.env(t)
	f.at(env, 30*time.Hour, f.unpublish)
	var lapsed workflows.DomainVerificationState
	var lapsedDomain domain.VerifiedDomain
	f.at(env, 49*time.Hour, func() {
		lapsed = f.progress(t, env)
		lapsedDomain = f.stored(t)
	})
	f.at(env, 60*time.Hour, f.publish)
	f.at(env, 100*time.Hour, func() { env.CancelWorkflow() })
	f.execute(env, f.input(testTimings))
	requireCanceled(t, env)

	assert.Equal(t, domain.DomainVerified, lapsed.Status)
	require.NotNil(t, lapsed.MissingSince)
	assert.Equal(t, f.start.Add(48*time.Hour), *lapsed.MissingSince)
	assert.Equal(t, f.start.Add(120*time.Hour), *lapsed.RemoveAfter)
	assert.Equal(t, domain.DomainVerified, lapsedDomain.Status, "still verified during the grace period")
	assert.Equal(t, f.start.Add(120*time.Hour), *lapsedDomain.RemoveAfter)

	st := f.progress(t, env)
	assert.Nil(t, st.MissingSince)
	d := f.stored(t)
	assert.Equal(t, domain.DomainVerified, d.Status)
	assert.Nil(t, d.MissingSince)
	assert.Nil(t, d.RemoveAfter)
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified, domain.EventDomainLapsed, domain.EventDomainRestored}, f.domainEvents(t))
	assert.Equal(t, []string{email.TemplateDomainVerified, email.TemplateDomainLapsed}, f.emailTemplates(t))
}

func TestDomainVerification_VanishedRecordRemovedAfterGrace(t *testing.T) {
	f := newDomainFixture(t)
	f.publish()
	env := f.env(t)
	f.at(env, time.Hour, f.unpublish)
	f.execute(env, f.input(testTimings))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.DomainVerificationState
	require.NoError(t, env.GetWorkflowResult(&st))

	assert.Equal(t, domain.DomainRemoved, st.Status)
	assert.Equal(t, f.start.Add(96*time.Hour), *st.LastCheckedAt, "lapsed at 24h, removed at 24h+72h")
	assert.Equal(t, 5, st.Checks, "at 0, 24, 48, 72 and 96 hours")
	d := f.stored(t)
	assert.Equal(t, domain.DomainRemoved, d.Status)
	ok, err := f.st.IsVerifiedDomain(context.Background(), f.org.Sid, "corp.example")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified, domain.EventDomainLapsed, domain.EventDomainRemoved}, f.domainEvents(t))
	assert.Equal(t, []string{email.TemplateDomainVerified, email.TemplateDomainLapsed, email.TemplateDomainRemoved}, f.emailTemplates(t))
}

func TestDomainVerification_ContinuesAsNewCarryingItsState(t *testing.T) {
	f := newDomainFixture(t)
	timings := testTimings
	timings.ChecksPerRun = 3
	env := f.env(t)
	f.execute(env, f.input(timings))
	require.True(t, env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	assert.Equal(t, "DomainVerificationWorkflow", can.WorkflowType.Name)
	var next workflows.DomainVerificationInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	assert.Equal(t, f.dom.Sid, next.DomainSid)
	assert.Equal(t, timings, next.Timings)
	assert.Equal(t, domain.DomainPending, next.State.Status)
	assert.Equal(t, 3, next.State.Checks)
	assert.Equal(t, 1, next.State.Runs)
	assert.Equal(t, f.start.Add(time.Hour), next.State.VerifyBy, "the window does not restart")
	assert.Equal(t, f.start.Add(15*time.Minute), next.State.NextCheckAt)

	// The next run picks up where this one stopped.
	f.publish()
	f.start = f.start.Add(10 * time.Minute)
	env2 := f.env(t)
	f.at(env2, 30*time.Minute, func() { env2.CancelWorkflow() })
	env2.ExecuteWorkflow(workflows.DomainVerificationWorkflow, next)
	requireCanceled(t, env2)
	st := f.progress(t, env2)
	assert.Equal(t, domain.DomainVerified, st.Status)
	assert.Equal(t, 4, st.Checks)
	assert.Equal(t, f.start.Add(5*time.Minute), *f.stored(t).DateVerified, "checked at the carried-over time")
}

func TestDomainVerification_EndsWhenTheDomainIsDeleted(t *testing.T) {
	f := newDomainFixture(t)
	env := f.env(t)
	f.at(env, 12*time.Minute, func() {
		require.NoError(t, f.st.DeleteDomain(context.Background(), f.org.Sid, f.dom.Sid, domain.AuditEvent{}))
	})
	f.execute(env, f.input(testTimings))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var st workflows.DomainVerificationState
	require.NoError(t, env.GetWorkflowResult(&st))
	assert.Equal(t, workflows.DomainDeleted, st.Status)
	assert.Equal(t, f.start.Add(15*time.Minute), *st.LastCheckedAt)
}

func TestDomainVerification_FailsWhenAnotherOrganizationVerifiedItFirst(t *testing.T) {
	f := newDomainFixture(t)
	ctx := context.Background()
	// Added before the rival verified it: its StartUpdate persisted it.
	require.NoError(t, f.st.CreateDomain(ctx, f.dom, domain.AuditEvent{}))
	f.rivalVerifies(t)
	f.publish()
	env := f.env(t)
	f.execute(env, f.input(testTimings))
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, domain.DomainFailed, f.stored(t).Status)
	evs, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: f.dom.Sid, Type: domain.EventDomainFailed, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Contains(t, evs[0].Changes["reason"], "another organization")
}

// rivalVerifies makes another organization verify the fixture's domain
// name.
func (f *domainFixture) rivalVerifies(t *testing.T) {
	t.Helper()
	now := time.Now()
	other := domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Rival"}
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: other.Sid, UserName: "boss@rival.example", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
	other.OwnerSid = owner.Sid
	require.NoError(t, f.st.CreateOrganization(context.Background(), other, owner,
		domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, now), DomainName: f.dom.DomainName, Status: domain.DomainVerified, VerificationToken: "x"},
		domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: other.Sid, UserSid: owner.Sid, SecretHash: "x"}, domain.AuditEvent{}))
}

func TestDomainVerification_StartUpdateAnswersWithThePersistedPendingDomain(t *testing.T) {
	f := newDomainFixture(t)
	env := f.env(t)
	f.at(env, 30*time.Minute, func() {
		d := f.stored(t)
		assert.Equal(t, domain.DomainPending, d.Status)
		assert.Equal(t, f.dom.VerificationToken, d.VerificationToken)
		env.CancelWorkflow()
	})
	u := f.execute(env, f.input(testTimings))
	requireCanceled(t, env)
	require.True(t, u.done)
	require.NoError(t, u.err)
	assert.Equal(t, f.dom.Sid, u.added.Sid)
	assert.Equal(t, domain.DomainPending, u.added.Status)
	assert.Equal(t, f.dom.RecordValue(), u.added.RecordValue())
	assert.False(t, u.added.DateCreated.IsZero(), "the stored domain")
}

func TestDomainVerification_RefusedByTheStartUpdatePersistsNothingAndEnds(t *testing.T) {
	f := newDomainFixture(t)
	f.rivalVerifies(t)
	f.publish()
	env := f.env(t)
	u := f.execute(env, f.input(testTimings))
	require.True(t, env.IsWorkflowCompleted())
	require.True(t, u.done)
	e, ok := activities.AsDomainError(u.err)
	require.True(t, ok, "refused with a domain error: %v", u.err)
	assert.Equal(t, domain.CodeDomainTaken, e.Code)
	require.Error(t, env.GetWorkflowError(), "the run ends with the refusal")
	_, err := f.st.FindDomain(context.Background(), f.org.Sid, f.dom.Sid)
	assert.Equal(t, domain.CodeDomainNotFound, domain.ErrorCode(err), "nothing persisted")
	assert.Zero(t, f.dns.Queries(f.dom.RecordName()), "nothing looked up")
	assert.Empty(t, f.domainEvents(t))
}
