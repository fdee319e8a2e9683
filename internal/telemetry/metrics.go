// Package telemetry holds what operators watch: Prometheus metrics (ours
// and the Temporal SDK's), the request id that ties HTTP log lines to
// workflows and activities, and optional OpenTelemetry tracing.
package telemetry

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	sdkmetrics "go.temporal.io/sdk/client"
)

// Metrics is the process's metric registry.
type Metrics struct {
	Registry        *prometheus.Registry
	HTTPRequests    *prometheus.CounterVec
	HTTPDuration    *prometheus.HistogramVec
	WorkflowStarts  *prometheus.CounterVec
	WorkflowOutcome *prometheus.CounterVec
}

// NewMetrics registers our metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgaccounts_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orgaccounts_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		WorkflowStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgaccounts_workflow_starts_total", Help: "Workflows started by the API, by workflow type.",
		}, []string{"workflow_type"}),
		WorkflowOutcome: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orgaccounts_workflow_outcomes_total", Help: "Workflows finished on this worker, by workflow type and outcome (completed, failed, canceled).",
		}, []string{"workflow_type", "outcome"}),
	}
	m.Registry.MustRegister(m.HTTPRequests, m.HTTPDuration, m.WorkflowStarts, m.WorkflowOutcome,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	method = MethodLabel(method)
	m.HTTPRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.HTTPDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// MethodLabel bounds the HTTP method a client sent to the methods HTTP
// defines: any other is "OTHER", so made-up methods cannot add series.
func MethodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// GaugeSource reports counts that are read at scrape time.
type GaugeSource func(ctx context.Context) (map[string]float64, error)

// RegisterGauges exposes name{label=key} gauges read from src at each
// scrape (e.g. accounts by status).
func (m *Metrics) RegisterGauges(name, help, label string, src GaugeSource) {
	m.Registry.MustRegister(&gaugeCollector{desc: prometheus.NewDesc(name, help, []string{label}, nil), src: src})
}

type gaugeCollector struct {
	desc *prometheus.Desc
	src  GaugeSource
}

func (g *gaugeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	vals, err := g.src(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, err)
		return
	}
	for k, v := range vals {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, k)
	}
}

// SDKHandler exports the Temporal SDK's own metrics (worker polls, task
// latencies, workflow completions…) into the registry. Prometheus wants
// one label set per metric name: the first use of a name fixes it; later
// uses fill missing labels with "" and drop unknown ones.
func (m *Metrics) SDKHandler() sdkmetrics.MetricsHandler {
	return &sdkHandler{reg: &sdkRegistry{reg: m.Registry, vecs: map[string]*sdkVec{}}, outcome: m.WorkflowOutcome}
}

type sdkRegistry struct {
	reg  *prometheus.Registry
	mu   sync.Mutex
	vecs map[string]*sdkVec
}

type sdkVec struct {
	labels    []string
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

type sdkHandler struct {
	reg     *sdkRegistry
	tags    map[string]string
	outcome *prometheus.CounterVec
}

func (h *sdkHandler) WithTags(tags map[string]string) sdkmetrics.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return &sdkHandler{reg: h.reg, tags: merged, outcome: h.outcome}
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func (h *sdkHandler) vec(name, kind string) (*sdkVec, []string) {
	r := h.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	key := kind + ":" + name
	v, ok := r.vecs[key]
	if !ok {
		labels := make([]string, 0, len(h.tags))
		for k := range h.tags {
			labels = append(labels, sanitize(k))
		}
		sort.Strings(labels)
		v = &sdkVec{labels: labels}
		metric := sanitize(name)
		switch kind {
		case "counter":
			v.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: metric + "_total", Help: "Temporal SDK counter " + name + "."}, labels)
			r.reg.MustRegister(v.counter)
		case "gauge":
			v.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metric, Help: "Temporal SDK gauge " + name + "."}, labels)
			r.reg.MustRegister(v.gauge)
		default:
			v.histogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: metric + "_seconds", Help: "Temporal SDK timer " + name + "."}, labels)
			r.reg.MustRegister(v.histogram)
		}
		r.vecs[key] = v
	}
	values := make([]string, len(v.labels))
	for i, l := range v.labels {
		for k, val := range h.tags {
			if sanitize(k) == l {
				values[i] = val
			}
		}
	}
	return v, values
}

func (h *sdkHandler) Counter(name string) sdkmetrics.MetricsCounter {
	v, values := h.vec(name, "counter")
	c := v.counter.WithLabelValues(values...)
	var outcome prometheus.Counter
	switch name {
	case "temporal_workflow_completed", "temporal_workflow_failed", "temporal_workflow_canceled":
		outcome = h.outcome.WithLabelValues(h.tags["workflow_type"], strings.TrimPrefix(name, "temporal_workflow_"))
	}
	return counterFunc(func(d int64) {
		c.Add(float64(d))
		if outcome != nil {
			outcome.Add(float64(d))
		}
	})
}

func (h *sdkHandler) Gauge(name string) sdkmetrics.MetricsGauge {
	v, values := h.vec(name, "gauge")
	g := v.gauge.WithLabelValues(values...)
	return gaugeFunc(g.Set)
}

func (h *sdkHandler) Timer(name string) sdkmetrics.MetricsTimer {
	v, values := h.vec(name, "timer")
	o := v.histogram.WithLabelValues(values...)
	return timerFunc(func(d time.Duration) { o.Observe(d.Seconds()) })
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }
