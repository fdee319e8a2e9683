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

func TestCredentials_CreateAndFind(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		bob := createUser(t, s, acme, "bob")
		secret := domain.NewSecret(32)
		c := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: acme.Sid, UserSid: bob.Sid, FriendlyName: "ci", SecretHash: domain.HashSecret(secret)}
		ev := domain.NewAuditEvent(domain.Actor{UserSid: bob.Sid}, acme.Sid, domain.EventCredentialCreated, c.Sid, nil)
		require.NoError(t, s.CreateCredential(ctx, c, ev))

		got, err := s.FindCredential(ctx, c.Sid)
		require.NoError(t, err)
		assert.Equal(t, c.Sid, got.Sid)
		assert.Equal(t, acme.Sid, got.OrganizationSid)
		assert.Equal(t, bob.Sid, got.UserSid)
		assert.Equal(t, "ci", got.FriendlyName)
		assert.True(t, domain.SecretMatches(secret, got.SecretHash))
		assert.False(t, got.DateCreated.IsZero())
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventCredentialCreated), 1)

		_, err = s.FindCredential(ctx, newSID(domain.PrefixCredential))
		requireCode(t, domain.CodeUnauthenticated, err)
		assert.Equal(t, domain.EUnauthenticated, domain.ErrorKind(err))

		// a credential for a user that does not exist is refused
		bad := c
		bad.Sid, bad.UserSid = newSID(domain.PrefixCredential), newSID(domain.PrefixUser)
		assert.Error(t, s.CreateCredential(ctx, bad, domain.AuditEvent{}))
	})
}

func TestAccessTokens_ValidUntilExpiry(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		now := clk.Now()
		tok := domain.AccessToken{TokenHash: domain.HashSecret("token-1"), CredentialSid: acme.Cred.Sid, ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, s.CreateAccessToken(ctx, tok))

		got, err := s.FindAccessToken(ctx, tok.TokenHash, now)
		require.NoError(t, err)
		assert.Equal(t, acme.Cred.Sid, got.CredentialSid)
		assert.True(t, tok.ExpiresAt.Equal(got.ExpiresAt), "expires_at %v, want %v", got.ExpiresAt, tok.ExpiresAt)

		_, err = s.FindAccessToken(ctx, tok.TokenHash, tok.ExpiresAt.Add(-time.Millisecond))
		require.NoError(t, err, "still valid a millisecond before expiry")

		_, err = s.FindAccessToken(ctx, tok.TokenHash, tok.ExpiresAt)
		requireCode(t, domain.CodeUnauthenticated, err)
		_, err = s.FindAccessToken(ctx, tok.TokenHash, tok.ExpiresAt.Add(time.Minute))
		requireCode(t, domain.CodeUnauthenticated, err)
		assert.Equal(t, domain.EUnauthenticated, domain.ErrorKind(err))

		_, err = s.FindAccessToken(ctx, domain.HashSecret("never issued"), now)
		requireCode(t, domain.CodeUnauthenticated, err)
	})
}

func TestCreateAccessToken_SweepsExpiredTokens(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		now := clk.Now()
		old := domain.AccessToken{TokenHash: domain.HashSecret("old"), CredentialSid: acme.Cred.Sid, ExpiresAt: now.Add(-2 * time.Hour)}
		recent := domain.AccessToken{TokenHash: domain.HashSecret("recent"), CredentialSid: acme.Cred.Sid, ExpiresAt: now.Add(-30 * time.Minute)}
		require.NoError(t, s.CreateAccessToken(ctx, old))
		require.NoError(t, s.CreateAccessToken(ctx, recent))
		// FindAccessToken at a time before expiry tells whether the row is
		// still stored.
		stored := func(tok domain.AccessToken) bool {
			_, err := s.FindAccessToken(ctx, tok.TokenHash, tok.ExpiresAt.Add(-time.Minute))
			return err == nil
		}
		// creating "recent" swept "old"
		assert.False(t, stored(old), "a token expired two hours ago must be swept")

		fresh := domain.AccessToken{TokenHash: domain.HashSecret("fresh"), CredentialSid: acme.Cred.Sid, ExpiresAt: now.Add(time.Hour)}
		require.NoError(t, s.CreateAccessToken(ctx, fresh))
		assert.False(t, stored(recent), "an expired token outlived the next issue")
		assert.True(t, stored(fresh))
	})
}
