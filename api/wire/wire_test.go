package wire_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/orgaccounts/orgaccounts/api/wire"
	"github.com/orgaccounts/orgaccounts/internal/openapibundle"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/internal/wiregen"
)

// wire.gen.go is what oapi-codegen generates from the YAML sources as they
// are now (bundled afresh, so a stale api/openapi.json does not hide it).
func TestGeneratedCodeIsUpToDate(t *testing.T) {
	doc, err := openapibundle.Bundle(os.DirFS("../openapi"), "openapi.yaml")
	if err != nil {
		t.Fatalf("bundling api/openapi: %v", err)
	}
	spec := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(spec, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	want, out, err := wiregen.Generate(spec, "oapi-codegen.yaml")
	if err != nil {
		t.Fatalf("generating: %v", err)
	}
	if out != "wire.gen.go" {
		t.Fatalf("oapi-codegen.yaml writes %s, want wire.gen.go", out)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		i := 0
		for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
			i++
		}
		line := func(ls []string) string {
			if i < len(ls) {
				return strings.TrimSpace(ls[i])
			}
			return "(end)"
		}
		t.Fatalf("api/wire/wire.gen.go is stale: regenerate it with `go generate ./api/...`\n"+
			"line %d is %q, generation gives %q", i+1, line(gl), line(wl))
	}
}

const (
	hex = "0123456789abcdef0123456789abcdef"
	at  = "2026-01-02T15:04:05Z"
	// base is a public base URL.
	base = "https://orgs.example.com"
	org  = "OR" + hex
	acct = "AC" + hex
	user = "US" + hex
	// Role SIDs: Owner and Administrator.
	owner = "IX00000000000000000000000000000101"
	admin = "IX00000000000000000000000000000102"
)

func ptr[T any](v T) *T { return &v }

func page(path string) wire.PageMeta {
	return wire.PageMeta{
		Page: 0, PageSize: 50, Key: wire.PageMetaKeyContent,
		FirstPageURL: base + path + "?PageSize=50", URL: base + path + "?PageSize=50",
		PreviousPageURL: nil, NextPageURL: ptr(base + path + "?PageSize=50&PageToken=x"),
	}
}

var (
	account = wire.Account{
		AccountSid: acct, FriendlyName: "Acme prod", Status: wire.AccountStatusActive, OwnerSid: user,
		DateCreated: at, DateUpdated: at, Kind: wire.AccountKindManaged, Flex: false, Require2FA: true,
		URL: base + "/Organizations/" + org + "/Accounts/" + acct,
	}
	closing = wire.Account{
		AccountSid: acct, FriendlyName: "Acme old", Status: wire.AccountStatusPendingClosure, OwnerSid: user,
		DateCreated: at, DateUpdated: at, Kind: wire.AccountKindIndependent, URL: base + "/Organizations/" + org + "/Accounts/" + acct,
		ParentSid: ptr("AC" + strings.Repeat("f", 32)), DateClosureRequested: ptr(at), PurgeAfter: ptr(at),
	}
	number = wire.Number{
		Sid: "PN" + hex, AccountSid: acct, PhoneNumber: ptr("+15005550006"), DateCreated: at, DateUpdated: at,
		URL: base + "/Organizations/" + org + "/Accounts/" + acct + "/PhoneNumbers",
	}
	subscription = wire.Subscription{
		Sid: "SB" + hex, AccountSid: acct, Description: "Toll-free line", MonthlyPrice: "2.00", Currency: "USD",
		Status: wire.SubscriptionStatusActive, DateCreated: at, DateStopped: nil,
	}
	request = wire.AccountRequest{
		Sid: "AR" + hex, Kind: wire.AccountRequestKindShare, AccountSid: acct, AccountName: "Dana's", Status: wire.AccountRequestStatusPending,
		RequestedBy: user, OwnerSid: user, OwnerEmail: "dana@example.net", Grants: []wire.Grant{{Identity: user, Roles: []string{admin}}},
		SentCount: 1, DateReminded: nil, DateCreated: at, ExpiresAt: at, DateEnded: nil,
		WorkflowID: "share-account/AR" + hex, URL: base + "/Organizations/" + org + "/PendingAccounts/AR" + hex,
	}
	accountUser = wire.AccountUser{
		UserSid: user, AccountSid: acct, Email: "alice@example.com", DisplayName: "Alice", Managed: true, TwoFactorEnrolled: true,
		Roles: []string{owner}, RoleNames: []string{"Owner"}, URL: base + "/Organizations/" + org + "/Accounts/" + acct + "/Users/" + user,
	}
	domain = wire.Domain{
		Sid: "DM" + hex, OrganizationSid: org, DomainName: "example.com", Status: wire.DomainStatusVerified,
		VerificationToken: "orgaccounts-domain-verification=abc",
		TXTRecord:         wire.TXTRecord{Name: "_orgaccounts.example.com", Type: wire.DomainTXTRecordTypeTXT, Value: "orgaccounts-domain-verification=abc"},
		DateCreated:       at, DateVerified: ptr(at), DateLastChecked: ptr(at), RecordMissingSince: nil, RemovalDate: nil,
		URL: base + "/Organizations/" + org + "/Domains/DM" + hex,
	}
	invitation = wire.Invitation{
		Sid: "IN" + hex, AccountSid: acct, Email: "bob@example.net", Roles: []string{admin}, RoleNames: []string{"Administrator"},
		InviterSid: user, Status: wire.InvitationStatusPending, SentCount: 1, LastSent: ptr(at), ExpiresAt: nil,
		DateCreated: at, URL: base + "/Organizations/" + org + "/Accounts/" + acct + "/Invitations/IN" + hex,
	}
	roleAssignment = wire.RoleAssignment{Sid: "IY" + hex, RoleSid: admin, Scope: acct, Identity: user}
	scimUser       = wire.SCIMUser{
		Schemas: []wire.SCIMUserSchemas{wire.SCIMUserSchemasUrnIetfParamsScimSchemasCore20User}, ID: user,
		ExternalID: ptr("ext-1"), UserName: "alice@example.com", DisplayName: ptr("Alice"),
		Name:   wire.SCIMName{GivenName: ptr("Alice")},
		Emails: []wire.SCIMEmail{{Primary: true, Value: "alice@example.com", Type: wire.SCIMUserEmailsTypeWork}},
		Active: true,
		Meta: wire.SCIMMeta{ResourceType: wire.SCIMUserMetaResourceTypeUser, Created: at, LastModified: at,
			Version: `W/"3"`, Location: base + "/Organizations/" + org + "/scim/Users/" + user},
	}
	event = wire.Event{
		Sid: "EV" + hex, EventType: wire.EventTypeAccountCreated, ActorSid: "system", ResourceSid: acct,
		Changes: map[string]any{"friendly_name": "Acme prod"}, RequestID: ptr("RQ" + hex), DateCreated: at,
	}
)

// A sample of every type the API writes or reads, as a handler would fill
// it in: each, marshalled, must match its schema.
var samples = []any{
	wire.Health{Status: wire.HealthStatusOk},
	wire.Ready{Status: wire.ReadyStatusReady},
	wire.NotReady{Status: wire.NotReadyStatusUnavailable, Reason: "temporal: unavailable"},
	wire.Error{Code: 25101, Message: "account not found in this organization", MoreInfo: "https://www.twilio.com/docs/errors/25101", Status: 404},
	wire.SCIMError{Schemas: []wire.SCIMErrorSchemas{wire.SCIMErrorSchemasUrnIetfParamsScimAPIMessages20Error}, Detail: "no such user", Status: "404"},
	wire.SCIMError{Schemas: []wire.SCIMErrorSchemas{wire.SCIMErrorSchemasUrnIetfParamsScimAPIMessages20Error}, Detail: "taken", Status: "409", SCIMType: ptr(wire.SCIMErrorScimTypeUniqueness)},
	wire.Token{AccessToken: strings.Repeat("a1", 24), TokenType: wire.TokenTokenTypeBearer, ExpiresIn: 3600},
	wire.Organization{OrganizationSid: org, FriendlyName: "Acme", OwnerSid: user, Require2FA: true, DateCreated: at, URL: base + "/Organizations/" + org},
	account, closing,
	wire.AccountPage{Content: []wire.Account{account, closing}, Meta: page("/Organizations/" + org + "/Accounts")},
	wire.AccountPage{Content: []wire.Account{}, Meta: page("/Organizations/" + org + "/Accounts")},
	wire.Creation{
		AccountSid: acct, Status: wire.CreationStatusRunning, WorkflowID: "create-account/" + acct, RunID: "r1",
		Account: &wire.CreationAccount{
			AccountSid: acct, FriendlyName: "Acme prod", Status: wire.CreationAccountStatusProvisioning, OwnerSid: user,
			DateCreated: at, DateUpdated: at, Kind: wire.CreationAccountKindManaged, URL: base + "/Organizations/" + org + "/Accounts/" + acct,
		},
		Links: wire.CreationLinks{Creation: base + "/Organizations/" + org + "/Accounts/" + acct + "/Creation", Account: base + "/Organizations/" + org + "/Accounts/" + acct},
	},
	wire.Creation{
		AccountSid: acct, Status: wire.CreationStatusFailed, WorkflowID: "create-account/" + acct, RunID: "r1",
		Steps: []wire.Step{{Name: wire.StepNameValidateOwner, Status: wire.StepStatusFailed, Error: ptr("no such owner")}},
		Error: &wire.Failure{Code: 25103, Message: "no such owner"},
		Links: wire.CreationLinks{Creation: base + "/c", Account: base + "/a"},
	},
	roleAssignment,
	wire.RoleAssignmentPage{Content: []wire.RoleAssignment{roleAssignment}, Meta: page("/Organizations/" + org + "/RoleAssignments")},
	wire.EventPage{Content: []wire.Event{event, {
		Sid: "EV" + hex, EventType: wire.EventTypeAccountCredentialRevoked, ActorSid: user, CredentialSid: ptr("SK" + hex),
		ResourceSid: "SK" + hex, Changes: map[string]any{}, SourceIP: ptr("192.0.2.1"), DateCreated: "2026-01-02T15:04:05.123Z",
	}}, Meta: page("/Organizations/" + org + "/Events")},
	accountUser,
	wire.AccountUserPage{Content: []wire.AccountUser{accountUser}, Meta: page("/Organizations/" + org + "/Accounts/" + acct + "/Users")},
	invitation,
	wire.InvitationPage{Content: []wire.Invitation{invitation}, Meta: page("/Organizations/" + org + "/Accounts/" + acct + "/Invitations")},
	wire.InvitationGrant{Status: wire.InvitationGrantStatusGranted, Email: "carol@example.com", UserSid: user, AccountSid: acct, Roles: []string{admin}},
	wire.SignUp{
		AccountSid: acct, FriendlyName: "Carol's", Status: wire.SignUpStatusActive, Kind: wire.SignUpKindStandalone,
		OwnerSid: user, Email: "carol@example.net", DateCreated: at, AuthToken: strings.Repeat("b2", 16),
	},
	request,
	wire.AccountRequestPage{Content: []wire.AccountRequest{request}, Meta: page("/Organizations/" + org + "/PendingAccounts")},
	wire.Relinquishment{AccountSid: acct, OrganizationSid: org, Status: wire.RelinquishmentStatusRelinquished, DateRelinquished: at, OwnerSid: user},
	scimUser,
	wire.SCIMList{
		Schemas:   []wire.SCIMListSchemas{wire.SCIMListSchemasUrnIetfParamsScimAPIMessages20ListResponse},
		Resources: []wire.SCIMUser{scimUser}, TotalResults: 1, StartIndex: 1, ItemsPerPage: 1,
	},
	domain,
	wire.DomainPage{Content: []wire.Domain{domain}, Meta: page("/Organizations/" + org + "/Domains")},
	number,
	wire.PhoneNumberPage{Content: []wire.Number{number}, Meta: page("/Organizations/" + org + "/Accounts/" + acct + "/PhoneNumbers")},
	wire.ShortCodePage{Content: []wire.Number{{
		Sid: "SC" + hex, AccountSid: acct, ShortCode: ptr("12345"), DateCreated: at, DateUpdated: at, URL: base + "/sc",
	}}, Meta: page("/Organizations/" + org + "/Accounts/" + acct + "/ShortCodes")},
	subscription,
	wire.SubscriptionPage{Content: []wire.Subscription{subscription, {
		Sid: "SB" + hex, AccountSid: acct, Description: "Old", MonthlyPrice: "10", Currency: "EUR",
		Status: wire.SubscriptionStatusStopped, DateCreated: at, DateStopped: ptr(at),
	}}, Meta: page("/Organizations/" + org + "/Accounts/" + acct + "/Subscriptions")},
	wire.AccountCredential{Sid: "SK" + hex, AccountSid: acct, FriendlyName: "ci", Secret: strings.Repeat("c3", 16)},
	wire.AccountCredentialList{Credentials: []wire.AccountCredentialSummary{{
		Sid: "SK" + hex, AccountSid: acct, FriendlyName: "auth token", UserSid: user, DateCreated: at,
	}}},
	wire.NewKey{Sid: "SK" + hex, FriendlyName: "laptop", UserSid: user, Secret: strings.Repeat("e5", 16), DateCreated: at, URL: base + "/k"},
	wire.KeyPage{Content: []wire.Key{
		{Sid: "SK" + hex, FriendlyName: "laptop", Kind: wire.KeyKindPersonal, UserSid: user, DateCreated: at, DateLastUsed: ptr(at), URL: base + "/k"},
		{Sid: "SK" + hex, FriendlyName: "auth token", Kind: wire.KeyKindAccount, UserSid: user, AccountSid: ptr(acct), DateCreated: at, URL: base + "/k"},
	}, Meta: page("/Organizations/" + org + "/Keys")},
	wire.KeyRequest{FriendlyName: ptr("laptop")},
	wire.Closure{
		AccountSid: acct, Status: wire.ClosureStatusRunning, Stage: wire.ClosureStageStopCharges, PurgeAfter: at,
		Steps:  []wire.ClosureStep{{Name: wire.ClosureStepNamePendingClosure, Status: wire.ClosureStepStatusCompleted}, {Name: wire.ClosureStepNameStopCharges, Status: wire.ClosureStepStatusRunning}},
		Counts: map[string]int{"charges_stopped": 1}, WorkflowID: "close-account/" + acct, RunID: "r2", Account: &closing,
		Links: wire.ClosureLinks{Closure: base + "/cl", Account: base + "/a", Reopen: base + "/re"},
	},
	wire.Reopened{Account: account, NotRestored: wire.NotRestored{PhoneNumbers: 1}, Message: "reopened"},

	// Requests.
	wire.TokenRequest{GrantType: wire.TokenRequestGrantTypeClientCredentials, ClientID: ptr("SK" + hex), ClientSecret: ptr(strings.Repeat("d4", 16))},
	wire.SignUpRequest{Email: "carol@example.net", FriendlyName: "Carol's"},
	wire.CreateAccountRequest{FriendlyName: "Acme prod"},
	wire.CreateAccountRequest{FriendlyName: "Acme sub", Owner: ptr("alice@example.com"), Flex: ptr(true), ParentSid: ptr(acct)},
	wire.UpdateAccountRequest{Require2FA: ptr(false)},
	wire.UpdateOrganizationRequest{Require2FA: ptr(true)},
	wire.CreateRoleAssignmentRequest{RoleSid: admin, Scope: acct, Identity: user},
	wire.SetAccountUserRolesRequest{Roles: []string{admin}},
	wire.TransferOwnershipRequest{Owner: user},
	wire.InviteRequest{Email: "bob@example.net", Roles: []string{admin}},
	wire.ConfirmAnswer{CSRF: strings.Repeat("e5", 16), Action: wire.ConfirmAnswerActionAccept},
	wire.ImportAccountRequest{AccountSid: acct},
	wire.ShareAccountRequest{AccountSid: acct, Grants: []wire.Grant{{Identity: user, Roles: []string{admin}}}},
	wire.ShareAccountRequest{AccountSid: acct},
	wire.SCIMUserCreate{UserName: "alice@example.com", Name: &wire.SCIMName{FamilyName: ptr("Liddell")},
		Emails: []wire.SCIMEmailInput{{Primary: ptr(true), Value: ptr("alice@example.com")}}},
	wire.SCIMUserReplace{UserName: "alice@example.com", Active: ptr(false), Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}},
	wire.SCIMPatchOp{Schemas: []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, Operations: []wire.SCIMPatchOperation{
		{Op: "replace", Path: ptr("active"), Value: json.RawMessage(`false`)}, {Op: "remove", Path: ptr("locale")},
	}},
	wire.AddDomainRequest{DomainName: "example.com"},
	wire.SSOSettings{
		OrganizationSid: org, Issuer: "https://login.example.com", ClientID: "orgaccounts", ClientSecretSet: true, Required: true,
		RedirectURI: base + "/console/sso/callback", DateCreated: at, DateUpdated: at, URL: base + "/Organizations/" + org + "/SSO",
	},
	wire.SSOSettingsRequest{Issuer: "https://login.example.com", ClientID: "orgaccounts", ClientSecret: ptr("s3cret"), Required: ptr(true)},
	wire.AcquirePhoneNumberRequest{PhoneNumber: ptr("+15005550006")},
	wire.AcquireShortCodeRequest{},
	wire.CreateSubscriptionRequest{Description: "Toll-free line", MonthlyPrice: "2.00", Currency: "USD"},
	wire.AccountCredentialRequest{FriendlyName: ptr("ci")},
	wire.CloseAccountRequest{LoseAccess: true, StopCharges: true, ReleaseResources: true, ScheduleDeletion: true},
}

func spec(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each sample, marshalled, matches the schema its type is generated from.
func TestSamplesMatchTheDescription(t *testing.T) {
	doc := spec(t)
	for i, v := range samples {
		name := reflect.TypeOf(v).Name()
		body, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("samples[%d] (%s): %v", i, name, err)
		}
		problems, err := testenv.ValidateSchema(doc, name, body)
		if err != nil {
			t.Fatalf("samples[%d]: %v", i, err)
		}
		for _, p := range problems {
			t.Errorf("samples[%d]: wire.%s does not match components.schemas.%s: %s\n  %s", i, name, name, p, body)
		}
	}
}

// The validation is not vacuous: what the description refuses is reported.
func TestSamplesAreReallyChecked(t *testing.T) {
	doc := spec(t)
	for name, body := range map[string]string{
		"Invitation":   `{}`,
		"Account":      strings.Replace(mustJSON(t, account), `"status":"active"`, `"status":"provisioning"`, 1),
		"AccountPage":  `{"content":[{"account_sid":"x"}],"meta":` + mustJSON(t, page("/p")) + `}`,
		"Subscription": strings.Replace(mustJSON(t, subscription), `"date_stopped":null,`, ``, 1),
	} {
		problems, err := testenv.ValidateSchema(doc, name, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(problems) == 0 {
			t.Errorf("%s: %s was accepted", name, body)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every schema that is a request or response body has a sample, so a new
// one cannot go untested.
func TestEveryBodyHasASample(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec(t), &doc); err != nil {
		t.Fatal(err)
	}
	type content map[string]struct {
		Schema json.RawMessage `json:"schema"`
	}
	bodies := map[string]bool{}
	collect := func(c content) {
		for _, mt := range c {
			var s struct {
				Ref   string `json:"$ref"`
				AllOf []struct {
					Ref string `json:"$ref"`
				} `json:"allOf"`
			}
			_ = json.Unmarshal(mt.Schema, &s)
			for _, ref := range append([]string{s.Ref}, func() (out []string) {
				for _, a := range s.AllOf {
					out = append(out, a.Ref)
				}
				return
			}()...) {
				if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
					bodies[name] = true
				}
			}
		}
	}
	for _, raw := range doc.Components.Responses {
		var r struct{ Content content }
		_ = json.Unmarshal(raw, &r)
		collect(r.Content)
	}
	for _, item := range doc.Paths {
		for _, raw := range item {
			var op struct {
				RequestBody struct{ Content content } `json:"requestBody"`
				Responses   map[string]struct{ Content content }
			}
			if json.Unmarshal(raw, &op) != nil {
				continue
			}
			collect(op.RequestBody.Content)
			for _, r := range op.Responses {
				collect(r.Content)
			}
		}
	}
	sampled := map[string]bool{}
	for _, v := range samples {
		sampled[reflect.TypeOf(v).Name()] = true
	}
	var missing []string
	for name := range bodies {
		if !sampled[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no sample of wire.%s: add one to samples", strings.Join(missing, ", wire."))
	}
	if len(bodies) < 50 {
		t.Errorf("found only %d body schemas: the walk is broken", len(bodies))
	}
}
