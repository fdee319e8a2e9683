package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Billing"})
	path := e.Path("/Accounts/" + acct)

	r := e.Owner.Post(path, map[string]any{"friendly_name": "Billing EU", "require_2fa": true})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	got := r.JSON(t)
	require.Equal(t, "Billing EU", got["friendly_name"])
	require.Equal(t, true, got["require_2fa"])
	require.Equal(t, got, e.Owner.Get(path).JSON(t), "the change is stored")

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		testenv.RequireError(t, c.Post(path, map[string]any{}), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post(path, map[string]any{"friendly_name": ""}), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post(path, map[string]any{"friendly_name": " padded "}), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post(path, `{"require_2fa": "yes"}`), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post(path, `{"status": "closed"}`), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Post(e.Path("/Accounts/AC"+strings.Repeat("e", 32)), map[string]any{"friendly_name": "x"}), 404, domain.CodeAccountNotFound)
		require.Equal(t, "Billing EU", c.Get(path).JSON(t)["friendly_name"], "nothing changed")
	})

	t.Run("RolesGovernSettings", func(t *testing.T) {
		dev := e.SCIMUser("settings-dev@example.com")
		r := e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": acct, "identity": dev})
		require.Equal(t, http.StatusCreated, r.Status)
		dc := e.ClientFor(dev)
		dc.T = t
		testenv.RequireError(t, dc.Post(path, map[string]any{"friendly_name": "Hijack"}), 403, domain.CodeForbidden)
	})

	t.Run("NewAccountsStartFromDefaults", func(t *testing.T) {
		fresh := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Fresh"})
		got := e.Owner.Get(e.Path("/Accounts/" + fresh)).JSON(t)
		require.Equal(t, false, got["require_2fa"], "settings are not inherited from another account")
	})

	t.Run("EventsRecordTheChange", func(t *testing.T) {
		c := e.Owner
		c.T = t
		start := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		r := c.Get(e.Path("/Events?Type=account.updated&Resource=" + acct + "&StartDate=" + start))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		events := r.JSON(t)["content"].([]any)
		require.Len(t, events, 1)
		ev := events[0].(map[string]any)
		require.Equal(t, e.App.Boot.Owner.Sid, ev["actor_sid"])
		require.Equal(t, map[string]any{
			"friendly_name": map[string]any{"from": "Billing", "to": "Billing EU"},
			"require_2fa":   map[string]any{"from": false, "to": true},
		}, ev["changes"])
		require.NotEmpty(t, ev["request_id"])
		require.NotEmpty(t, ev["source_ip"])

		r = c.Get(e.Path("/Events?Actor=" + e.App.Boot.Owner.Sid + "&Type=account.created"))
		require.Len(t, r.JSON(t)["content"], 2, "Billing and Fresh")
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r = c.Get(e.Path("/Events?StartDate=" + future))
		require.Empty(t, r.JSON(t)["content"])
		testenv.RequireError(t, c.Get(e.Path("/Events?StartDate=yesterday")), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(e.Path("/Events?StartDate="+future+"&EndDate="+start)), 400, domain.CodeBadRequest)
	})

	t.Run("RequestIDIsEchoed", func(t *testing.T) {
		c := e.Owner.WithHeader("X-Request-Id", "trace-me-123")
		c.T = t
		r := c.Post(path, map[string]any{"friendly_name": "Billing EU 2"})
		require.Equal(t, "trace-me-123", r.Header.Get("X-Request-Id"))
		ev := e.Owner.Get(e.Path("/Events?Type=account.updated&Resource=" + acct)).JSON(t)["content"].([]any)
		require.Equal(t, "trace-me-123", ev[len(ev)-1].(map[string]any)["request_id"])
	})
}
