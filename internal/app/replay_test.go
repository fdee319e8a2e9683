package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// An Idempotency-Key replay is an answer to the request made again: the
// caller must still be allowed what it asks. An account Administrator
// who lost the role hears 25101 (the account is no longer theirs to
// see), not the answer they were given while they held it.
func TestIdempotentReplayIsAuthorizedFirst(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Replayed"})
	admin := e.SCIMUser("replay-admin@example.com")
	ra := e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleAdministrator, "scope": acct, "identity": admin})
	require.Equal(t, http.StatusCreated, ra.Status, "body: %s", ra.Body)

	c := e.ClientFor(admin).WithHeader("Idempotency-Key", "number-1")
	path := e.Path("/Accounts/" + acct + "/PhoneNumbers")
	first := c.Post(path, map[string]any{})
	require.Equal(t, http.StatusCreated, first.Status, "body: %s", first.Body)
	again := c.Post(path, map[string]any{})
	require.Equal(t, http.StatusCreated, again.Status, "body: %s", again.Body)
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "while the role is held, the key replays")

	require.Equal(t, http.StatusNoContent, e.Owner.Do(http.MethodDelete, e.Path("/RoleAssignments/"+ra.JSON(t)["sid"].(string)), nil).Status)
	after := c.Post(path, map[string]any{})
	testenv.RequireError(t, after, http.StatusNotFound, domain.CodeAccountNotFound)
	require.Empty(t, after.Header.Get("Idempotent-Replayed"), "nothing of the first answer is replayed")
	require.NotContains(t, string(after.Body), first.JSON(t)["sid"], "nothing of the first answer is replayed")

	// A demoted organization user likewise: a Standard user may not
	// replay a domain an Administrator's key added.
	orgAdmin := e.SCIMUser("replay-orgadmin@example.com")
	require.NoError(t, e.App.Store.DB().Exec("UPDATE users SET org_role = ? WHERE sid = ?", string(domain.OrgRoleAdministrator), orgAdmin).Error)
	d := e.ClientFor(orgAdmin).WithHeader("Idempotency-Key", "domain-1")
	added := d.Post(e.Path("/Domains"), map[string]any{"domain_name": "replay.example"})
	require.Equal(t, http.StatusCreated, added.Status, "body: %s", added.Body)
	require.Equal(t, "true", d.Post(e.Path("/Domains"), map[string]any{"domain_name": "replay.example"}).Header.Get("Idempotent-Replayed"))
	require.NoError(t, e.App.Store.DB().Exec("UPDATE users SET org_role = ? WHERE sid = ?", string(domain.OrgRoleStandard), orgAdmin).Error)
	testenv.RequireError(t, d.Post(e.Path("/Domains"), map[string]any{"domain_name": "replay.example"}), http.StatusForbidden, domain.CodeForbidden)
}
