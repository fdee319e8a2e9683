package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestFirstOrganization_WithNoOrganizationIs25100(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, err := s.FirstOrganization(ctx)
		requireCode(t, domain.CodeOrganizationNotFound, err)
		assert.Equal(t, domain.ENotFound, domain.ErrorKind(err))

		_, err = s.FindOrganization(ctx, newSID(domain.PrefixOrganization))
		requireCode(t, domain.CodeOrganizationNotFound, err)
	})
}

func TestCreateOrganization_StoresOrganizationOwnerDomainCredentialAndEvent(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		start := clk.Now()
		org := createOrg(t, s, "acme")

		got, err := s.FindOrganization(ctx, org.Sid)
		require.NoError(t, err)
		assert.Equal(t, org.Sid, got.Sid)
		assert.Equal(t, "acme", got.FriendlyName)
		assert.Equal(t, org.Owner.Sid, got.OwnerSid)
		assert.True(t, got.DateCreated.After(start), "date_created %v not from the store's clock", got.DateCreated)
		assert.Equal(t, time.UTC, got.DateCreated.Location())

		first, err := s.FirstOrganization(ctx)
		require.NoError(t, err)
		assert.Equal(t, org.Sid, first.Sid)

		owner := org.Owner
		assert.Equal(t, "owner@acme.example.com", owner.UserName)
		assert.Equal(t, domain.OrgRoleOwner, owner.OrgRole)
		assert.True(t, owner.Managed)
		assert.True(t, owner.Active)
		assert.Equal(t, 1, owner.Version)
		assert.Equal(t, "Olive", owner.GivenName)

		ok, err := s.IsVerifiedDomain(ctx, org.Sid, "acme.example.com")
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = s.IsVerifiedDomain(ctx, org.Sid, "other.example.com")
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = s.IsVerifiedDomain(ctx, newSID(domain.PrefixOrganization), "acme.example.com")
		require.NoError(t, err)
		assert.False(t, ok, "the domain is verified for acme only")

		cred, err := s.FindCredential(ctx, org.Cred.Sid)
		require.NoError(t, err)
		assert.Equal(t, org.Sid, cred.OrganizationSid)
		assert.Equal(t, owner.Sid, cred.UserSid)
		assert.True(t, domain.SecretMatches(org.Secret, cred.SecretHash))

		evs := eventsOf(t, s, org.Sid, domain.EventOrganizationCreated)
		require.Len(t, evs, 1)
		assert.Equal(t, org.Sid, evs[0].ResourceSid)
		assert.Equal(t, "system", evs[0].Actor)
	})
}

func TestFirstOrganization_ReturnsTheOldest(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		older := createOrg(t, s, "older")
		newer := createOrg(t, s, "newer")
		require.Less(t, older.Sid, newer.Sid)
		first, err := s.FirstOrganization(context.Background())
		require.NoError(t, err)
		assert.Equal(t, older.Sid, first.Sid)
	})
}

func TestCreateOrganization_IsAllOrNothing(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")

		build := func(ownerName, domainName string) (domain.Organization, domain.User, domain.VerifiedDomain, domain.Credential, domain.AuditEvent) {
			orgSid := newSID(domain.PrefixOrganization)
			owner := domain.User{Sid: newSID(domain.PrefixUser), OrganizationSid: orgSid, UserName: ownerName, Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
			return domain.Organization{Sid: orgSid, FriendlyName: "second", OwnerSid: owner.Sid},
				owner,
				domain.VerifiedDomain{Sid: newSID(domain.PrefixDomain), DomainName: domainName, Status: domain.DomainVerified, VerificationToken: "t"},
				domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: orgSid, UserSid: owner.Sid, SecretHash: domain.HashSecret("x")},
				domain.NewAuditEvent(domain.SystemActor, orgSid, domain.EventOrganizationCreated, orgSid, nil)
		}

		t.Run("owner userName taken", func(t *testing.T) {
			org, owner, dom, cred, ev := build(acme.Owner.UserName, "second.example.com")
			err := s.CreateOrganization(ctx, org, owner, dom, cred, ev)
			requireCode(t, domain.CodeDuplicateUser, err)
			_, err = s.FindOrganization(ctx, org.Sid)
			requireCode(t, domain.CodeOrganizationNotFound, err)
			assert.Empty(t, eventsOf(t, s, org.Sid, ""), "no event for a rolled-back creation")
		})
		t.Run("domain verified by another organization", func(t *testing.T) {
			org, owner, dom, cred, ev := build("owner@third.example.com", acme.Domain)
			err := s.CreateOrganization(ctx, org, owner, dom, cred, ev)
			requireCode(t, domain.CodeInvalidState, err)
			_, err = s.FindOrganization(ctx, org.Sid)
			requireCode(t, domain.CodeOrganizationNotFound, err)
			_, err = s.FindUserByEmail(ctx, org.Sid, "owner@third.example.com")
			requireCode(t, domain.CodeUserNotFound, err)
		})
	})
}
