package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func raSid(r domain.RoleAssignment) string { return r.Sid }

func TestCreateRoleAssignment_AppliesTheGrantRules(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		roles := func() []string {
			t.Helper()
			r, err := s.RolesOn(ctx, a.Sid, bob.Sid)
			require.NoError(t, err)
			return r
		}

		dev := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		assert.Equal(t, domain.RoleDeveloper, dev.RoleSid)
		assert.False(t, dev.DateCreated.IsZero())
		found, err := s.FindRoleAssignment(ctx, acme.Sid, dev.Sid)
		require.NoError(t, err)
		assert.Equal(t, dev, found)

		_, err = grant(ctx, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		requireCode(t, domain.CodeInvalidState, err)
		assert.Equal(t, domain.EConflict, domain.ErrorKind(err))

		mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleSupport)
		assert.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, roles())

		admin := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleAdministrator)
		assert.Equal(t, []string{domain.RoleAdministrator}, roles(), "Administrator supersedes the lesser roles")
		_, err = s.FindRoleAssignment(ctx, acme.Sid, dev.Sid)
		requireCode(t, domain.CodeRoleAssignmentMissing, err)

		evs := eventsOf(t, s, acme.Sid, domain.EventRoleAssigned)
		require.Len(t, evs, 3)
		assert.Equal(t, admin.Sid, evs[2].ResourceSid)
		require.Contains(t, evs[2].Changes, "superseded_roles")
		assert.ElementsMatch(t, []any{domain.RoleDeveloper, domain.RoleSupport}, evs[2].Changes["superseded_roles"])

		_, err = grant(ctx, s, acme, a.Sid, bob.Sid, domain.RoleBillingManager)
		requireCode(t, domain.CodeInvalidState, err)
		_, err = grant(ctx, s, acme, a.Sid, bob.Sid, domain.RoleAdministrator)
		requireCode(t, domain.CodeInvalidState, err)
		assert.Equal(t, []string{domain.RoleAdministrator}, roles())
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventRoleAssigned), 3, "refused grants leave no event")
	})
}

func TestCreateRoleAssignment_AdministratorKeepsTheOwnerRole(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		a := createAccount(t, s, acme, bob, "Bob's", domain.AccountActive)
		mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleAdministrator)
		roles, err := s.RolesOn(ctx, a.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, []string{domain.RoleOwner, domain.RoleAdministrator}, roles)
	})
}

func TestCreateRoleAssignment_ConcurrentGrantsStillFollowTheRules(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		const rounds = 15
		for i := 0; i < rounds; i++ {
			u := createUser(t, s, acme, fmt.Sprintf("user%d", i))
			// Administrator, Developer and Developer again, all at once:
			// whatever the order, the user ends up Administrator alone,
			// and every refusal is a clean 25019.
			grants := []string{domain.RoleAdministrator, domain.RoleDeveloper, domain.RoleDeveloper}
			errs := make([]error, len(grants))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for j, role := range grants {
				wg.Add(1)
				go func(j int, role string) {
					defer wg.Done()
					<-start
					_, errs[j] = grant(ctx, s, acme, a.Sid, u.Sid, role)
				}(j, role)
			}
			close(start)
			wg.Wait()
			require.NoError(t, errs[0], "round %d: the Administrator grant can always be applied", i)
			for _, err := range errs[1:] {
				if err != nil {
					requireCode(t, domain.CodeInvalidState, err)
				}
			}
			roles, err := s.RolesOn(ctx, a.Sid, u.Sid)
			require.NoError(t, err)
			require.Equal(t, []string{domain.RoleAdministrator}, roles, "round %d: roles after concurrent grants", i)
		}
	})
}

func TestRoleAssignments_ExactlyOneOwnerPerAccount(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		insert := func(role string) error {
			return s.DB().Exec("INSERT INTO role_assignments (sid, organization_sid, role_sid, scope, identity, date_created) VALUES (?, ?, ?, ?, ?, ?)",
				newSID(domain.PrefixRoleAssignment), acme.Sid, role, a.Sid, bob.Sid, time.Now().UTC()).Error
		}
		require.NoError(t, insert(domain.RoleDeveloper), "the raw insert itself works")
		assert.Error(t, insert(domain.RoleOwner), "a second Owner on one account was accepted")

		roles, err := s.RolesOn(context.Background(), a.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, []string{domain.RoleDeveloper}, roles)
	})
}

func TestDeleteRoleAssignment(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		dev := mustGrant(t, s, acme, a.Sid, bob.Sid, domain.RoleDeveloper)
		owner, err := s.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Scope: a.Sid, Identity: acme.Owner.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Len(t, owner, 1)
		ev := domain.NewAuditEvent(domain.Actor{UserSid: acme.Owner.Sid}, acme.Sid, domain.EventRoleRemoved, dev.Sid, nil)

		err = s.DeleteRoleAssignment(ctx, acme.Sid, owner[0].Sid, ev)
		requireCode(t, domain.CodeInvalidState, err)
		_, err = s.FindRoleAssignment(ctx, acme.Sid, owner[0].Sid)
		require.NoError(t, err, "the Owner assignment must survive")

		requireCode(t, domain.CodeRoleAssignmentMissing, s.DeleteRoleAssignment(ctx, globex.Sid, dev.Sid, ev))
		_, err = s.FindRoleAssignment(ctx, globex.Sid, dev.Sid)
		requireCode(t, domain.CodeRoleAssignmentMissing, err)

		require.NoError(t, s.DeleteRoleAssignment(ctx, acme.Sid, dev.Sid, ev))
		_, err = s.FindRoleAssignment(ctx, acme.Sid, dev.Sid)
		requireCode(t, domain.CodeRoleAssignmentMissing, err)
		roles, err := s.RolesOn(ctx, a.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Empty(t, roles)
		evs := eventsOf(t, s, acme.Sid, domain.EventRoleRemoved)
		require.Len(t, evs, 1)
		assert.Equal(t, map[string]any{"role_sid": domain.RoleDeveloper, "scope": a.Sid, "identity": bob.Sid}, evs[0].Changes)

		requireCode(t, domain.CodeRoleAssignmentMissing, s.DeleteRoleAssignment(ctx, acme.Sid, dev.Sid, ev))
	})
}

func TestListRoleAssignments_FiltersAndPages(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		a1 := createAccount(t, s, acme, acme.Owner, "one", domain.AccountActive)
		a2 := createAccount(t, s, acme, acme.Owner, "two", domain.AccountActive)
		createAccount(t, s, globex, globex.Owner, "theirs", domain.AccountActive)
		var bobs []string
		bobs = append(bobs, mustGrant(t, s, acme, a1.Sid, bob.Sid, domain.RoleDeveloper).Sid)
		bobs = append(bobs, mustGrant(t, s, acme, a1.Sid, bob.Sid, domain.RoleSupport).Sid)
		bobs = append(bobs, mustGrant(t, s, acme, a2.Sid, bob.Sid, domain.RoleBillingManager).Sid)
		bobs = sorted(bobs)

		list := func(f domain.RoleAssignmentFilter) []string {
			t.Helper()
			rows, err := s.ListRoleAssignments(ctx, f)
			require.NoError(t, err)
			return sids(rows, raSid)
		}
		assert.Equal(t, bobs, list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 10}}))
		assert.Len(t, list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Scope: a1.Sid, Page: domain.PageRequest{Size: 10}}), 3, "owner plus bob's two")
		assert.Len(t, list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Scope: a2.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 10}}), 1)
		assert.Empty(t, list(domain.RoleAssignmentFilter{OrganizationSid: globex.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 10}}))
		assert.Empty(t, list(domain.RoleAssignmentFilter{OrganizationSid: globex.Sid, Scope: a1.Sid, Page: domain.PageRequest{Size: 10}}))

		// keyset: Size+1 rows, forwards and backwards
		assert.Equal(t, bobs[:2], list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 1}}))
		assert.Equal(t, bobs[1:], list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 5, After: bobs[0]}}))
		assert.Equal(t, []string{bobs[1], bobs[0]}, list(domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 5, Before: bobs[2]}}))
	})
}
