package app_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// requireSCIMError checks a SCIM error body.
func requireSCIMError(t *testing.T, r testenv.Response, status int, scimType string) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Contains(t, r.Header.Get("Content-Type"), "application/scim+json", "body: %s", r.Body)
	m := r.JSON(t)
	require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, m["schemas"])
	require.Equal(t, strconv.Itoa(status), m["status"])
	require.NotEmpty(t, m["detail"])
	require.NotZero(t, m["code"], "Twilio's code beside the SCIM fields: %s", r.Body)
	require.Contains(t, m["moreInfo"], "https://", "body: %s", r.Body)
	if scimType != "" {
		require.Equal(t, scimType, m["scimType"])
	}
}

// scimUserBody is a SCIM user to send: userName and extra attributes.
func scimUserBody(name string, extra map[string]any) map[string]any {
	m := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestSCIMUsers(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	users := e.Path("/scim/Users")
	c := e.Owner
	user := scimUserBody
	r := c.Post(users, user("carol@example.com", map[string]any{"externalId": "ext-carol", "displayName": "Carol"}))
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	carol := r.JSON(t)
	id := carol["id"].(string)
	require.Equal(t, `W/"1"`, r.Header.Get("ETag"))
	require.Equal(t, e.App.BaseURL+users+"/"+id, r.Header.Get("Location"))
	require.Equal(t, true, carol["active"])
	require.Equal(t, "User", carol["meta"].(map[string]any)["resourceType"])

	t.Run("CreateErrors", func(t *testing.T) {
		c.T = t
		requireSCIMError(t, c.Post(users, user("dave@unverified.test", nil)), 400, "invalidValue")
		requireSCIMError(t, c.Post(users, user("CAROL@example.com", nil)), 409, "uniqueness")
		requireSCIMError(t, c.Post(users, user("erin@example.com", map[string]any{"externalId": "ext-carol"})), 409, "uniqueness")
		requireSCIMError(t, c.Post(users, user("not-an-email", nil)), 400, "invalidValue")
		requireSCIMError(t, c.Post(users, user("frank@example.com", map[string]any{"emails": []map[string]any{{"primary": true, "value": "other@example.com"}}})), 400, "")
		requireSCIMError(t, c.Post(users, user("gina@example.com", map[string]any{"password": "x"})), 400, "")
		requireSCIMError(t, c.Post(users, map[string]any{"schemas": []string{"urn:other"}, "userName": "h@example.com"}), 400, "")
		r := c.Get(users)
		require.Equal(t, float64(2), r.JSON(t)["totalResults"], "only the owner and carol exist")
	})

	t.Run("Filters", func(t *testing.T) {
		c.T = t
		q := func(f string) map[string]any {
			r := c.Get(users + "?filter=" + url.QueryEscape(f))
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			return r.JSON(t)
		}
		require.Equal(t, float64(1), q(`userName eq "Carol@Example.com"`)["totalResults"])
		require.Equal(t, float64(1), q(`externalId eq "ext-carol"`)["totalResults"])
		require.Equal(t, float64(0), q(`externalId eq "nobody"`)["totalResults"])
		for _, bad := range []string{`displayName eq "Carol"`, `userName co "carol"`, `userName eq carol`, `userName eq "a" or userName eq "b"`} {
			requireSCIMError(t, c.Get(users+"?filter="+url.QueryEscape(bad)), 400, "invalidFilter")
		}
		r := c.Get(users + "?count=1")
		require.Equal(t, float64(2), r.JSON(t)["totalResults"])
		require.Len(t, r.JSON(t)["Resources"], 1)
		requireSCIMError(t, c.Get(users+"?count=1000"), 400, "")
	})

	t.Run("ReplaceAndPatchWithVersions", func(t *testing.T) {
		c.T = t
		r := c.WithHeader("If-Match", `W/"1"`).Do(http.MethodPut, users+"/"+id, user("carol@example.com", map[string]any{"displayName": "Carol C", "externalId": "ext-carol"}))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, "Carol C", r.JSON(t)["displayName"])
		require.Equal(t, `W/"2"`, r.Header.Get("ETag"))

		stale := c.WithHeader("If-Match", `W/"1"`).Do(http.MethodPut, users+"/"+id, user("carol@example.com", map[string]any{"displayName": "Lost update"}))
		// A stale If-Match fails as a precondition (RFC 7644 §3.14).
		requireSCIMError(t, stale, 412, "")
		patch := map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []map[string]any{{"op": "replace", "path": "displayName", "value": "Patched"}, {"op": "replace", "value": map[string]any{"name": map[string]any{"givenName": "Caroline"}}}},
		}
		requireSCIMError(t, c.WithHeader("If-Match", `W/"1"`).Do(http.MethodPatch, users+"/"+id, patch), 412, "")
		r = c.WithHeader("If-Match", `W/"2"`).Do(http.MethodPatch, users+"/"+id, patch)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		got := r.JSON(t)
		require.Equal(t, "Patched", got["displayName"])
		require.Equal(t, "Caroline", got["name"].(map[string]any)["givenName"])

		bad := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{{"op": "replace", "path": "userName", "value": "carol@unverified.test"}}}
		requireSCIMError(t, c.Do(http.MethodPatch, users+"/"+id, bad), 400, "invalidValue")
		unknownPath := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{{"op": "replace", "path": "roles", "value": "x"}}}
		requireSCIMError(t, c.Do(http.MethodPatch, users+"/"+id, unknownPath), 400, "")
		requireSCIMError(t, c.WithHeader("If-Match", "garbage").Do(http.MethodPatch, users+"/"+id, patch), 412, "")
		r = c.Get(users + "/" + id)
		require.Equal(t, "Patched", r.JSON(t)["displayName"], "refused patches changed nothing")
	})

	t.Run("OwnerIsProtected", func(t *testing.T) {
		c.T = t
		owner := e.App.Boot.Owner.Sid
		requireSCIMError(t, c.Do(http.MethodDelete, users+"/"+owner, nil), 403, "")
		deactivate := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}}}
		requireSCIMError(t, c.Do(http.MethodPatch, users+"/"+owner, deactivate), 403, "")
	})

	t.Run("DeactivatedUserCannotAuthenticate", func(t *testing.T) {
		c.T = t
		u := e.SCIMUser("leaver@example.com")
		lc := e.ClientFor(u)
		lc.T = t
		require.Equal(t, http.StatusOK, lc.Get(e.Path("")).Status)
		deactivate := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []map[string]any{{"op": "replace", "path": "active", "value": "False"}}}
		require.Equal(t, http.StatusOK, c.Do(http.MethodPatch, users+"/"+u, deactivate).Status)
		testenv.RequireError(t, lc.Get(e.Path("")), 401, domain.CodeUnauthenticated)
	})

	t.Run("Delete", func(t *testing.T) {
		c.T = t
		r := c.Do(http.MethodDelete, users+"/"+id, nil)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		requireSCIMError(t, c.Get(users+"/"+id), 404, "")
		requireSCIMError(t, c.Do(http.MethodDelete, users+"/"+id, nil), 404, "")
		requireSCIMError(t, c.Get(users+"/USnope"), 400, "")
	})

	t.Run("OwnerOfAnAccountCannotBeDeleted", func(t *testing.T) {
		c.T = t
		u := e.SCIMUser("accountowner@example.com")
		e.CreateAccount(c, map[string]any{"friendly_name": "Owned", "owner": "accountowner@example.com"})
		requireSCIMError(t, c.Do(http.MethodDelete, users+"/"+u, nil), 409, "")
	})
}

func TestSCIMReadOnlyAttributesAndRefusalFormat(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	users := e.Path("/scim/Users")
	c := e.Owner
	user := scimUserBody
	// id and meta are read-only: a client that sends them, as Twilio's
	// own Go client sends meta with zero times, has them ignored.
	withMeta := user("dora@example.com", map[string]any{
		"id":   "US00000000000000000000000000000009",
		"meta": map[string]any{"resourceType": "User", "created": "0001-01-01T00:00:00Z", "lastModified": "0001-01-01T00:00:00Z"},
	})
	r := c.Post(users, withMeta)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.NotEqual(t, "US00000000000000000000000000000009", r.JSON(t)["id"], "the client's id is not taken")

	// Every answer on a SCIM route is a SCIM one, refusals made before
	// the SCIM handlers included.
	t.Run("RefusalsBeforeTheHandlerAreSCIM", func(t *testing.T) {
		anon := e.Anonymous()
		anon.T = t
		requireSCIMError(t, anon.Get(users), 401, "")
		_, other := e.OtherOrg()
		other.T = t
		requireSCIMError(t, other.Get(users), 403, "")
		requireSCIMError(t, c.Get(users+"?filter=%00"), 400, "")
		requireSCIMError(t, c.Do(http.MethodPost, users, strings.Repeat("x", 70000)), 413, "")
		keyed := c.WithHeader("Idempotency-Key", "scim-format-1")
		require.Equal(t, http.StatusCreated, keyed.Post(users, user("keyed@example.com", nil)).Status)
		requireSCIMError(t, keyed.Post(users, user("other-keyed@example.com", nil)), 422, "")
	})
}
