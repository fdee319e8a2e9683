package app_test

import (
	"context"
	"encoding/json"
	"net/http"
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
// caller changes cannot turn a refusal of a lesser one into a pass.
const (
	callerNone           = "NoCredentials"
	callerOtherOrgOwner  = "OtherOrganizationOwner"
	callerOtherAccount   = "AccountCredentialOfAnotherAccount"
	callerStandardNoRole = "StandardWithoutRole"
	callerStandardRole   = "StandardWithRole" // Developer on the account
	callerAdministrator  = "Administrator"
	callerOwner          = "Owner"
)

var matrixCallers = []string{callerNone, callerOtherOrgOwner, callerOtherAccount, callerStandardNoRole, callerStandardRole, callerAdministrator, callerOwner}

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
}

// matrixOps lists every operation of the OpenAPI document under
// /Organizations.
func matrixOps(t *testing.T) []matrixOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPISpec(), &doc))
	var ops []matrixOp
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/Organizations/") {
			continue
		}
		for method, raw := range item {
			var op struct {
				OperationID string `json:"operationId"`
			}
			if json.Unmarshal(raw, &op) != nil || op.OperationID == "" {
				continue
			}
			ops = append(ops, matrixOp{method: strings.ToUpper(method), path: path, id: op.OperationID})
		}
	}
	slices.SortFunc(ops, func(a, b matrixOp) int { return strings.Compare(a.id, b.id) })
	return ops
}

// TestRoleMatrix walks every operation under /Organizations with each kind
// of caller and checks the answer against the role rules: no 2xx for a
// caller the rules refuse, no refusal of authority (401, 403) for one they
// allow, and no SID of another organization in any body.
//
// Callers other than the owner use personal API keys minted in the store:
// POST /Keys makes a key for the caller itself, and only a signed-in person
// or an organization credential may call it.
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

	callers := map[string]testenv.Client{
		callerNone:           e.Anonymous(),
		callerOtherOrgOwner:  e.Basic(foreign.ClientID, foreign.ClientSecret),
		callerOtherAccount:   e.AccountCredential(other),
		callerStandardNoRole: mintKey(t, e.Org, e.SCIMUser("no-role@example.com")),
		callerStandardRole:   mintKey(t, e.Org, withRole),
		callerAdministrator:  mintKey(t, e.Org, admin),
		callerOwner:          e.Owner,
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
	}
	bodies := matrixBodies(acct, victim)
	ops := matrixOps(t)
	require.NotEmpty(t, ops)
	for _, op := range ops {
		require.Contains(t, matrixRules, op.id, "operation %s (%s %s) has no role rule in the matrix", op.id, op.method, op.path)
	}

	for _, who := range matrixCallers {
		t.Run(who, func(t *testing.T) {
			c := callers[who]
			c.T = t
			succeeded := 0
			for _, op := range ops {
				path := op.path
				for name, v := range params {
					path = strings.ReplaceAll(path, "{"+name+"}", v)
				}
				var body any
				if op.method == http.MethodPost || op.method == http.MethodPut || op.method == http.MethodPatch {
					body = map[string]any{}
					if b, ok := bodies[op.id]; ok {
						body = b
					}
				}
				if strings.Contains(path, "/scim/") && body != nil {
					body = scimBody(op.id)
				}
				r := c.Do(op.method, path, body)
				allowed := slices.Contains(matrixRules[op.id], who)
				ok2xx := r.Status >= 200 && r.Status < 300
				if ok2xx {
					succeeded++
				}
				if !allowed && ok2xx {
					t.Errorf("%s %s (%s) as %s: %d, want a refusal; body: %s", op.method, op.path, op.id, who, r.Status, r.Body)
				}
				if allowed && (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden) {
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
			if slices.Contains(anyMember, who) && succeeded < 5 {
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
