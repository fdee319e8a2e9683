package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/app"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// The callers of the role matrix, from the least privileged to the most:
// each runs every operation before the next starts, so what a permitted
// caller changes cannot turn a refusal of a lesser one into a pass. All but
// the session are API callers; the session is the Standard user with a
// role, signed in to the console (a cookie), which only the console's
// pages take.
const (
	callerNone            = "NoCredentials"
	callerOtherOrgOwner   = "OtherOrganizationOwner"
	callerOtherAccount    = "AccountCredentialOfAnotherAccount"
	callerStandardNoRole  = "StandardWithoutRole"
	callerStandardRole    = "StandardWithRole" // Developer on the account
	callerStandardSession = "StandardWithRoleSignedIn"
	callerAdministrator   = "Administrator"
	callerOwner           = "Owner"
)

var matrixCallers = []string{callerNone, callerOtherOrgOwner, callerOtherAccount, callerStandardNoRole, callerStandardRole, callerStandardSession, callerAdministrator, callerOwner}

// Who may succeed on each operation under /Organizations, after the rules
// in the operations' descriptions.
var (
	anyMember   = []string{callerStandardNoRole, callerStandardRole, callerAdministrator, callerOwner}
	accountRole = []string{callerStandardRole, callerAdministrator, callerOwner}
	orgAdmins   = []string{callerAdministrator, callerOwner}
	// Only an organization credential makes keys; every other caller here
	// but the owner uses a personal key.
	orgCredential = []string{callerOwner}
)

var matrixRules = map[string][]string{
	"getOrganization":         anyMember,
	"listAccounts":            anyMember,
	"createAccount":           anyMember,
	"listRoleAssignments":     anyMember,
	"listDomains":             anyMember,
	"getDomain":               anyMember,
	"listKeys":                anyMember,
	"revokeKey":               anyMember,
	"createKey":               orgCredential,
	"getAccount":              accountRole,
	"getAccountCreation":      accountRole,
	"listAccountUsers":        accountRole,
	"listPhoneNumbers":        accountRole,
	"listShortCodes":          accountRole,
	"listSubscriptions":       accountRole,
	"getClosure":              accountRole,
	"updateAccount":           orgAdmins,
	"createRoleAssignment":    orgAdmins,
	"deleteRoleAssignment":    orgAdmins,
	"listEvents":              orgAdmins,
	"setAccountUserRoles":     orgAdmins,
	"removeAccountUser":       orgAdmins,
	"transferOwnership":       orgAdmins,
	"listInvitations":         orgAdmins,
	"createInvitation":        orgAdmins,
	"getInvitation":           orgAdmins,
	"revokeInvitation":        orgAdmins,
	"resendInvitation":        orgAdmins,
	"importAccount":           orgAdmins,
	"cancelImport":            orgAdmins,
	"shareAccount":            orgAdmins,
	"cancelShare":             orgAdmins,
	"relinquishAccount":       orgAdmins,
	"listPendingAccounts":     orgAdmins,
	"getPendingAccount":       orgAdmins,
	"listSCIMUsers":           orgAdmins,
	"createSCIMUser":          orgAdmins,
	"getSCIMUser":             orgAdmins,
	"replaceSCIMUser":         orgAdmins,
	"patchSCIMUser":           orgAdmins,
	"deleteSCIMUser":          orgAdmins,
	"addDomain":               orgAdmins,
	"deleteDomain":            orgAdmins,
	"updateOrganization":      orgAdmins,
	"getSSOSettings":          orgAdmins,
	"putSSOSettings":          orgAdmins,
	"deleteSSOSettings":       orgAdmins,
	"acquirePhoneNumber":      orgAdmins,
	"acquireShortCode":        orgAdmins,
	"createSubscription":      orgAdmins,
	"createAccountCredential": orgAdmins,
	"listAccountCredentials":  orgAdmins,
	"revokeAccountCredential": orgAdmins,
	"closeAccount":            orgAdmins,
	"reopenAccount":           orgAdmins,
}

// Who may succeed on each console page that takes a signed-in person:
// only the session among the callers (the JSON API's credentials are not
// signed in), and on the pages a Developer on the account may use. The
// rest are for organization Owners and Administrators.
var (
	session      = []string{callerStandardSession}
	consoleAdmin = []string(nil)
)

var consoleRules = map[string][]string{
	"consoleHome":             session,
	"consoleAccounts":         session,
	"consoleNewAccount":       session,
	"consoleCreateAccount":    session,
	"consoleAccountGeneral":   session,
	"consoleClosure":          session,
	"consoleCreation":         session,
	"consoleUsers":            session,
	"consoleMe":               session,
	"consoleOrganization":     session,
	"consoleDomains":          session, // read-only for a Standard user
	"consoleSettings":         session, // without the single sign-on settings
	"consoleSaveSettings":     consoleAdmin,
	"consoleSaveSSO":          consoleAdmin,
	"consoleDeleteSSO":        consoleAdmin,
	"consoleKeys":             session, // their own keys
	"consoleCreateKey":        session,
	"consoleRevokeKey":        session,
	"consoleOrgUsers":         consoleAdmin,
	"consoleEvents":           consoleAdmin,
	"consoleAddDomain":        consoleAdmin,
	"consoleDeleteDomain":     consoleAdmin,
	"consoleAddExisting":      consoleAdmin,
	"consoleImportAccount":    consoleAdmin,
	"consoleShareForm":        consoleAdmin,
	"consoleShareAccount":     consoleAdmin,
	"consolePendingAccounts":  consoleAdmin,
	"consolePendingAccount":   consoleAdmin,
	"consoleCancelPending":    consoleAdmin,
	"consoleCloseForm":        consoleAdmin,
	"consoleCloseAccount":     consoleAdmin,
	"consoleReopen":           consoleAdmin,
	"consoleAccountSettings":  consoleAdmin,
	"consoleInviteForm":       consoleAdmin,
	"consoleInvite":           consoleAdmin,
	"consoleResend":           consoleAdmin,
	"consoleRevoke":           consoleAdmin,
	"consoleOwnerForm":        consoleAdmin,
	"consoleChangeOwner":      consoleAdmin,
	"consolePendingUsers":     consoleAdmin,
	"consoleRemoveUser":       consoleAdmin,
	"consoleSetRoles":         consoleAdmin,
	"securityPage":            session,
	"beginTOTP":               session,
	"confirmTOTP":             session,
	"beginPasskey":            session,
	"finishPasskey":           session,
	"removeFactor":            session,
	"regenerateRecoveryCodes": session,
	"signOut":                 session,
	"signOutEverywhere":       session,
}

// consoleForms are form bodies that pass validation, so the role rules are
// what decides; other console forms are sent empty.
func consoleForms() map[string]url.Values {
	closing := url.Values{"lose_access": {"on"}, "stop_charges": {"on"}, "release_resources": {"on"}, "schedule_deletion": {"on"}}
	return map[string]url.Values{
		"consoleCreateAccount":   {"friendly_name": {"Matrix page"}},
		"consoleAccountSettings": {"friendly_name": {"Matrix renamed page"}},
		"consoleInvite":          {"email": {"matrix@partner.test"}, "roles": {domain.RoleSupport}},
		"consoleSetRoles":        {"roles": {domain.RoleSupport}},
		"consoleCloseAccount":    closing,
		"consoleAddDomain":       {"domain_name": {"matrix.example.org"}},
		"consoleSaveSettings":    {"require_2fa": {"on"}},
		"consoleSaveSSO":         {"issuer": {"https://idp.example.com"}, "client_id": {"matrix"}, "client_secret": {"matrix-secret"}},
		"consoleCreateKey":       {"friendly_name": {"matrix page"}},
	}
}

// endsSession: the operations that end the session calling them; the
// session caller signs in again before each.
var endsSession = []string{"signOut", "signOutEverywhere"}

// matrixBodies are request bodies that pass validation, so the role rules
// are what decides; other operations get an empty object.
func matrixBodies(acct, victim string) map[string]any {
	return map[string]any{
		"createAccount":           map[string]any{"friendly_name": "Matrix"},
		"updateAccount":           map[string]any{"friendly_name": "Matrix renamed"},
		"createRoleAssignment":    map[string]any{"role_sid": domain.RoleSupport, "scope": acct, "identity": victim},
		"setAccountUserRoles":     map[string]any{"roles": []string{domain.RoleSupport}},
		"createKey":               map[string]any{"friendly_name": "matrix"},
		"createSubscription":      map[string]any{"description": "Matrix", "monthly_price": "1.00", "currency": "USD"},
		"createAccountCredential": map[string]any{"friendly_name": "matrix"},
	}
}

type matrixOp struct {
	method, path, id string
	// public: the document asks no credentials of it (security: [] or
	// an empty requirement).
	public bool
}

// api: the operation is the JSON API's (under /Organizations).
func (op matrixOp) api() bool { return strings.HasPrefix(op.path, "/Organizations/") }

// matrixOps lists every operation of the OpenAPI document, those that end
// the caller's session last.
func matrixOps(t *testing.T) []matrixOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPISpec(), &doc))
	var ops []matrixOp
	for path, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				OperationID string             `json:"operationId"`
				Security    *[]json.RawMessage `json:"security"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			// No requirement, or an empty one among them: credentials
			// are optional.
			public := op.Security != nil && (len(*op.Security) == 0 || slices.ContainsFunc(*op.Security, func(r json.RawMessage) bool { return string(r) == "{}" }))
			ops = append(ops, matrixOp{method: strings.ToUpper(method), path: path, id: op.OperationID, public: public})
		}
	}
	slices.SortFunc(ops, func(a, b matrixOp) int {
		if ea, eb := slices.Contains(endsSession, a.id), slices.Contains(endsSession, b.id); ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return strings.Compare(a.id, b.id)
	})
	return ops
}

// matrixRule is who may succeed on op; public says anyone may (what
// the answer is then depends on the input, not on the caller).
func matrixRule(t *testing.T, op matrixOp) (who []string, public bool) {
	t.Helper()
	switch {
	case op.public:
		return nil, true
	case op.api():
		who, ok := matrixRules[op.id]
		require.True(t, ok, "operation %s (%s %s) has no role rule in the matrix", op.id, op.method, op.path)
		return who, false
	default:
		who, ok := consoleRules[op.id]
		require.True(t, ok, "console operation %s (%s %s) has no role rule in the matrix", op.id, op.method, op.path)
		return who, false
	}
}

// succeededAt reports whether an answer is a success: a 2xx, or a
// redirect that is not to the sign-in page (a console form's success is a
// 303 to the page showing its outcome).
func succeededAt(r testenv.Response) bool {
	if r.Status >= 200 && r.Status < 300 {
		return true
	}
	return r.Status >= 300 && r.Status < 400 && !strings.HasPrefix(r.Header.Get("Location"), "/console/sign-in")
}

// sessionClient signs in to the console as email and returns a client
// sending the session's cookie.
func sessionClient(t *testing.T, o *testenv.Org, email string) testenv.Client {
	t.Helper()
	c := o.Anonymous().WithHeader("Cookie", sessionCookie(t, o.SignedIn(email, testenv.TestPassword), o.App.BaseURL))
	c.T = t
	return c
}

// TestRoleMatrix walks every operation of the OpenAPI document with each
// kind of caller and checks the answer against the role rules: no success
// (2xx, or a console form's redirect) for a caller the rules refuse, no
// refusal of authority (401, 403) for one they allow, and no SID of
// another organization in any body. The JSON API takes no session; the
// console's pages take nothing but one; public operations are open to
// all.
//
// API callers other than the owner use personal API keys minted in the
// store: POST /Keys makes a key for the caller itself, and only a
// signed-in person or an organization credential may call it.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)

	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Matrix target"})
	other := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Matrix other"})
	withRole := e.SCIMUser("with-role@example.com")
	r := e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": acct, "identity": withRole})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	admin := e.SCIMUser("org-admin@example.com")
	makeOrgAdmin(t, e.Org, admin)
	victim := e.SCIMUser("victim@example.com")

	foreign := otherOrganization(t, e.Org)
	foreignSIDs := []string{foreign.Organization.Sid, foreign.Owner.Sid, foreign.ClientID}

	e.SetPassword(withRole, testenv.TestPassword)
	callers := map[string]testenv.Client{
		callerNone:            e.Anonymous(),
		callerOtherOrgOwner:   e.Basic(foreign.ClientID, foreign.ClientSecret),
		callerOtherAccount:    e.AccountCredential(other),
		callerStandardNoRole:  mintKey(t, e.Org, e.SCIMUser("no-role@example.com")),
		callerStandardRole:    mintKey(t, e.Org, withRole),
		callerStandardSession: sessionClient(t, e.Org, "with-role@example.com"),
		callerAdministrator:   mintKey(t, e.Org, admin),
		callerOwner:           e.Owner,
	}
	// Path parameters: the real organization, account and user, and SIDs
	// of the right shape for the rest.
	params := map[string]string{
		"OrganizationSid":   e.Sid,
		"AccountSid":        acct,
		"UserSid":           victim,
		"RoleAssignmentSid": domain.NewSID(domain.PrefixRoleAssignment, time.Now()),
		"InvitationSid":     domain.NewSID(domain.PrefixInvitation, time.Now()),
		"RequestSid":        domain.NewSID(domain.PrefixAccountRequest, time.Now()),
		"DomainSid":         domain.NewSID(domain.PrefixDomain, time.Now()),
		"CredentialSid":     domain.NewSID(domain.PrefixCredential, time.Now()),
		"KeySid":            domain.NewSID(domain.PrefixCredential, time.Now()),
		// The console's names for the same things.
		"account":    acct,
		"user":       victim,
		"invitation": domain.NewSID(domain.PrefixInvitation, time.Now()),
		"request":    domain.NewSID(domain.PrefixAccountRequest, time.Now()),
		"domain":     domain.NewSID(domain.PrefixDomain, time.Now()),
		"factor":     domain.NewSID(domain.PrefixCredential, time.Now()),
		"key":        domain.NewSID(domain.PrefixCredential, time.Now()),
		"token":      domain.NewSecret(32),
		"file":       "console.css",
	}
	bodies := matrixBodies(acct, victim)
	forms := consoleForms()
	ops := matrixOps(t)
	require.NotEmpty(t, ops)
	for _, op := range ops {
		matrixRule(t, op)
	}

	for _, who := range matrixCallers {
		t.Run(who, func(t *testing.T) {
			c := callers[who].WithoutRedirects()
			c.T = t
			succeeded := 0
			for _, op := range ops {
				path := op.path
				for name, v := range params {
					path = strings.ReplaceAll(path, "{"+name+"}", v)
				}
				require.NotContains(t, path, "{", "the matrix has no value for a parameter of %s", op.id)
				var body any
				if op.method == http.MethodPost || op.method == http.MethodPut || op.method == http.MethodPatch {
					switch {
					case op.api() && strings.Contains(path, "/scim/"):
						body = scimBody(op.id)
					case op.api() || op.id == "signUp":
						body = map[string]any{}
						if b, ok := bodies[op.id]; ok {
							body = b
						}
					default: // the console's and the token endpoint's forms
						body = url.Values{}
						if f, ok := forms[op.id]; ok {
							body = f
						}
					}
				}
				if who == callerStandardSession && slices.Contains(endsSession, op.id) {
					c = sessionClient(t, e.Org, "with-role@example.com").WithoutRedirects()
				}
				r := c.Do(op.method, path, body)
				rule, public := matrixRule(t, op)
				allowed := public || slices.Contains(rule, who)
				ok := succeededAt(r)
				if ok {
					succeeded++
				}
				if !allowed && ok {
					t.Errorf("%s %s (%s) as %s: %d, want a refusal; Location: %q, body: %s", op.method, op.path, op.id, who, r.Status, r.Header.Get("Location"), r.Body)
				}
				if allowed && !public && (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden) {
					t.Errorf("%s %s (%s) as %s: %d, the rules allow it; body: %s", op.method, op.path, op.id, who, r.Status, r.Body)
				}
				for _, sid := range foreignSIDs {
					if strings.Contains(string(r.Body), sid) {
						t.Errorf("%s %s (%s) as %s: the body holds %s of another organization: %s", op.method, op.path, op.id, who, sid, r.Body)
					}
				}
			}
			// The walk reaches the rules, not only validation: each user
			// of the organization succeeds somewhere.
			if (slices.Contains(anyMember, who) || who == callerStandardSession) && succeeded < 5 {
				t.Errorf("%s succeeded on %d operations only: the matrix is not exercising the role rules", who, succeeded)
			}
		})
	}
}

// otherOrganization creates a second organization in o's database, with
// its owner and an organization credential.
func otherOrganization(t *testing.T, o *testenv.Org) app.Bootstrapped {
	t.Helper()
	now := time.Now()
	org := domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Elsewhere"}
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: org.Sid, UserName: "boss@elsewhere.example.org",
		DisplayName: "Elsewhere Owner", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
	org.OwnerSid = owner.Sid
	at := now
	dom := domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: org.Sid, DomainName: "elsewhere.example.org",
		Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &at}
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: org.Sid, UserSid: owner.Sid, SecretHash: domain.HashSecret(secret)}
	require.NoError(t, o.App.Store.CreateOrganization(context.Background(), org, owner, dom, cred, domain.AuditEvent{}))
	return app.Bootstrapped{Organization: org, Owner: owner, ClientID: cred.Sid, ClientSecret: secret}
}

// scimBody is a SCIM request body for the operation.
func scimBody(id string) any {
	switch id {
	case "patchSCIMUser":
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": "Matrix"}}}
	default:
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "matrix-" + domain.NewSecret(6) + "@example.com", "name": map[string]string{"givenName": "M", "familyName": "X"}}
	}
}
