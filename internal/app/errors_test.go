package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	anon := e.Anonymous()
	path := e.Path("/Accounts")

	tests := []struct {
		name   string
		client testenv.Client
	}{
		{"NoCredentials", anon},
		{"WrongSecret", e.Basic(e.Owner.User, strings.Repeat("x", 32))},
		{"UnknownClientID", e.Basic("SK"+strings.Repeat("0", 32), e.Owner.Password)},
		{"MalformedClientID", e.Basic("nobody", e.Owner.Password)},
		{"UnknownBearer", e.Bearer("not-a-token")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.client.T = t
			r := tt.client.Get(path)
			testenv.RequireError(t, r, http.StatusUnauthorized, domain.CodeUnauthenticated)
			require.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
		})
	}

	t.Run("TokenErrors", func(t *testing.T) {
		c := e.Anonymous()
		c.T = t
		testenv.RequireError(t, c.Post("/v1/token", url.Values{"grant_type": {"password"}, "client_id": {e.Owner.User}, "client_secret": {e.Owner.Password}}), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}}), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.Owner.User}, "client_secret": {strings.Repeat("y", 32)}}), http.StatusUnauthorized, domain.CodeUnauthenticated)
	})
	t.Run("TokenFromBasic", func(t *testing.T) {
		r := e.Owner.Post("/v1/token", url.Values{"grant_type": {"client_credentials"}})
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		c := e.Bearer(r.JSON(t)["access_token"].(string))
		c.T = t
		require.Equal(t, http.StatusOK, c.Get(path).Status)
	})
}

func TestCreateAccountErrors(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	outsider := e.SCIMUser("bob@example.com")
	// Bob is managed but inactive: not a valid owner.
	r := e.Owner.Do(http.MethodPatch, e.Path("/scim/Users/"+outsider), map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	path := e.Path("/Accounts")
	tests := []struct {
		name   string
		body   any
		ctype  string
		status int
		code   int
	}{
		{"MalformedJSON", `{"friendly_name": "x"`, "", 400, domain.CodeBadRequest},
		{"NotAnObject", `["x"]`, "", 400, domain.CodeBadRequest},
		{"TrailingData", `{"friendly_name": "x"} {}`, "", 400, domain.CodeBadRequest},
		{"UnknownField", `{"friendly_name": "x", "plan": "gold"}`, "", 400, domain.CodeBadRequest},
		{"WrongType", `{"friendly_name": 7}`, "", 400, domain.CodeBadRequest},
		{"EmptyBody", ``, "", 400, domain.CodeBadRequest},
		{"NameMissing", `{}`, "", 400, domain.CodeBadRequest},
		{"NameTooLong", `{"friendly_name": "` + strings.Repeat("n", 65) + `"}`, "", 400, domain.CodeBadRequest},
		{"OwnerUnknownSID", `{"friendly_name": "x", "owner": "US` + strings.Repeat("a", 32) + `"}`, "", 400, domain.CodeOwnerNotManaged},
		{"OwnerMalformedSID", `{"friendly_name": "x", "owner": "US123"}`, "", 400, domain.CodeBadRequest},
		{"OwnerUnknownEmail", `{"friendly_name": "x", "owner": "nobody@example.com"}`, "", 400, domain.CodeOwnerNotManaged},
		{"OwnerInactive", `{"friendly_name": "x", "owner": "` + outsider + `"}`, "", 400, domain.CodeOwnerNotManaged},
		{"OversizeBody", `{"friendly_name": "` + strings.Repeat("x", 70000) + `"}`, "", 413, domain.CodeBadRequest},
		{"NotJSON", `friendly_name=x`, "application/x-www-form-urlencoded", 415, domain.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.Owner
			c.T = t
			if tt.ctype != "" {
				c = c.WithHeader("Content-Type", tt.ctype)
			}
			testenv.RequireError(t, c.Post(path, tt.body), tt.status, tt.code)
		})
	}
	require.Equal(t, 0, e.Count(e.Owner, path), "no account was created by bad input")
	r = e.Owner.Get(e.Path("/Events?Type=" + domain.EventAccountCreated))
	require.Empty(t, r.JSON(t)["content"], "no creation was recorded")
}

func TestBadIdentifiersAndPaging(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	tests := []struct {
		name, path string
		status     int
		code       int
	}{
		{"OrganizationSIDMalformed", "/Organizations/ORnope/Accounts", 400, domain.CodeBadRequest},
		{"AccountSIDMalformed", e.Path("/Accounts/AC123"), 400, domain.CodeBadRequest},
		{"AccountSIDWrongPrefix", e.Path("/Accounts/US" + strings.Repeat("a", 32)), 400, domain.CodeBadRequest},
		{"AccountUnknown", e.Path("/Accounts/AC" + strings.Repeat("a", 32)), 404, domain.CodeAccountNotFound},
		{"CreationUnknown", e.Path("/Accounts/AC" + strings.Repeat("a", 32) + "/Creation"), 404, domain.CodeAccountNotFound},
		{"PageSizeZero", e.Path("/Accounts?PageSize=0"), 400, domain.CodeBadRequest},
		{"PageSizeTooLarge", e.Path("/Accounts?PageSize=101"), 400, domain.CodeBadRequest},
		{"PageSizeNotANumber", e.Path("/Accounts?PageSize=ten"), 400, domain.CodeBadRequest},
		{"QueryStringMalformed", e.Path("/Accounts?PageToken=%%%"), 400, domain.CodeBadRequest},
		{"PageTokenGarbage", e.Path("/Accounts?PageToken=!!not-a-token!!"), 400, domain.CodeInvalidPageToken},
		{"PageTokenForeign", e.Path("/Accounts?PageToken=eyJwIjoxLCJhIjoiVVMxIn0"), 400, domain.CodeInvalidPageToken},
		{"EventsPageTokenGarbage", e.Path("/Events?PageToken=abc"), 400, domain.CodeInvalidPageToken},
		{"RoleAssignmentsPageSize", e.Path("/RoleAssignments?Identity=" + e.App.Boot.Owner.Sid + "&PageSize=500"), 400, domain.CodeBadRequest},
		{"UnknownRoute", "/Nope", 404, 20404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.Owner
			c.T = t
			testenv.RequireError(t, c.Get(tt.path), tt.status, tt.code)
		})
	}
	t.Run("MethodNotAllowed", func(t *testing.T) {
		c := e.Owner
		c.T = t
		testenv.RequireError(t, c.Do(http.MethodPut, e.Path("/Accounts"), `{}`), http.StatusMethodNotAllowed, 20004)
	})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	var sids []string
	for i := 0; i < 5; i++ {
		sids = append(sids, e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Account " + string(rune('A'+i))}))
	}
	var seen []string
	next := e.Path("/Accounts?PageSize=2")
	var pages []map[string]any
	for next != "" {
		r := e.Owner.Get(next)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		page := r.JSON(t)
		pages = append(pages, page)
		for _, it := range page["content"].([]any) {
			seen = append(seen, it.(map[string]any)["account_sid"].(string))
		}
		meta := page["meta"].(map[string]any)
		require.Equal(t, float64(len(pages)-1), meta["page"])
		next, _ = meta["next_page_url"].(string)
		require.Less(t, len(pages), 5, "paging does not end")
	}
	require.Equal(t, sids, seen, "every account once, oldest first")
	require.Len(t, pages, 3)

	// previous_page_url leads back to the same items.
	prev := pages[2]["meta"].(map[string]any)["previous_page_url"].(string)
	r := e.Owner.Get(prev)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, pages[1]["content"], r.JSON(t)["content"])
	require.Nil(t, pages[0]["meta"].(map[string]any)["previous_page_url"])
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	c := e.Owner.WithHeader("Idempotency-Key", "create-prod-1")
	first := c.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, first.Status, "body: %s", first.Body)
	again := c.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))
	require.NotEmpty(t, first.Header.Get("Location"))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"), "the replay repeats the Location")
	sid := first.JSON(t)["account_sid"].(string)
	e.WaitActive(e.Owner, sid)
	require.Equal(t, 1, e.Count(e.Owner, e.Path("/Accounts")), "one account, not two")

	// A key belongs to the credential that sent it: another user of the
	// organization sending the owner's key and body gets no replay of the
	// owner's answer (its own request runs), and takes nothing from the
	// owner, whose retries still replay.
	thief := e.ClientFor(e.SCIMUser("keythief@example.com")).WithHeader("Idempotency-Key", "create-prod-1")
	theirs := thief.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, theirs.Status, "body: %s", theirs.Body)
	require.Empty(t, theirs.Header.Get("Idempotent-Replayed"), "another caller never gets the owner's answer")
	require.NotEqual(t, sid, theirs.JSON(t)["account_sid"])
	mine := c.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, "true", mine.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(mine.Body))
	e.WaitActive(e.Owner, theirs.JSON(t)["account_sid"].(string))

	testenv.RequireError(t, c.Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Other"}), http.StatusUnprocessableEntity, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.WithHeader("Idempotency-Key", "bad key with spaces").Post(e.Path("/Accounts"), map[string]any{"friendly_name": "x"}), http.StatusBadRequest, domain.CodeBadRequest)
	require.Equal(t, 2, e.Count(e.Owner, e.Path("/Accounts")))

	// A SCIM creation replays as SCIM.
	scim := e.Owner.WithHeader("Idempotency-Key", "scim-1")
	user := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "replayed@example.com"}
	r1, r2 := scim.Post(e.Path("/scim/Users"), user), scim.Post(e.Path("/scim/Users"), user)
	require.Equal(t, http.StatusCreated, r2.Status, "body: %s", r2.Body)
	require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	require.Equal(t, r1.Header.Get("Content-Type"), r2.Header.Get("Content-Type"))
	require.Contains(t, r2.Header.Get("Content-Type"), "application/scim+json")
	require.Equal(t, r1.Header.Get("ETag"), r2.Header.Get("ETag"))

	// An answer holding a secret is never kept: its replay says so.
	credKey := e.Owner.WithHeader("Idempotency-Key", "cred-1")
	r1 = credKey.Post(e.Path("/Accounts/"+sid+"/Credentials"), map[string]any{"friendly_name": "app"})
	require.Equal(t, http.StatusCreated, r1.Status, "body: %s", r1.Body)
	r2 = credKey.Post(e.Path("/Accounts/"+sid+"/Credentials"), map[string]any{"friendly_name": "app"})
	testenv.RequireError(t, r2, http.StatusConflict, domain.CodeInvalidState)
	require.NotContains(t, string(r2.Body), r1.JSON(t)["secret"].(string))
	var stored string
	require.NoError(t, e.App.Store.DB().Raw("SELECT body FROM idempotency_keys WHERE idem_key LIKE ?", "% cred-1").Scan(&stored).Error)
	require.NotContains(t, stored, r1.JSON(t)["secret"].(string), "the secret is not in the database")

	// A different key is a different request.
	other := e.Owner.WithHeader("Idempotency-Key", "create-prod-2").Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, other.Status)
	require.NotEqual(t, sid, other.JSON(t)["account_sid"])
}
