package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// metricValue returns the value of the sample of name whose labels include
// every one given, or -1 when there is none.
func metricValue(t *testing.T, exposition, name string, labels ...string) float64 {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(exposition))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		require.NoError(t, err, line)
		return v
	}
	return -1
}

// TestMetricsAfterWalkthrough scrapes /metrics after the walkthrough and
// finds the HTTP, workflow and SDK series counting what happened.
func TestMetricsAfterWalkthrough(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	walkthrough(t, e)
	anon := e.Anonymous()
	var body string
	// The worker records a workflow's completion once its last task is
	// done, which may be a moment after the account is active.
	require.Eventually(t, func() bool {
		r := anon.Get("/metrics")
		require.Equal(t, http.StatusOK, r.Status)
		body = string(r.Body)
		return metricValue(t, body, "orgaccounts_workflow_outcomes_total", `workflow_type="CreateAccountWorkflow"`, `outcome="completed"`) >= 1
	}, 20*time.Second, 100*time.Millisecond, "no completed CreateAccountWorkflow in /metrics")

	require.Equal(t, float64(1), metricValue(t, body, "orgaccounts_http_requests_total", `route="/Organizations/:org/Accounts"`, `method="POST"`, `status="202"`))
	require.GreaterOrEqual(t, metricValue(t, body, "orgaccounts_http_requests_total", `route="/Organizations/:org/Accounts"`, `method="POST"`, `status="403"`), float64(1))
	require.Greater(t, metricValue(t, body, "orgaccounts_http_request_duration_seconds_count", `route="/Organizations/:org/Accounts/:account"`, `method="GET"`), float64(0))
	require.Equal(t, float64(1), metricValue(t, body, "orgaccounts_workflow_starts_total", `workflow_type="CreateAccountWorkflow"`))
	require.Equal(t, float64(1), metricValue(t, body, "orgaccounts_accounts", `status="active"`))
	require.Equal(t, float64(0), metricValue(t, body, "orgaccounts_accounts", `status="pending_closure"`))
	require.Equal(t, float64(0), metricValue(t, body, "orgaccounts_invitations", `status="pending"`))
	// The Temporal SDK's own worker metrics.
	require.GreaterOrEqual(t, metricValue(t, body, "temporal_workflow_completed_total", `workflow_type="CreateAccountWorkflow"`), float64(1))
	require.Greater(t, metricValue(t, body, "temporal_local_activity_execution_latency_seconds_count", `activity_type="ActivateAccount"`), float64(0))
}

// syncBuffer collects log lines written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(s.b.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestRequestIDFollowsTheWork goes from an HTTP log line to the workflow
// and its activities and back, by request id.
func TestRequestIDFollowsTheWork(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Logs: logs, Env: map[string]string{"LOG_LEVEL": "info"}})
	a := e.App
	const rid = "req-follow-me-42"
	r := e.Owner.WithHeader("X-Request-Id", rid).Post(e.Path("/Accounts"), map[string]any{"friendly_name": "Traced"})
	require.Equal(t, http.StatusAccepted, r.Status, "body: %s", r.Body)
	sid := r.JSON(t)["account_sid"].(string)
	e.WaitActive(e.Owner, sid)

	// HTTP log line → workflow id.
	var wfID string
	for _, l := range logs.lines() {
		if l["msg"] == "workflow started" && l["request_id"] == rid {
			wfID, _ = l["workflow_id"].(string)
		}
	}
	require.Equal(t, workflows.CreateAccountWorkflowID(sid), wfID, "the API logs which workflow the request started")

	// Workflow (as the Web UI shows it) → request id, in its memo.
	desc, err := a.Temporal.DescribeWorkflow(context.Background(), wfID, "")
	require.NoError(t, err)
	var memo string
	require.NoError(t, json.Unmarshal(desc.RawResponse.GetWorkflowExecutionInfo().GetMemo().GetFields()["request_id"].GetData(), &memo))
	require.Equal(t, rid, memo)

	// Activities log with the request id the header carried to them.
	require.Eventually(t, func() bool {
		for _, l := range logs.lines() {
			if l["msg"] == "account activated" && l["request_id"] == rid && l["WorkflowID"] == wfID {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no activity log line with request id %s", rid)
}
