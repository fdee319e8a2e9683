package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

// The enrolled flag follows the confirmed factors, in the same
// transactions, on both dialects.
func TestTwoFactor_EnrolledFollowsTheConfirmedFactors(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		u := createUser(t, s, org, "bob")
		totp := domain.Factor{Sid: newSID(domain.PrefixFactor), UserSid: u.Sid, Kind: domain.FactorTOTP, FriendlyName: "app", Secret: "JBSWY3DPEHPK3PXP"}
		require.NoError(t, s.StartTOTP(ctx, totp))
		st, err := s.TwoFactorStatus(ctx, u.Sid)
		require.NoError(t, err)
		require.False(t, st.Enrolled(), "an unconfirmed factor does not count")
		require.False(t, st.User.TwoFactorEnrolled)

		hashes := []string{domain.HashSecret("a"), domain.HashSecret("b")}
		stored, err := s.ConfirmTOTP(ctx, u.Sid, totp.Sid, 100, hashes, domain.AuditEvent{OrganizationSid: org.Sid, Type: domain.EventFactorAdded, ResourceSid: u.Sid})
		require.NoError(t, err)
		require.True(t, stored)
		requireCode(t, domain.CodeInvalidState, func() error { _, err := s.ConfirmTOTP(ctx, u.Sid, totp.Sid, 101, nil, domain.AuditEvent{}); return err }())
		requireCode(t, domain.CodeInvalidState, s.StartTOTP(ctx, domain.Factor{Sid: newSID(domain.PrefixFactor), UserSid: u.Sid, Kind: domain.FactorTOTP}))

		passkey := domain.Factor{Sid: newSID(domain.PrefixFactor), UserSid: u.Sid, FriendlyName: "key", CredentialID: "Y3JlZA", Credential: []byte(`{"id":"Y3JlZA"}`)}
		stored, err = s.AddPasskey(ctx, passkey, []string{domain.HashSecret("c")}, domain.AuditEvent{})
		require.NoError(t, err)
		require.False(t, stored, "codes are kept while unused ones remain")
		dup := passkey
		dup.Sid = newSID(domain.PrefixFactor)
		_, err = s.AddPasskey(ctx, dup, nil, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)

		st, err = s.TwoFactorStatus(ctx, u.Sid)
		require.NoError(t, err)
		require.True(t, st.User.TwoFactorEnrolled)
		require.Len(t, st.Factors, 2)
		require.Equal(t, 2, st.RecoveryCodesLeft)
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventFactorAdded), 1)

		fresh, err := s.UseTOTPStep(ctx, totp.Sid, 100)
		require.NoError(t, err)
		require.False(t, fresh, "the confirming code's step is spent")
		fresh, err = s.UseTOTPStep(ctx, totp.Sid, 101)
		require.NoError(t, err)
		require.True(t, fresh)

		used, err := s.UseRecoveryCode(ctx, u.Sid, domain.HashSecret("a"), domain.AuditEvent{})
		require.NoError(t, err)
		require.True(t, used)
		used, err = s.UseRecoveryCode(ctx, u.Sid, domain.HashSecret("a"), domain.AuditEvent{})
		require.NoError(t, err)
		require.False(t, used, "once")

		requireCode(t, 20404, s.RemoveFactor(ctx, u.Sid, newSID(domain.PrefixFactor), domain.AuditEvent{}))
		require.NoError(t, s.RemoveFactor(ctx, u.Sid, totp.Sid, domain.AuditEvent{}))
		st, err = s.TwoFactorStatus(ctx, u.Sid)
		require.NoError(t, err)
		require.True(t, st.User.TwoFactorEnrolled, "the passkey remains")
		require.NoError(t, s.RemoveFactor(ctx, u.Sid, passkey.Sid, domain.AuditEvent{}))
		st, err = s.TwoFactorStatus(ctx, u.Sid)
		require.NoError(t, err)
		require.False(t, st.User.TwoFactorEnrolled)
		require.Zero(t, st.RecoveryCodesLeft)
		requireCode(t, domain.CodeInvalidState, s.ReplaceRecoveryCodes(ctx, u.Sid, hashes, domain.AuditEvent{}))
	})
}

func TestUpdateOrganization_Require2FA(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		got, err := s.UpdateOrganization(ctx, org.Sid, true, domain.AuditEvent{OrganizationSid: org.Sid, Type: domain.EventOrganizationUpdated, ResourceSid: org.Sid})
		require.NoError(t, err)
		require.True(t, got.Require2FA)
		found, err := s.FindOrganization(ctx, org.Sid)
		require.NoError(t, err)
		require.True(t, found.Require2FA)
		_, err = s.UpdateOrganization(ctx, org.Sid, true, domain.AuditEvent{OrganizationSid: org.Sid, Type: domain.EventOrganizationUpdated, ResourceSid: org.Sid})
		require.NoError(t, err)
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventOrganizationUpdated), 1, "no change, no event")
		_, err = s.UpdateOrganization(ctx, newSID(domain.PrefixOrganization), true, domain.AuditEvent{})
		requireCode(t, domain.CodeOrganizationNotFound, err)
	})
}
