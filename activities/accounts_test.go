package activities_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// fixture is an organization in a real store and the activities on it.
type fixture struct {
	st       *store.Store
	acts     *activities.Activities
	org      domain.Organization
	owner    domain.User
	standard domain.User
	external domain.User
	actor    domain.Actor
}

// eachStore runs fn against SQLite and against PostgreSQL (skipped without
// a server, except under CI=true).
func eachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newFixture(t, store.Options{SQLitePath: filepath.Join(t.TempDir(), "orgaccounts.db")}))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, newFixture(t, store.Options{DatabaseURL: testenv.MustPostgres(t), MaxOpenConns: 4}))
	})
}

func newFixture(t *testing.T, opts store.Options) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, opts)
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
	require.NoError(t, st.CreateOrganization(ctx, f.org, f.owner,
		domain.VerifiedDomain{
			Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: f.org.Sid, DomainName: "acme.example.com",
			Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &verified,
		},
		domain.Credential{
			Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: f.org.Sid, UserSid: f.owner.Sid,
			FriendlyName: "test", SecretHash: domain.HashSecret(domain.NewSecret(32)),
		},
		domain.NewAuditEvent(domain.SystemActor, f.org.Sid, domain.EventOrganizationCreated, f.org.Sid, nil)))
	f.standard = domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: f.org.Sid, UserName: "standard@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true,
	}
	require.NoError(t, st.CreateUser(ctx, f.standard, domain.AuditEvent{}))
	f.external = domain.User{Sid: domain.NewSID(domain.PrefixUser, now), UserName: "someone@elsewhere.example.com", Active: true}
	require.NoError(t, st.CreateUser(ctx, f.external, domain.AuditEvent{}))
	f.actor = domain.Actor{UserSid: f.owner.Sid, RequestID: "RQ-activities"}
	return f
}

// call runs one activity of f the way a worker does (in an activity
// context, its result and error through the data and failure converters)
// and decodes its result into out.
func (f *fixture) call(t *testing.T, fn, in, out any) error {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(fn)
	v, err := env.ExecuteActivity(fn, in)
	if err != nil {
		return err
	}
	if out != nil {
		require.NoError(t, v.Get(out))
	}
	return nil
}

func (f *fixture) createRecord(t *testing.T, in activities.CreateAccountRecordInput) (domain.Account, error) {
	t.Helper()
	var out domain.Account
	err := f.call(t, f.acts.CreateAccountRecord, in, &out)
	return out, err
}

func (f *fixture) provision(t *testing.T, in activities.ProvisionInput) (domain.AccountResource, error) {
	t.Helper()
	var out domain.AccountResource
	err := f.call(t, f.acts.ProvisionFlexResource, in, &out)
	return out, err
}

func (f *fixture) activate(t *testing.T, in activities.AccountStepInput) (domain.Account, error) {
	t.Helper()
	var out domain.Account
	err := f.call(t, f.acts.ActivateAccount, in, &out)
	return out, err
}

func (f *fixture) discard(t *testing.T, in activities.AccountStepInput) error {
	t.Helper()
	return f.call(t, f.acts.DiscardAccount, in, nil)
}

func (f *fixture) resolveOwner(t *testing.T, in activities.ResolveOwnerInput) (string, error) {
	t.Helper()
	var out string
	err := f.call(t, f.acts.ResolveOwner, in, &out)
	return out, err
}

func (f *fixture) recordInput(creator string) activities.CreateAccountRecordInput {
	now := time.Now()
	return activities.CreateAccountRecordInput{
		Account: domain.Account{
			Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid, FriendlyName: "Billing",
			Kind: domain.AccountManaged, OwnerSid: f.owner.Sid,
		},
		OwnerAssignmentSid:   domain.NewSID(domain.PrefixRoleAssignment, now),
		CreatorSid:           creator,
		CreatorAssignmentSid: domain.NewSID(domain.PrefixRoleAssignment, now),
		Actor:                f.actor,
	}
}

func (f *fixture) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, f.st.DB().Table(table).Where(where, args...).Count(&n).Error)
	return n
}

func (f *fixture) events(t *testing.T, resource, typ string) []domain.AuditEvent {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{
		OrganizationSid: f.org.Sid, ResourceSid: resource, Type: typ, Page: domain.PageRequest{Size: 100},
	})
	require.NoError(t, err)
	return evs
}

// requireSameAccount compares two results of the same activity. The
// database keeps timestamps to the microsecond (PostgreSQL) while a freshly
// written row still carries nanoseconds, so times compare at that
// precision.
func requireSameAccount(t *testing.T, want, got domain.Account) {
	t.Helper()
	require.WithinDuration(t, want.DateCreated, got.DateCreated, time.Microsecond)
	require.WithinDuration(t, want.DateUpdated, got.DateUpdated, time.Microsecond)
	want.DateCreated, want.DateUpdated, got.DateCreated, got.DateUpdated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	require.Equal(t, want, got)
}

func requireDomainError(t *testing.T, err error, kind string, code int) {
	t.Helper()
	require.Error(t, err)
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "want an ApplicationError, got %T: %v", err, err)
	require.Equal(t, activities.ErrorType, appErr.Type())
	require.True(t, appErr.NonRetryable())
	de, ok := activities.AsDomainError(err)
	require.True(t, ok)
	require.Equal(t, kind, de.Kind)
	require.Equal(t, code, de.Code, "message: %s", de.Message)
}

func TestCreateAccountRecordIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		in := f.recordInput(f.standard.Sid)

		first, err := f.createRecord(t, in)
		require.NoError(t, err)
		require.Equal(t, domain.AccountProvisioning, first.Status, "a new account is provisioning until activated")
		require.Equal(t, 1, first.Version)
		second, err := f.createRecord(t, in)
		require.NoError(t, err)
		requireSameAccount(t, first, second)

		require.Equal(t, int64(1), f.count(t, "accounts", "sid = ?", in.Account.Sid))
		require.Equal(t, int64(1), f.count(t, "role_assignments", "scope = ? AND role_sid = ?", in.Account.Sid, domain.RoleOwner))
		require.Equal(t, int64(1), f.count(t, "role_assignments", "scope = ? AND role_sid = ?", in.Account.Sid, domain.RoleAdministrator))
		owner, err := f.st.FindRoleAssignment(ctx, f.org.Sid, in.OwnerAssignmentSid)
		require.NoError(t, err)
		require.Equal(t, f.owner.Sid, owner.Identity)
		admin, err := f.st.FindRoleAssignment(ctx, f.org.Sid, in.CreatorAssignmentSid)
		require.NoError(t, err)
		require.Equal(t, f.standard.Sid, admin.Identity)
		require.Len(t, f.events(t, in.Account.Sid, domain.EventAccountCreated), 1, "the creation is audited once")
		require.Len(t, f.events(t, in.CreatorAssignmentSid, domain.EventRoleAssigned), 1)

		// Stored as returned.
		stored, err := f.st.FindAccount(ctx, f.org.Sid, in.Account.Sid)
		require.NoError(t, err)
		requireSameAccount(t, first, stored)
	})
}

func TestCreateAccountRecordCreatorWhoIsOwnerGetsNoAdministrator(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		in := f.recordInput(f.owner.Sid)
		_, err := f.createRecord(t, in)
		require.NoError(t, err)
		roles, err := f.st.RolesOn(context.Background(), in.Account.Sid, f.owner.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleOwner}, roles)
		require.Equal(t, int64(1), f.count(t, "role_assignments", "scope = ?", in.Account.Sid))
	})
}

func TestProvisionFlexResourceIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		rec := f.recordInput("")
		_, err := f.createRecord(t, rec)
		require.NoError(t, err)
		in := activities.ProvisionInput{OrganizationSid: f.org.Sid, AccountSid: rec.Account.Sid, Kind: domain.FlexProvisioningSteps[0], Actor: f.actor}

		first, err := f.provision(t, in)
		require.NoError(t, err)
		require.NotEmpty(t, first.ResourceSid)
		require.Equal(t, in.Kind, first.Kind)
		second, err := f.provision(t, in)
		require.NoError(t, err)
		require.Equal(t, first.ResourceSid, second.ResourceSid, "a retry returns the resource provisioned first")
		require.Equal(t, first.AccountSid, second.AccountSid)
		require.Equal(t, first.Kind, second.Kind)
		require.WithinDuration(t, first.DateCreated, second.DateCreated, time.Microsecond)

		require.Equal(t, int64(1), f.count(t, "account_resources", "account_sid = ?", rec.Account.Sid))
		require.Len(t, f.events(t, rec.Account.Sid, domain.EventAccountProvisioned), 1)

		// Another kind is another resource.
		in.Kind = domain.FlexProvisioningSteps[1]
		other, err := f.provision(t, in)
		require.NoError(t, err)
		require.NotEqual(t, first.ResourceSid, other.ResourceSid)
		require.Equal(t, int64(2), f.count(t, "account_resources", "account_sid = ?", rec.Account.Sid))
	})
}

func TestActivateAccountIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		rec := f.recordInput("")
		_, err := f.createRecord(t, rec)
		require.NoError(t, err)
		in := activities.AccountStepInput{OrganizationSid: f.org.Sid, AccountSid: rec.Account.Sid, Actor: f.actor}

		first, err := f.activate(t, in)
		require.NoError(t, err)
		require.Equal(t, domain.AccountActive, first.Status)
		require.Equal(t, 2, first.Version)
		second, err := f.activate(t, in)
		require.NoError(t, err)
		requireSameAccount(t, first, second)

		stored, err := f.st.FindAccount(ctx, f.org.Sid, rec.Account.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountActive, stored.Status)
		require.Equal(t, 2, stored.Version, "the second call changed nothing")
		require.Equal(t, int64(1), f.count(t, "accounts", "sid = ?", rec.Account.Sid))
		require.Equal(t, int64(1), f.count(t, "role_assignments", "scope = ?", rec.Account.Sid))
		activated := f.events(t, rec.Account.Sid, domain.EventAccountActivated)
		require.Len(t, activated, 1)
		require.Equal(t, f.owner.Sid, activated[0].Actor)
		require.Equal(t, "RQ-activities", activated[0].RequestID)
	})
}

func TestActivateAccountUnknownAccountIsNotRetried(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		_, err := f.activate(t, activities.AccountStepInput{
			OrganizationSid: f.org.Sid, AccountSid: domain.NewSID(domain.PrefixAccount, time.Now()), Actor: f.actor,
		})
		requireDomainError(t, err, domain.ENotFound, domain.CodeAccountNotFound)
	})
}

func TestDiscardAccountIsIdempotentAndSparesActiveAccounts(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		rec := f.recordInput(f.standard.Sid)
		_, err := f.createRecord(t, rec)
		require.NoError(t, err)
		_, err = f.provision(t, activities.ProvisionInput{OrganizationSid: f.org.Sid, AccountSid: rec.Account.Sid, Kind: domain.FlexProvisioningSteps[0], Actor: f.actor})
		require.NoError(t, err)
		in := activities.AccountStepInput{OrganizationSid: f.org.Sid, AccountSid: rec.Account.Sid, Actor: f.actor}

		require.NoError(t, f.discard(t, in))
		require.NoError(t, f.discard(t, in))
		require.Zero(t, f.count(t, "accounts", "sid = ?", rec.Account.Sid))
		require.Zero(t, f.count(t, "role_assignments", "scope = ?", rec.Account.Sid))
		require.Zero(t, f.count(t, "account_resources", "account_sid = ?", rec.Account.Sid))
		require.Len(t, f.events(t, rec.Account.Sid, domain.EventAccountDiscarded), 1)

		// An account that became visible is never discarded.
		live := f.recordInput("")
		_, err = f.createRecord(t, live)
		require.NoError(t, err)
		liveIn := activities.AccountStepInput{OrganizationSid: f.org.Sid, AccountSid: live.Account.Sid, Actor: f.actor}
		_, err = f.activate(t, liveIn)
		require.NoError(t, err)
		requireDomainError(t, f.discard(t, liveIn), domain.EConflict, domain.CodeInvalidState)
		require.Equal(t, int64(1), f.count(t, "accounts", "sid = ?", live.Account.Sid))
	})
}

func TestResolveOwner(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		got, err := f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: f.org.Sid})
		require.NoError(t, err)
		require.Equal(t, f.owner.Sid, got, "an empty OwnerSid means the organization owner")

		got, err = f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: f.org.Sid, OwnerSid: f.standard.Sid})
		require.NoError(t, err)
		require.Equal(t, f.standard.Sid, got, "any managed user may own an account")

		_, err = f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: f.org.Sid, OwnerSid: f.external.Sid})
		requireDomainError(t, err, domain.EInvalid, domain.CodeOwnerNotManaged)
		de, _ := activities.AsDomainError(err)
		require.Contains(t, de.Message, f.external.Sid)

		_, err = f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: f.org.Sid, OwnerSid: domain.NewSID(domain.PrefixUser, time.Now())})
		requireDomainError(t, err, domain.EInvalid, domain.CodeOwnerNotManaged)

		_, err = f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: domain.NewSID(domain.PrefixOrganization, time.Now())})
		requireDomainError(t, err, domain.ENotFound, domain.CodeOrganizationNotFound)
	})
}

// A database outage may heal: it must reach Temporal as a retryable error,
// not as a domain failure that ends the workflow.
func TestStoreOutageIsRetryable(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		require.NoError(t, f.st.Close())
		_, err := f.resolveOwner(t, activities.ResolveOwnerInput{OrganizationSid: f.org.Sid})
		require.Error(t, err)
		_, ok := activities.AsDomainError(err)
		require.False(t, ok, "an outage is not a domain failure: %v", err)
		var appErr *temporal.ApplicationError
		require.False(t, errors.As(err, &appErr) && appErr.NonRetryable(), "an outage must stay retryable: %v", err)
	})
}

// worker.Register registers *Activities as a whole: every exported method
// must then be a valid activity, or the worker panics at start.
func TestEveryExportedMethodIsAnActivity(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	require.NotPanics(t, func() { env.RegisterActivity(&activities.Activities{}) })
}

func TestAsDomainError(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("creating the account: %w", err) }
	roundTrip := func(err error) error {
		// What crosses the wire to a workflow or a client.
		fc := temporal.GetDefaultFailureConverter()
		return fc.FailureToError(fc.ErrorToFailure(err))
	}
	domainFailure := func() error {
		return temporal.NewNonRetryableApplicationError("the account owner is not managed", activities.ErrorType, nil,
			activities.DomainFailure{Kind: domain.EInvalid, Code: domain.CodeOwnerNotManaged, Message: "the account owner is not managed"})
	}

	for name, err := range map[string]error{
		"local":            domainFailure(),
		"round trip":       roundTrip(domainFailure()),
		"wrapped":          wrapped(domainFailure()),
		"on wire, wrapped": wrapped(roundTrip(domainFailure())),
	} {
		t.Run(name, func(t *testing.T) {
			de, ok := activities.AsDomainError(err)
			require.True(t, ok, "%v", err)
			require.Equal(t, &domain.Error{Kind: domain.EInvalid, Code: domain.CodeOwnerNotManaged, Message: "the account owner is not managed"}, de)
		})
	}

	for name, err := range map[string]error{
		"nil":                   nil,
		"plain error":           errors.New("boom"),
		"bare domain error":     domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "bad"),
		"other application err": temporal.NewApplicationError("boom", "Other", activities.DomainFailure{Code: 1}),
		"no details":            temporal.NewNonRetryableApplicationError("boom", activities.ErrorType, nil),
		"no details, on wire":   roundTrip(temporal.NewNonRetryableApplicationError("boom", activities.ErrorType, nil)),
	} {
		t.Run("not "+name, func(t *testing.T) {
			_, ok := activities.AsDomainError(err)
			require.False(t, ok)
		})
	}
}
