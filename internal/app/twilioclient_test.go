package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	twclient "github.com/twilio/twilio-go/client"
	iam "github.com/twilio/twilio-go/rest/preview_iam/organization"
	iamv1 "github.com/twilio/twilio-go/rest/preview_iam/v1"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// twilioTransport sends what Twilio's client addresses to *.twilio.com to
// the service under test instead, and keeps the last answer's status,
// media type and body, which the client does not hand back on a refusal.
type twilioTransport struct {
	target *url.URL

	mu   sync.Mutex
	last wireAnswer
}

type wireAnswer struct {
	Method, Path string
	Status       int
	ContentType  string
	Body         []byte
}

func (tr *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if strings.HasSuffix(req.URL.Hostname(), ".twilio.com") {
		req.URL.Scheme, req.URL.Host = tr.target.Scheme, tr.target.Host
		req.Host = tr.target.Host
	} else if req.URL.Host != tr.target.Host {
		return nil, errors.New("the client called neither Twilio nor the service: " + req.URL.String())
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	tr.mu.Lock()
	tr.last = wireAnswer{Method: req.Method, Path: req.URL.Path, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: body}
	tr.mu.Unlock()
	return resp, nil
}

// Last is the last answer the service gave.
func (tr *twilioTransport) Last() wireAnswer {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.last
}

// bearer is the client library's OAuth hook holding a token obtained
// beforehand from POST /v1/token.
type bearer string

func (b bearer) GetAccessToken(context.Context) (string, error) { return string(b), nil }

// TestTwilioGoClient drives Twilio's official Go client library
// (preview_iam) against the running service: the calls an existing Twilio
// integration makes work unchanged when pointed at orgaccounts.
func TestTwilioGoClient(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	target, err := url.Parse(e.App.BaseURL)
	require.NoError(t, err)
	tr := &twilioTransport{target: target}
	httpClient := &http.Client{
		Transport:     tr,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	// The OAuth token call: client credentials for a bearer token.
	anonymous := &twclient.Client{Credentials: twclient.NewCredentials("", ""), HTTPClient: httpClient}
	tok, err := iamv1.NewApiServiceWithClient(anonymous).CreateToken((&iamv1.CreateTokenParams{}).
		SetGrantType("client_credentials").SetClientId(e.Owner.User).SetClientSecret(e.Owner.Password))
	require.NoError(t, err)
	require.NotNil(t, tok.AccessToken)
	require.NotEmpty(t, *tok.AccessToken)
	require.Equal(t, "Bearer", *tok.TokenType)
	require.Positive(t, *tok.ExpiresIn)

	_, err = iamv1.NewApiServiceWithClient(anonymous).CreateToken((&iamv1.CreateTokenParams{}).
		SetGrantType("client_credentials").SetClientId(e.Owner.User).SetClientSecret("wrong0secret0wrong0secret0wrong0"))
	var rest *twclient.TwilioRestError
	require.ErrorAs(t, err, &rest, "a wrong secret is refused in Twilio's error format")
	require.Equal(t, http.StatusUnauthorized, rest.Status)

	viaBearer := &twclient.Client{Credentials: twclient.NewCredentials("", ""), HTTPClient: httpClient}
	viaBearer.SetOauth(bearer(*tok.AccessToken))
	org := iam.NewApiServiceWithClient(viaBearer)
	// The same calls over HTTP Basic with the client credentials.
	viaBasic := iam.NewApiServiceWithClient(&twclient.Client{Credentials: twclient.NewCredentials(e.Owner.User, e.Owner.Password), HTTPClient: httpClient})

	require.NoError(t, org.FetchOrganization(e.Sid))
	require.Equal(t, http.StatusOK, tr.Last().Status)

	t.Run("Accounts", func(t *testing.T) {
		want := map[string]bool{}
		for _, name := range []string{"Production", "Staging", "Test"} {
			want[e.CreateAccount(e.Owner, map[string]any{"friendly_name": name})] = true
		}

		// One page of two, then every account by following next_page_url.
		page, err := org.PageOrganizationAccounts(e.Sid, (&iam.ListOrganizationAccountsParams{}).SetPageSize(2), "", "")
		require.NoError(t, err)
		require.Len(t, page.Content, 2)
		require.Equal(t, 2, page.Meta.PageSize)
		require.Equal(t, "content", page.Meta.Key)
		require.NotNil(t, page.Meta.NextPageUrl)
		require.Nil(t, page.Meta.PreviousPageUrl)

		for _, svc := range []*iam.ApiService{org, viaBasic} {
			all, err := svc.ListOrganizationAccounts(e.Sid, (&iam.ListOrganizationAccountsParams{}).SetPageSize(2))
			require.NoError(t, err)
			got := map[string]bool{}
			for _, a := range all {
				got[a.AccountSid] = true
				require.Equal(t, domain.AccountActive, a.Status)
				require.Equal(t, e.App.Boot.Owner.Sid, a.OwnerSid)
				require.False(t, a.DateCreated.IsZero(), "date_created reads as a time")
			}
			require.Equal(t, want, got)
		}

		limited, err := org.ListOrganizationAccounts(e.Sid, (&iam.ListOrganizationAccountsParams{}).SetPageSize(1).SetLimit(2))
		require.NoError(t, err)
		require.Len(t, limited, 2)

		sid := page.Content[0].AccountSid
		acct, err := org.FetchOrganizationAccount(e.Sid, (&iam.FetchOrganizationAccountParams{}).SetPathAccountSid(sid))
		require.NoError(t, err)
		require.Equal(t, page.Content[0], *acct)

		_, err = org.FetchOrganizationAccount(e.Sid, (&iam.FetchOrganizationAccountParams{}).SetPathAccountSid("AC"+strings.Repeat("0", 32)))
		require.ErrorAs(t, err, &rest)
		require.Equal(t, http.StatusNotFound, rest.Status)
		require.Equal(t, domain.CodeAccountNotFound, rest.Code)
		require.NotEmpty(t, rest.MoreInfo)
	})

	t.Run("SCIMUsersAndRoles", func(t *testing.T) {
		// The client sends meta with zero times and active only when
		// true; the read-only meta is ignored (RFC 7644 §3.3).
		created, err := org.CreateOrganizationUser(e.Sid, (&iam.CreateOrganizationUserParams{}).SetScimUser(iam.ScimUser{
			UserName: "grace@example.com", ExternalId: "grace-1", DisplayName: "Grace",
			Name:    iam.ScimName{GivenName: "Grace", FamilyName: "Hopper"},
			Emails:  []iam.ScimEmailAddress{{Primary: true, Value: "grace@example.com", Type: "work"}},
			Active:  true,
			Locale:  "en-US",
			Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		}))
		require.NoError(t, err, "last answer: %s", tr.Last().Body)
		require.Equal(t, http.StatusCreated, tr.Last().Status)
		require.Contains(t, tr.Last().ContentType, "application/scim+json")
		require.True(t, domain.ValidSID(domain.PrefixUser, created.Id), created.Id)
		require.Equal(t, "grace@example.com", created.UserName)
		require.Equal(t, "grace-1", created.ExternalId)
		require.Equal(t, iam.ScimName{GivenName: "Grace", FamilyName: "Hopper"}, created.Name)
		require.True(t, created.Active)
		require.Equal(t, "User", created.Meta.ResourceType)
		require.False(t, created.Meta.Created.IsZero())
		require.NotEmpty(t, created.Meta.Version)

		fetched, err := org.FetchOrganizationUser(e.Sid, created.Id)
		require.NoError(t, err)
		require.Equal(t, *created, *fetched)

		for _, filter := range []string{`userName eq "grace@example.com"`, `externalId eq "grace-1"`} {
			found, err := org.ListOrganizationUsers(e.Sid, (&iam.ListOrganizationUsersParams{}).SetFilter(filter))
			require.NoError(t, err)
			require.Len(t, found, 1, filter)
			require.Equal(t, created.Id, found[0].Id)
		}
		none, err := org.ListOrganizationUsers(e.Sid, (&iam.ListOrganizationUsersParams{}).SetFilter(`userName eq "nobody@example.com"`))
		require.NoError(t, err)
		require.Empty(t, none)

		// PUT with the current ETag, then again with the now stale one.
		replacement := *fetched
		replacement.DisplayName = "Rear Admiral Hopper"
		replaced, err := org.UpdateOrganizationUser(e.Sid, created.Id, (&iam.UpdateOrganizationUserParams{}).
			SetIfMatch(created.Meta.Version).SetScimUser(replacement))
		require.NoError(t, err, "last answer: %s", tr.Last().Body)
		require.Equal(t, "Rear Admiral Hopper", replaced.DisplayName)
		require.NotEqual(t, created.Meta.Version, replaced.Meta.Version)

		_, err = org.UpdateOrganizationUser(e.Sid, created.Id, (&iam.UpdateOrganizationUserParams{}).
			SetIfMatch(created.Meta.Version).SetScimUser(replacement))
		// The library reads every refusal as Twilio's JSON error, whose
		// status is a number; a SCIM error's status is a string (RFC 7644
		// §3.12), so it reports the status it could not decode.
		require.ErrorContains(t, err, "412")
		requireSCIMAnswer(t, tr.Last(), http.StatusPreconditionFailed, domain.CodeVersionConflict)

		// PATCH with the current ETag; a stale one is refused and
		// changes nothing.
		patch := iam.ScimPatchRequest{
			Schemas:    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			Operations: []iam.ScimPatchOperation{{Op: "replace", Value: map[string]any{"displayName": "Amazing Grace", "locale": "en-GB"}}},
		}
		patched, err := org.PatchOrganizationUser(e.Sid, created.Id, (&iam.PatchOrganizationUserParams{}).
			SetIfMatch(replaced.Meta.Version).SetScimPatchRequest(patch))
		require.NoError(t, err, "last answer: %s", tr.Last().Body)
		require.Equal(t, "Amazing Grace", patched.DisplayName)
		require.Equal(t, "en-GB", patched.Locale)
		require.Equal(t, "Hopper", patched.Name.FamilyName, "a PATCH leaves the rest alone")

		_, err = org.PatchOrganizationUser(e.Sid, created.Id, (&iam.PatchOrganizationUserParams{}).
			SetIfMatch(replaced.Meta.Version).SetScimPatchRequest(iam.ScimPatchRequest{
			Schemas:    patch.Schemas,
			Operations: []iam.ScimPatchOperation{{Op: "replace", Value: map[string]any{"displayName": "Stale"}}},
		}))
		require.Error(t, err)
		requireSCIMAnswer(t, tr.Last(), http.StatusPreconditionFailed, domain.CodeVersionConflict)
		again, err := org.FetchOrganizationUser(e.Sid, created.Id)
		require.NoError(t, err)
		require.Equal(t, *patched, *again)

		// A role on an account, listed by scope and by identity, then
		// deleted.
		acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Grace's"})
		ra, err := org.CreateRoleAssignment(e.Sid, (&iam.CreateRoleAssignmentParams{}).SetPublicApiCreateRoleAssignmentRequest(
			iam.PublicApiCreateRoleAssignmentRequest{RoleSid: domain.RoleDeveloper, Scope: acct, Identity: created.Id}))
		require.NoError(t, err, "last answer: %s", tr.Last().Body)
		require.Equal(t, http.StatusCreated, tr.Last().Status)
		require.Equal(t, iam.PublicApiRoleAssignmentResponse{Sid: ra.Sid, RoleSid: domain.RoleDeveloper, Scope: acct, Identity: created.Id}, *ra)

		byScope, err := org.ListRoleAssignments(e.Sid, (&iam.ListRoleAssignmentsParams{}).SetScope(acct))
		require.NoError(t, err)
		roles := map[string]string{}
		for _, r := range byScope {
			roles[r.Identity] = r.RoleSid
		}
		require.Equal(t, map[string]string{e.App.Boot.Owner.Sid: domain.RoleOwner, created.Id: domain.RoleDeveloper}, roles)
		byIdentity, err := org.ListRoleAssignments(e.Sid, (&iam.ListRoleAssignmentsParams{}).SetIdentity(created.Id))
		require.NoError(t, err)
		require.Equal(t, []iam.PublicApiRoleAssignmentResponse{*ra}, byIdentity)

		_, err = org.ListRoleAssignments(e.Sid, &iam.ListRoleAssignmentsParams{})
		require.ErrorAs(t, err, &rest, "neither Identity nor Scope")
		require.Equal(t, http.StatusBadRequest, rest.Status)
		require.Equal(t, domain.CodeRoleFilterRequired, rest.Code)

		require.NoError(t, org.DeleteRoleAssignment(e.Sid, ra.Sid))
		require.Equal(t, http.StatusNoContent, tr.Last().Status)
		left, err := org.ListRoleAssignments(e.Sid, (&iam.ListRoleAssignmentsParams{}).SetIdentity(created.Id))
		require.NoError(t, err)
		require.Empty(t, left)

		// DELETE, and the user is gone.
		require.NoError(t, org.DeleteOrganizationUser(e.Sid, created.Id))
		require.Equal(t, http.StatusNoContent, tr.Last().Status)
		_, err = org.FetchOrganizationUser(e.Sid, created.Id)
		require.Error(t, err)
		requireSCIMAnswer(t, tr.Last(), http.StatusNotFound, domain.CodeUserNotFound)
	})
}

// requireSCIMAnswer checks a SCIM refusal as the client library's own
// ScimError model reads it.
func requireSCIMAnswer(t *testing.T, a wireAnswer, status, code int) {
	t.Helper()
	require.Equal(t, status, a.Status, "%s %s: %s", a.Method, a.Path, a.Body)
	require.Contains(t, a.ContentType, "application/scim+json")
	var e iam.ScimError
	require.NoError(t, json.Unmarshal(a.Body, &e))
	require.Equal(t, []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, e.Schemas)
	require.Equal(t, strconv.Itoa(status), e.Status)
	require.Equal(t, code, e.Code)
	require.Equal(t, "https://www.twilio.com/docs/errors/"+strconv.Itoa(code), e.MoreInfo)
	require.NotEmpty(t, e.Detail)
}
