package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// An account's history lists the roles granted and removed on it, not
// only the events whose resource is the account itself.
func TestAccountEventsIncludeItsRoleGrants(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Audited"})
	other := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Elsewhere"})
	dev := e.SCIMUser("audited-dev@example.com")
	ra := e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleDeveloper, "scope": acct, "identity": dev})
	require.Equal(t, http.StatusCreated, ra.Status, "body: %s", ra.Body)
	raSid := ra.JSON(t)["sid"].(string)
	require.Equal(t, http.StatusNoContent, e.Owner.Do(http.MethodDelete, e.Path("/RoleAssignments/"+raSid), nil).Status)
	elsewhere := e.Owner.Post(e.Path("/RoleAssignments"), map[string]any{"role_sid": domain.RoleSupport, "scope": other, "identity": dev})
	require.Equal(t, http.StatusCreated, elsewhere.Status, "body: %s", elsewhere.Body)

	history := func(account string) []string {
		var got []string
		for _, x := range e.Owner.Get(e.Path("/Events?PageSize=100&Resource=" + account)).JSON(t)["content"].([]any) {
			ev := x.(map[string]any)
			got = append(got, ev["event_type"].(string)+" "+ev["resource_sid"].(string))
		}
		return got
	}
	got := history(acct)
	require.Contains(t, got, domain.EventRoleAssigned+" "+raSid, "the grant on the account")
	require.Contains(t, got, domain.EventRoleRemoved+" "+raSid, "the removal on the account")
	require.NotContains(t, got, domain.EventRoleAssigned+" "+elsewhere.JSON(t)["sid"].(string), "another account's grant")
	require.Contains(t, history(other), domain.EventRoleAssigned+" "+elsewhere.JSON(t)["sid"].(string))
	require.NotContains(t, history(other), domain.EventRoleAssigned+" "+raSid)
	// The role assignment's own history is unchanged.
	require.Len(t, history(raSid), 2)
}

// A relinquished account takes its pending invitations with it; their
// links say so, not "This link is not valid".
func TestRelinquishedAccountsInvitationLinkSaysWhy(t *testing.T) {
	t.Parallel()
	mp := testenv.MustMailpit(t)
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"SMTP_URL": mp.SMTPURL()}})
	acct := e.independentAccount(e.externalUser("relinquished-owner@elsewhere.test"))
	r := e.Owner.Post(e.Path("/Accounts/"+acct+"/Invitations"), map[string]any{"email": "guest@partner.example", "roles": []string{domain.RoleDeveloper}})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	msg := mp.WaitForMessage(t, "guest@partner.example", "", 30*time.Second)
	links := msg.Links(e.App.BaseURL + "/confirm/")
	require.Len(t, links, 1)

	r = e.Owner.Post(e.Path("/Accounts/"+acct+"/Relinquish"), nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var page string
	require.Eventually(t, func() bool {
		resp, err := http.Get(links[0])
		if err != nil {
			return false
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		page = string(b)
		return strings.Contains(page, "gave up its access")
	}, 30*time.Second, 100*time.Millisecond, "the link's page: %s", &page)
	require.Contains(t, page, "This invitation was withdrawn")
	require.NotContains(t, page, `id="accept"`, "nothing to answer")
}
