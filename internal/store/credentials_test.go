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

func TestKeys_ListRevokeAndTouch(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		other := createOrg(t, s, "other")
		bob := createUser(t, s, acme, "bob")
		carol := createUser(t, s, acme, "carol")
		key := func(org fixtureOrg, u domain.User) domain.Credential {
			c := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: org.Sid, UserSid: u.Sid, FriendlyName: "k",
				SecretHash: domain.HashSecret(domain.NewSecret(32))}
			require.NoError(t, s.CreateKey(ctx, c, domain.NewAuditEvent(domain.Actor{UserSid: u.Sid}, org.Sid, domain.EventKeyCreated, c.Sid, nil)))
			return c
		}
		bobKey, carolKey := key(acme, bob), key(acme, carol)
		key(other, createUser(t, s, other, "dave"))

		all, err := s.ListCredentials(ctx, domain.CredentialFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 50}})
		require.NoError(t, err)
		got := sids(all, func(c domain.Credential) string { return c.Sid })
		assert.Contains(t, got, bobKey.Sid)
		assert.Contains(t, got, carolKey.Sid)
		for _, c := range all {
			assert.Equal(t, acme.Sid, c.OrganizationSid)
			assert.Empty(t, c.SecretHash, "a list holds no secret hash")
		}
		bobs, err := s.ListCredentials(ctx, domain.CredentialFilter{OrganizationSid: acme.Sid, UserSid: bob.Sid, Page: domain.PageRequest{Size: 50}})
		require.NoError(t, err)
		require.Len(t, bobs, 1)
		assert.True(t, bobs[0].Personal)
		assert.True(t, bobs[0].DateLastUsed.IsZero())

		// Used: recorded once a minute at most.
		t0 := clk.Now()
		require.NoError(t, s.TouchCredential(ctx, bobKey.Sid, t0))
		require.NoError(t, s.TouchCredential(ctx, bobKey.Sid, t0.Add(30*time.Second)))
		found, err := s.FindCredential(ctx, bobKey.Sid)
		require.NoError(t, err)
		assert.WithinDuration(t, t0, found.DateLastUsed, time.Millisecond)
		require.NoError(t, s.TouchCredential(ctx, bobKey.Sid, t0.Add(time.Minute)))
		found, err = s.FindCredential(ctx, bobKey.Sid)
		require.NoError(t, err)
		assert.WithinDuration(t, t0.Add(time.Minute), found.DateLastUsed, time.Millisecond)

		// Revoking: only within the scope given, tokens included.
		require.NoError(t, s.CreateAccessToken(ctx, domain.AccessToken{TokenHash: domain.HashSecret("t"), CredentialSid: carolKey.Sid, ExpiresAt: clk.Now().Add(time.Hour)}))
		requireCode(t, 20404, s.RevokeCredential(ctx, acme.Sid, bob.Sid, carolKey.Sid, domain.AuditEvent{}))
		requireCode(t, 20404, s.RevokeCredential(ctx, other.Sid, "", carolKey.Sid, domain.AuditEvent{}))
		require.NoError(t, s.RevokeCredential(ctx, acme.Sid, "", carolKey.Sid,
			domain.NewAuditEvent(domain.Actor{UserSid: bob.Sid}, acme.Sid, domain.EventKeyRevoked, carolKey.Sid, nil)))
		_, _, err = s.TokenPrincipal(ctx, domain.HashSecret("t"), clk.Now())
		requireCode(t, domain.CodeUnauthenticated, err)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventKeyRevoked), 1)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventKeyCreated), 2)
	})
}

func TestAccessTokens_CappedPerCredential(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		c := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: acme.Sid, UserSid: bob.Sid, SecretHash: domain.HashSecret(domain.NewSecret(32))}
		require.NoError(t, s.CreateCredential(ctx, c, domain.AuditEvent{}))
		expired := domain.AccessToken{TokenHash: domain.HashSecret("old"), CredentialSid: c.Sid, ExpiresAt: clk.Now().Add(-time.Second)}
		require.NoError(t, s.CreateAccessToken(ctx, expired))
		for i := range domain.MaxLiveTokensPerCredential + 3 {
			require.NoError(t, s.CreateAccessToken(ctx, domain.AccessToken{TokenHash: domain.HashSecret(string(rune('a' + i))), CredentialSid: c.Sid,
				ExpiresAt: clk.Now().Add(time.Hour + time.Duration(i)*time.Second)}))
		}
		var n int64
		require.NoError(t, s.DB().Table("access_tokens").Where("credential_sid = ?", c.Sid).Count(&n).Error)
		assert.EqualValues(t, domain.MaxLiveTokensPerCredential, n)
		_, err := s.FindAccessToken(ctx, domain.HashSecret("a"), clk.Now())
		requireCode(t, domain.CodeUnauthenticated, err)
		_, err = s.FindAccessToken(ctx, domain.HashSecret(string(rune('a'+domain.MaxLiveTokensPerCredential+2))), clk.Now())
		require.NoError(t, err)
		require.NoError(t, s.DB().Table("access_tokens").Where("token_hash = ?", expired.TokenHash).Count(&n).Error)
		assert.Zero(t, n, "the expired token was swept")
	})
}

// TestKeys_OfAnOutsideUserAct: an outside user (of no organization) makes a
// personal key in the organization they act in; it authenticates, as
// Basic credentials and through its bearer tokens. An organization
// credential naming an outside user does not.
func TestKeys_OfAnOutsideUserAct(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		outsider := domain.User{Sid: newSID(domain.PrefixUser), UserName: "olga@partner.test", Active: true}
		require.NoError(t, s.CreateUser(ctx, outsider, domain.AuditEvent{}))
		key := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: acme.Sid, UserSid: outsider.Sid,
			SecretHash: domain.HashSecret(domain.NewSecret(32))}
		require.NoError(t, s.CreateKey(ctx, key, domain.AuditEvent{}))

		cred, u, err := s.CredentialPrincipal(ctx, key.Sid)
		require.NoError(t, err)
		assert.Equal(t, acme.Sid, cred.OrganizationSid)
		assert.True(t, cred.Personal)
		assert.Equal(t, outsider.Sid, u.Sid)
		assert.Empty(t, u.OrgRole)
		require.NoError(t, s.CreateAccessToken(ctx, domain.AccessToken{TokenHash: domain.HashSecret("outsider"), CredentialSid: key.Sid, ExpiresAt: clk.Now().Add(time.Hour)}))
		cred, _, err = s.TokenPrincipal(ctx, domain.HashSecret("outsider"), clk.Now())
		require.NoError(t, err)
		assert.Equal(t, key.Sid, cred.Sid)

		notKey := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: acme.Sid, UserSid: outsider.Sid,
			SecretHash: domain.HashSecret(domain.NewSecret(32))}
		require.NoError(t, s.CreateCredential(ctx, notKey, domain.AuditEvent{}))
		_, _, err = s.CredentialPrincipal(ctx, notKey.Sid)
		requireCode(t, domain.CodeUnauthenticated, err)
	})
}
