package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// standalone signs up an account owned by ownerEmail, outside any
// organization.
func (f *fixture) standalone(t *testing.T, ownerEmail string) domain.Account {
	t.Helper()
	now := time.Now()
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), UserName: ownerEmail, Active: true}
	acct := domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), FriendlyName: "Side project", Status: domain.AccountActive,
		Kind: domain.AccountStandalone, OwnerSid: owner.Sid}
	require.NoError(t, f.st.SignUp(context.Background(), acct, owner, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{}))
	return acct
}

func TestOpenAccountRequestRecordsOnceAndRunsAgainUnchanged(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		acct := f.standalone(t, "founder@acme.example.com")
		in := activities.OpenRequestInput{Request: domain.AccountRequest{
			Sid: domain.NewSID(domain.PrefixAccountRequest, time.Now()), OrganizationSid: f.org.Sid, AccountSid: acct.Sid, Kind: domain.RequestImport,
			RequesterSid: f.owner.Sid, ExpiresAt: time.Now().Add(time.Hour),
		}, Actor: f.actor}
		var first, again domain.AccountRequest
		require.NoError(t, f.call(t, f.acts.OpenAccountRequest, in, &first))
		require.Equal(t, domain.RequestPending, first.Status)
		require.Equal(t, "founder@acme.example.com", first.OwnerEmail)
		require.NoError(t, f.call(t, f.acts.OpenAccountRequest, in, &again), "a retried attempt answers with the request it recorded")
		require.Equal(t, first, again)

		// Another request for the account is refused: one pending at a time.
		other := in
		other.Request.Sid = domain.NewSID(domain.PrefixAccountRequest, time.Now())
		err := f.call(t, f.acts.OpenAccountRequest, other, nil)
		e, ok := activities.AsDomainError(err)
		require.True(t, ok, "not a domain error: %v", err)
		require.Equal(t, domain.CodeInvalidState, e.Code)
	})
}

func TestRelinquishAccountRunsAgainUnchanged(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		now := time.Now()
		acct, err := f.st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid,
			FriendlyName: "Shared", Status: domain.AccountActive, Kind: domain.AccountIndependent, OwnerSid: f.external.Sid},
			domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid}, domain.AuditEvent{})
		require.NoError(t, err)
		in := activities.RelinquishInput{OrganizationSid: f.org.Sid, AccountSid: acct.Sid, Version: acct.Version, Actor: f.actor}
		var first, again domain.Account
		require.NoError(t, f.call(t, f.acts.RelinquishAccount, in, &first))
		require.Equal(t, domain.AccountStandalone, first.Kind)
		require.NoError(t, f.call(t, f.acts.RelinquishAccount, in, &again), "a retried attempt answers with the account it relinquished")
		require.Equal(t, first.Sid, again.Sid)
		require.Equal(t, first.Version, again.Version)

		// Relinquished at another version, it is not this organization's.
		in.Version--
		err = f.call(t, f.acts.RelinquishAccount, in, nil)
		require.Equal(t, domain.CodeAccountNotFound, domain.ErrorCode(errOf(err)))
	})
}

func errOf(err error) error {
	if e, ok := activities.AsDomainError(err); ok {
		return e
	}
	return err
}
