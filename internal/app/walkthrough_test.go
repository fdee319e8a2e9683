package app_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// TestWalkthrough checks in detail the answers of the walkthrough's first
// steps, on PostgreSQL and on the embedded SQLite default
// (TestREADMEWalkthrough runs README's own commands).
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	t.Run("postgres", func(t *testing.T) { t.Parallel(); walkthrough(t, newPostgresEnv(t)) })
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); walkthrough(t, newEnv(t, "")) })
}

func walkthrough(t *testing.T, e *env) {
	// 1. A bearer token from the client credentials.
	r := e.Owner.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.Owner.User}, "client_secret": {e.Owner.Password}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	tok := r.JSON(t)
	require.Equal(t, "Bearer", tok["token_type"])
	require.Greater(t, tok["expires_in"], float64(0))
	c := e.Bearer(tok["access_token"].(string))

	// 2. The organization.
	r = c.Get(e.Path(""))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.Equal(t, e.Sid, r.JSON(t)["organization_sid"])

	// 3. Create an account: 202 with a link to follow its creation.
	r = c.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Production"})
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	created := r.JSON(t)
	sid := created["account_sid"].(string)
	require.True(t, domain.ValidSID(domain.PrefixAccount, sid), sid)
	require.Equal(t, e.App.BaseURL+e.Path("/Accounts/"+sid+"/Creation"), r.Header.Get("Location"))
	require.Equal(t, workflows.CreateAccountWorkflowID(sid), created["workflow_id"])

	// 4. Poll until active.
	acct := e.WaitActive(c, sid)
	require.Equal(t, "Production", acct["friendly_name"])
	require.Equal(t, e.App.Boot.Owner.Sid, acct["owner_sid"], "the owner defaults to the organization owner")
	_, err := time.Parse(time.RFC3339, acct["date_created"].(string))
	require.NoError(t, err)
	require.Equal(t, created["account"].(map[string]any)["date_created"], acct["date_created"], "the 202 told the truth")
	for _, k := range []string{"account_sid", "friendly_name", "status", "owner_sid", "date_created"} {
		require.Contains(t, acct, k)
	}

	r = c.Get(e.Path("/Accounts/" + sid + "/Creation"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	creation := r.JSON(t)
	require.Equal(t, workflows.StepCompleted, creation["status"])
	require.Len(t, creation["steps"], 3)

	// The workflow is there for an operator, completed.
	desc, err := e.App.Temporal.DescribeWorkflow(context.Background(), workflows.CreateAccountWorkflowID(sid), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.Status)

	// 5. List and fetch.
	r = c.Get(e.Path("/Accounts"))
	require.Equal(t, http.StatusOK, r.Status)
	page := r.JSON(t)
	content := page["content"].([]any)
	require.Len(t, content, 1)
	require.Equal(t, sid, content[0].(map[string]any)["account_sid"])
	meta := page["meta"].(map[string]any)
	require.Nil(t, meta["next_page_url"])
	require.Nil(t, meta["previous_page_url"])
	require.Equal(t, "content", meta["key"])
	require.Equal(t, float64(50), meta["page_size"])

	// 6. A SCIM user, and a role for them on the account.
	r = c.Do(http.MethodPost, e.Path("/scim/Users"), map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "Alice@Example.com", "externalId": "alice-1",
		"name":   map[string]string{"givenName": "Alice", "familyName": "Liddell"},
		"emails": []map[string]any{{"primary": true, "value": "alice@example.com", "type": "work"}},
	})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Contains(t, r.Header.Get("Content-Type"), "application/scim+json")
	alice := r.JSON(t)
	require.Equal(t, "alice@example.com", alice["userName"])
	aliceSid := alice["id"].(string)

	r = c.Get(e.Path(`/scim/Users?filter=` + url.QueryEscape(`userName eq "alice@example.com"`)))
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, float64(1), r.JSON(t)["totalResults"])

	r = c.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": sid, "identity": aliceSid})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	ra := r.JSON(t)
	require.Equal(t, domain.RoleDeveloper, ra["role_sid"])

	r = c.Get(e.Path("/RoleAssignments?Scope=" + sid))
	require.Equal(t, http.StatusOK, r.Status)
	roles := map[string]string{}
	for _, it := range r.JSON(t)["content"].([]any) {
		m := it.(map[string]any)
		roles[m["identity"].(string)] = m["role_sid"].(string)
	}
	require.Equal(t, map[string]string{e.App.Boot.Owner.Sid: domain.RoleOwner, aliceSid: domain.RoleDeveloper}, roles)

	// 7. Another organization's credentials get 25107, and learn nothing:
	// an existing account and a made-up one answer the same.
	_, other := e.OtherOrg()
	existing := other.Get(e.Path("/Accounts/" + sid))
	testenv.RequireError(t, existing, http.StatusForbidden, domain.CodeWrongOrganization)
	fake := other.Get("/Organizations/OR" + "ffffffffffffffffffffffffffffffff" + "/Accounts/AC" + "ffffffffffffffffffffffffffffffff")
	testenv.RequireError(t, fake, http.StatusForbidden, domain.CodeWrongOrganization)
	require.Equal(t, existing.JSON(t)["message"], fake.JSON(t)["message"])
	testenv.RequireError(t, other.Get(e.Path("/Accounts")), http.StatusForbidden, domain.CodeWrongOrganization)
	testenv.RequireError(t, other.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Sneaky"}), http.StatusForbidden, domain.CodeWrongOrganization)
	require.Equal(t, 1, e.Count(c, e.Path("/Accounts")), "the denied POST created nothing")
}
