package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// newDomainEnv runs orgaccounts against a DNS server on loopback whose
// records the test controls, checking pending domains every 200ms.
func newDomainEnv(t *testing.T, databaseURL string) (*env, *testenv.DNS) {
	t.Helper()
	dns := testenv.MustDNS(t)
	return newAppEnv(t, testenv.AppOptions{DatabaseURL: databaseURL, Env: map[string]string{
		"DNS_RESOLVER":               dns.Addr,
		"DOMAIN_CHECK_INTERVAL":      "200ms",
		"DOMAIN_VERIFICATION_WINDOW": "10m",
		"DOMAIN_RECHECK_INTERVAL":    "1h",
		"DOMAIN_GRACE_PERIOD":        "1h",
	}}), dns
}

func (e *env) domainHistory(sid string) *historypb.History {
	e.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := e.App.Temporal.GetWorkflowHistory(ctx, workflows.DomainVerificationWorkflowID(sid), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(e.T, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

func (e *env) eventTypes(resource string) []string {
	e.T.Helper()
	r := e.Owner.Get(e.Path("/Events?Resource=" + resource))
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []string
	for _, ev := range r.JSON(e.T)["content"].([]any) {
		out = append(out, ev.(map[string]any)["event_type"].(string))
	}
	return out
}

func TestDomains_AddPublishVerifyAndDelete(t *testing.T) {
	t.Parallel()
	e, dns := newDomainEnv(t, testenv.MustPostgres(t))
	ctx := context.Background()

	r := e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "corp.example"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	d := r.JSON(t)
	sid := d["sid"].(string)
	assert.Equal(t, "pending", d["status"])
	assert.Equal(t, e.App.BaseURL+e.Path("/Domains/"+sid), r.Header.Get("Location"))
	token := d["verification_token"].(string)
	require.NotEmpty(t, token)
	assert.Equal(t, map[string]any{"name": "_orgaccounts.corp.example", "type": "TXT", "value": "orgaccounts-domain-verification=" + token}, d["txt_record"])

	// Not verified yet: no managed user on it.
	scim := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "alice@corp.example"}
	r = e.Owner.Do(http.MethodPost, e.Path("/scim/Users"), scim)
	require.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Body)

	// The checks keep finding nothing, then the record is published.
	require.Eventually(t, func() bool { return dns.Queries("_orgaccounts.corp.example") >= 2 }, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, "pending", e.Owner.Get(e.Path("/Domains/" + sid)).JSON(t)["status"])
	dns.SetTXT("_orgaccounts.corp.example", "google-site-verification=abc", "orgaccounts-domain-verification="+token)
	var got map[string]any
	require.Eventually(t, func() bool {
		r := e.Owner.Get(e.Path("/Domains/" + sid))
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		got = r.JSON(t)
		return got["status"] == "verified"
	}, 30*time.Second, 50*time.Millisecond, "the domain never became verified")
	assert.NotNil(t, got["date_verified"])
	assert.NotNil(t, got["date_last_checked"])
	assert.Nil(t, got["removal_date"])

	ok, err := e.App.Store.IsVerifiedDomain(ctx, e.Sid, "corp.example")
	require.NoError(t, err)
	assert.True(t, ok)
	r = e.Owner.Do(http.MethodPost, e.Path("/scim/Users"), scim)
	require.Equal(t, http.StatusCreated, r.Status, "a managed user on the newly verified domain: %s", r.Body)

	// Adding it again answers the same domain.
	r = e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "corp.example"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, sid, r.JSON(t)["sid"])

	page := e.Owner.Get(e.Path("/Domains")).JSON(t)["content"].([]any)
	require.Len(t, page, 2)
	assert.Equal(t, "example.com", page[0].(map[string]any)["domain_name"], "the bootstrap domain first")
	assert.Equal(t, sid, page[1].(map[string]any)["sid"])
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified}, e.eventTypes(sid))

	// An operator finds the workflow by OrganizationSid.
	require.Eventually(t, func() bool {
		resp, err := e.App.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`OrganizationSid = %q AND WorkflowType = "DomainVerificationWorkflow"`, e.Sid)})
		return err == nil && len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == workflows.DomainVerificationWorkflowID(sid)
	}, 30*time.Second, 200*time.Millisecond)

	// Delete: gone, and its workflow cancelled.
	r = e.Owner.Do(http.MethodDelete, e.Path("/Domains/"+sid), nil)
	require.Equal(t, http.StatusNoContent, r.Status, "body: %s", r.Body)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Domains/"+sid)), http.StatusNotFound, domain.CodeDomainNotFound)
	require.Eventually(t, func() bool {
		desc, err := e.App.Temporal.DescribeWorkflow(ctx, workflows.DomainVerificationWorkflowID(sid), "")
		return err == nil && desc.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
	}, 30*time.Second, 100*time.Millisecond, "the verification workflow was not cancelled")
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified, domain.EventDomainDeleted}, e.eventTypes(sid))
	ok, err = e.App.Store.IsVerifiedDomain(ctx, e.Sid, "corp.example")
	require.NoError(t, err)
	assert.False(t, ok)

	// The real server's history replays with this code: it is deterministic.
	replayer := sdkworker.NewWorkflowReplayer()
	replayer.RegisterWorkflow(workflows.DomainVerificationWorkflow)
	require.NoError(t, replayer.ReplayWorkflowHistory(nil, e.domainHistory(sid)))
}

func TestDomains_RefusesAPublicMailDomainAndOneVerifiedByAnotherOrganization(t *testing.T) {
	t.Parallel()
	e, _ := newDomainEnv(t, "")
	otherSid, other := e.OtherOrg()

	testenv.RequireError(t, e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "gmail.com"}), http.StatusBadRequest, domain.CodePublicMailDomain)
	testenv.RequireError(t, e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "yahoo.co.uk"}), http.StatusBadRequest, domain.CodePublicMailDomain)
	r := e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "other.test"})
	testenv.RequireError(t, r, http.StatusConflict, domain.CodeDomainTaken)
	assert.Contains(t, r.JSON(t)["message"], "another organization")

	// The other organization adding its own domain gets it back as it is.
	r = other.Post("/Organizations/"+otherSid+"/Domains", map[string]any{"domain_name": "other.test"})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	assert.Equal(t, "verified", r.JSON(t)["status"])

	assert.Equal(t, 1, e.Count(e.Owner, e.Path("/Domains")), "nothing was added")
	assert.Empty(t, e.eventTypesOfType(domain.EventDomainCreated))
}

// TestDomains_OneVerifiedByAnotherOrganizationLeavesNothingBehind: the
// refused domain has no row and no verification checking it, while a
// domain added after it is checked.
func TestDomains_OneVerifiedByAnotherOrganizationLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	e, dns := newDomainEnv(t, "")
	e.OtherOrg() // verified other.test
	testenv.RequireError(t, e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "other.test"}), http.StatusConflict, domain.CodeDomainTaken)
	r := e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "mine.test"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	mine := r.JSON(t)["sid"].(string)

	// By the time the domain added after it was checked twice, a
	// verification of the refused one would have checked it too.
	require.Eventually(t, func() bool { return dns.Queries("_orgaccounts.mine.test") >= 2 }, 30*time.Second, 50*time.Millisecond)
	assert.Zero(t, dns.Queries("_orgaccounts.other.test"), "the refused domain is checked")
	page := e.Owner.Get(e.Path("/Domains")).JSON(t)["content"].([]any)
	require.Len(t, page, 2, "the bootstrap domain and mine.test only")
	assert.Equal(t, mine, page[1].(map[string]any)["sid"])
	assert.Equal(t, []string{mine}, e.eventTypesOfType(domain.EventDomainCreated))

	// No verification is left running but mine.test's.
	require.Eventually(t, func() bool {
		resp, err := e.App.Temporal.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`OrganizationSid = %q AND WorkflowType = "DomainVerificationWorkflow" AND ExecutionStatus = "Running"`, e.Sid)})
		return err == nil && len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == workflows.DomainVerificationWorkflowID(mine)
	}, 30*time.Second, 200*time.Millisecond)
}

func TestDomains_BadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	e, _ := newDomainEnv(t, "")
	standard := e.ClientFor(e.SCIMUser("stan@example.com"))
	boot := e.Owner.Get(e.Path("/Domains")).JSON(t)["content"].([]any)[0].(map[string]any)["sid"].(string)

	for name, tc := range map[string]struct {
		body   any
		status int
		code   int
	}{
		"uppercase":      {map[string]any{"domain_name": "Corp.example"}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"one label":      {map[string]any{"domain_name": "localhost"}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"trailing dot":   {map[string]any{"domain_name": "corp.example."}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"unicode":        {map[string]any{"domain_name": "bücher.example"}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"an email":       {map[string]any{"domain_name": "me@corp.example"}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"empty":          {map[string]any{"domain_name": ""}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"missing":        {map[string]any{}, http.StatusBadRequest, domain.CodeInvalidDomainName},
		"unknown field":  {map[string]any{"domain": "corp.example"}, http.StatusBadRequest, domain.CodeBadRequest},
		"not a string":   {map[string]any{"domain_name": 42}, http.StatusBadRequest, domain.CodeBadRequest},
		"malformed JSON": {`{"domain_name": "corp.example"`, http.StatusBadRequest, domain.CodeBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.RequireError(t, e.Owner.Post(e.Path("/Domains"), tc.body), tc.status, tc.code)
		})
	}
	testenv.RequireError(t, standard.Post(e.Path("/Domains"), map[string]any{"domain_name": "corp.example"}), http.StatusForbidden, domain.CodeForbidden)
	testenv.RequireError(t, standard.Do(http.MethodDelete, e.Path("/Domains/"+boot), nil), http.StatusForbidden, domain.CodeForbidden)
	require.Equal(t, http.StatusOK, standard.Get(e.Path("/Domains/"+boot)).Status, "any user of the organization reads domains")

	testenv.RequireError(t, e.Owner.Get(e.Path("/Domains/DMnot-a-sid")), http.StatusBadRequest, domain.CodeBadRequest)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Domains/"+domain.NewSID(domain.PrefixDomain, time.Now()))), http.StatusNotFound, domain.CodeDomainNotFound)
	testenv.RequireError(t, e.Owner.Do(http.MethodDelete, e.Path("/Domains/"+domain.NewSID(domain.PrefixDomain, time.Now())), nil), http.StatusNotFound, domain.CodeDomainNotFound)
	testenv.RequireError(t, e.Owner.Get(e.Path("/Domains?PageSize=0")), http.StatusBadRequest, domain.CodeBadRequest)
	r := e.Owner.Do(http.MethodDelete, e.Path("/Domains/"+boot), nil)
	testenv.RequireError(t, r, http.StatusConflict, domain.CodeLastVerifiedDomain)

	otherSid, other := e.OtherOrg()
	testenv.RequireError(t, other.Get(e.Path("/Domains")), http.StatusForbidden, domain.CodeWrongOrganization)
	testenv.RequireError(t, e.Owner.Get("/Organizations/"+otherSid+"/Domains"), http.StatusForbidden, domain.CodeWrongOrganization)

	page := e.Owner.Get(e.Path("/Domains")).JSON(t)["content"].([]any)
	require.Len(t, page, 1, "nothing was added or removed")
	assert.Equal(t, "verified", page[0].(map[string]any)["status"])
	assert.Empty(t, e.eventTypesOfType(domain.EventDomainCreated))
	assert.Empty(t, e.eventTypesOfType(domain.EventDomainDeleted))
}

// eventTypesOfType lists the SIDs of the resources of events of typ.
func (e *env) eventTypesOfType(typ string) []string {
	e.T.Helper()
	r := e.Owner.Get(e.Path("/Events?Type=" + typ))
	require.Equal(e.T, http.StatusOK, r.Status, "body: %s", r.Body)
	var out []string
	for _, ev := range r.JSON(e.T)["content"].([]any) {
		out = append(out, ev.(map[string]any)["resource_sid"].(string))
	}
	return out
}

func TestDomains_VanishedRecordRestoredThenRemovedAfterGrace(t *testing.T) {
	t.Parallel()
	dns := testenv.MustDNS(t)
	e := newAppEnv(t, testenv.AppOptions{Env: map[string]string{
		"DNS_RESOLVER": dns.Addr, "DOMAIN_CHECK_INTERVAL": "100ms", "DOMAIN_VERIFICATION_WINDOW": "1m",
		"DOMAIN_RECHECK_INTERVAL": "200ms", "DOMAIN_GRACE_PERIOD": "5s",
	}})

	r := e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "corp.example"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	sid := r.JSON(t)["sid"].(string)
	record := r.JSON(t)["txt_record"].(map[string]any)
	name, value := record["name"].(string), record["value"].(string)
	dns.SetTXT(name, value)

	wait := func(what string, cond func(d map[string]any) bool) map[string]any {
		t.Helper()
		var got map[string]any
		require.Eventually(t, func() bool {
			got = e.Owner.Get(e.Path("/Domains/" + sid)).JSON(t)
			return cond(got)
		}, 30*time.Second, 20*time.Millisecond, "the domain never %s: %v", what, got)
		return got
	}
	wait("became verified", func(d map[string]any) bool { return d["status"] == "verified" })

	dns.RemoveTXT(name)
	lapsed := wait("lapsed", func(d map[string]any) bool { return d["record_missing_since"] != nil })
	assert.Equal(t, "verified", lapsed["status"], "still verified during the grace period")
	require.NotNil(t, lapsed["removal_date"])
	metrics := string(e.Anonymous().Get("/metrics").Body)
	assert.Equal(t, float64(1), metricValue(t, metrics, "orgaccounts_domains", `status="lapsed"`), "operators see the lapsed domain")
	assert.Equal(t, float64(1), metricValue(t, metrics, "orgaccounts_domains", `status="verified"`), "the bootstrap domain")
	dns.SetTXT(name, value)
	restored := wait("was restored", func(d map[string]any) bool { return d["record_missing_since"] == nil })
	assert.Equal(t, "verified", restored["status"])
	assert.Nil(t, restored["removal_date"])

	dns.RemoveTXT(name)
	wait("was removed", func(d map[string]any) bool { return d["status"] == "removed" })
	ok, err := e.App.Store.IsVerifiedDomain(context.Background(), e.Sid, "corp.example")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified, domain.EventDomainLapsed, domain.EventDomainRestored,
		domain.EventDomainLapsed, domain.EventDomainRemoved}, e.eventTypes(sid))
	require.Eventually(t, func() bool {
		desc, err := e.App.Temporal.DescribeWorkflow(context.Background(), workflows.DomainVerificationWorkflowID(sid), "")
		return err == nil && desc.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}, 30*time.Second, 100*time.Millisecond, "the workflow ends once the domain is removed")

	// Removed, the domain can be added anew.
	r = e.Owner.Post(e.Path("/Domains"), map[string]any{"domain_name": "corp.example"})
	require.Equal(t, http.StatusCreated, r.Status, "body: %s", r.Body)
	assert.NotEqual(t, sid, r.JSON(t)["sid"])
}
