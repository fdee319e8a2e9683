package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func accountUserSid(u domain.AccountUser) string { return u.User.Sid }

// rolesOf returns the roles user holds on account, in role SID order.
func rolesOf(t *testing.T, s *store.Store, account, user string) []string {
	t.Helper()
	roles, err := s.RolesOn(context.Background(), account, user)
	require.NoError(t, err)
	return roles
}

// assignmentsOf returns the role assignments on an account, by role SID
// then identity.
func assignmentsOf(t *testing.T, s *store.Store, account string) []domain.RoleAssignment {
	t.Helper()
	var rows []struct {
		Sid, RoleSid, Identity string
	}
	require.NoError(t, s.DB().Raw("SELECT sid, role_sid, identity FROM role_assignments WHERE scope = ? ORDER BY role_sid, identity", account).Scan(&rows).Error)
	out := make([]domain.RoleAssignment, len(rows))
	for i, r := range rows {
		out[i] = domain.RoleAssignment{Sid: r.Sid, RoleSid: r.RoleSid, Scope: account, Identity: r.Identity}
	}
	return out
}

func findAccount(t *testing.T, s *store.Store, org, sid string) domain.Account {
	t.Helper()
	a, err := s.FindAccount(context.Background(), org, sid)
	require.NoError(t, err)
	return a
}

func setRoles(s *store.Store, org fixtureOrg, account, user string, mayAdmins bool, roles ...string) (domain.AccountUser, error) {
	return s.SetAccountUserRoles(context.Background(), domain.RoleChange{
		OrganizationSid: org.Sid, AccountSid: account, UserSid: user, Roles: roles, MayManageAdministrators: mayAdmins,
	}, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventAccountUserRolesSet, account, nil))
}

func removeUser(s *store.Store, org fixtureOrg, account, user string, mayAdmins bool) error {
	return s.RemoveAccountUser(context.Background(), domain.RoleChange{
		OrganizationSid: org.Sid, AccountSid: account, UserSid: user, MayManageAdministrators: mayAdmins,
	}, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventAccountUserRemoved, account, nil))
}

func transfer(s *store.Store, org fixtureOrg, account, newOwner string, expectVersion int) (domain.TransferredOwnership, error) {
	return s.TransferOwnership(context.Background(), domain.OwnershipTransfer{
		OrganizationSid: org.Sid, AccountSid: account, NewOwnerSid: newOwner, ExpectVersion: expectVersion,
	}, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventOwnershipTransferred, account, nil))
}

func TestListAccountUsers_FiltersAndPages(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob", func(u *domain.User) { u.DisplayName = "Bob B." })
		carol := createUser(t, s, acme, "carol")
		dave := createUser(t, s, acme, "dave")
		createUser(t, s, acme, "erin") // no role anywhere
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		other := createAccount(t, s, acme, acme.Owner, "Other", domain.AccountActive)
		mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleSupport)
		mustGrant(t, s, acme, a.Sid, carol.Sid, domain.RoleAdministrator)
		mustGrant(t, s, acme, a.Sid, dave.Sid, domain.RoleBillingManager)
		mustGrant(t, s, acme, other.Sid, dave.Sid, domain.RoleDeveloper)
		createAccount(t, s, globex, globex.Owner, "Theirs", domain.AccountActive)

		list := func(f domain.AccountUserFilter) []domain.AccountUser {
			t.Helper()
			if f.OrganizationSid == "" {
				f.OrganizationSid = acme.Sid
			}
			if f.AccountSid == "" {
				f.AccountSid = a.Sid
			}
			got, err := s.ListAccountUsers(ctx, f)
			require.NoError(t, err)
			return got
		}
		everyone := sorted([]string{acme.Owner.Sid, bob.Sid, carol.Sid, dave.Sid})
		all := list(domain.AccountUserFilter{Page: domain.PageRequest{Size: 10}})
		require.Equal(t, everyone, sids(all, accountUserSid), "each user once, by SID")
		byUser := map[string]domain.AccountUser{}
		for _, u := range all {
			byUser[u.User.Sid] = u
			assert.Equal(t, a.Sid, u.AccountSid)
		}
		assert.Equal(t, []string{domain.RoleOwner}, byUser[acme.Owner.Sid].Roles)
		assert.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, byUser[bob.Sid].Roles)
		assert.Equal(t, []string{domain.RoleAdministrator}, byUser[carol.Sid].Roles)
		assert.Equal(t, []string{domain.RoleBillingManager}, byUser[dave.Sid].Roles, "not the roles on another account")
		assert.Equal(t, bob, byUser[bob.Sid].User, "the whole user")

		t.Run("Role", func(t *testing.T) {
			got := list(domain.AccountUserFilter{Role: domain.RoleSupport, Page: domain.PageRequest{Size: 10}})
			require.Equal(t, []string{bob.Sid}, sids(got, accountUserSid))
			assert.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, got[0].Roles, "listed with all its roles")
			assert.Equal(t, []string{acme.Owner.Sid}, sids(list(domain.AccountUserFilter{Role: domain.RoleOwner, Page: domain.PageRequest{Size: 10}}), accountUserSid))
			assert.Empty(t, list(domain.AccountUserFilter{AccountSid: other.Sid, Role: domain.RoleSupport, Page: domain.PageRequest{Size: 10}}))
		})

		t.Run("Keyset", func(t *testing.T) {
			assert.Equal(t, everyone[:3], sids(list(domain.AccountUserFilter{Page: domain.PageRequest{Size: 2}}), accountUserSid), "Size+1 users")
			after := list(domain.AccountUserFilter{Page: domain.PageRequest{Size: 2, After: everyone[1]}})
			assert.Equal(t, everyone[2:], sids(after, accountUserSid))
			before := list(domain.AccountUserFilter{Page: domain.PageRequest{Size: 2, Before: everyone[3]}})
			assert.Equal(t, []string{everyone[2], everyone[1], everyone[0]}, sids(before, accountUserSid), "backwards, in the order of travel")
			for _, u := range append(after, before...) {
				assert.Equal(t, byUser[u.User.Sid].Roles, u.Roles, "a page keeps every role of its users")
			}
		})

		t.Run("OtherOrganization", func(t *testing.T) {
			assert.Empty(t, list(domain.AccountUserFilter{OrganizationSid: globex.Sid, Page: domain.PageRequest{Size: 10}}))
		})
	})
}

func TestSetAccountUserRoles_ReplacesTheSetAndRecordsIt(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		dev := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)

		got, err := setRoles(s, acme, a.Sid, bob.Sid, false, domain.RoleDeveloper, domain.RoleSupport)
		require.NoError(t, err)
		assert.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, got.Roles)
		assert.Equal(t, bob.Sid, got.User.Sid)
		assert.Equal(t, a.Sid, got.AccountSid)
		assert.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, rolesOf(t, s, a.Sid, bob.Sid))
		_, err = s.FindRoleAssignment(context.Background(), acme.Sid, dev.Sid)
		require.NoError(t, err, "a role kept keeps its assignment")

		got, err = setRoles(s, acme, a.Sid, bob.Sid, false, domain.RoleBillingManager)
		require.NoError(t, err)
		assert.Equal(t, []string{domain.RoleBillingManager}, got.Roles)
		assert.Equal(t, []string{domain.RoleBillingManager}, rolesOf(t, s, a.Sid, bob.Sid))

		evs := eventsOf(t, s, acme.Sid, domain.EventAccountUserRolesSet)
		require.Len(t, evs, 2)
		assert.Equal(t, a.Sid, evs[1].ResourceSid)
		assert.Equal(t, bob.Sid, evs[1].Changes["user_sid"])
		assert.Equal(t, map[string]any{"from": []any{domain.RoleDeveloper, domain.RoleSupport}, "to": []any{domain.RoleBillingManager}}, evs[1].Changes["roles"])
		assert.Len(t, evs[1].Changes["assignments_deleted"], 2)
		assert.Len(t, evs[1].Changes["assignments_created"], 1)

		got, err = setRoles(s, acme, a.Sid, bob.Sid, false, domain.RoleBillingManager)
		require.NoError(t, err)
		assert.Equal(t, []string{domain.RoleBillingManager}, got.Roles)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventAccountUserRolesSet), 2, "the same set changes nothing and records nothing")

		t.Run("NewUser", func(t *testing.T) {
			carol := createUser(t, s, acme, "carol")
			got, err := setRoles(s, acme, a.Sid, carol.Sid, false, domain.RoleSupport)
			require.NoError(t, err)
			assert.Equal(t, []string{domain.RoleSupport}, got.Roles)
			assert.Equal(t, []string{domain.RoleSupport}, rolesOf(t, s, a.Sid, carol.Sid))
		})
	})
}

func TestSetAccountUserRoles_Refusals(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		admin := createUser(t, s, acme, "admin")
		inactive := createUser(t, s, acme, "inactive", func(u *domain.User) { u.Active = false })
		stranger := createUser(t, s, globex, "stranger")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		closed := createAccount(t, s, acme, acme.Owner, "Closed", domain.AccountClosed)
		provisioning := createAccount(t, s, acme, acme.Owner, "New", domain.AccountProvisioning)
		theirs := createAccount(t, s, globex, globex.Owner, "Theirs", domain.AccountActive)
		mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, a.Sid, admin.Sid, domain.RoleAdministrator)
		before := assignmentsOf(t, s, a.Sid)

		cases := []struct {
			name      string
			account   string
			user      string
			mayAdmins bool
			roles     []string
			code      int
		}{
			{"TheOwner", a.Sid, acme.Owner.Sid, true, []string{domain.RoleAdministrator}, domain.CodeInvalidState},
			{"GrantAdministratorWithoutTheRight", a.Sid, bob.Sid, false, []string{domain.RoleAdministrator}, domain.CodeForbidden},
			{"DemoteAdministratorWithoutTheRight", a.Sid, admin.Sid, false, []string{domain.RoleDeveloper}, domain.CodeForbidden},
			{"InactiveUser", a.Sid, inactive.Sid, true, []string{domain.RoleSupport}, domain.CodeIdentityNotManaged},
			{"UserOfAnotherOrganization", a.Sid, stranger.Sid, true, []string{domain.RoleSupport}, domain.CodeIdentityNotManaged},
			{"UnknownUser", a.Sid, newSID(domain.PrefixUser), true, []string{domain.RoleSupport}, domain.CodeIdentityNotManaged},
			{"ClosedAccount", closed.Sid, bob.Sid, true, []string{domain.RoleSupport}, domain.CodeRoleScopeNotManaged},
			{"AccountBeingProvisioned", provisioning.Sid, bob.Sid, true, []string{domain.RoleSupport}, domain.CodeAccountNotFound},
			{"AccountOfAnotherOrganization", theirs.Sid, bob.Sid, true, []string{domain.RoleSupport}, domain.CodeAccountNotFound},
			{"UnknownAccount", newSID(domain.PrefixAccount), bob.Sid, true, []string{domain.RoleSupport}, domain.CodeAccountNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				_, err := setRoles(s, acme, tc.account, tc.user, tc.mayAdmins, tc.roles...)
				requireCode(t, tc.code, err)
			})
		}
		assert.Equal(t, before, assignmentsOf(t, s, a.Sid), "nothing changed")
		assert.Empty(t, assignmentsOf(t, s, closed.Sid)[1:], "nothing granted on the closed account")
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventAccountUserRolesSet))

		t.Run("IndependentAccount", func(t *testing.T) {
			outsider := domain.User{Sid: newSID(domain.PrefixUser), UserName: "outsider@elsewhere.test", Active: true}
			require.NoError(t, s.CreateUser(context.Background(), outsider, domain.AuditEvent{}))
			ind := domain.Account{Sid: newSID(domain.PrefixAccount), OrganizationSid: acme.Sid, FriendlyName: "Shared", Status: domain.AccountActive, Kind: domain.AccountIndependent, OwnerSid: outsider.Sid}
			_, err := s.CreateAccount(context.Background(), ind, domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: acme.Sid}, domain.AuditEvent{})
			require.NoError(t, err)
			_, err = setRoles(s, acme, ind.Sid, bob.Sid, true, domain.RoleSupport)
			requireCode(t, domain.CodeRoleScopeNotManaged, err)
		})
	})
}

func TestRemoveAccountUser(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		admin := createUser(t, s, acme, "admin")
		nobody := createUser(t, s, acme, "nobody")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		other := createAccount(t, s, acme, acme.Owner, "Other", domain.AccountActive)
		dev := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		sup := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleSupport)
		mustGrant(t, s, acme, other.Sid, bob.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, a.Sid, admin.Sid, domain.RoleAdministrator)

		requireCode(t, domain.CodeInvalidState, removeUser(s, acme, a.Sid, acme.Owner.Sid, true))
		requireCode(t, domain.CodeForbidden, removeUser(s, acme, a.Sid, admin.Sid, false))
		requireCode(t, domain.CodeRoleAssignmentMissing, removeUser(s, acme, a.Sid, nobody.Sid, true))
		requireCode(t, domain.CodeAccountNotFound, removeUser(s, acme, newSID(domain.PrefixAccount), bob.Sid, true))
		assert.Equal(t, []string{domain.RoleOwner}, rolesOf(t, s, a.Sid, acme.Owner.Sid))
		assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, admin.Sid))
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventAccountUserRemoved))

		require.NoError(t, removeUser(s, acme, a.Sid, bob.Sid, false))
		assert.Empty(t, rolesOf(t, s, a.Sid, bob.Sid))
		assert.Equal(t, []string{domain.RoleDeveloper}, rolesOf(t, s, other.Sid, bob.Sid), "the other account is untouched")
		requireCode(t, domain.CodeRoleAssignmentMissing, removeUser(s, acme, a.Sid, bob.Sid, false))

		require.NoError(t, removeUser(s, acme, a.Sid, admin.Sid, true))
		assert.Empty(t, rolesOf(t, s, a.Sid, admin.Sid))

		evs := eventsOf(t, s, acme.Sid, domain.EventAccountUserRemoved)
		require.Len(t, evs, 2)
		assert.Equal(t, a.Sid, evs[0].ResourceSid)
		assert.Equal(t, map[string]any{
			"user_sid":            bob.Sid,
			"roles":               map[string]any{"from": []any{domain.RoleDeveloper, domain.RoleSupport}, "to": []any{}},
			"assignments_deleted": []any{dev.Sid, sup.Sid},
		}, evs[0].Changes)
	})
}

func TestTransferOwnership_MovesTheOwnerRoleAndKeepsTheFormerOwnerAsAdministrator(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		carol := createUser(t, s, acme, "carol")
		a := createAccount(t, s, acme, bob, "Main", domain.AccountActive)
		mustGrant(t, s, acme, a.Sid, carol.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, a.Sid, carol.Sid, domain.RoleSupport)

		got, err := transfer(s, acme, a.Sid, carol.Sid, a.Version)
		require.NoError(t, err)
		assert.True(t, got.Changed())
		assert.Equal(t, bob.Sid, got.FormerOwner.Sid)
		assert.Equal(t, carol.Sid, got.NewOwner.Sid)
		assert.Equal(t, carol.Sid, got.Account.OwnerSid)
		assert.Equal(t, a.Version+1, got.Account.Version)
		stored := findAccount(t, s, acme.Sid, a.Sid)
		assert.Equal(t, got.Account, stored)
		assert.Equal(t, []string{domain.RoleOwner}, rolesOf(t, s, a.Sid, carol.Sid), "Owner supersedes the new owner's roles")
		assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, bob.Sid))

		evs := eventsOf(t, s, acme.Sid, domain.EventOwnershipTransferred)
		require.Len(t, evs, 1)
		assert.Equal(t, a.Sid, evs[0].ResourceSid)
		assert.Equal(t, map[string]any{"from": bob.Sid, "to": carol.Sid}, evs[0].Changes["owner_sid"])
		assert.Equal(t, map[string]any{"from": []any{domain.RoleOwner}, "to": []any{domain.RoleAdministrator}}, evs[0].Changes["former_owner_roles"])
		assert.Equal(t, map[string]any{"from": []any{domain.RoleDeveloper, domain.RoleSupport}, "to": []any{domain.RoleOwner}}, evs[0].Changes["new_owner_roles"])
		assert.Len(t, evs[0].Changes["assignments_deleted"], 3)
		assert.Len(t, evs[0].Changes["assignments_created"], 2)

		t.Run("BackToAFormerOwnerWhoIsAdministrator", func(t *testing.T) {
			adminRA := assignmentsOf(t, s, a.Sid)
			got, err := transfer(s, acme, a.Sid, bob.Sid, stored.Version)
			require.NoError(t, err)
			assert.Equal(t, bob.Sid, got.Account.OwnerSid)
			assert.Equal(t, []string{domain.RoleOwner}, rolesOf(t, s, a.Sid, bob.Sid))
			assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, carol.Sid))
			assert.NotEqual(t, adminRA, assignmentsOf(t, s, a.Sid))
		})

		t.Run("FormerOwnerAlreadyAdministratorKeepsThatAssignment", func(t *testing.T) {
			cur := findAccount(t, s, acme.Sid, a.Sid)
			adm := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleAdministrator) // Owner and Administrator
			_, err := transfer(s, acme, a.Sid, carol.Sid, cur.Version)
			require.NoError(t, err)
			assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, bob.Sid))
			_, err = s.FindRoleAssignment(context.Background(), acme.Sid, adm.Sid)
			assert.NoError(t, err)
		})

		t.Run("ToTheCurrentOwnerChangesNothing", func(t *testing.T) {
			cur := findAccount(t, s, acme.Sid, a.Sid)
			before := assignmentsOf(t, s, a.Sid)
			n := len(eventsOf(t, s, acme.Sid, domain.EventOwnershipTransferred))
			got, err := transfer(s, acme, a.Sid, cur.OwnerSid, cur.Version)
			require.NoError(t, err)
			assert.False(t, got.Changed())
			assert.Equal(t, cur, got.Account)
			assert.Equal(t, cur, findAccount(t, s, acme.Sid, a.Sid))
			assert.Equal(t, before, assignmentsOf(t, s, a.Sid))
			assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventOwnershipTransferred), n)
		})
	})
}

func TestTransferOwnership_Refusals(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		inactive := createUser(t, s, acme, "inactive", func(u *domain.User) { u.Active = false })
		stranger := createUser(t, s, globex, "stranger")
		outsider := domain.User{Sid: newSID(domain.PrefixUser), UserName: "outsider@elsewhere.test", Active: true}
		require.NoError(t, s.CreateUser(ctx, outsider, domain.AuditEvent{}))
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		ind := domain.Account{Sid: newSID(domain.PrefixAccount), OrganizationSid: acme.Sid, FriendlyName: "Shared", Status: domain.AccountActive, Kind: domain.AccountIndependent, OwnerSid: outsider.Sid}
		_, err := s.CreateAccount(ctx, ind, domain.RoleAssignment{Sid: newSID(domain.PrefixRoleAssignment), OrganizationSid: acme.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
		closing := createAccount(t, s, acme, acme.Owner, "Closing", domain.AccountPendingClosure)
		closed := createAccount(t, s, acme, acme.Owner, "Closed", domain.AccountClosed)
		provisioning := createAccount(t, s, acme, acme.Owner, "New", domain.AccountProvisioning)
		theirs := createAccount(t, s, globex, globex.Owner, "Theirs", domain.AccountActive)

		cases := []struct {
			name     string
			account  string
			newOwner string
			version  int
			code     int
			kind     string
		}{
			{"StaleVersion", a.Sid, bob.Sid, a.Version + 1, domain.CodeVersionConflict, domain.EConflict},
			{"InactiveUser", a.Sid, inactive.Sid, a.Version, domain.CodeOwnerNotManaged, domain.EInvalid},
			{"UserOfAnotherOrganization", a.Sid, stranger.Sid, a.Version, domain.CodeOwnerNotManaged, domain.EInvalid},
			{"ExternalUser", a.Sid, outsider.Sid, a.Version, domain.CodeOwnerNotManaged, domain.EInvalid},
			{"UnknownUser", a.Sid, newSID(domain.PrefixUser), a.Version, domain.CodeOwnerNotManaged, domain.EInvalid},
			{"IndependentAccount", ind.Sid, bob.Sid, 0, domain.CodeAccountNotManaged, domain.EInvalid},
			{"PendingClosure", closing.Sid, bob.Sid, 0, domain.CodeInvalidState, domain.EConflict},
			{"Closed", closed.Sid, bob.Sid, 0, domain.CodeInvalidState, domain.EConflict},
			{"BeingProvisioned", provisioning.Sid, bob.Sid, 0, domain.CodeAccountNotFound, domain.ENotFound},
			{"AccountOfAnotherOrganization", theirs.Sid, bob.Sid, 0, domain.CodeAccountNotFound, domain.ENotFound},
			{"UnknownAccount", newSID(domain.PrefixAccount), bob.Sid, 0, domain.CodeAccountNotFound, domain.ENotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var before domain.Account
				if tc.kind != domain.ENotFound {
					before = findAccount(t, s, acme.Sid, tc.account)
				}
				_, err := transfer(s, acme, tc.account, tc.newOwner, tc.version)
				requireCode(t, tc.code, err)
				assert.Equal(t, tc.kind, domain.ErrorKind(err))
				if tc.kind != domain.ENotFound {
					assert.Equal(t, before, findAccount(t, s, acme.Sid, tc.account), "the account is unchanged")
					owners := assignmentsOf(t, s, tc.account)
					require.Len(t, owners, 1)
					assert.Equal(t, before.OwnerSid, owners[0].Identity, "the roles are unchanged")
				}
			})
		}
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventOwnershipTransferred))
	})
}

// Twenty transfers of one account, each to another user, all at once: the
// account ends with one Owner who is its owner_sid, the former owners are
// Administrators, and every refusal is a clean 25020. Against the version
// they all read, exactly one transfer wins; without a version, some may
// follow the winner.
func TestTransferOwnership_ConcurrentTransfersLeaveExactlyOneOwner(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		const n = 20
		users := make([]domain.User, n)
		for i := range users {
			users[i] = createUser(t, s, acme, fmt.Sprintf("user%02d", i))
		}
		for _, expect := range []string{"ReadVersion", "AnyVersion"} {
			t.Run(expect, func(t *testing.T) {
				a := createAccount(t, s, acme, acme.Owner, expect, domain.AccountActive)
				held := make([][]string, n)
				for i, u := range users {
					if i%2 == 0 {
						mustGrant(t, s, acme, a.Sid, u.Sid, domain.RoleDeveloper)
					}
					held[i] = rolesOf(t, s, a.Sid, u.Sid)
				}
				version := a.Version
				if expect == "AnyVersion" {
					version = 0
				}
				errs := make([]error, n)
				var wg sync.WaitGroup
				gate := make(chan struct{})
				for i := range users {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-gate
						_, errs[i] = transfer(s, acme, a.Sid, users[i].Sid, version)
					}()
				}
				close(gate)
				wg.Wait()

				var won []string
				for i, err := range errs {
					if err == nil {
						won = append(won, users[i].Sid)
						continue
					}
					requireCode(t, domain.CodeVersionConflict, err)
					assert.Equal(t, held[i], rolesOf(t, s, a.Sid, users[i].Sid), "a refused transfer changes no role")
				}
				require.NotEmpty(t, won)
				if version != 0 {
					require.Len(t, won, 1, "only one transfer can apply to the version all of them read")
				}
				end := findAccount(t, s, acme.Sid, a.Sid)
				assert.Equal(t, a.Version+len(won), end.Version, "one version per transfer")
				var owners []string
				for _, ra := range assignmentsOf(t, s, a.Sid) {
					if ra.RoleSid == domain.RoleOwner {
						owners = append(owners, ra.Identity)
					}
				}
				require.Equal(t, []string{end.OwnerSid}, owners, "exactly one Owner row, and it is owner_sid")
				assert.Contains(t, won, end.OwnerSid)
				assert.Equal(t, []string{domain.RoleOwner}, rolesOf(t, s, a.Sid, end.OwnerSid))
				assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, acme.Owner.Sid), "the former owner stays as Administrator")
				for _, sid := range won {
					if sid != end.OwnerSid {
						assert.Equal(t, []string{domain.RoleAdministrator}, rolesOf(t, s, a.Sid, sid), "an owner in between stays as Administrator")
					}
				}
				var evs int
				for _, ev := range eventsOf(t, s, acme.Sid, domain.EventOwnershipTransferred) {
					if ev.ResourceSid == a.Sid {
						evs++
					}
				}
				assert.Equal(t, len(won), evs, "one event per transfer")
			})
		}
	})
}
