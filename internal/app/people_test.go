package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// people drives the users and the ownership of one account.
type people struct {
	*env
	acct string
}

func (p people) usersPath(query string) string {
	path := p.Path("/Accounts/" + p.acct + "/Users")
	if query != "" {
		path += "?" + query
	}
	return path
}

// users lists the account's users as c sees them (first page).
func (p people) users(c testenv.Client, query string) []map[string]any {
	p.T.Helper()
	r := c.Get(p.usersPath(query))
	require.Equal(p.T, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []map[string]any
	for _, it := range r.JSON(p.T)["content"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// roles maps each user of the account to its role SIDs.
func (p people) roles() map[string][]any {
	p.T.Helper()
	out := map[string][]any{}
	for _, u := range p.users(p.Owner, "PageSize=100") {
		out[u["user_sid"].(string)] = u["roles"].([]any)
	}
	return out
}

func (p people) put(c testenv.Client, user string, body any) testenv.Response {
	p.T.Helper()
	return c.Do(http.MethodPut, p.usersPath("")+"/"+user, body)
}

func (p people) setRoles(c testenv.Client, user string, roles ...string) testenv.Response {
	p.T.Helper()
	return p.put(c, user, map[string]any{"roles": roles})
}

func (p people) remove(c testenv.Client, user string) testenv.Response {
	p.T.Helper()
	return c.Do(http.MethodDelete, p.usersPath("")+"/"+user, nil)
}

func (p people) transfer(c testenv.Client, body any) testenv.Response {
	p.T.Helper()
	return c.Post(p.Path("/Accounts/"+p.acct+"/Owner"), body)
}

func (p people) transferTo(c testenv.Client, owner string) testenv.Response {
	p.T.Helper()
	return p.transfer(c, map[string]any{"owner": owner})
}

// snapshot is what a refused request must leave as it was: the account,
// its users and roles, and its events.
type snapshot struct {
	Account map[string]any
	Users   []map[string]any
	Events  int
}

func (p people) snapshot() snapshot {
	p.T.Helper()
	r := p.Owner.Get(p.Path("/Accounts/" + p.acct))
	require.Equal(p.T, http.StatusOK, r.Status, "body: %s", r.Body)
	ev := p.Owner.Get(p.Path("/Events?PageSize=100&Resource=" + p.acct))
	require.Equal(p.T, http.StatusOK, ev.Status, "body: %s", ev.Body)
	return snapshot{Account: r.JSON(p.T), Users: p.users(p.Owner, "PageSize=100"), Events: len(ev.JSON(p.T)["content"].([]any))}
}

// events returns the account's events of one type, oldest first.
func (p people) events(typ string) []map[string]any {
	p.T.Helper()
	r := p.Owner.Get(p.Path("/Events?PageSize=100&Resource=" + p.acct + "&Type=" + typ))
	require.Equal(p.T, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []map[string]any
	for _, it := range r.JSON(p.T)["content"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// setStatus moves the account to another status, as the closing workflow
// would.
func (p people) setStatus(from, to string) {
	p.T.Helper()
	_, err := p.App.Store.SetAccountStatus(context.Background(), p.acct, from, to, domain.AuditEvent{})
	require.NoError(p.T, err)
}

// externalUser stores a user that belongs to no organization.
func (e *env) externalUser(email string) string {
	e.T.Helper()
	u := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), UserName: email, Active: true}
	require.NoError(e.T, e.App.Store.CreateUser(context.Background(), u, domain.AuditEvent{}))
	return u.Sid
}

// independentAccount stores an active account of the organization owned
// by an external user, as a shared account would be.
func (e *env) independentAccount(owner string) string {
	e.T.Helper()
	now := time.Now()
	a := domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: e.Sid, FriendlyName: "Shared", Status: domain.AccountActive, Kind: domain.AccountIndependent, OwnerSid: owner}
	_, err := e.App.Store.CreateAccount(context.Background(), a, domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: e.Sid}, domain.AuditEvent{})
	require.NoError(e.T, err)
	return a.Sid
}

func (e *env) deactivate(user string) {
	e.T.Helper()
	r := e.Owner.Do(http.MethodPatch, e.Path("/scim/Users/"+user), map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	})
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
}

func TestAccountUsers_List(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	p := people{env: e, acct: e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Team"})}
	orgOwner := e.App.Boot.Owner.Sid
	dev := e.SCIMUser("list-dev@example.com")
	admin := e.SCIMUser("list-admin@example.com")
	billing := e.SCIMUser("list-billing@example.com")
	outsider := e.SCIMUser("list-outsider@example.com")
	for user, roles := range map[string][]string{
		dev:     {domain.RoleDeveloper, domain.RoleSupport},
		admin:   {domain.RoleAdministrator},
		billing: {domain.RoleBillingManager},
	} {
		r := p.setRoles(e.Owner, user, roles...)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	}
	everyone := []string{orgOwner, dev, admin, billing}
	sort.Strings(everyone)

	t.Run("EachUserOnceWithItsRoles", func(t *testing.T) {
		c := e.Owner
		c.T = t
		got := p.users(c, "")
		var sids []string
		byUser := map[string]map[string]any{}
		for _, u := range got {
			sids = append(sids, u["user_sid"].(string))
			byUser[u["user_sid"].(string)] = u
		}
		require.Equal(t, everyone, sids, "by user SID, each once")
		require.Equal(t, map[string]any{
			"user_sid": dev, "account_sid": p.acct, "email": "list-dev@example.com", "display_name": "Test User", "managed": true,
			"roles": []any{domain.RoleDeveloper, domain.RoleSupport}, "role_names": []any{"Developer", "Support"}, "two_factor_enrolled": false,
			"url": e.App.BaseURL + p.Path("/Accounts/"+p.acct+"/Users/"+dev),
		}, byUser[dev])
		require.Equal(t, []any{domain.RoleOwner}, byUser[orgOwner]["roles"])
		require.Equal(t, []any{"Owner"}, byUser[orgOwner]["role_names"])
		require.Equal(t, []any{domain.RoleAdministrator}, byUser[admin]["roles"])
		require.NotContains(t, byUser, outsider)
	})

	t.Run("Role", func(t *testing.T) {
		c := e.Owner
		c.T = t
		got := p.users(c, "Role="+domain.RoleSupport)
		require.Len(t, got, 1)
		require.Equal(t, dev, got[0]["user_sid"])
		require.Equal(t, []any{domain.RoleDeveloper, domain.RoleSupport}, got[0]["roles"], "listed with all its roles")
		got = p.users(c, "Role="+domain.RoleOwner)
		require.Len(t, got, 1)
		require.Equal(t, orgOwner, got[0]["user_sid"])
		got = p.users(c, "Role="+domain.RoleBillingManager)
		require.Len(t, got, 1)
		require.Equal(t, billing, got[0]["user_sid"])
	})

	t.Run("Pages", func(t *testing.T) {
		c := e.Owner
		c.T = t
		var seen []string
		next := p.usersPath("PageSize=3")
		pages := 0
		var last map[string]any
		for next != "" {
			r := c.Get(next)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			body := r.JSON(t)
			meta := body["meta"].(map[string]any)
			require.Equal(t, float64(pages), meta["page"])
			require.Equal(t, float64(3), meta["page_size"])
			require.Equal(t, "content", meta["key"])
			for _, it := range body["content"].([]any) {
				seen = append(seen, it.(map[string]any)["user_sid"].(string))
			}
			pages++
			next, _ = meta["next_page_url"].(string)
			last = meta
		}
		require.Equal(t, everyone, seen, "every user once across the pages")
		require.Equal(t, 2, pages)
		prev, ok := last["previous_page_url"].(string)
		require.True(t, ok, "the last page links back")
		back := c.Get(prev).JSON(t)["content"].([]any)
		require.Len(t, back, 3)
		require.Equal(t, everyone[0], back[0].(map[string]any)["user_sid"])

		// The filter is kept in the links.
		r := c.Get(p.usersPath("PageSize=1&Role=" + domain.RoleAdministrator))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		for _, link := range []string{"url", "first_page_url"} {
			u, err := url.Parse(r.JSON(t)["meta"].(map[string]any)[link].(string))
			require.NoError(t, err)
			require.Equal(t, domain.RoleAdministrator, u.Query().Get("Role"), link)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		testenv.RequireError(t, c.Get(p.usersPath("Role=Administrator")), 400, domain.CodeInvalidRole)
		testenv.RequireError(t, c.Get(p.usersPath("Role=IX"+strings.Repeat("0", 29)+"199")), 400, domain.CodeInvalidRole)
		testenv.RequireError(t, c.Get(p.usersPath("PageSize=0")), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(p.usersPath("PageSize=101")), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Get(p.usersPath("PageToken=garbage")), 400, domain.CodeInvalidPageToken)
		testenv.RequireError(t, c.Get(e.Path("/Accounts/AC"+strings.Repeat("e", 32)+"/Users")), 404, domain.CodeAccountNotFound)
		testenv.RequireError(t, c.Get(e.Path("/Accounts/ACnope/Users")), 400, domain.CodeBadRequest)
	})

	t.Run("WhoMayList", func(t *testing.T) {
		dc := e.ClientFor(dev)
		dc.T = t
		require.Len(t, p.users(dc, ""), 4, "a Developer reads the account, and so its users")
		oc := e.ClientFor(outsider)
		oc.T = t
		testenv.RequireError(t, oc.Get(p.usersPath("")), 404, domain.CodeAccountNotFound)
		_, other := e.OtherOrg()
		other.T = t
		testenv.RequireError(t, other.Get(p.usersPath("")), 403, domain.CodeWrongOrganization)
	})

	t.Run("StandardUserSeesOnlyAccountsItHasRolesOn", func(t *testing.T) {
		mine := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Outsider's"})
		r := p.setRoles(e.Owner, outsider, domain.RoleSupport)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		oc := e.ClientFor(outsider)
		oc.T = t
		r = oc.Get(e.Path("/Accounts"))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		content := r.JSON(t)["content"].([]any)
		require.Len(t, content, 1)
		require.Equal(t, p.acct, content[0].(map[string]any)["account_sid"])
		testenv.RequireError(t, oc.Get(e.Path("/Accounts/"+mine+"/Users")), 404, domain.CodeAccountNotFound)
		require.Len(t, p.users(oc, ""), 5)
	})
}

func TestAccountUsers_SetAndRemoveRoles(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	p := people{env: e, acct: e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Roles"})}
	orgOwner := e.App.Boot.Owner.Sid
	dev := e.SCIMUser("roles-dev@example.com")
	admin := e.SCIMUser("roles-admin@example.com")
	bob := e.SCIMUser("roles-bob@example.com")

	r := p.setRoles(e.Owner, dev, domain.RoleDeveloper)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	got := r.JSON(t)
	require.Equal(t, dev, got["user_sid"])
	require.Equal(t, []any{domain.RoleDeveloper}, got["roles"])
	require.Equal(t, []any{"Developer"}, got["role_names"])

	t.Run("AdministratorSupersedes", func(t *testing.T) {
		c := e.Owner
		c.T = t
		r := p.setRoles(c, admin, domain.RoleDeveloper, domain.RoleAdministrator, domain.RoleSupport)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, []any{domain.RoleAdministrator}, r.JSON(t)["roles"], "stored as Administrator alone")
		require.Equal(t, []any{domain.RoleAdministrator}, p.roles()[admin])
	})

	t.Run("ReplaceAndRecord", func(t *testing.T) {
		c := e.Owner
		c.T = t
		r := p.setRoles(c, bob, domain.RoleSupport, domain.RoleBillingManager, domain.RoleSupport)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, []any{domain.RoleBillingManager, domain.RoleSupport}, r.JSON(t)["roles"], "repeats once, in role order")
		r = p.setRoles(c, bob, domain.RoleDeveloper)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, []any{domain.RoleDeveloper}, p.roles()[bob])
		n := len(p.events(domain.EventAccountUserRolesSet))
		require.Equal(t, http.StatusOK, p.setRoles(c, bob, domain.RoleDeveloper).Status)
		evs := p.events(domain.EventAccountUserRolesSet)
		require.Len(t, evs, n, "the same roles again change nothing and record nothing")
		last := evs[len(evs)-1]
		require.Equal(t, orgOwner, last["actor_sid"])
		changes := last["changes"].(map[string]any)
		require.Equal(t, bob, changes["user_sid"])
		require.Equal(t, map[string]any{"from": []any{domain.RoleBillingManager, domain.RoleSupport}, "to": []any{domain.RoleDeveloper}}, changes["roles"])
	})

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		before := p.snapshot()
		unknown := "US" + strings.Repeat("b", 32)
		missing := "AC" + strings.Repeat("e", 32)
		tests := []struct {
			name         string
			account      string
			user         string
			body         any
			status, code int
		}{
			{"EmptyRoles", p.acct, bob, `{"roles": []}`, 400, domain.CodeInvalidRole},
			{"NullRoles", p.acct, bob, `{"roles": null}`, 400, domain.CodeInvalidRole},
			{"NoRoles", p.acct, bob, `{}`, 400, domain.CodeInvalidRole},
			{"OwnerRole", p.acct, bob, map[string]any{"roles": []string{domain.RoleOwner}}, 400, domain.CodeInvalidRole},
			{"UnknownRole", p.acct, bob, map[string]any{"roles": []string{"IX" + strings.Repeat("9", 32)}}, 400, domain.CodeInvalidRole},
			{"RoleName", p.acct, bob, map[string]any{"roles": []string{"Developer"}}, 400, domain.CodeInvalidRole},
			{"RolesNotAList", p.acct, bob, `{"roles": "` + domain.RoleDeveloper + `"}`, 400, domain.CodeBadRequest},
			{"UnknownField", p.acct, bob, `{"roles": ["` + domain.RoleDeveloper + `"], "scope": "x"}`, 400, domain.CodeBadRequest},
			{"MalformedJSON", p.acct, bob, `{"roles": [`, 400, domain.CodeBadRequest},
			{"EmptyBody", p.acct, bob, ``, 400, domain.CodeBadRequest},
			{"MalformedUser", p.acct, "USxyz", map[string]any{"roles": []string{domain.RoleDeveloper}}, 400, domain.CodeBadRequest},
			{"UnknownUser", p.acct, unknown, map[string]any{"roles": []string{domain.RoleDeveloper}}, 400, domain.CodeIdentityNotManaged},
			{"TheOwner", p.acct, orgOwner, map[string]any{"roles": []string{domain.RoleAdministrator}}, 409, domain.CodeInvalidState},
			{"UnknownAccount", missing, bob, map[string]any{"roles": []string{domain.RoleDeveloper}}, 404, domain.CodeAccountNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c.T = t
				testenv.RequireError(t, c.Do(http.MethodPut, e.Path("/Accounts/"+tt.account+"/Users/"+tt.user), tt.body), tt.status, tt.code)
			})
		}
		c.T = t
		r := c.Do(http.MethodPut, p.usersPath("")+"/"+bob, nil)
		testenv.RequireError(t, r, 400, domain.CodeBadRequest)
		testenv.RequireError(t, p.remove(c, orgOwner), 409, domain.CodeInvalidState)
		require.Contains(t, p.remove(c, orgOwner).JSON(t)["message"], "transfer ownership")
		testenv.RequireError(t, p.remove(c, unknown), 404, domain.CodeRoleAssignmentMissing)
		testenv.RequireError(t, p.remove(c, "USxyz"), 400, domain.CodeBadRequest)
		testenv.RequireError(t, c.Do(http.MethodDelete, e.Path("/Accounts/"+missing+"/Users/"+bob), nil), 404, domain.CodeAccountNotFound)
		inactive := e.SCIMUser("roles-inactive@example.com")
		e.deactivate(inactive)
		testenv.RequireError(t, p.setRoles(c, inactive, domain.RoleSupport), 400, domain.CodeIdentityNotManaged)
		ext := e.externalUser("roles-ext@elsewhere.test")
		testenv.RequireError(t, p.setRoles(c, ext, domain.RoleSupport), 400, domain.CodeIdentityNotManaged)
		require.Equal(t, before, p.snapshot(), "refused requests change nothing")
	})

	t.Run("DeveloperCannotChangeRoles", func(t *testing.T) {
		dc := e.ClientFor(dev)
		dc.T = t
		before := p.snapshot()
		testenv.RequireError(t, p.setRoles(dc, bob, domain.RoleSupport), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.setRoles(dc, dev, domain.RoleAdministrator), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.remove(dc, bob), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.put(dc, bob, `{"roles": [`), 403, domain.CodeForbidden)
		require.Equal(t, before, p.snapshot())
	})

	t.Run("AccountAdministratorManagesLesserRolesOnly", func(t *testing.T) {
		ac := e.ClientFor(admin)
		ac.T = t
		carol := e.SCIMUser("roles-carol@example.com")
		r := p.setRoles(ac, carol, domain.RoleSupport)
		require.Equal(t, http.StatusOK, r.Status, "an account Administrator manages users: %s", r.Body)
		r = p.setRoles(ac, carol, domain.RoleSupport, domain.RoleDeveloper)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		before := p.snapshot()
		testenv.RequireError(t, p.setRoles(ac, carol, domain.RoleAdministrator), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.setRoles(ac, carol, domain.RoleAdministrator, domain.RoleSupport), 403, domain.CodeForbidden)
		require.Equal(t, before, p.snapshot())
		other := e.SCIMUser("roles-other-admin@example.com")
		require.Equal(t, http.StatusOK, p.setRoles(e.Owner, other, domain.RoleAdministrator).Status)
		before = p.snapshot()
		testenv.RequireError(t, p.setRoles(ac, other, domain.RoleDeveloper), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.remove(ac, other), 403, domain.CodeForbidden)
		testenv.RequireError(t, p.remove(ac, orgOwner), 409, domain.CodeInvalidState)
		require.Equal(t, before, p.snapshot())
		require.Equal(t, http.StatusOK, p.setRoles(ac, other, domain.RoleAdministrator).Status, "keeping an Administrator one is no change")
		require.Equal(t, http.StatusNoContent, p.remove(ac, carol).Status)
	})

	t.Run("AccountOwnerManagesAdministrators", func(t *testing.T) {
		olga := e.SCIMUser("roles-olga@example.com")
		q := people{env: e, acct: e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Olga's", "owner": olga})}
		oc := e.ClientFor(olga)
		oc.T = t
		r := q.setRoles(oc, bob, domain.RoleAdministrator)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		r = q.setRoles(oc, bob, domain.RoleSupport)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, http.StatusOK, q.setRoles(oc, bob, domain.RoleAdministrator).Status)
		require.Equal(t, http.StatusNoContent, q.remove(oc, bob).Status)
		testenv.RequireError(t, q.remove(oc, olga), 409, domain.CodeInvalidState)
		testenv.RequireError(t, q.setRoles(oc, olga, domain.RoleDeveloper), 409, domain.CodeInvalidState)
	})

	t.Run("NotOnClosedOrIndependentAccounts", func(t *testing.T) {
		c := e.Owner
		c.T = t
		q := people{env: e, acct: e.CreateAccount(c, map[string]any{"friendly_name": "Closing"})}
		require.Equal(t, http.StatusOK, q.setRoles(c, bob, domain.RoleDeveloper).Status)
		q.setStatus(domain.AccountActive, domain.AccountClosed)
		testenv.RequireError(t, q.setRoles(c, bob, domain.RoleSupport), 400, domain.CodeRoleScopeNotManaged)
		require.Equal(t, []any{domain.RoleDeveloper}, q.roles()[bob])
		require.Equal(t, http.StatusNoContent, q.remove(c, bob).Status, "access can always be removed")

		ind := people{env: e, acct: e.independentAccount(e.externalUser("roles-owner@elsewhere.test"))}
		testenv.RequireError(t, ind.setRoles(c, bob, domain.RoleSupport), 400, domain.CodeRoleScopeNotManaged)
		require.Len(t, ind.roles(), 1)
	})

	t.Run("Remove", func(t *testing.T) {
		c := e.Owner
		c.T = t
		r := p.remove(c, dev)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		require.Empty(t, r.Body)
		require.NotContains(t, p.roles(), dev)
		testenv.RequireError(t, p.remove(c, dev), 404, domain.CodeRoleAssignmentMissing)
		dc := e.ClientFor(dev)
		dc.T = t
		testenv.RequireError(t, dc.Get(e.Path("/Accounts/"+p.acct)), 404, domain.CodeAccountNotFound)
		evs := p.events(domain.EventAccountUserRemoved)
		require.NotEmpty(t, evs)
		changes := evs[len(evs)-1]["changes"].(map[string]any)
		require.Equal(t, dev, changes["user_sid"])
		require.Equal(t, map[string]any{"from": []any{domain.RoleDeveloper}, "to": []any{}}, changes["roles"])
	})
}

func TestOwnershipTransfer(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	p := people{env: e, acct: e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Transfer"})}
	orgOwner := e.App.Boot.Owner.Sid
	alice := e.SCIMUser("alice@example.com")
	bob := e.SCIMUser("bob@example.com")
	carol := e.SCIMUser("carol@example.com")
	require.Equal(t, http.StatusOK, p.setRoles(e.Owner, alice, domain.RoleDeveloper, domain.RoleSupport).Status)
	require.Equal(t, http.StatusOK, p.setRoles(e.Owner, carol, domain.RoleDeveloper).Status)
	otherOrg, other := e.OtherOrg()
	start := p.snapshot().Account

	t.Run("ByEmail", func(t *testing.T) {
		c := e.Owner
		c.T = t
		r := p.transferTo(c, "Alice@Example.com")
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		got := r.JSON(t)
		require.Equal(t, alice, got["owner_sid"])
		require.Equal(t, p.acct, got["account_sid"])
		require.Equal(t, got, c.Get(p.Path("/Accounts/"+p.acct)).JSON(t), "the answer is the stored account")
		roles := p.roles()
		require.Equal(t, []any{domain.RoleOwner}, roles[alice], "Owner supersedes the new owner's roles")
		require.Equal(t, []any{domain.RoleAdministrator}, roles[orgOwner], "the former owner stays as Administrator")
		evs := p.events(domain.EventOwnershipTransferred)
		require.Len(t, evs, 1)
		require.Equal(t, orgOwner, evs[0]["actor_sid"])
		changes := evs[0]["changes"].(map[string]any)
		require.Equal(t, map[string]any{"from": orgOwner, "to": alice}, changes["owner_sid"])
		require.Equal(t, map[string]any{"from": []any{domain.RoleDeveloper, domain.RoleSupport}, "to": []any{domain.RoleOwner}}, changes["new_owner_roles"])
		require.Equal(t, map[string]any{"from": []any{domain.RoleOwner}, "to": []any{domain.RoleAdministrator}}, changes["former_owner_roles"])

		// Both owners are told, with the organization named.
		require.Eventually(t, func() bool {
			sent, err := e.App.Store.ListEmails(context.Background(), p.acct)
			if err != nil {
				return false
			}
			to := map[string]bool{}
			for _, m := range sent {
				if m.Template == "ownership_changed" && strings.Contains(m.BodyText, e.App.Boot.Organization.FriendlyName) {
					to[m.To] = true
				}
			}
			return to["alice@example.com"] && to[e.App.Boot.Owner.UserName]
		}, 30*time.Second, 100*time.Millisecond, "the former and the new owner are emailed")
	})

	t.Run("BySIDByTheAccountOwner", func(t *testing.T) {
		ac := e.ClientFor(alice) // a Standard user of the organization, Owner of the account
		ac.T = t
		r := p.transferTo(ac, bob)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, bob, r.JSON(t)["owner_sid"])
		roles := p.roles()
		require.Equal(t, []any{domain.RoleOwner}, roles[bob])
		require.Equal(t, []any{domain.RoleAdministrator}, roles[alice])
		require.Equal(t, []any{domain.RoleAdministrator}, roles[orgOwner])
		testenv.RequireError(t, p.transferTo(ac, carol), 403, domain.CodeForbidden) // alice is an Administrator now
	})

	t.Run("ToTheCurrentOwnerChangesNothing", func(t *testing.T) {
		c := e.Owner
		c.T = t
		before := p.snapshot()
		r := p.transferTo(c, bob)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, before.Account, r.JSON(t))
		require.Equal(t, before, p.snapshot())
		r = p.transferTo(c, "bob@example.com")
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, before, p.snapshot())
	})

	t.Run("Errors", func(t *testing.T) {
		c := e.Owner
		c.T = t
		inactive := e.SCIMUser("inactive@example.com")
		e.deactivate(inactive)
		ext := e.externalUser("someone@elsewhere.test")
		other.T = t
		otherOwner := other.Get("/Organizations/" + otherOrg).JSON(t)["owner_sid"].(string)
		before := p.snapshot()
		tests := []struct {
			name         string
			body         any
			status, code int
		}{
			{"NoOwner", `{}`, 400, domain.CodeBadRequest},
			{"EmptyOwner", `{"owner": ""}`, 400, domain.CodeBadRequest},
			{"BlankOwner", `{"owner": "  "}`, 400, domain.CodeBadRequest},
			{"OwnerNotAString", `{"owner": 7}`, 400, domain.CodeBadRequest},
			{"UnknownField", `{"owner": "` + carol + `", "keep_roles": true}`, 400, domain.CodeBadRequest},
			{"MalformedJSON", `{"owner": `, 400, domain.CodeBadRequest},
			{"EmptyBody", ``, 400, domain.CodeBadRequest},
			{"MalformedSID", `{"owner": "US123"}`, 400, domain.CodeBadRequest},
			{"NeitherSIDNorEmail", `{"owner": "carol"}`, 400, domain.CodeBadRequest},
			{"UnknownSID", `{"owner": "US` + strings.Repeat("a", 32) + `"}`, 400, domain.CodeOwnerNotManaged},
			{"UnknownEmail", `{"owner": "nobody@example.com"}`, 400, domain.CodeOwnerNotManaged},
			{"ExternalUserByEmail", `{"owner": "someone@elsewhere.test"}`, 400, domain.CodeOwnerNotManaged},
			{"ExternalUserBySID", `{"owner": "` + ext + `"}`, 400, domain.CodeOwnerNotManaged},
			{"UserOfAnotherOrganization", `{"owner": "` + otherOwner + `"}`, 400, domain.CodeOwnerNotManaged},
			{"InactiveUser", `{"owner": "` + inactive + `"}`, 400, domain.CodeOwnerNotManaged},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c.T = t
				testenv.RequireError(t, p.transfer(c, tt.body), tt.status, tt.code)
			})
		}
		c.T = t
		testenv.RequireError(t, c.Post(e.Path("/Accounts/AC"+strings.Repeat("e", 32)+"/Owner"), map[string]any{"owner": carol}), 404, domain.CodeAccountNotFound)
		testenv.RequireError(t, c.Post(e.Path("/Accounts/ACnope/Owner"), map[string]any{"owner": carol}), 400, domain.CodeBadRequest)
		require.Equal(t, before, p.snapshot(), "refused transfers change nothing")
	})

	t.Run("WhoMayTransfer", func(t *testing.T) {
		before := p.snapshot()
		admin := e.ClientFor(alice) // account Administrator
		admin.T = t
		testenv.RequireError(t, p.transferTo(admin, carol), 403, domain.CodeForbidden)
		dev := e.ClientFor(carol) // Developer
		dev.T = t
		testenv.RequireError(t, p.transferTo(dev, carol), 403, domain.CodeForbidden)
		nobody := e.ClientFor(e.SCIMUser("nobody-here@example.com")) // no role on the account
		nobody.T = t
		testenv.RequireError(t, p.transferTo(nobody, carol), 404, domain.CodeAccountNotFound)
		other.T = t
		testenv.RequireError(t, p.transferTo(other, carol), 403, domain.CodeWrongOrganization)
		require.Equal(t, before, p.snapshot())

		// An organization Administrator may.
		orgAdmin := e.SCIMUser("org-admin@example.com")
		u, err := e.App.Store.FindUser(context.Background(), e.Sid, orgAdmin)
		require.NoError(t, err)
		u.OrgRole = domain.OrgRoleAdministrator
		_, err = e.App.Store.UpdateUser(context.Background(), u, 0, domain.AuditEvent{})
		require.NoError(t, err)
		oa := e.ClientFor(orgAdmin)
		oa.T = t
		r := p.transferTo(oa, carol)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, carol, r.JSON(t)["owner_sid"])
	})

	t.Run("OnlyActiveAccounts", func(t *testing.T) {
		c := e.Owner
		c.T = t
		for _, status := range []string{domain.AccountPendingClosure, domain.AccountClosed} {
			q := people{env: e, acct: e.CreateAccount(c, map[string]any{"friendly_name": "Not active"})}
			q.setStatus(domain.AccountActive, status)
			before := q.snapshot()
			testenv.RequireError(t, q.transferTo(c, carol), 409, domain.CodeInvalidState)
			require.Equal(t, before, q.snapshot(), status)
		}
	})

	t.Run("OnlyManagedAccounts", func(t *testing.T) {
		c := e.Owner
		c.T = t
		q := people{env: e, acct: e.independentAccount(e.externalUser("shared-owner@elsewhere.test"))}
		before := q.snapshot()
		testenv.RequireError(t, q.transferTo(c, carol), 400, domain.CodeAccountNotManaged)
		require.Equal(t, before, q.snapshot())
	})

	t.Run("IdempotencyKeyReplays", func(t *testing.T) {
		c := e.Owner.WithHeader("Idempotency-Key", "transfer-to-bob")
		c.T = t
		r := p.transferTo(c, bob)
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		require.Equal(t, bob, r.JSON(t)["owner_sid"])
		n := len(p.events(domain.EventOwnershipTransferred))
		again := p.transferTo(c, bob)
		require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		require.Equal(t, r.Body, again.Body)
		require.Len(t, p.events(domain.EventOwnershipTransferred), n)
	})

	require.NotEqual(t, start["owner_sid"], p.snapshot().Account["owner_sid"])
}

// Twenty transfers of one account, each to another managed user, at once:
// exactly one Owner remains and it is the account's owner_sid, every
// refused transfer is a 409, and every former owner stays as
// Administrator.
func TestOwnershipTransfer_Concurrent(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	p := people{env: e, acct: e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Contested"})}
	orgOwner := e.App.Boot.Owner.Sid
	const n = 20
	users := make([]string, n)
	for i := range users {
		users[i] = e.SCIMUser(fmt.Sprintf("contender%02d@example.com", i))
		if i%2 == 0 {
			require.Equal(t, http.StatusOK, p.setRoles(e.Owner, users[i], domain.RoleDeveloper).Status)
		}
	}
	before := p.roles()
	startVersion := accountVersion(t, e, p.acct)

	responses := make([]testenv.Response, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			responses[i] = p.transferTo(e.Owner, users[i])
		}()
	}
	close(gate)
	wg.Wait()

	var won []string
	for i, r := range responses {
		if r.Status == http.StatusOK {
			require.Equal(t, users[i], r.JSON(t)["owner_sid"])
			won = append(won, users[i])
			continue
		}
		testenv.RequireError(t, r, http.StatusConflict, domain.CodeVersionConflict)
	}
	require.NotEmpty(t, won, "one transfer at least succeeds")
	t.Logf("%d of %d transfers applied, one after another", len(won), n)

	var owners []string
	require.NoError(t, e.App.Store.DB().Raw("SELECT identity FROM role_assignments WHERE scope = ? AND role_sid = ?", p.acct, domain.RoleOwner).Scan(&owners).Error)
	require.Len(t, owners, 1, "exactly one Owner role assignment")
	var ownerSid string
	require.NoError(t, e.App.Store.DB().Raw("SELECT owner_sid FROM accounts WHERE sid = ?", p.acct).Scan(&ownerSid).Error)
	require.Equal(t, owners[0], ownerSid, "accounts.owner_sid is the Owner")
	require.Contains(t, won, ownerSid)
	require.Equal(t, startVersion+len(won), accountVersion(t, e, p.acct), "one version per applied transfer")

	roles := p.roles()
	require.Equal(t, []any{domain.RoleOwner}, roles[ownerSid])
	require.Equal(t, []any{domain.RoleAdministrator}, roles[orgOwner], "the first owner stays as Administrator")
	for i, u := range users {
		switch {
		case u == ownerSid:
		case slices.Contains(won, u):
			require.Equal(t, []any{domain.RoleAdministrator}, roles[u], "a former owner stays as Administrator")
		default:
			require.Equal(t, before[u], roles[u], "refused transfer %d changed the roles of its target", i)
		}
	}
	require.Len(t, p.events(domain.EventOwnershipTransferred), len(won), "one event per applied transfer")
	require.Equal(t, ownerSid, e.Owner.Get(p.Path("/Accounts/" + p.acct)).JSON(t)["owner_sid"])
}

func accountVersion(t *testing.T, e *env, sid string) int {
	t.Helper()
	a, err := e.App.Store.FindAccount(context.Background(), e.Sid, sid)
	require.NoError(t, err)
	return a.Version
}
