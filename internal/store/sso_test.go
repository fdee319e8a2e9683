package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func ssoEvent(org fixtureOrg, typ string) domain.AuditEvent {
	return domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, typ, org.Sid, map[string]any{"issuer": "x"})
}

func TestPutSSOProvider_CreatesReplacesAndKeepsTheSecret(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme, other := createOrg(t, s, "acme"), createOrg(t, s, "other")

		_, err := s.FindSSOProvider(ctx, acme.Sid)
		requireCode(t, domain.CodeSSONotConfigured, err)

		_, err = s.PutSSOProvider(ctx, acme.Sid, domain.SSOSettings{Issuer: "https://idp.example.com", ClientID: "orgaccounts"}, ssoEvent(acme, domain.EventSSOProviderUpdated))
		requireCode(t, domain.CodeInvalidSSOSettings, err)
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventSSOProviderUpdated), "no event for a refused change")

		created, err := s.PutSSOProvider(ctx, acme.Sid, domain.SSOSettings{
			Issuer: "https://idp.example.com", ClientID: "orgaccounts", ClientSecret: "s3cret",
		}, ssoEvent(acme, domain.EventSSOProviderUpdated))
		require.NoError(t, err)
		assert.Equal(t, "s3cret", created.ClientSecret.Reveal())
		assert.False(t, created.Required)

		replaced, err := s.PutSSOProvider(ctx, acme.Sid, domain.SSOSettings{
			Issuer: "https://login.example.com/tenant", ClientID: "oa-2", Required: true,
		}, ssoEvent(acme, domain.EventSSOProviderUpdated))
		require.NoError(t, err)
		got, err := s.FindSSOProvider(ctx, acme.Sid)
		require.NoError(t, err)
		assert.Equal(t, replaced, got)
		assert.Equal(t, "https://login.example.com/tenant", got.Issuer)
		assert.Equal(t, "oa-2", got.ClientID)
		assert.Equal(t, "s3cret", got.ClientSecret.Reveal(), "an empty secret keeps the stored one")
		assert.True(t, got.Required)
		assert.Equal(t, created.DateCreated, got.DateCreated)
		assert.True(t, got.DateUpdated.After(created.DateUpdated))
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventSSOProviderUpdated), 2)

		_, err = s.FindSSOProvider(ctx, other.Sid)
		requireCode(t, domain.CodeSSONotConfigured, err)
	})
}

func TestDeleteSSOProvider(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		requireCode(t, domain.CodeSSONotConfigured, s.DeleteSSOProvider(ctx, acme.Sid, ssoEvent(acme, domain.EventSSOProviderDeleted)))
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventSSOProviderDeleted))

		_, err := s.PutSSOProvider(ctx, acme.Sid, domain.SSOSettings{Issuer: "https://idp.example.com", ClientID: "c", ClientSecret: "s"}, ssoEvent(acme, domain.EventSSOProviderUpdated))
		require.NoError(t, err)
		require.NoError(t, s.DeleteSSOProvider(ctx, acme.Sid, ssoEvent(acme, domain.EventSSOProviderDeleted)))
		_, err = s.FindSSOProvider(ctx, acme.Sid)
		requireCode(t, domain.CodeSSONotConfigured, err)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventSSOProviderDeleted), 1)

		// a new one needs its secret again
		_, err = s.PutSSOProvider(ctx, acme.Sid, domain.SSOSettings{Issuer: "https://idp.example.com", ClientID: "c"}, ssoEvent(acme, domain.EventSSOProviderUpdated))
		requireCode(t, domain.CodeInvalidSSOSettings, err)
	})
}
