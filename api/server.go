// Package api is orgaccounts' HTTP interface: Twilio's Organizations read
// API at its wire paths, and our lifecycle endpoints in the same style. It
// wires the audiences (api/jsonapi, api/scim, the confirmation pages) behind
// one middleware chain; every handler calls a lifecycle service.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/api/console"
	"github.com/orgaccounts/orgaccounts/api/pages"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/jsonapi"
	"github.com/orgaccounts/orgaccounts/api/scim"
	"github.com/orgaccounts/orgaccounts/api/signin"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
)

// Config holds the handler's dependencies.
type Config struct {
	// Services are the use cases every handler calls.
	Services *lifecycle.Services
	// Idempotency keeps the answers of keyed POSTs.
	Idempotency domain.IdempotencyStore
	Clock       domain.Clock
	Logger      *slog.Logger
	BaseURL     string // public base URL used in links
	// MaxBodyBytes is the largest request body accepted (larger: 413).
	MaxBodyBytes int64
	// Ready reports whether the service can take traffic (nil: always).
	Ready func(ctx context.Context) error
	// Metrics, when set, records every request and serves /metrics.
	Metrics *telemetry.Metrics
	// Sessions configures the console's sign-in sessions.
	Sessions signin.SessionConfig
	// Console configures the Admin Center's pages.
	Console console.Options
}

type server struct {
	services *lifecycle.Services
	store    domain.IdempotencyStore
	clock    domain.Clock
	log      *slog.Logger
	baseURL  string
	ready    func(ctx context.Context) error
	metrics  *telemetry.Metrics
	tracer   trace.Tracer
	console  console.Options
}

func init() { gin.SetMode(gin.ReleaseMode) }

// NewHandler builds the HTTP handler.
func NewHandler(cfg Config) http.Handler {
	s := &server{
		services: cfg.Services, store: cfg.Idempotency, clock: cfg.Clock, log: cfg.Logger,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), ready: cfg.Ready,
		metrics: cfg.Metrics, tracer: otel.Tracer("orgaccounts/http"), console: cfg.Console,
	}
	if s.clock == nil {
		s.clock = domain.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}

	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	_ = r.SetTrustedProxies(nil)
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic in handler", "request_id", edge.RequestID(c), "panic", err)
		edge.WriteError(c, s.log, edge.Errorf(domain.EInternal, domain.CodeInternal, "internal error"))
	}))
	r.Use(requestIDMiddleware, s.trace, s.accessLog, edge.ErrorWriter(s.log), checkInput, bodyReader(cfg.MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) {
		_ = c.Error(edge.Errorf(domain.ENotFound, 20404, "no such resource: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		_ = c.Error(edge.Errorf(edge.KindMethodNotAllowed, 20004, "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	r.GET("/healthz", func(c *gin.Context) { c.PureJSON(http.StatusOK, wire.Health{Status: wire.HealthStatusOk}) })
	r.GET("/readyz", s.readyz)
	if s.metrics != nil {
		r.GET("/metrics", gin.WrapH(s.metrics.Handler()))
	}
	json := jsonapi.New(s.services, s.baseURL, s.log, s.metrics)
	json.RegisterPublic(r)
	registerDocs(r, s.baseURL)

	org := r.Group("/Organizations/:org", s.authenticate, s.orgScope, s.accountCredentialScope, s.idempotency)
	json.Register(org)

	// Confirmation pages, reached from emailed links without credentials.
	pages.New(s.services, s.baseURL).Register(r)

	scim.New(s.services, s.baseURL).Register(org.Group("/scim", edge.MarkSCIM))

	// The console, for people: sign-in pages and the Admin Center
	// behind a session. Sessions are loaded and saved around /console
	// requests only.
	sessions := signin.NewSessionManager(cfg.Sessions)
	sessions.ErrorFunc = signin.ErrorFunc(s.log)
	people := signin.New(s.services, sessions, s.log)
	consoleGroup := r.Group(console.Prefix, edge.BrowserPages())
	signedIn := consoleGroup.Group("", people.RequireSession)
	people.Register(consoleGroup, signedIn)
	s.console.BaseURL, s.console.Logger = s.baseURL, s.log
	adminCenter := console.New(s.services, s.console)
	adminCenter.RegisterAssets(r)
	adminCenter.Register(signedIn)
	return handler{engine: r, withSessions: sessions.LoadAndSave(r)}
}

// handler serves the router, loading and saving console sessions around
// /console requests only.
type handler struct {
	engine       *gin.Engine
	withSessions http.Handler
}

func (h handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path == console.Prefix || strings.HasPrefix(req.URL.Path, console.Prefix+"/") {
		h.withSessions.ServeHTTP(w, req)
		return
	}
	h.engine.ServeHTTP(w, req)
}

// Routes lists the routes the handler serves.
func (h handler) Routes() gin.RoutesInfo { return h.engine.Routes() }

func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if s.metrics != nil {
		s.metrics.ObserveHTTP(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
	s.log.InfoContext(c.Request.Context(), "http request", "request_id", edge.RequestID(c), "method", c.Request.Method,
		"route", c.FullPath(), "path", edge.LoggedPath(c), "status", c.Writer.Status(),
		"duration_ms", time.Since(start).Milliseconds(), "client_ip", c.ClientIP())
}

func (s *server) readyz(c *gin.Context) {
	if s.ready != nil {
		if err := s.ready(c.Request.Context()); err != nil {
			c.PureJSON(http.StatusServiceUnavailable, wire.NotReady{Status: wire.NotReadyStatusUnavailable, Reason: err.Error()})
			return
		}
	}
	c.PureJSON(http.StatusOK, wire.Ready{Status: wire.ReadyStatusReady})
}

// trace opens a span per request (a no-op unless tracing is configured);
// the workflow starts the request makes become its children.
func (s *server) trace(c *gin.Context) {
	ctx := otel.GetTextMapPropagator().Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	method := telemetry.MethodLabel(c.Request.Method)
	ctx, span := s.tracer.Start(ctx, method+" "+c.FullPath(), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("http.route", c.FullPath()),
			attribute.String("orgaccounts.request_id", edge.RequestID(c))))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	span.SetAttributes(attribute.Int("http.response.status_code", c.Writer.Status()))
	if c.Writer.Status() >= 500 {
		span.SetStatus(codes.Error, http.StatusText(c.Writer.Status()))
	}
}
