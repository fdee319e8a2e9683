package testenv

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Org is a running orgaccounts with its bootstrap organization, seen the
// way a client of the API sees it: the end-to-end tests' fixture.
//
//	o := testenv.NewOrg(t, temporal, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t)})
//	alice := o.SCIMUser("alice@example.com")
//	acct := o.CreateAccount(o.Owner, map[string]any{"friendly_name": "Support", "owner": alice})
//	o.ClientFor(alice).Get(o.Path("/Accounts/" + acct))
type Org struct {
	T   testing.TB
	App *RunningApp
	// Sid is the organization's SID.
	Sid string
	// Owner is the organization's owner, with the bootstrap credential over
	// HTTP Basic.
	Owner Client
}

// NewOrg starts the app (MustApp) and returns its bootstrap organization.
func NewOrg(tb testing.TB, t *Temporal, opts AppOptions) *Org {
	tb.Helper()
	a := MustApp(tb, t, opts)
	return &Org{
		T: tb, App: a, Sid: a.Boot.Organization.Sid,
		Owner: Client{T: tb, BaseURL: a.BaseURL, User: a.Boot.ClientID, Password: a.Boot.ClientSecret},
	}
}

// Path is p under the organization: /Organizations/{OR}p.
func (o *Org) Path(p string) string { return "/Organizations/" + o.Sid + p }

// Anonymous is a client with no credentials.
func (o *Org) Anonymous() Client { return Client{T: o.T, BaseURL: o.App.BaseURL} }

// Basic is a client sending user and password over HTTP Basic.
func (o *Org) Basic(user, password string) Client {
	return Client{T: o.T, BaseURL: o.App.BaseURL, User: user, Password: password}
}

// Bearer is a client sending a bearer token.
func (o *Org) Bearer(token string) Client {
	return Client{T: o.T, BaseURL: o.App.BaseURL, Token: token}
}

// ClientFor issues a credential to a user of the organization and returns a
// client acting as that user. (Issuing per-user credentials has no API
// yet; the store is the real one.)
func (o *Org) ClientFor(userSid string) Client {
	o.T.Helper()
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, time.Now()), OrganizationSid: o.Sid, UserSid: userSid, SecretHash: domain.HashSecret(secret)}
	require.NoError(o.T, o.App.Store.CreateCredential(context.Background(), cred, domain.AuditEvent{}))
	return o.Basic(cred.Sid, secret)
}

// AccountCredential issues a credential scoped to the account, as its
// owner does through the API, and returns a client using it.
func (o *Org) AccountCredential(accountSid string) Client {
	o.T.Helper()
	r := o.Owner.Post(o.Path("/Accounts/"+accountSid+"/Credentials"), map[string]any{"friendly_name": "app"})
	require.Equal(o.T, http.StatusCreated, r.Status, "body: %s", r.Body)
	m := r.JSON(o.T)
	return o.Basic(m["sid"].(string), m["secret"].(string))
}

// SCIMUser creates a managed Standard user through SCIM and returns its SID.
func (o *Org) SCIMUser(email string) string {
	o.T.Helper()
	r := o.Owner.Post(o.Path("/scim/Users"), map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": email, "name": map[string]string{"givenName": "Test", "familyName": "User"},
	})
	require.Equal(o.T, http.StatusCreated, r.Status, "body: %s", r.Body)
	return r.JSON(o.T)["id"].(string)
}

// CreateAccount creates an account as c through the API, waits until it
// is active, and returns its SID.
func (o *Org) CreateAccount(c Client, body map[string]any) string {
	o.T.Helper()
	r := c.Post(o.Path("/Accounts"), body)
	require.Equal(o.T, http.StatusAccepted, r.Status, "body: %s", r.Body)
	sid := r.JSON(o.T)["account_sid"].(string)
	o.WaitActive(c, sid)
	return sid
}

// WaitActive polls the account as c until it is active, and returns it.
func (o *Org) WaitActive(c Client, sid string) map[string]any {
	o.T.Helper()
	return o.WaitStatus(c, sid, domain.AccountActive)
}

// WaitStatus polls the account as c until it has the status (for 30s at
// most), and returns it. A failure shows the last answer.
func (o *Org) WaitStatus(c Client, sid, status string) map[string]any {
	o.T.Helper()
	var got map[string]any
	require.EventuallyWithT(o.T, func(collect *assert.CollectT) {
		r := c.Get(o.Path("/Accounts/" + sid))
		if !assert.Equal(collect, http.StatusOK, r.Status, "body: %s", r.Body) {
			return
		}
		got = r.JSON(o.T)
		assert.Equal(collect, status, got["status"], "account: %v", got)
	}, 30*time.Second, 50*time.Millisecond, "account %s never became %s", sid, status)
	return got
}

// Count is how many items a list endpoint shows c on its first page.
func (o *Org) Count(c Client, path string) int {
	o.T.Helper()
	r := c.Get(path)
	require.Equal(o.T, http.StatusOK, r.Status, "body: %s", r.Body)
	return len(r.JSON(o.T)["content"].([]any))
}

// OtherOrg creates a second organization in the same service (owner
// boss@other.test, domain other.test verified) and returns its SID and a
// client for its owner.
func (o *Org) OtherOrg() (string, Client) {
	o.T.Helper()
	other := SeedOrg(o.T, o.App.Store, "Other", "boss@other.test")
	return other.Organization.Sid, o.Basic(other.Credential.Sid, other.Secret)
}

// SeededOrg is an organization written straight into a store: its owner
// (a managed user, org Owner), the verified domain of the owner's email,
// and a credential for the owner.
type SeededOrg struct {
	Organization domain.Organization
	Owner        domain.User
	Domain       domain.VerifiedDomain
	Credential   domain.Credential
	Secret       string // the credential's secret
}

// SeedOrg creates an organization named name in st, owned by ownerEmail
// whose domain it has verified, for tests below the API (workers,
// activities) and for a second organization next to an Org.
func SeedOrg(tb testing.TB, st domain.Store, name, ownerEmail string) SeededOrg {
	tb.Helper()
	now := time.Now()
	s := SeededOrg{Secret: domain.NewSecret(32)}
	s.Organization = domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: name}
	s.Owner = domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: s.Organization.Sid, UserName: ownerEmail,
		Managed: true, OrgRole: domain.OrgRoleOwner, Active: true,
	}
	s.Organization.OwnerSid = s.Owner.Sid
	s.Domain = domain.VerifiedDomain{
		Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: s.Organization.Sid, DomainName: domain.EmailDomain(ownerEmail),
		Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &now,
	}
	s.Credential = domain.Credential{
		Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: s.Organization.Sid, UserSid: s.Owner.Sid,
		FriendlyName: "test", SecretHash: domain.HashSecret(s.Secret),
	}
	require.NoError(tb, st.CreateOrganization(context.Background(), s.Organization, s.Owner, s.Domain, s.Credential,
		domain.NewAuditEvent(domain.SystemActor, s.Organization.Sid, domain.EventOrganizationCreated, s.Organization.Sid, nil)))
	return s
}
