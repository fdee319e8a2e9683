package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	anon := apiClient{t: t, base: e.app.BaseURL}
	path := e.orgPath("/Accounts")

	tests := []struct {
		name   string
		client apiClient
	}{
		{"NoCredentials", anon},
		{"WrongSecret", apiClient{t: t, base: e.app.BaseURL, user: e.owner.user, pass: strings.Repeat("x", 32)}},
		{"UnknownClientID", apiClient{t: t, base: e.app.BaseURL, user: "SK" + strings.Repeat("0", 32), pass: e.owner.pass}},
		{"MalformedClientID", apiClient{t: t, base: e.app.BaseURL, user: "nobody", pass: e.owner.pass}},
		{"UnknownBearer", apiClient{t: t, base: e.app.BaseURL, bearer: "not-a-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.client.t = t
			r := tt.client.get(path)
			requireError(t, r, http.StatusUnauthorized, domain.CodeUnauthenticated)
			require.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
		})
	}

	t.Run("TokenErrors", func(t *testing.T) {
		c := apiClient{t: t, base: e.app.BaseURL}
		requireError(t, c.post("/v1/token", url.Values{"grant_type": {"password"}, "client_id": {e.owner.user}, "client_secret": {e.owner.pass}}), http.StatusBadRequest, domain.CodeBadRequest)
		requireError(t, c.post("/v1/token", url.Values{"grant_type": {"client_credentials"}}), http.StatusBadRequest, domain.CodeBadRequest)
		requireError(t, c.post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {e.owner.user}, "client_secret": {strings.Repeat("y", 32)}}), http.StatusUnauthorized, domain.CodeUnauthenticated)
	})
	t.Run("TokenFromBasic", func(t *testing.T) {
		r := e.owner.post("/v1/token", url.Values{"grant_type": {"client_credentials"}})
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		c := apiClient{t: t, base: e.app.BaseURL, bearer: r.JSON(t)["access_token"].(string)}
		require.Equal(t, http.StatusOK, c.get(path).Status)
	})
}

func TestCreateAccountErrors(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	outsider := e.scimUser("bob@example.com")
	// Bob is managed but inactive: not a valid owner.
	r := e.owner.do(http.MethodPatch, e.orgPath("/scim/Users/"+outsider), map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	path := e.orgPath("/Accounts")
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
			c := e.owner
			c.t = t
			if tt.ctype != "" {
				c = c.withHeader("Content-Type", tt.ctype)
			}
			requireError(t, c.post(path, tt.body), tt.status, tt.code)
		})
	}
	require.Equal(t, 0, e.count(e.owner, path), "no account was created by bad input")
	r = e.owner.get(e.orgPath("/Events?Type=" + domain.EventAccountCreated))
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
		{"AccountSIDMalformed", e.orgPath("/Accounts/AC123"), 400, domain.CodeBadRequest},
		{"AccountSIDWrongPrefix", e.orgPath("/Accounts/US" + strings.Repeat("a", 32)), 400, domain.CodeBadRequest},
		{"AccountUnknown", e.orgPath("/Accounts/AC" + strings.Repeat("a", 32)), 404, domain.CodeAccountNotFound},
		{"CreationUnknown", e.orgPath("/Accounts/AC" + strings.Repeat("a", 32) + "/Creation"), 404, domain.CodeAccountNotFound},
		{"PageSizeZero", e.orgPath("/Accounts?PageSize=0"), 400, domain.CodeBadRequest},
		{"PageSizeTooLarge", e.orgPath("/Accounts?PageSize=101"), 400, domain.CodeBadRequest},
		{"PageSizeNotANumber", e.orgPath("/Accounts?PageSize=ten"), 400, domain.CodeBadRequest},
		{"QueryStringMalformed", e.orgPath("/Accounts?PageToken=%%%"), 400, domain.CodeBadRequest},
		{"PageTokenGarbage", e.orgPath("/Accounts?PageToken=!!not-a-token!!"), 400, domain.CodeInvalidPageToken},
		{"PageTokenForeign", e.orgPath("/Accounts?PageToken=eyJwIjoxLCJhIjoiVVMxIn0"), 400, domain.CodeInvalidPageToken},
		{"EventsPageTokenGarbage", e.orgPath("/Events?PageToken=abc"), 400, domain.CodeInvalidPageToken},
		{"RoleAssignmentsPageSize", e.orgPath("/RoleAssignments?Identity=" + e.app.Boot.Owner.Sid + "&PageSize=500"), 400, domain.CodeBadRequest},
		{"UnknownRoute", "/Nope", 404, 20404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.owner
			c.t = t
			requireError(t, c.get(tt.path), tt.status, tt.code)
		})
	}
	t.Run("MethodNotAllowed", func(t *testing.T) {
		c := e.owner
		c.t = t
		requireError(t, c.do(http.MethodPut, e.orgPath("/Accounts"), `{}`), http.StatusMethodNotAllowed, 20004)
	})
}

func TestPagination(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	var sids []string
	for i := 0; i < 5; i++ {
		sids = append(sids, e.createAccount(e.owner, map[string]any{"friendly_name": "Account " + string(rune('A'+i))}))
	}
	var seen []string
	next := e.orgPath("/Accounts?PageSize=2")
	var pages []map[string]any
	for next != "" {
		r := e.owner.get(next)
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
	r := e.owner.get(prev)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, pages[1]["content"], r.JSON(t)["content"])
	require.Nil(t, pages[0]["meta"].(map[string]any)["previous_page_url"])
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	c := e.owner.withHeader("Idempotency-Key", "create-prod-1")
	first := c.post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, first.Status, "body: %s", first.Body)
	again := c.post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, again.Status)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(again.Body))
	require.NotEmpty(t, first.Header.Get("Location"))
	require.Equal(t, first.Header.Get("Location"), again.Header.Get("Location"), "the replay repeats the Location")
	sid := first.JSON(t)["account_sid"].(string)
	e.waitActive(e.owner, sid)
	require.Equal(t, 1, e.count(e.owner, e.orgPath("/Accounts")), "one account, not two")

	// A key belongs to the credential that sent it: another user of the
	// organization sending the owner's key and body gets no replay of the
	// owner's answer (its own request runs), and takes nothing from the
	// owner, whose retries still replay.
	thief := e.clientFor(e.scimUser("keythief@example.com")).withHeader("Idempotency-Key", "create-prod-1")
	theirs := thief.post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, theirs.Status, "body: %s", theirs.Body)
	require.Empty(t, theirs.Header.Get("Idempotent-Replayed"), "another caller never gets the owner's answer")
	require.NotEqual(t, sid, theirs.JSON(t)["account_sid"])
	mine := c.post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, "true", mine.Header.Get("Idempotent-Replayed"))
	require.JSONEq(t, string(first.Body), string(mine.Body))
	e.waitActive(e.owner, theirs.JSON(t)["account_sid"].(string))

	requireError(t, c.post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Other"}), http.StatusUnprocessableEntity, domain.CodeBadRequest)
	requireError(t, e.owner.withHeader("Idempotency-Key", "bad key with spaces").post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "x"}), http.StatusBadRequest, domain.CodeBadRequest)
	require.Equal(t, 2, e.count(e.owner, e.orgPath("/Accounts")))

	// A SCIM creation replays as SCIM.
	scim := e.owner.withHeader("Idempotency-Key", "scim-1")
	user := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "replayed@example.com"}
	r1, r2 := scim.post(e.orgPath("/scim/Users"), user), scim.post(e.orgPath("/scim/Users"), user)
	require.Equal(t, http.StatusCreated, r2.Status, "body: %s", r2.Body)
	require.Equal(t, "true", r2.Header.Get("Idempotent-Replayed"))
	require.Equal(t, r1.Header.Get("Content-Type"), r2.Header.Get("Content-Type"))
	require.Contains(t, r2.Header.Get("Content-Type"), "application/scim+json")
	require.Equal(t, r1.Header.Get("ETag"), r2.Header.Get("ETag"))

	// An answer holding a secret is never kept: its replay says so.
	credKey := e.owner.withHeader("Idempotency-Key", "cred-1")
	r1 = credKey.post(e.orgPath("/Accounts/"+sid+"/Credentials"), map[string]any{"friendly_name": "app"})
	require.Equal(t, http.StatusCreated, r1.Status, "body: %s", r1.Body)
	r2 = credKey.post(e.orgPath("/Accounts/"+sid+"/Credentials"), map[string]any{"friendly_name": "app"})
	requireError(t, r2, http.StatusConflict, domain.CodeInvalidState)
	require.NotContains(t, string(r2.Body), r1.JSON(t)["secret"].(string))
	var stored string
	require.NoError(t, e.app.Store.DB().Raw("SELECT body FROM idempotency_keys WHERE idem_key LIKE ?", "% cred-1").Scan(&stored).Error)
	require.NotContains(t, stored, r1.JSON(t)["secret"].(string), "the secret is not in the database")

	// A different key is a different request.
	other := e.owner.withHeader("Idempotency-Key", "create-prod-2").post(e.orgPath("/Accounts"), map[string]any{"friendly_name": "Prod"})
	require.Equal(t, http.StatusAccepted, other.Status)
	require.NotEqual(t, sid, other.JSON(t)["account_sid"])
}
