package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

func TestRoleAssignments(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Shared"})
	private := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Private"})
	dev := e.SCIMUser("dev@example.com")
	admin := e.SCIMUser("admin@example.com")
	path := e.Path("/RoleAssignments")
	grant := func(c testenv.Client, role, scope, identity string) testenv.Response {
		return c.Post(path, map[string]any{"role_sid": role, "scope": scope, "identity": identity})
	}

	r := grant(e.Owner, domain.RoleDeveloper, acct, dev)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	devAssignment := r.JSON(t)["sid"].(string)
	r = grant(e.Owner, domain.RoleAdministrator, acct, admin)
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		unknown := "US" + strings.Repeat("b", 32)
		tests := []struct {
			name           string
			role, scope, u string
			status, code   int
		}{
			{"OwnerRoleNotGrantable", domain.RoleOwner, acct, dev, 400, domain.CodeInvalidRole},
			{"UnknownRole", "IX" + strings.Repeat("9", 32), acct, dev, 400, domain.CodeInvalidRole},
			{"MalformedRole", "admin", acct, dev, 400, domain.CodeInvalidRole},
			{"ScopeNotAnAccountOfOrg", domain.RoleDeveloper, "AC" + strings.Repeat("c", 32), dev, 400, domain.CodeRoleScopeNotManaged},
			{"ScopeMalformed", domain.RoleDeveloper, "ACxyz", dev, 400, domain.CodeBadRequest},
			{"IdentityUnknown", domain.RoleDeveloper, acct, unknown, 400, domain.CodeIdentityNotManaged},
			{"Duplicate", domain.RoleDeveloper, acct, dev, 409, domain.CodeInvalidState},
			{"SupersededByAdministrator", domain.RoleSupport, acct, admin, 409, domain.CodeInvalidState},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c.T = t
				testenv.RequireError(t, grant(c, tt.role, tt.scope, tt.u), tt.status, tt.code)
			})
		}
		testenv.RequireError(t, c.Get(path), 400, domain.CodeRoleFilterRequired)
		testenv.RequireError(t, c.Get(path+"?Identity=nope"), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Do(http.MethodPost, path, `{"role_sid": "`+domain.RoleDeveloper+`", "scope": "`+acct+`", "identity": "`+dev+`", "extra": 1}`), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Do(http.MethodDelete, path+"/IY"+strings.Repeat("d", 32), nil), 404, domain.CodeRoleAssignmentMissing)
		testenv.RequireError(t, c.Do(http.MethodDelete, path+"/IYbad", nil), 400, domain.CodeBadRequest)
		// The Owner assignment stays: ownership is transferred, not deleted.
		r := c.Get(path + "?Scope=" + acct + "&Identity=" + e.App.Boot.Owner.Sid)
		owner := r.JSON(t)["content"].([]any)[0].(map[string]any)["sid"].(string)
		testenv.RequireError(t, c.Do(http.MethodDelete, path+"/"+owner, nil), 409, domain.CodeInvalidState)
	})

	t.Run("AdministratorSupersedes", func(t *testing.T) {
		c := e.Owner
		c.T = t
		u := e.SCIMUser("both@example.com")
		require.Equal(t, http.StatusCreated, grant(c, domain.RoleDeveloper, acct, u).Status)
		require.Equal(t, http.StatusCreated, grant(c, domain.RoleBillingManager, acct, u).Status, "roles combine")
		require.Equal(t, http.StatusCreated, grant(c, domain.RoleAdministrator, acct, u).Status)
		r := c.Get(path + "?Identity=" + u)
		var roles []string
		for _, it := range r.JSON(t)["content"].([]any) {
			roles = append(roles, it.(map[string]any)["role_sid"].(string))
		}
		require.Equal(t, []string{domain.RoleAdministrator}, roles)
	})

	t.Run("DeveloperCannotManageUsers", func(t *testing.T) {
		c := e.ClientFor(dev)
		c.T = t
		testenv.RequireError(t, grant(c, domain.RoleSupport, acct, admin), 403, domain.CodeForbidden)
		testenv.RequireError(t, c.Do(http.MethodDelete, path+"/"+devAssignment, nil), 403, domain.CodeForbidden)
	})

	t.Run("AccountAdministratorCannotGrantAdministrator", func(t *testing.T) {
		c := e.ClientFor(admin)
		c.T = t
		u := e.SCIMUser("third@example.com")
		r := grant(c, domain.RoleSupport, acct, u)
		require.Equal(t, http.StatusCreated, r.Status, "an account Administrator manages users: %s", r.Body)
		testenv.RequireError(t, grant(c, domain.RoleAdministrator, acct, u), 403, domain.CodeForbidden)
	})

	t.Run("StandardUserSeesOnlyItsAccounts", func(t *testing.T) {
		c := e.ClientFor(dev)
		c.T = t
		r := c.Get(e.Path("/Accounts"))
		require.Equal(t, http.StatusOK, r.Status)
		content := r.JSON(t)["content"].([]any)
		require.Len(t, content, 1)
		require.Equal(t, acct, content[0].(map[string]any)["account_sid"])
		testenv.RequireError(t, c.Get(e.Path("/Accounts/"+private)), 404, domain.CodeAccountNotFound)
		require.Equal(t, http.StatusOK, c.Get(e.Path("/Accounts/"+acct)).Status)
		testenv.RequireError(t, c.Get(path+"?Identity="+admin), 403, domain.CodeForbidden)
		require.Equal(t, http.StatusOK, c.Get(path+"?Identity="+dev).Status)
		testenv.RequireError(t, c.Get(e.Path("/Events")), 403, domain.CodeForbidden)
		requireSCIMError(t, c.Get(e.Path("/scim/Users")), 403, "")
	})

	t.Run("StandardUserCreatesAccounts", func(t *testing.T) {
		c := e.ClientFor(dev)
		c.T = t
		sid := e.CreateAccount(c, map[string]any{"friendly_name": "Dev sandbox"})
		r := c.Get(e.Path("/Accounts/" + sid))
		require.Equal(t, http.StatusOK, r.Status, "the creator can reach the account it created")
		require.Equal(t, e.App.Boot.Owner.Sid, r.JSON(t)["owner_sid"])
	})

	t.Run("Delete", func(t *testing.T) {
		c := e.Owner
		c.T = t
		r := c.Do(http.MethodDelete, path+"/"+devAssignment, nil)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		testenv.RequireError(t, c.Do(http.MethodDelete, path+"/"+devAssignment, nil), 404, domain.CodeRoleAssignmentMissing)
		dc := e.ClientFor(dev)
		dc.T = t
		testenv.RequireError(t, dc.Get(e.Path("/Accounts/"+acct)), 404, domain.CodeAccountNotFound)
	})
}
