package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// env is a running orgaccounts with its bootstrap organization.
type env struct {
	t     *testing.T
	app   *testenv.RunningApp
	owner apiClient // the organization owner, over HTTP Basic
	org   string
}

func newEnv(t *testing.T, databaseURL string) *env {
	t.Helper()
	a := testenv.MustApp(t, temporal, testenv.AppOptions{DatabaseURL: databaseURL})
	return &env{
		t: t, app: a, org: a.Boot.Organization.Sid,
		owner: apiClient{t: t, base: a.BaseURL, user: a.Boot.ClientID, pass: a.Boot.ClientSecret},
	}
}

func newPostgresEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, testenv.MustPostgres(t))
}

func (e *env) orgPath(p string) string { return "/Organizations/" + e.org + p }

// clientFor issues a credential to a user of the organization and returns
// a client acting as that user. (Issuing per-user credentials has no API
// yet; the store is the real one.)
func (e *env) clientFor(userSid string) apiClient {
	e.t.Helper()
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, time.Now()), OrganizationSid: e.org, UserSid: userSid, SecretHash: domain.HashSecret(secret)}
	require.NoError(e.t, e.app.Store.CreateCredential(context.Background(), cred, domain.AuditEvent{}))
	return apiClient{t: e.t, base: e.app.BaseURL, user: cred.Sid, pass: secret}
}

// scimUser creates a managed Standard user through SCIM and returns its SID.
func (e *env) scimUser(email string) string {
	e.t.Helper()
	r := e.owner.do(http.MethodPost, e.orgPath("/scim/Users"), map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": email, "name": map[string]string{"givenName": "Test", "familyName": "User"},
	})
	require.Equal(e.t, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.JSON(e.t)["id"].(string)
}

// createAccount creates an account through the API and waits until it is
// active.
func (e *env) createAccount(c apiClient, body map[string]any) string {
	e.t.Helper()
	r := c.post(e.orgPath("/Accounts"), body)
	require.Equal(e.t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	sid := r.JSON(e.t)["account_sid"].(string)
	e.waitActive(c, sid)
	return sid
}

func (e *env) waitActive(c apiClient, sid string) map[string]any {
	e.t.Helper()
	var got map[string]any
	require.Eventually(e.t, func() bool {
		r := c.get(e.orgPath("/Accounts/" + sid))
		if r.Status != http.StatusOK {
			return false
		}
		got = r.JSON(e.t)
		return got["status"] == domain.AccountActive
	}, 30*time.Second, 50*time.Millisecond, "account %s never became active", sid)
	return got
}

// otherOrg creates a second organization with its own owner and returns a
// client for it.
func (e *env) otherOrg() (string, apiClient) {
	e.t.Helper()
	now := time.Now()
	org := domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Other"}
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: org.Sid, UserName: "boss@other.test", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
	org.OwnerSid = owner.Sid
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: org.Sid, UserSid: owner.Sid, SecretHash: domain.HashSecret(secret)}
	dom := domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: org.Sid, DomainName: "other.test", Status: domain.DomainVerified, VerificationToken: "t"}
	require.NoError(e.t, e.app.Store.CreateOrganization(context.Background(), org, owner, dom, cred, domain.AuditEvent{}))
	return org.Sid, apiClient{t: e.t, base: e.app.BaseURL, user: cred.Sid, pass: secret}
}

// count returns how many items a list endpoint shows on its first page.
func (e *env) count(c apiClient, path string) int {
	e.t.Helper()
	r := c.get(path)
	require.Equal(e.t, http.StatusOK, r.Status, "body: %s", r.Body)
	return len(r.JSON(e.t)["content"].([]any))
}
