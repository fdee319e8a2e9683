package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func acquire(t *testing.T, s *store.Store, org fixtureOrg, acct, kind, value string) (domain.Number, error) {
	t.Helper()
	return s.AcquireNumber(context.Background(), domain.Number{Sid: newSID(domain.NumberPrefix(kind)), Kind: kind, Value: value,
		OrganizationSid: org.Sid, AccountSid: acct}, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventNumberAcquired, acct, nil))
}

func subscribe(t *testing.T, s *store.Store, org fixtureOrg, acct string) domain.Subscription {
	t.Helper()
	sub, err := s.CreateSubscription(context.Background(), domain.Subscription{Sid: newSID(domain.PrefixSubscription), OrganizationSid: org.Sid,
		AccountSid: acct, Description: "Line", MonthlyPrice: "1.15", Currency: "USD"}, domain.AuditEvent{})
	require.NoError(t, err)
	return sub
}

func TestAcquireNumber_TakesFromTheInventoryAndRefusesOneHeldElsewhere(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "numbers")
		a := createAccount(t, s, org, org.Owner, "A", domain.AccountActive)
		b := createAccount(t, s, org, org.Owner, "B", domain.AccountActive)
		n, err := acquire(t, s, org, a.Sid, domain.NumberPhone, "+15005550006")
		require.NoError(t, err)
		_, err = acquire(t, s, org, b.Sid, domain.NumberPhone, "+15005550006")
		requireCode(t, domain.CodeNumberUnavailable, err)

		require.NoError(t, s.ReleaseNumber(ctx, n, domain.ReleaseKey(a.Sid, n.Sid)))
		again, err := acquire(t, s, org, b.Sid, domain.NumberPhone, "+15005550006")
		require.NoError(t, err)
		require.Equal(t, n.Sid, again.Sid, "the same number, back from the inventory")
		held, err := s.ListNumbers(ctx, b.Sid, domain.NumberPhone)
		require.NoError(t, err)
		require.Equal(t, []string{n.Sid}, sids(held, func(n domain.Number) string { return n.Sid }))
	})
}

func TestReleaseNumberAndStopCharge_ActOncePerKey(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "release")
		a := createAccount(t, s, org, org.Owner, "A", domain.AccountActive)
		n, err := acquire(t, s, org, a.Sid, domain.NumberShortCode, "80123")
		require.NoError(t, err)
		sub := subscribe(t, s, org, a.Sid)
		for i := 0; i < 3; i++ {
			require.NoError(t, s.ReleaseNumber(ctx, n, domain.ReleaseKey(a.Sid, n.Sid)))
			require.NoError(t, s.StopCharge(ctx, sub, domain.ReleaseKey(a.Sid, sub.Sid)))
		}
		rs, err := s.ListReleases(ctx, a.Sid)
		require.NoError(t, err)
		require.Len(t, rs, 2)
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventNumberReleased), 1)
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventChargeStopped), 1)
		subs, err := s.ListSubscriptions(ctx, a.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.SubscriptionStopped, subs[0].Status)
		require.NotNil(t, subs[0].DateStopped)
		held, err := s.ListNumbers(ctx, a.Sid, "")
		require.NoError(t, err)
		require.Empty(t, held)
	})
}

func TestBeginClosure_RefusesTheLastOpenAccountAndIsIdempotent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "closing")
		a := createAccount(t, s, org, org.Owner, "A", domain.AccountActive)
		purge := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		_, _, err := s.BeginClosure(ctx, org.Sid, a.Sid, purge, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)

		createAccount(t, s, org, org.Owner, "B", domain.AccountActive)
		got, started, err := s.BeginClosure(ctx, org.Sid, a.Sid, purge, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventClosureRequested, a.Sid, nil))
		require.NoError(t, err)
		require.True(t, started)
		require.Equal(t, domain.AccountPendingClosure, got.Status)
		require.True(t, purge.Equal(*got.PurgeAfter))
		again, started, err := s.BeginClosure(ctx, org.Sid, a.Sid, purge.Add(time.Hour), domain.AuditEvent{})
		require.NoError(t, err)
		require.False(t, started)
		require.True(t, purge.Equal(*again.PurgeAfter), "the running closure's purge time stays")
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventClosureRequested), 1)

		// Nothing new starts on it.
		err = s.CreateInvitation(ctx, domain.Invitation{Sid: newSID(domain.PrefixInvitation), OrganizationSid: org.Sid, AccountSid: a.Sid,
			Email: "late@elsewhere.example", Roles: []string{domain.RoleDeveloper}, InviterSid: org.Owner.Sid}, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)
		_, err = acquire(t, s, org, a.Sid, domain.NumberPhone, "+15005550007")
		requireCode(t, domain.CodeInvalidState, err)
	})
}

func TestAccountCredential_IsCutOffWhenItsAccountOrParentCloses(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "cutoff")
		createAccount(t, s, org, org.Owner, "Keep", domain.AccountActive)
		parent := createAccount(t, s, org, org.Owner, "Parent", domain.AccountActive)
		child, err := s.CreateAccount(ctx, domain.Account{Sid: newSID(domain.PrefixAccount), OrganizationSid: org.Sid, FriendlyName: "Child",
			Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: org.Owner.Sid, ParentSid: parent.Sid},
			domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: org.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
		cred := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: org.Sid, UserSid: org.Owner.Sid, SecretHash: "h", AccountSid: child.Sid}
		require.NoError(t, s.CreateCredential(ctx, cred, domain.AuditEvent{}))
		got, _, err := s.CredentialPrincipal(ctx, cred.Sid)
		require.NoError(t, err)
		require.Equal(t, child.Sid, got.AccountSid)

		_, _, err = s.BeginClosure(ctx, org.Sid, parent.Sid, time.Now().Add(time.Hour), domain.AuditEvent{})
		require.NoError(t, err)
		got, _, err = s.CredentialPrincipal(ctx, cred.Sid)
		requireCode(t, domain.CodeAccountNotActive, err)
		require.Equal(t, "h", got.SecretHash, "the secret can still be checked before the refusal is shown")
		_, _, err = s.CredentialPrincipal(ctx, org.Cred.Sid)
		require.NoError(t, err, "organization credentials are not cut off")
	})
}

func TestCloseReopenPurge_KeepWhoHadAccessAndLeaveATombstone(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "lifecycle")
		createAccount(t, s, org, org.Owner, "Keep", domain.AccountActive)
		a := createAccount(t, s, org, org.Owner, "A", domain.AccountActive)
		dev := createUser(t, s, org, "dev")
		mustGrant(t, s, org, a.Sid, dev.Sid, domain.RoleDeveloper)
		subscribe(t, s, org, a.Sid)
		_, _, err := s.BeginClosure(ctx, org.Sid, a.Sid, time.Now().Add(time.Hour), domain.AuditEvent{})
		require.NoError(t, err)
		requireCode(t, domain.CodeInvalidState, s.PurgeAccount(ctx, a.Sid, domain.AuditEvent{}))

		removed, err := s.RemoveAccountAccess(ctx, a.Sid, domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventAccessRemoved, a.Sid, nil))
		require.NoError(t, err)
		require.Len(t, removed, 2)
		again, err := s.RemoveAccountAccess(ctx, a.Sid, domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventAccessRemoved, a.Sid, nil))
		require.NoError(t, err)
		require.Empty(t, again)
		evs := eventsOf(t, s, org.Sid, domain.EventAccessRemoved)
		require.Len(t, evs, 1, "one record of who had access")
		require.Len(t, evs[0].Changes["removed"], 2)

		closed, err := s.MarkClosed(ctx, a.Sid, domain.AuditEvent{})
		require.NoError(t, err)
		require.Equal(t, domain.AccountClosed, closed.Status)
		require.NotNil(t, closed.DateClosed)

		reopened, err := s.ReopenAccount(ctx, a.Sid, domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventAccountReopened, a.Sid, nil))
		require.NoError(t, err)
		require.Equal(t, domain.AccountActive, reopened.Status)
		require.Nil(t, reopened.PurgeAfter)
		roles, err := s.RolesOn(ctx, a.Sid, org.Owner.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleOwner}, roles, "back with its owner")
		roles, err = s.RolesOn(ctx, a.Sid, dev.Sid)
		require.NoError(t, err)
		require.Empty(t, roles, "the others are not restored")

		_, _, err = s.BeginClosure(ctx, org.Sid, a.Sid, time.Now().Add(time.Hour), domain.AuditEvent{})
		require.NoError(t, err)
		_, err = s.MarkClosed(ctx, a.Sid, domain.AuditEvent{})
		require.NoError(t, err)
		require.NoError(t, s.PurgeAccount(ctx, a.Sid, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventAccountPurged, a.Sid, nil)))
		require.NoError(t, s.PurgeAccount(ctx, a.Sid, domain.AuditEvent{}), "purging again changes nothing")
		_, err = s.FindAccount(ctx, org.Sid, a.Sid)
		requireCode(t, domain.CodeAccountNotFound, err)
		subs, err := s.ListSubscriptions(ctx, a.Sid)
		require.NoError(t, err)
		require.Empty(t, subs)
		tomb := eventsOf(t, s, org.Sid, domain.EventAccountPurged)
		require.Len(t, tomb, 1)
		require.Equal(t, a.Sid, tomb[0].ResourceSid)
		require.Equal(t, org.Owner.Sid, tomb[0].Actor)
		require.NotEmpty(t, tomb[0].Changes["date_closed"])
	})
}

func TestGrants_RefusedOnAClosingAccount(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "nogrants")
		createAccount(t, s, org, org.Owner, "Keep", domain.AccountActive)
		a := createAccount(t, s, org, org.Owner, "A", domain.AccountActive)
		dev := createUser(t, s, org, "dev")
		_, _, err := s.BeginClosure(ctx, org.Sid, a.Sid, time.Now().Add(time.Hour), domain.AuditEvent{})
		require.NoError(t, err)
		_, err = grant(ctx, s, org, a.Sid, dev.Sid, domain.RoleDeveloper)
		requireCode(t, domain.CodeInvalidState, err)
		_, err = s.SetAccountUserRoles(ctx, domain.RoleChange{OrganizationSid: org.Sid, AccountSid: a.Sid, UserSid: dev.Sid,
			Roles: []string{domain.RoleSupport}, MayManageAdministrators: true}, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)
		roles, err := s.RolesOn(ctx, a.Sid, dev.Sid)
		require.NoError(t, err)
		require.Empty(t, roles)
	})
}
