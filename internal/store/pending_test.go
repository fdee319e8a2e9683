package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func opening(org fixtureOrg, owner domain.User, parent string) domain.AccountOpening {
	sid := newSID(domain.PrefixAccount)
	return domain.AccountOpening{
		Account: domain.Account{Sid: sid, OrganizationSid: org.Sid, FriendlyName: "Opened", Status: domain.AccountProvisioning,
			Kind: domain.AccountManaged, OwnerSid: owner.Sid, ParentSid: parent},
		Owner: domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: org.Sid, RoleSid: domain.RoleOwner, Scope: sid, Identity: owner.Sid},
		Creation: domain.AccountCreation{OrganizationSid: org.Sid, AccountSid: sid, FriendlyName: "Opened", OwnerSid: owner.Sid, ParentSid: parent,
			Actor: domain.Actor{UserSid: owner.Sid, RequestID: "RQ-opening"}},
		Events: []domain.AuditEvent{domain.NewAuditEvent(domain.Actor{UserSid: owner.Sid}, org.Sid, domain.EventAccountCreated, sid, nil)},
	}
}

// An account opened with its creation stays a pending creation until its
// start is confirmed or it leaves provisioning; opening it again changes
// nothing.
func TestOpenAccount_PendingUntilStartedOrActive(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		org := createOrg(t, s, "Opening")
		a, b := opening(org, org.Owner, ""), opening(org, org.Owner, "")
		creator := domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), RoleSid: domain.RoleAdministrator, Identity: createUser(t, s, org, "creator").Sid}
		b.Creator = &creator
		for _, o := range []domain.AccountOpening{a, b} {
			got, err := s.OpenAccount(ctx, o)
			require.NoError(t, err)
			require.Equal(t, domain.AccountProvisioning, got.Status)
		}
		roles, err := s.RolesOn(ctx, b.Account.Sid, creator.Identity)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleAdministrator}, roles, "the creator's role is persisted with the account")

		before := clk.Now()
		pending, err := s.PendingCreations(ctx, before, 10)
		require.NoError(t, err)
		require.Len(t, pending, 2)
		require.Equal(t, a.Creation, pending[0], "the creation comes back as it went in, oldest first")
		none, err := s.PendingCreations(ctx, a.Account.DateUpdated, 10)
		require.NoError(t, err)
		require.Empty(t, none, "nothing persisted before the cut-off")

		again, err := s.OpenAccount(ctx, a)
		require.NoError(t, err)
		require.Equal(t, a.Account.Sid, again.Sid)
		pending, err = s.PendingCreations(ctx, clk.Now(), 10)
		require.NoError(t, err)
		require.Len(t, pending, 2, "opening it again adds nothing")

		require.NoError(t, s.CreationStarted(ctx, a.Account.Sid))
		_, err = s.SetAccountStatus(ctx, b.Account.Sid, domain.AccountProvisioning, domain.AccountActive, domain.AuditEvent{})
		require.NoError(t, err)
		pending, err = s.PendingCreations(ctx, clk.Now(), 10)
		require.NoError(t, err)
		require.Empty(t, pending)
	})
}

// A subaccount is not opened under a parent that is closing: nothing is
// written, not even its pending creation.
func TestOpenAccount_RefusedParentWritesNothing(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		org := createOrg(t, s, "Refusing")
		parent := createAccount(t, s, org, org.Owner, "Closing parent", domain.AccountPendingClosure)
		o := opening(org, org.Owner, parent.Sid)
		_, err := s.OpenAccount(ctx, o)
		require.Error(t, err)
		_, err = s.FindAccount(ctx, org.Sid, o.Account.Sid)
		requireCode(t, domain.CodeAccountNotFound, err)
		pending, err := s.PendingCreations(ctx, clk.Now(), 10)
		require.NoError(t, err)
		require.Empty(t, pending)
	})
}
