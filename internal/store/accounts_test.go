package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func accountSid(a domain.Account) string { return a.Sid }

func TestCreateAccount_IsIdempotentPerSID(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		carol := createUser(t, s, acme, "carol")

		a := domain.Account{Sid: newSID(domain.PrefixAccount), OrganizationSid: acme.Sid, FriendlyName: "Main", Status: domain.AccountProvisioning, Kind: domain.AccountManaged, OwnerSid: bob.Sid, Flex: true}
		ra := domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: acme.Sid}
		ev := domain.NewAuditEvent(domain.Actor{UserSid: bob.Sid}, acme.Sid, domain.EventAccountCreated, a.Sid, nil)

		first, err := s.CreateAccount(ctx, a, ra, ev)
		require.NoError(t, err)
		assert.Equal(t, a.Sid, first.Sid)
		assert.Equal(t, "Main", first.FriendlyName)
		assert.Equal(t, domain.AccountProvisioning, first.Status)
		assert.Equal(t, bob.Sid, first.OwnerSid)
		assert.True(t, first.Flex)
		assert.Equal(t, 1, first.Version)
		assert.False(t, first.DateCreated.IsZero())

		// a retried activity: same SID, even with other details
		retry := a
		retry.FriendlyName, retry.OwnerSid = "Changed", carol.Sid
		ra2 := ra
		ra2.Sid = newSID(domain.PrefixRoleAssignment)
		second, err := s.CreateAccount(ctx, retry, ra2, ev)
		require.NoError(t, err)
		assert.Equal(t, first, second, "the retry returns the stored account")

		stored, err := s.FindAccount(ctx, acme.Sid, a.Sid)
		require.NoError(t, err)
		assert.Equal(t, first, stored)

		ras, err := s.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Scope: a.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Len(t, ras, 1, "one Owner role assignment")
		assert.Equal(t, ra.Sid, ras[0].Sid)
		assert.Equal(t, domain.RoleOwner, ras[0].RoleSid)
		assert.Equal(t, bob.Sid, ras[0].Identity)
		roles, err := s.RolesOn(ctx, a.Sid, carol.Sid)
		require.NoError(t, err)
		assert.Empty(t, roles)

		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountCreated), 1, "one creation event")
	})
}

func TestFindAccount_OutsideItsOrganizationIs25101(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		_, err := s.FindAccount(ctx, globex.Sid, a.Sid)
		requireCode(t, domain.CodeAccountNotFound, err)
		assert.Equal(t, domain.ENotFound, domain.ErrorKind(err))
		_, err = s.FindAccount(ctx, acme.Sid, newSID(domain.PrefixAccount))
		requireCode(t, domain.CodeAccountNotFound, err)
	})
}

func TestListAccounts_KeysetPagesForwardAndBackward(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		var all []string
		for i := 0; i < 7; i++ {
			all = append(all, createAccount(t, s, acme, acme.Owner, fmt.Sprintf("acct %d", i), domain.AccountActive).Sid)
		}
		all = sorted(all)

		page := func(req domain.PageRequest) domain.Page[domain.Account] {
			t.Helper()
			rows, err := s.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: acme.Sid, Page: req})
			require.NoError(t, err)
			return domain.PageFrom(req, rows)
		}
		// follow the tokens the API hands out
		follow := func(tok string) domain.Page[domain.Account] {
			t.Helper()
			req, err := domain.ParsePageToken(tok, domain.PrefixAccount, 3)
			require.NoError(t, err)
			return page(req)
		}
		check := func(p domain.Page[domain.Account], number int, want []string, next, prev bool) {
			t.Helper()
			assert.Equal(t, number, p.Number, "page number")
			assert.Equal(t, want, sids(p.Items, accountSid), "items of page %d", number)
			assert.Equal(t, next, p.HasNext, "HasNext on page %d", number)
			assert.Equal(t, prev, p.HasPrev, "HasPrev on page %d", number)
		}

		p0 := follow("")
		check(p0, 0, all[0:3], true, false)
		p1 := follow(domain.NextPageToken(p0.Number, p0.Items[2].Sid))
		check(p1, 1, all[3:6], true, true)
		p2 := follow(domain.NextPageToken(p1.Number, p1.Items[2].Sid))
		check(p2, 2, all[6:7], false, true)

		back1 := follow(domain.PrevPageToken(p2.Number, p2.Items[0].Sid))
		check(back1, 1, all[3:6], true, true)
		back0 := follow(domain.PrevPageToken(back1.Number, back1.Items[0].Sid))
		check(back0, 0, all[0:3], true, false)

		// the raw store query returns one row more than the page, in the
		// order of travel
		rows, err := s.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 3, Before: all[6]}})
		require.NoError(t, err)
		assert.Equal(t, []string{all[5], all[4], all[3], all[2]}, sids(rows, accountSid))
	})
}

func TestListAccounts_HidesProvisioningAndOtherOrganizationsAccounts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		var want []string
		for _, status := range []string{domain.AccountActive, domain.AccountSuspended, domain.AccountPendingClosure, domain.AccountClosed} {
			want = append(want, createAccount(t, s, acme, acme.Owner, status, status).Sid)
		}
		hidden := createAccount(t, s, acme, acme.Owner, "being made", domain.AccountProvisioning)
		createAccount(t, s, globex, globex.Owner, "theirs", domain.AccountActive)

		rows, err := s.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 50}})
		require.NoError(t, err)
		assert.Equal(t, sorted(want), sids(rows, accountSid))

		// FindAccount still returns it: callers decide what to show
		got, err := s.FindAccount(ctx, acme.Sid, hidden.Sid)
		require.NoError(t, err)
		assert.Equal(t, domain.AccountProvisioning, got.Status)
	})
}

func TestListAccounts_VisibleToKeepsAccountsWhereTheUserHoldsARole(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		carol := createUser(t, s, acme, "carol")
		a1 := createAccount(t, s, acme, acme.Owner, "one", domain.AccountActive)
		createAccount(t, s, acme, acme.Owner, "two", domain.AccountActive)
		a3 := createAccount(t, s, acme, acme.Owner, "three", domain.AccountActive)
		a4 := createAccount(t, s, acme, bob, "bob's own", domain.AccountActive)
		a5 := createAccount(t, s, acme, acme.Owner, "five", domain.AccountActive)
		mustGrant(t, s, acme, a1.Sid, bob.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, a3.Sid, bob.Sid, domain.RoleSupport)
		mustGrant(t, s, acme, a3.Sid, bob.Sid, domain.RoleBillingManager) // two roles, listed once
		mustGrant(t, s, acme, a5.Sid, carol.Sid, domain.RoleDeveloper)

		list := func(user string, req domain.PageRequest) []string {
			rows, err := s.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: acme.Sid, VisibleTo: user, Page: req})
			require.NoError(t, err)
			return sids(rows, accountSid)
		}
		want := sorted([]string{a1.Sid, a3.Sid, a4.Sid})
		assert.Equal(t, want, list(bob.Sid, domain.PageRequest{Size: 10}))
		assert.Equal(t, []string{a5.Sid}, list(carol.Sid, domain.PageRequest{Size: 10}))
		assert.Empty(t, list(newSID(domain.PrefixUser), domain.PageRequest{Size: 10}))
		assert.Len(t, list(acme.Owner.Sid, domain.PageRequest{Size: 10}), 4, "the owner holds Owner on four accounts")
		// paging works together with the filter
		assert.Equal(t, want[1:], list(bob.Sid, domain.PageRequest{Size: 10, After: want[0]}))
	})
}

func TestUpdateAccount_AppliesChangesRecordsThemAndBumpsVersion(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		a := createAccount(t, s, acme, acme.Owner, "Old name", domain.AccountActive)
		ev := domain.NewAuditEvent(domain.Actor{UserSid: acme.Owner.Sid, RequestID: "RQ1"}, acme.Sid, domain.EventAccountUpdated, a.Sid, nil)
		name, twoFA, same := "New name", true, "New name"

		got, err := s.UpdateAccount(ctx, acme.Sid, a.Sid, domain.AccountUpdate{FriendlyName: &name}, ev)
		require.NoError(t, err)
		assert.Equal(t, "New name", got.FriendlyName)
		assert.Equal(t, 2, got.Version)
		assert.True(t, got.DateUpdated.After(a.DateUpdated))
		assert.Equal(t, a.DateCreated, got.DateCreated)
		stored, err := s.FindAccount(ctx, acme.Sid, a.Sid)
		require.NoError(t, err)
		assert.Equal(t, got, stored)

		evs := eventsOf(t, s, acme.Sid, domain.EventAccountUpdated)
		require.Len(t, evs, 1)
		assert.Equal(t, a.Sid, evs[0].ResourceSid)
		assert.Equal(t, "RQ1", evs[0].RequestID)
		assert.Equal(t, map[string]any{"friendly_name": map[string]any{"from": "Old name", "to": "New name"}}, evs[0].Changes)

		got, err = s.UpdateAccount(ctx, acme.Sid, a.Sid, domain.AccountUpdate{FriendlyName: &same, Require2FA: &twoFA}, ev)
		require.NoError(t, err)
		assert.True(t, got.Require2FA)
		assert.Equal(t, 3, got.Version)
		evs = eventsOf(t, s, acme.Sid, domain.EventAccountUpdated)
		require.Len(t, evs, 2)
		assert.Equal(t, map[string]any{"require_2fa": map[string]any{"from": false, "to": true}}, evs[1].Changes,
			"only what changed is recorded")

		// nothing changes: no new version, no event
		got, err = s.UpdateAccount(ctx, acme.Sid, a.Sid, domain.AccountUpdate{FriendlyName: &same, Require2FA: &twoFA}, ev)
		require.NoError(t, err)
		assert.Equal(t, 3, got.Version)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountUpdated), 2)
	})
}

func TestUpdateAccount_RefusesAccountsThatAreNotActive(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		name := "New"
		upd := domain.AccountUpdate{FriendlyName: &name}
		ev := domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventAccountUpdated, "", nil)
		for _, status := range []string{domain.AccountSuspended, domain.AccountPendingClosure, domain.AccountClosed} {
			a := createAccount(t, s, acme, acme.Owner, "Old", status)
			_, err := s.UpdateAccount(ctx, acme.Sid, a.Sid, upd, ev)
			requireCode(t, domain.CodeInvalidState, err)
			stored, err := s.FindAccount(ctx, acme.Sid, a.Sid)
			require.NoError(t, err)
			assert.Equal(t, "Old", stored.FriendlyName, "status %s", status)
			assert.Equal(t, 1, stored.Version)
		}
		prov := createAccount(t, s, acme, acme.Owner, "Old", domain.AccountProvisioning)
		_, err := s.UpdateAccount(ctx, acme.Sid, prov.Sid, upd, ev)
		requireCode(t, domain.CodeAccountNotFound, err)
		active := createAccount(t, s, acme, acme.Owner, "Old", domain.AccountActive)
		_, err = s.UpdateAccount(ctx, globex.Sid, active.Sid, upd, ev)
		requireCode(t, domain.CodeAccountNotFound, err)
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventAccountUpdated))
	})
}

func TestSetAccountStatus(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountProvisioning)
		ev := domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventAccountActivated, a.Sid, nil)

		got, err := s.SetAccountStatus(ctx, a.Sid, domain.AccountProvisioning, domain.AccountActive, ev)
		require.NoError(t, err)
		assert.Equal(t, domain.AccountActive, got.Status)
		assert.Equal(t, 2, got.Version)
		stored, err := s.FindAccount(ctx, acme.Sid, a.Sid)
		require.NoError(t, err)
		assert.Equal(t, got, stored)
		evs := eventsOf(t, s, acme.Sid, domain.EventAccountActivated)
		require.Len(t, evs, 1)
		assert.Equal(t, map[string]any{"status": map[string]any{"from": "provisioning", "to": "active"}}, evs[0].Changes)

		t.Run("already in the target status is a no-op", func(t *testing.T) {
			again, err := s.SetAccountStatus(ctx, a.Sid, domain.AccountProvisioning, domain.AccountActive, ev)
			require.NoError(t, err)
			assert.Equal(t, got, again)
			assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountActivated), 1, "no second event")
		})
		t.Run("from a status the account is not in is 25019", func(t *testing.T) {
			_, err := s.SetAccountStatus(ctx, a.Sid, domain.AccountProvisioning, domain.AccountSuspended, ev)
			requireCode(t, domain.CodeInvalidState, err)
			assert.Equal(t, domain.EConflict, domain.ErrorKind(err))
			stored, err := s.FindAccount(ctx, acme.Sid, a.Sid)
			require.NoError(t, err)
			assert.Equal(t, domain.AccountActive, stored.Status)
			assert.Equal(t, 2, stored.Version)
		})
		t.Run("unknown account is 25101", func(t *testing.T) {
			_, err := s.SetAccountStatus(ctx, newSID(domain.PrefixAccount), domain.AccountActive, domain.AccountSuspended, ev)
			requireCode(t, domain.CodeAccountNotFound, err)
		})
	})
}

func TestDiscardAccount_RemovesOnlyAccountsStillBeingProvisioned(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		prov := createAccount(t, s, acme, acme.Owner, "failed", domain.AccountProvisioning)
		_, err := s.RecordAccountResource(ctx, domain.AccountResource{AccountSid: prov.Sid, Kind: domain.FlexProvisioningSteps[0]}, domain.AuditEvent{})
		require.NoError(t, err)
		active := createAccount(t, s, acme, acme.Owner, "live", domain.AccountActive)
		ev := domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventAccountDiscarded, prov.Sid, nil)

		err = s.DiscardAccount(ctx, active.Sid, ev)
		requireCode(t, domain.CodeInvalidState, err)
		_, err = s.FindAccount(ctx, acme.Sid, active.Sid)
		require.NoError(t, err, "an active account must survive")

		require.NoError(t, s.DiscardAccount(ctx, prov.Sid, ev))
		_, err = s.FindAccount(ctx, acme.Sid, prov.Sid)
		requireCode(t, domain.CodeAccountNotFound, err)
		ras, err := s.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Scope: prov.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		assert.Empty(t, ras)
		res, err := s.ListAccountResources(ctx, prov.Sid)
		require.NoError(t, err)
		assert.Empty(t, res)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountDiscarded), 1)

		// discarding again (a retried activity) is fine and records nothing
		require.NoError(t, s.DiscardAccount(ctx, prov.Sid, ev))
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountDiscarded), 1)
	})
}

func TestRecordAccountResource_IsIdempotentPerKind(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		a := createAccount(t, s, acme, acme.Owner, "flex", domain.AccountProvisioning)
		ev := domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventAccountProvisioned, a.Sid, nil)
		kind0, kind1 := domain.FlexProvisioningSteps[0], domain.FlexProvisioningSteps[1]

		first, err := s.RecordAccountResource(ctx, domain.AccountResource{AccountSid: a.Sid, Kind: kind0, ResourceSid: "WS00000000000000000000000000000001"}, ev)
		require.NoError(t, err)
		assert.Equal(t, "WS00000000000000000000000000000001", first.ResourceSid)
		assert.False(t, first.DateCreated.IsZero())

		again, err := s.RecordAccountResource(ctx, domain.AccountResource{AccountSid: a.Sid, Kind: kind0, ResourceSid: "WS00000000000000000000000000000002"}, ev)
		require.NoError(t, err)
		assert.Equal(t, first.ResourceSid, again.ResourceSid, "the first resource of a kind is kept")
		assert.True(t, first.DateCreated.Equal(again.DateCreated))

		generated, err := s.RecordAccountResource(ctx, domain.AccountResource{AccountSid: a.Sid, Kind: kind1}, ev)
		require.NoError(t, err)
		assert.Len(t, generated.ResourceSid, 34, "a resource SID is made up when none is given")

		list, err := s.ListAccountResources(ctx, a.Sid)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Equal(t, []string{kind0, kind1}, []string{list[0].Kind, list[1].Kind})
		assert.Equal(t, first.ResourceSid, list[0].ResourceSid)
		assert.Equal(t, generated.ResourceSid, list[1].ResourceSid)

		evs := eventsOf(t, s, acme.Sid, domain.EventAccountProvisioned)
		require.Len(t, evs, 2, "one event per kind, none for the repeat")
		assert.Equal(t, map[string]any{"kind": kind0, "resource_sid": first.ResourceSid}, evs[0].Changes)
	})
}
