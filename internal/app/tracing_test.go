package app_test

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// otlpReceiver is a minimal OTLP/HTTP trace collector.
type otlpReceiver struct {
	mu    sync.Mutex
	spans map[string][]string // trace id -> span names
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(b, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				id := hex.EncodeToString(sp.GetTraceId())
				o.spans[id] = append(o.spans[id], sp.GetName())
			}
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// traceWith returns the span names of the trace holding a span named name.
func (o *otlpReceiver) traceWith(name string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, names := range o.spans {
		for _, n := range names {
			if n == name {
				return append([]string(nil), names...)
			}
		}
	}
	return nil
}

// TestTracingSpansRequestWorkflowAndActivities runs serially: tracing sets
// the process-wide OpenTelemetry tracer provider, so the spans of apps
// running alongside would land in this collector.
func TestTracingSpansRequestWorkflowAndActivities(t *testing.T) {
	recv := &otlpReceiver{spans: map[string][]string{}}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

	e := newAppEnv(t, testenv.AppOptions{DatabaseURL: testenv.MustPostgres(t), Env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}})
	e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Traced"})

	want := []string{"StartWorkflow:CreateAccountWorkflow", "RunWorkflow:CreateAccountWorkflow", "RunActivity:ActivateAccount"}
	var got []string
	// Spans leave in batches every few seconds.
	require.Eventually(t, func() bool {
		got = recv.traceWith("POST /Organizations/:org/Accounts")
		for _, w := range want {
			if !contains(got, w) {
				return false
			}
		}
		return true
	}, 30*time.Second, 200*time.Millisecond, "the request's trace lacks workflow or activity spans")
	t.Logf("the request's trace: %v", got)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
