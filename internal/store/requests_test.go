package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

// signUp creates a standalone account owned by a new external user.
func signUp(t *testing.T, s *store.Store, email string) (domain.Account, domain.User) {
	t.Helper()
	owner := domain.User{Sid: newSID(domain.PrefixUser), UserName: email, Active: true}
	a := domain.Account{Sid: newSID(domain.PrefixAccount), FriendlyName: "Standalone", Status: domain.AccountActive, Kind: domain.AccountStandalone, OwnerSid: owner.Sid}
	require.NoError(t, s.SignUp(context.Background(), a, owner, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{Type: domain.EventAccountSignedUp, ResourceSid: a.Sid}))
	return a, owner
}

func request(org fixtureOrg, a domain.Account, owner domain.User, kind string, grants ...domain.Grant) domain.AccountRequest {
	return domain.AccountRequest{Sid: newSID(domain.PrefixAccountRequest), OrganizationSid: org.Sid, AccountSid: a.Sid, Kind: kind,
		RequesterSid: org.Owner.Sid, OwnerSid: owner.Sid, OwnerEmail: owner.UserName, Grants: grants, ExpiresAt: time.Now().Add(time.Hour)}
}

func TestSignUp(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		a, owner := signUp(t, s, "solo@acme.example.com")
		got, gotOwner, err := s.FindAnyAccount(ctx, a.Sid)
		require.NoError(t, err)
		require.Equal(t, "", got.OrganizationSid)
		require.Equal(t, domain.AccountStandalone, got.Kind)
		require.Equal(t, owner.Sid, gotOwner.Sid)
		_, err = s.FindAccount(ctx, org.Sid, a.Sid)
		requireCode(t, domain.CodeAccountNotFound, err)
		page, err := s.ListAccounts(ctx, domain.AccountFilter{OrganizationSid: org.Sid, Page: domain.PageRequest{Size: 50}})
		require.NoError(t, err)
		for _, x := range page {
			require.NotEqual(t, a.Sid, x.Sid, "a standalone account is invisible to every organization")
		}
		dup := domain.User{Sid: newSID(domain.PrefixUser), UserName: "solo@acme.example.com", Active: true}
		err = s.SignUp(ctx, domain.Account{Sid: newSID(domain.PrefixAccount), FriendlyName: "Again", Status: domain.AccountActive, Kind: domain.AccountStandalone, OwnerSid: dup.Sid}, dup, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{})
		requireCode(t, domain.CodeDuplicateUser, err)
	})
}

func TestAccountRequestLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		other := createOrg(t, s, "other")
		a, owner := signUp(t, s, "solo@acme.example.com")

		r := request(org, a, owner, domain.RequestImport)
		require.NoError(t, s.CreateAccountRequest(ctx, r, domain.AuditEvent{}))
		requireCode(t, domain.CodeInvalidState, s.CreateAccountRequest(ctx, request(other, a, owner, domain.RequestShare), domain.AuditEvent{}))

		ended, err := s.FinishAccountRequest(ctx, r.Sid, domain.RequestDeclined, domain.AuditEvent{})
		require.NoError(t, err)
		require.Equal(t, domain.RequestDeclined, ended.Status)
		_, err = s.FinishAccountRequest(ctx, r.Sid, domain.RequestDeclined, domain.AuditEvent{})
		require.NoError(t, err, "ending it the same way again is a no-op")
		_, err = s.FinishAccountRequest(ctx, r.Sid, domain.RequestExpired, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)
		_, err = s.AcceptAccountRequest(ctx, r.Sid, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err)

		// A new request may follow an ended one; accepting imports.
		r2 := request(org, a, owner, domain.RequestImport)
		require.NoError(t, s.CreateAccountRequest(ctx, r2, domain.AuditEvent{}))
		_, err = s.AcceptAccountRequest(ctx, r2.Sid, domain.AuditEvent{Type: domain.EventAccountImported, OrganizationSid: org.Sid, ResourceSid: a.Sid})
		require.NoError(t, err)
		_, err = s.AcceptAccountRequest(ctx, r2.Sid, domain.AuditEvent{Type: domain.EventAccountImported, OrganizationSid: org.Sid, ResourceSid: a.Sid})
		require.NoError(t, err, "accepting again (a retried activity) changes nothing")
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventAccountImported), 1)
		got, err := s.FindAccount(ctx, org.Sid, a.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountManaged, got.Kind)
		u, err := s.FindUser(ctx, org.Sid, owner.Sid)
		require.NoError(t, err)
		require.True(t, u.IsManagedBy(org.Sid))
		requireCode(t, domain.CodeInvalidState, s.CreateAccountRequest(ctx, request(other, a, owner, domain.RequestShare), domain.AuditEvent{}))
		_, err = s.Relinquish(ctx, org.Sid, a.Sid, domain.AuditEvent{})
		requireCode(t, domain.CodeInvalidState, err) // a managed account cannot be relinquished

		page, err := s.ListAccountRequests(ctx, domain.AccountRequestFilter{OrganizationSid: org.Sid, EndedAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Len(t, page, 2, "ended requests stay listed") // (the store's clock reads March 2030)
		page, err = s.ListAccountRequests(ctx, domain.AccountRequestFilter{OrganizationSid: org.Sid, EndedAfter: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Empty(t, page, "until their listing window passes")
		counts, err := s.CountAccountRequests(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), counts[[2]string{domain.RequestImport, domain.RequestAccepted}])
		require.Equal(t, int64(1), counts[[2]string{domain.RequestImport, domain.RequestDeclined}])
	})
}

// TestAcceptRacesAcrossOrganizations: two organizations' requests cannot
// both be pending, and an accepted one wins over any later one.
func TestAccountRequestOnePendingUnderRace(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		orgs := []fixtureOrg{createOrg(t, s, "one"), createOrg(t, s, "two"), createOrg(t, s, "three"), createOrg(t, s, "four")}
		a, owner := signUp(t, s, "solo@nowhere.example.net")
		var wg sync.WaitGroup
		errs := make([]error, len(orgs))
		for i, org := range orgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.CreateAccountRequest(ctx, request(org, a, owner, domain.RequestShare), domain.AuditEvent{})
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				requireCode(t, domain.CodeInvalidState, err)
			}
		}
		require.Equal(t, 1, ok, "exactly one organization's request is pending")
	})
}

func TestShareGrantsAndRelinquish(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		dev := createUser(t, s, org, "dev")
		a, owner := signUp(t, s, "maker@outside.example.net")
		r := request(org, a, owner, domain.RequestShare, domain.Grant{Identity: dev.Sid, Roles: []string{domain.RoleDeveloper}})
		require.NoError(t, s.CreateAccountRequest(ctx, r, domain.AuditEvent{}))
		_, err := s.AcceptAccountRequest(ctx, r.Sid, domain.AuditEvent{Type: domain.EventAccountShared, OrganizationSid: org.Sid, ResourceSid: a.Sid})
		require.NoError(t, err)
		got, err := s.FindAccount(ctx, org.Sid, a.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.AccountIndependent, got.Kind)
		roles, err := s.RolesOn(ctx, a.Sid, dev.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleDeveloper}, roles)
		roles, err = s.RolesOn(ctx, a.Sid, owner.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{domain.RoleOwner}, roles, "the outsider keeps the Owner role")

		out, err := s.Relinquish(ctx, org.Sid, a.Sid, domain.AuditEvent{Type: domain.EventAccountRelinquished, OrganizationSid: org.Sid, ResourceSid: a.Sid})
		require.NoError(t, err)
		require.Equal(t, domain.AccountStandalone, out.Kind)
		roles, err = s.RolesOn(ctx, a.Sid, dev.Sid)
		require.NoError(t, err)
		require.Empty(t, roles)
		ev := eventsOf(t, s, org.Sid, domain.EventAccountRelinquished)
		require.Len(t, ev, 1)
		require.Len(t, ev[0].Changes["removed_access"], 2, "the audit keeps who had access")
		_, err = s.Relinquish(ctx, org.Sid, a.Sid, domain.AuditEvent{})
		requireCode(t, domain.CodeAccountNotFound, err)
	})
}

func TestAccountCredentialsListedAndRevoked(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := createOrg(t, s, "acme")
		other := createOrg(t, s, "other")
		acct := createAccount(t, s, org, org.Owner, "Desk", domain.AccountActive)
		cred := domain.Credential{Sid: newSID(domain.PrefixCredential), OrganizationSid: org.Sid, UserSid: org.Owner.Sid, FriendlyName: "app",
			SecretHash: domain.HashSecret(domain.NewSecret(32)), AccountSid: acct.Sid}
		require.NoError(t, s.CreateCredential(ctx, cred, domain.AuditEvent{}))
		tok := domain.AccessToken{TokenHash: domain.HashSecret(domain.NewSecret(48)), CredentialSid: cred.Sid, ExpiresAt: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
		require.NoError(t, s.CreateAccessToken(ctx, tok))

		listed, err := s.ListAccountCredentials(ctx, org.Sid, acct.Sid)
		require.NoError(t, err)
		require.Equal(t, []string{cred.Sid}, sids(listed, func(c domain.Credential) string { return c.Sid }))
		require.Empty(t, listed[0].SecretHash, "no secret material is listed")
		listed, err = s.ListAccountCredentials(ctx, other.Sid, acct.Sid)
		require.NoError(t, err)
		require.Empty(t, listed, "another organization sees none")

		requireCode(t, 20404, s.RevokeAccountCredential(ctx, other.Sid, acct.Sid, cred.Sid, domain.AuditEvent{}))
		require.NoError(t, s.RevokeAccountCredential(ctx, org.Sid, acct.Sid, cred.Sid, domain.AuditEvent{Type: domain.EventCredentialRevoked, OrganizationSid: org.Sid, ResourceSid: acct.Sid}))
		_, _, err = s.CredentialPrincipal(ctx, cred.Sid)
		requireCode(t, domain.CodeUnauthenticated, err)
		_, _, err = s.TokenPrincipal(ctx, tok.TokenHash, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		requireCode(t, domain.CodeUnauthenticated, err) // its bearer tokens stop at once
		requireCode(t, 20404, s.RevokeAccountCredential(ctx, org.Sid, acct.Sid, cred.Sid, domain.AuditEvent{}))
		require.Len(t, eventsOf(t, s, org.Sid, domain.EventCredentialRevoked), 1)
	})
}
