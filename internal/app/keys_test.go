package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// mintKey makes a personal API key for a user straight in the store, as
// POST /Keys does for a signed-in person, and returns a client using it.
func mintKey(t *testing.T, o *testenv.Org, userSid string) testenv.Client {
	t.Helper()
	secret := domain.NewSecret(32)
	key := domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, time.Now()), OrganizationSid: o.Sid, UserSid: userSid,
		SecretHash: domain.HashSecret(secret), Personal: true}
	require.NoError(t, o.App.Store.CreateKey(context.Background(), key, domain.AuditEvent{}))
	c := o.Basic(key.Sid, secret)
	c.T = t
	return c
}

// makeOrgAdmin gives a managed user the organization Administrator role.
func makeOrgAdmin(t *testing.T, o *testenv.Org, userSid string) {
	t.Helper()
	u, err := o.App.Store.FindUser(context.Background(), o.Sid, userSid)
	require.NoError(t, err)
	u.OrgRole = domain.OrgRoleAdministrator
	_, err = o.App.Store.UpdateUser(context.Background(), u, 0, domain.AuditEvent{})
	require.NoError(t, err)
}

// keysBySid lists the credentials c may manage, by SID.
func keysBySid(t *testing.T, o *testenv.Org, c testenv.Client) map[string]map[string]any {
	t.Helper()
	r := c.Get(o.Path("/Keys?PageSize=100"))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	out := map[string]map[string]any{}
	for _, k := range r.JSON(t)["content"].([]any) {
		m := k.(map[string]any)
		out[m["sid"].(string)] = m
	}
	return out
}

func token(t *testing.T, o *testenv.Org, id, secret string) testenv.Response {
	t.Helper()
	return o.Anonymous().Post("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	alice := e.SCIMUser("alice@example.com") // Standard
	admin := e.SCIMUser("admin@example.com")
	makeOrgAdmin(t, e.Org, admin)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Support"})
	acctCred := e.AccountCredential(acct)

	// The owner, with the bootstrap organization credential, makes a key.
	owner := e.Owner.WithHeader("User-Agent", "keys-test/1.0")
	r := owner.Post(e.Path("/Keys"), map[string]any{"friendly_name": "laptop"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	require.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	created := r.JSON(t)
	keySid, secret := created["sid"].(string), created["secret"].(string)
	require.True(t, domain.ValidSID(domain.PrefixCredential, keySid), keySid)
	require.True(t, domain.ValidSecret(secret))
	ownerSid := e.App.Boot.Owner.Sid
	require.Equal(t, ownerSid, created["user_sid"])
	ownerKey := e.Basic(keySid, secret)

	t.Run("KeyActsAsItsUser", func(t *testing.T) {
		c := ownerKey
		c.T = t
		r := c.Get(e.Path("/Accounts/" + acct))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		// A key cannot make keys.
		testenv.RequireError(t, c.Post(e.Path("/Keys"), map[string]any{}), http.StatusForbidden, domain.CodeForbidden)
		// Nor can an account credential.
		ac := acctCred
		ac.T = t
		testenv.RequireError(t, ac.Post(e.Path("/Keys"), map[string]any{}), http.StatusForbidden, domain.CodeForbidden)
	})

	t.Run("OwnersAndAdministratorsSeeEveryCredential", func(t *testing.T) {
		aliceKey := mintKey(t, e.Org, alice)
		require.Equal(t, http.StatusOK, aliceKey.Get(e.Path("")).Status)
		adminKey := mintKey(t, e.Org, admin)
		for name, c := range map[string]testenv.Client{"Owner": e.Owner, "Administrator": adminKey} {
			c.T = t
			keys := keysBySid(t, e.Org, c)
			boot := keys[e.Owner.User]
			require.NotNil(t, boot, "%s does not see the bootstrap credential: %v", name, keys)
			assert.Equal(t, "organization", boot["kind"])
			assert.Equal(t, ownerSid, boot["user_sid"])
			assert.NotNil(t, boot["date_last_used"], "the bootstrap credential was used")
			mine := keys[keySid]
			require.NotNil(t, mine, "%s does not see the owner's key", name)
			assert.Equal(t, "personal", mine["kind"])
			assert.Equal(t, "laptop", mine["friendly_name"])
			assert.NotContains(t, mine, "secret")
			ac := keys[acctCred.User]
			require.NotNil(t, ac, "%s does not see the account credential", name)
			assert.Equal(t, "account", ac["kind"])
			assert.Equal(t, acct, ac["account_sid"])
			require.NotNil(t, keys[aliceKey.User], "%s does not see alice's key", name)
			assert.Equal(t, alice, keys[aliceKey.User]["user_sid"])
			assert.NotNil(t, keys[aliceKey.User]["date_last_used"], "alice's key was used")
		}
	})

	t.Run("AStandardUserManagesOnlyTheirOwn", func(t *testing.T) {
		aliceKey := mintKey(t, e.Org, alice)
		other := mintKey(t, e.Org, alice)
		keys := keysBySid(t, e.Org, aliceKey)
		require.Contains(t, keys, aliceKey.User)
		require.Contains(t, keys, other.User)
		for sid, k := range keys {
			require.Equal(t, alice, k["user_sid"], "alice sees %s", sid)
		}
		// Another's credential answers as a missing one, and still works.
		testenv.RequireError(t, aliceKey.Do(http.MethodDelete, e.Path("/Keys/"+keySid), nil), http.StatusNotFound, 20404)
		testenv.RequireError(t, aliceKey.Do(http.MethodDelete, e.Path("/Keys/"+e.Owner.User), nil), http.StatusNotFound, 20404)
		owner := e.Owner
		owner.T = t
		require.Equal(t, http.StatusOK, owner.Get(e.Path("")).Status)
		// Her own: gone at once, bearer tokens included.
		tok := token(t, e.Org, other.User, other.Password)
		require.Equal(t, http.StatusOK, tok.Status, "body: %s", tok.Body)
		bearer := e.Bearer(tok.JSON(t)["access_token"].(string))
		bearer.T = t
		require.Equal(t, http.StatusOK, bearer.Get(e.Path("")).Status)
		r := aliceKey.Do(http.MethodDelete, e.Path("/Keys/"+other.User), nil)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		testenv.RequireError(t, other.Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)
		testenv.RequireError(t, bearer.Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)
		testenv.RequireError(t, aliceKey.Do(http.MethodDelete, e.Path("/Keys/"+other.User), nil), http.StatusNotFound, 20404)
	})

	t.Run("AnAdministratorRevokesAnyCredential", func(t *testing.T) {
		victim := mintKey(t, e.Org, ownerSid)
		tok := token(t, e.Org, victim.User, victim.Password)
		require.Equal(t, http.StatusOK, tok.Status, "body: %s", tok.Body)
		bearer := e.Bearer(tok.JSON(t)["access_token"].(string))
		bearer.T = t
		adminKey := mintKey(t, e.Org, admin).WithHeader("User-Agent", "admin-console/2")
		r := adminKey.Do(http.MethodDelete, e.Path("/Keys/"+victim.User), nil)
		require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
		testenv.RequireError(t, bearer.Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)
		testenv.RequireError(t, victim.Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)

		ev := onlyEvent(t, e, domain.EventKeyRevoked, victim.User)
		assert.Equal(t, admin, ev["actor_sid"])
		assert.Equal(t, adminKey.User, ev["credential_sid"])
		assert.NotEmpty(t, ev["source_ip"])
		assert.Equal(t, "admin-console/2", ev["changes"].(map[string]any)["user_agent"])
	})

	t.Run("CreationIsAudited", func(t *testing.T) {
		ev := onlyEvent(t, e, domain.EventKeyCreated, keySid)
		assert.Equal(t, ownerSid, ev["actor_sid"])
		assert.Equal(t, e.Owner.User, ev["credential_sid"])
		assert.NotEmpty(t, ev["source_ip"])
		assert.Equal(t, "keys-test/1.0", ev["changes"].(map[string]any)["user_agent"])
	})

	t.Run("BadInputChangesNothing", func(t *testing.T) {
		owner := e.Owner
		owner.T = t
		before := keysBySid(t, e.Org, owner)
		testenv.RequireError(t, owner.Post(e.Path("/Keys"), map[string]any{"friendly_name": strings.Repeat("x", 65)}), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, owner.Post(e.Path("/Keys"), map[string]any{"friendly_name": 3}), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, owner.Post(e.Path("/Keys"), map[string]any{"user_sid": alice}), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, owner.Do(http.MethodDelete, e.Path("/Keys/nope"), nil), http.StatusBadRequest, domain.CodeBadRequest)
		testenv.RequireError(t, owner.Get(e.Path("/Keys?PageSize=0")), http.StatusBadRequest, domain.CodeBadRequest)
		require.Equal(t, len(before), len(keysBySid(t, e.Org, owner)))
	})

	t.Run("ALiveTokenCapPerCredential", func(t *testing.T) {
		k := mintKey(t, e.Org, alice)
		var first testenv.Client
		for i := range domain.MaxLiveTokensPerCredential + 5 {
			r := token(t, e.Org, k.User, k.Password)
			require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
			if i == 0 {
				first = e.Bearer(r.JSON(t)["access_token"].(string))
				first.T = t
			}
		}
		var n int64
		require.NoError(t, e.App.Store.DB().Table("access_tokens").Where("credential_sid = ?", k.User).Count(&n).Error)
		require.EqualValues(t, domain.MaxLiveTokensPerCredential, n)
		testenv.RequireError(t, first.Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)
	})

	t.Run("WrongSecretsLockTheClientIDOut", func(t *testing.T) {
		k := mintKey(t, e.Org, alice)
		wrong := e.Basic(k.User, strings.Repeat("w", 32)).WithHeader("User-Agent", "guesser/0.1")
		wrong.T = t
		var status []int
		for range 30 {
			status = append(status, wrong.Get(e.Path("")).Status)
		}
		want := make([]int, 30)
		for i := range want {
			want[i] = http.StatusUnauthorized
			if i >= 10 {
				want[i] = http.StatusTooManyRequests
			}
		}
		require.Equal(t, want, status)
		// The right secret is refused too, on both ways in, until the
		// lockout ends.
		r := k.Get(e.Path(""))
		testenv.RequireError(t, r, http.StatusTooManyRequests, domain.CodeRateLimited)
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		require.NoError(t, err)
		require.Greater(t, secs, 0)
		require.LessOrEqual(t, secs, 15*60)
		testenv.RequireError(t, token(t, e.Org, k.User, k.Password), http.StatusTooManyRequests, domain.CodeRateLimited)
		// Other clients are not.
		owner := e.Owner
		owner.T = t
		require.Equal(t, http.StatusOK, owner.Get(e.Path("")).Status)

		ev := onlyEvent(t, e, domain.EventLockedOut, k.User)
		assert.Equal(t, "system", ev["actor_sid"])
		assert.NotEmpty(t, ev["source_ip"])
		assert.Equal(t, "guesser/0.1", ev["changes"].(map[string]any)["user_agent"])
		assert.Equal(t, k.User, ev["changes"].(map[string]any)["client"])
	})
}

// onlyEvent returns the one audit event of type typ on resource.
func onlyEvent(t *testing.T, e *env, typ, resource string) map[string]any {
	t.Helper()
	r := e.Owner.Get(e.Path("/Events?Type=" + typ + "&Resource=" + resource))
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	events := r.JSON(t)["content"].([]any)
	require.Len(t, events, 1, "events: %v", events)
	return events[0].(map[string]any)
}

func TestTokenFailuresLockTheAddressOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	// Unknown client ids, each failing once: only the address adds up.
	var status []int
	for i := range 110 {
		id := domain.NewSID(domain.PrefixCredential, time.Now())
		if i%2 == 0 {
			status = append(status, token(t, e.Org, id, strings.Repeat("w", 32)).Status)
		} else {
			status = append(status, e.Basic(id, strings.Repeat("w", 32)).Get(e.Path("")).Status)
		}
	}
	for i, s := range status {
		want := http.StatusUnauthorized
		if i >= 100 {
			want = http.StatusTooManyRequests
		}
		require.Equal(t, want, s, "attempt %d", i+1)
	}
	// Every client from the address is refused now, the owner's right
	// secret included; no credentials at all is still a 401.
	testenv.RequireError(t, e.Owner.Get(e.Path("")), http.StatusTooManyRequests, domain.CodeRateLimited)
	testenv.RequireError(t, e.Anonymous().Get(e.Path("")), http.StatusUnauthorized, domain.CodeUnauthenticated)
}
