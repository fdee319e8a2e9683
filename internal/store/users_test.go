package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestCreateUser_StoresEveryFieldAndAnEvent(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		org := createOrg(t, s, "acme")
		u := createUser(t, s, org, "bob", func(u *domain.User) {
			u.ExternalID, u.GivenName, u.FamilyName, u.DisplayName = "ext-1", "Bob", "Builder", "Bob B."
			u.OrgRole, u.TwoFactorEnrolled, u.Locale, u.Timezone = domain.OrgRoleAdministrator, true, "en-GB", "Europe/London"
		})
		assert.Equal(t, "bob@acme.example.com", u.UserName)
		assert.Equal(t, org.Sid, u.OrganizationSid)
		assert.Equal(t, "ext-1", u.ExternalID)
		assert.Equal(t, "Bob", u.GivenName)
		assert.Equal(t, "Builder", u.FamilyName)
		assert.Equal(t, "Bob B.", u.DisplayName)
		assert.Equal(t, domain.OrgRoleAdministrator, u.OrgRole)
		assert.True(t, u.TwoFactorEnrolled)
		assert.True(t, u.Managed)
		assert.True(t, u.Active)
		assert.Equal(t, "en-GB", u.Locale)
		assert.Equal(t, "Europe/London", u.Timezone)
		assert.Equal(t, 1, u.Version)
		assert.False(t, u.DateCreated.IsZero())
		assert.Equal(t, u.DateCreated, u.DateUpdated)

		evs := eventsOf(t, s, org.Sid, domain.EventUserCreated)
		require.Len(t, evs, 1)
		assert.Equal(t, u.Sid, evs[0].ResourceSid)
		assert.Equal(t, org.Owner.Sid, evs[0].Actor)
	})
}

func TestCreateUser_DuplicatesAre25022(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		createUser(t, s, acme, "bob", func(u *domain.User) { u.ExternalID = "ext-1" })

		try := func(org fixtureOrg, userName, externalID string) error {
			u := domain.User{Sid: newSID(domain.PrefixUser), OrganizationSid: org.Sid, UserName: userName, ExternalID: externalID, Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
			return s.CreateUser(ctx, u, domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventUserCreated, u.Sid, nil))
		}

		err := try(acme, "bob@acme.example.com", "")
		requireCode(t, domain.CodeDuplicateUser, err)
		assert.Equal(t, domain.EConflict, domain.ErrorKind(err))

		err = try(globex, "bob@acme.example.com", "")
		requireCode(t, domain.CodeDuplicateUser, err) // userName is unique across organizations

		requireCode(t, domain.CodeDuplicateUser, try(acme, "robert@acme.example.com", "ext-1"))
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventUserCreated), 1, "failed creations leave no event")

		// the same externalId in another organization is fine, and so are
		// several users without one
		require.NoError(t, try(globex, "bob@globex.example.com", "ext-1"))
		require.NoError(t, try(acme, "carol@acme.example.com", ""))
		require.NoError(t, try(acme, "dave@acme.example.com", ""))
	})
}

func TestFindUser_OutsideItsOrganizationIs25008(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		external := domain.User{Sid: newSID(domain.PrefixUser), UserName: "eve@elsewhere.example.net", Active: true}
		require.NoError(t, s.CreateUser(ctx, external, domain.AuditEvent{}))

		got, err := s.FindUser(ctx, acme.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, bob, got)

		_, err = s.FindUser(ctx, globex.Sid, bob.Sid)
		requireCode(t, domain.CodeUserNotFound, err)
		assert.Equal(t, domain.ENotFound, domain.ErrorKind(err))
		_, err = s.FindUser(ctx, acme.Sid, newSID(domain.PrefixUser))
		requireCode(t, domain.CodeUserNotFound, err)
		_, err = s.FindUser(ctx, acme.Sid, external.Sid)
		requireCode(t, domain.CodeUserNotFound, err)
		_, err = s.FindUser(ctx, "", external.Sid)
		requireCode(t, domain.CodeUserNotFound, err)
	})
}

func TestFindUserByEmail(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")

		got, err := s.FindUserByEmail(ctx, acme.Sid, "bob@acme.example.com")
		require.NoError(t, err)
		assert.Equal(t, bob.Sid, got.Sid)

		_, err = s.FindUserByEmail(ctx, globex.Sid, "bob@acme.example.com")
		requireCode(t, domain.CodeUserNotFound, err)
		_, err = s.FindUserByEmail(ctx, acme.Sid, "nobody@acme.example.com")
		requireCode(t, domain.CodeUserNotFound, err)
	})
}

func TestListUsers_FiltersPagesAndCounts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		createUser(t, s, globex, "bob", func(u *domain.User) { u.ExternalID = "ext-2" })
		want := []string{acme.Owner.Sid}
		byName := map[string]string{}
		for i := 1; i <= 5; i++ {
			u := createUser(t, s, acme, fmt.Sprintf("user%d", i), func(u *domain.User) { u.ExternalID = fmt.Sprintf("ext-%d", i) })
			want = append(want, u.Sid)
			byName[u.UserName] = u.Sid
		}
		// SIDs made in one millisecond sort by their random part, so the
		// expected order is the SIDs', not the creation order.
		want = sorted(want)
		userSid := func(u domain.User) string { return u.Sid }

		cases := []struct {
			name      string
			f         domain.UserFilter
			wantSids  []string
			wantTotal int
		}{
			{"whole organization, oldest first", domain.UserFilter{}, want, 6},
			{"limit", domain.UserFilter{Limit: 2}, want[:2], 6},
			{"offset and limit", domain.UserFilter{Offset: 2, Limit: 2}, want[2:4], 6},
			{"offset without limit", domain.UserFilter{Offset: 4}, want[4:], 6},
			{"offset past the end", domain.UserFilter{Offset: 10, Limit: 5}, []string{}, 6},
			{"userName filter", domain.UserFilter{UserName: "user3@acme.example.com"}, []string{byName["user3@acme.example.com"]}, 1},
			{"userName of another organization", domain.UserFilter{UserName: "bob@globex.example.com"}, []string{}, 0},
			{"externalId filter", domain.UserFilter{ExternalID: "ext-2"}, []string{byName["user2@acme.example.com"]}, 1},
			{"userName and externalId that disagree", domain.UserFilter{UserName: "user3@acme.example.com", ExternalID: "ext-2"}, []string{}, 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.f
				f.OrganizationSid = acme.Sid
				users, total, err := s.ListUsers(ctx, f)
				require.NoError(t, err)
				assert.Equal(t, tc.wantSids, sids(users, userSid))
				assert.Equal(t, tc.wantTotal, total, "total counts every match, not just the page")
			})
		}
	})
}

func TestUpdateUser_ChecksVersionAndBumpsIt(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob", func(u *domain.User) { u.ExternalID = "ext-1" })
		ev := domain.NewAuditEvent(domain.Actor{UserSid: acme.Owner.Sid}, acme.Sid, domain.EventUserUpdated, bob.Sid, nil)

		edit := bob
		edit.GivenName, edit.DisplayName, edit.ExternalID = "Robert", "Rob", ""
		got, err := s.UpdateUser(ctx, edit, 1, ev)
		require.NoError(t, err)
		assert.Equal(t, 2, got.Version)
		assert.Equal(t, "Robert", got.GivenName)
		assert.Equal(t, bob.DateCreated, got.DateCreated, "date_created must not change")
		assert.True(t, got.DateUpdated.After(bob.DateUpdated))

		stored, err := s.FindUser(ctx, acme.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, got, stored)
		assert.Equal(t, "", stored.ExternalID, "externalId cleared")
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventUserUpdated), 1)

		edit.GivenName = "Bobby"
		_, err = s.UpdateUser(ctx, edit, 1, ev)
		requireCode(t, domain.CodeVersionConflict, err)
		assert.Equal(t, domain.EConflict, domain.ErrorKind(err))
		stored, err = s.FindUser(ctx, acme.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, "Robert", stored.GivenName, "a stale update must change nothing")
		assert.Equal(t, 2, stored.Version)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventUserUpdated), 1, "no event for a refused update")

		// version 0 means "whatever the version is"
		got, err = s.UpdateUser(ctx, edit, 0, ev)
		require.NoError(t, err)
		assert.Equal(t, 3, got.Version)
		assert.Equal(t, "Bobby", got.GivenName)
	})
}

func TestUpdateUser_RefusesTakenUserNameAndUnknownUser(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		createUser(t, s, acme, "carol")

		edit := bob
		edit.UserName = "carol@acme.example.com"
		_, err := s.UpdateUser(ctx, edit, bob.Version, domain.AuditEvent{})
		requireCode(t, domain.CodeDuplicateUser, err)
		stored, err := s.FindUser(ctx, acme.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Equal(t, bob, stored)

		edit = bob
		edit.OrganizationSid = globex.Sid
		_, err = s.UpdateUser(ctx, edit, bob.Version, domain.AuditEvent{})
		requireCode(t, domain.CodeUserNotFound, err)

		edit = bob
		edit.Sid = newSID(domain.PrefixUser)
		_, err = s.UpdateUser(ctx, edit, 1, domain.AuditEvent{})
		requireCode(t, domain.CodeUserNotFound, err)
	})
}

func TestDeleteUser_RefusesTheOrganizationOwner(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		err := s.DeleteUser(ctx, acme.Sid, acme.Owner.Sid, domain.AuditEvent{})
		requireCode(t, domain.CodeOrgOwnerImmutable, err)
		assert.Equal(t, domain.EForbidden, domain.ErrorKind(err))
		_, err = s.FindUser(ctx, acme.Sid, acme.Owner.Sid)
		require.NoError(t, err)
	})
}

func TestDeleteUser_RefusesAnOwnerOfAnAccount(t *testing.T) {
	t.Parallel()
	for _, status := range []string{domain.AccountProvisioning, domain.AccountActive, domain.AccountSuspended, domain.AccountPendingClosure, domain.AccountClosed} {
		t.Run(status, func(t *testing.T) {
			t.Parallel()
			eachDialect(t, func(t *testing.T, s *store.Store) {
				ctx := context.Background()
				acme := createOrg(t, s, "acme")
				bob := createUser(t, s, acme, "bob")
				createAccount(t, s, acme, bob, "Bob's", status)

				err := s.DeleteUser(ctx, acme.Sid, bob.Sid, domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventUserDeleted, bob.Sid, nil))
				requireCode(t, domain.CodeInvalidState, err)
				assert.Equal(t, domain.EConflict, domain.ErrorKind(err))
				_, err = s.FindUser(ctx, acme.Sid, bob.Sid)
				require.NoError(t, err, "the user must still be there")
				assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventUserDeleted))
			})
		})
	}
}

func TestDeleteUser_RemovesRoleAssignmentsCredentialsAndTokens(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		carol := createUser(t, s, acme, "carol")
		acct := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountActive)
		mustGrant(t, s, acme, acct.Sid, bob.Sid, domain.RoleDeveloper)
		mustGrant(t, s, acme, acct.Sid, bob.Sid, domain.RoleSupport)
		carolRA := mustGrant(t, s, acme, acct.Sid, carol.Sid, domain.RoleDeveloper)

		cred := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: acme.Sid, UserSid: bob.Sid, SecretHash: domain.HashSecret("s")}
		require.NoError(t, s.CreateCredential(ctx, cred, domain.AuditEvent{}))
		now := clk.Now()
		tok := domain.AccessToken{TokenHash: domain.HashSecret("bob-token"), CredentialSid: cred.Sid, ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, s.CreateAccessToken(ctx, tok))

		ev := domain.NewAuditEvent(domain.Actor{UserSid: acme.Owner.Sid}, acme.Sid, domain.EventUserDeleted, bob.Sid, nil)
		require.NoError(t, s.DeleteUser(ctx, acme.Sid, bob.Sid, ev))

		_, err := s.FindUser(ctx, acme.Sid, bob.Sid)
		requireCode(t, domain.CodeUserNotFound, err)
		roles, err := s.RolesOn(ctx, acct.Sid, bob.Sid)
		require.NoError(t, err)
		assert.Empty(t, roles)
		ras, err := s.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: acme.Sid, Identity: bob.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		assert.Empty(t, ras)
		_, err = s.FindCredential(ctx, cred.Sid)
		requireCode(t, domain.CodeUnauthenticated, err)
		_, err = s.FindAccessToken(ctx, tok.TokenHash, now)
		requireCode(t, domain.CodeUnauthenticated, err)

		// others keep theirs
		_, err = s.FindRoleAssignment(ctx, acme.Sid, carolRA.Sid)
		require.NoError(t, err)
		_, err = s.FindCredential(ctx, acme.Cred.Sid)
		require.NoError(t, err)

		evs := eventsOf(t, s, acme.Sid, domain.EventUserDeleted)
		require.Len(t, evs, 1)
		assert.Equal(t, bob.Sid, evs[0].ResourceSid)

		err = s.DeleteUser(ctx, acme.Sid, bob.Sid, ev)
		requireCode(t, domain.CodeUserNotFound, err)
	})
}

func TestDeleteUser_InAnotherOrganizationIs25008(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		globex := createOrg(t, s, "globex")
		bob := createUser(t, s, acme, "bob")
		requireCode(t, domain.CodeUserNotFound, s.DeleteUser(ctx, globex.Sid, bob.Sid, domain.AuditEvent{}))
		_, err := s.FindUser(ctx, acme.Sid, bob.Sid)
		require.NoError(t, err)
	})
}
