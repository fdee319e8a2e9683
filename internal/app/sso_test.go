package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// registerSSO registers op as the organization's provider through the API.
func (e *env) registerSSO(op *testenv.OIDC, required bool) map[string]any {
	e.T.Helper()
	r := e.Owner.Do(http.MethodPut, e.Path("/SSO"), map[string]any{
		"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret, "required": required,
	})
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
	return r.JSON(e.T)
}

// TestSSOSettingsOverTheAPI: Owners and Administrators register the
// provider; the secret is write-only (never in an answer or an event); bad
// settings are 400 and change nothing; removing it is 204, then 404.
func TestSSOSettingsOverTheAPI(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	op := testenv.MustOIDC(t, testenv.OIDCUser{Email: "owner@example.com", EmailVerified: true})
	sso := e.Path("/SSO")

	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, sso, nil), http.StatusNotFound, domain.CodeSSONotConfigured)
	for name, body := range map[string]map[string]any{
		"http issuer off loopback": {"issuer": "http://idp.example.com", "client_id": "c", "client_secret": "s"},
		"issuer with a query":      {"issuer": "https://idp.example.com/?a=b", "client_id": "c", "client_secret": "s"},
		"no secret the first time": {"issuer": "https://idp.example.com", "client_id": "c"},
	} {
		r := e.Owner.Do(http.MethodPut, sso, body)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", name, r.Body)
		assert.Equal(t, float64(domain.CodeInvalidSSOSettings), r.JSON(t)["code"], name)
	}
	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)

	standard := e.ClientFor(e.SCIMUser("sam@example.com"))
	testenv.RequireError(t, standard.Get(sso), http.StatusForbidden, domain.CodeForbidden)
	r := standard.Do(http.MethodPut, sso, map[string]any{"issuer": op.Issuer, "client_id": op.ClientID, "client_secret": op.ClientSecret})
	testenv.RequireError(t, r, http.StatusForbidden, domain.CodeForbidden)

	got := e.registerSSO(op, false)
	assert.Equal(t, op.Issuer, got["issuer"])
	assert.Equal(t, op.ClientID, got["client_id"])
	assert.Equal(t, true, got["client_secret_set"])
	assert.Equal(t, false, got["required"])
	assert.Equal(t, e.App.BaseURL+"/console/sso/callback", got["redirect_uri"])
	assert.NotContains(t, got, "client_secret")

	// a change without the secret keeps it
	r = e.Owner.Do(http.MethodPut, sso, map[string]any{"issuer": op.Issuer, "client_id": op.ClientID, "required": true})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, true, r.JSON(t)["required"])
	stored, err := e.App.Store.FindSSOProvider(t.Context(), e.Sid)
	require.NoError(t, err)
	assert.Equal(t, op.ClientSecret, stored.ClientSecret.Reveal())

	r = e.Owner.Get(sso)
	require.Equal(t, http.StatusOK, r.Status)
	assert.NotContains(t, string(r.Body), op.ClientSecret)
	events := e.Owner.Get(e.Path("/Events?Type=" + domain.EventSSOProviderUpdated))
	require.Equal(t, http.StatusOK, events.Status)
	assert.Len(t, events.JSON(t)["content"], 2)
	assert.NotContains(t, string(events.Body), op.ClientSecret)
	assert.Contains(t, string(events.Body), `"client_secret_changed":true`)

	require.Equal(t, http.StatusNoContent, e.Owner.Do(http.MethodDelete, sso, nil).Status)
	testenv.RequireError(t, e.Owner.Get(sso), http.StatusNotFound, domain.CodeSSONotConfigured)
	assert.Len(t, e.Owner.Get(e.Path("/Events?Type=" + domain.EventSSOProviderDeleted)).JSON(t)["content"], 1)
}
