// Package api is orgaccounts' HTTP interface: Twilio's Organizations read
// API at its wire paths, and our lifecycle endpoints in the same style. It
// talks to domain ports and a workflow starter, never to the database.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// Workflows starts and inspects lifecycle workflows.
type Workflows interface {
	// RevokeInvitation ends a pending invitation (25019 when it is no
	// longer pending).
	RevokeInvitation(ctx context.Context, sid string, actor domain.Actor) (workflows.InvitationState, error)
	StartAccountRequest(ctx context.Context, kind string, in workflows.AccountRequestInput) (workflows.Started, error)
	// CancelAccountRequest returns 25019 when the request is no longer
	// pending.
	CancelAccountRequest(ctx context.Context, kind, sid string, actor domain.Actor) (workflows.RequestState, error)
	// StartCloseAccount starts (or finds) an account's closure.
	StartCloseAccount(ctx context.Context, in workflows.CloseAccountInput) (workflows.Started, error)
	// CloseAccountProgress returns 25101 when no closure is known.
	CloseAccountProgress(ctx context.Context, accountSid string) (workflows.ClosureProgress, workflows.Started, error)
	// ReopenAccount returns 25019 when the closure went too far.
	ReopenAccount(ctx context.Context, accountSid string, actor domain.Actor) (domain.Account, error)
	StartDomainVerification(ctx context.Context, in workflows.DomainVerificationInput) (workflows.Started, error)
	// CancelDomainVerification ends a domain's verification (no error
	// when it has ended already).
	CancelDomainVerification(ctx context.Context, domainSid string) error
	// StartEmail sends a notice with retries.
	StartEmail(ctx context.Context, orgSid, accountSid, requestID string, in activities.EmailInput) error
}

// Config holds the handler's dependencies.
type Config struct {
	// Services are the use cases every handler calls.
	Services     *lifecycle.Services
	Store        domain.Store
	Workflows    Workflows
	Clock        domain.Clock
	Logger       *slog.Logger
	BaseURL      string        // public base URL used in links
	TokenTTL     time.Duration // lifetime of bearer tokens
	MaxBodyBytes int64
	// Ready reports whether the service can take traffic (nil: always).
	Ready func(ctx context.Context) error
	// Metrics, when set, records every request and serves /metrics.
	Metrics *telemetry.Metrics
	// RequestTTL is how long an account's owner has to answer an import
	// or share request (a reminder goes half-way).
	RequestTTL time.Duration
	// Retention is how long a closed account is kept before its purge.
	Retention time.Duration
	// DomainTimings are the intervals of domain verification.
	DomainTimings workflows.DomainTimings
}

type server struct {
	services      *lifecycle.Services
	store         domain.Store
	workflows     Workflows
	clock         domain.Clock
	log           *slog.Logger
	baseURL       string
	tokenTTL      time.Duration
	ready         func(ctx context.Context) error
	metrics       *telemetry.Metrics
	tracer        trace.Tracer
	requestTTL    time.Duration
	retention     time.Duration
	domainTimings workflows.DomainTimings
}

func init() { gin.SetMode(gin.ReleaseMode) }

// NewHandler builds the HTTP handler.
func NewHandler(cfg Config) http.Handler {
	s := &server{
		services: cfg.Services, store: cfg.Store, workflows: cfg.Workflows, clock: cfg.Clock, log: cfg.Logger,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), tokenTTL: cfg.TokenTTL, ready: cfg.Ready,
		metrics: cfg.Metrics, tracer: otel.Tracer("orgaccounts/http"), requestTTL: cfg.RequestTTL, retention: cfg.Retention,
		domainTimings: cfg.DomainTimings,
	}
	if s.retention <= 0 {
		s.retention = domain.DefaultRetention
	}
	if s.requestTTL <= 0 {
		s.requestTTL = domain.DefaultRequestTTL
	}
	if s.clock == nil {
		s.clock = domain.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = time.Hour
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 10
	}

	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	_ = r.SetTrustedProxies(nil)
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, err any) {
		s.log.Error("panic in handler", "request_id", requestID(c), "panic", err)
		s.writeError(c, httpError(domain.EInternal, domain.CodeInternal, "internal error"))
	}))
	r.Use(requestIDMiddleware, s.trace, s.accessLog, s.errorWriter, queryCheck, bodyReader(cfg.MaxBodyBytes))
	r.NoRoute(func(c *gin.Context) {
		_ = c.Error(httpError(domain.ENotFound, 20404, "no such resource: %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		_ = c.Error(httpError(kindMethodNotAllowed, 20004, "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	r.GET("/healthz", func(c *gin.Context) { c.PureJSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.readyz)
	if s.metrics != nil {
		r.GET("/metrics", gin.WrapH(s.metrics.Handler()))
	}
	r.POST("/v1/token", s.token)
	r.POST("/v1/Accounts", s.signUp)
	registerDocs(r, s.baseURL)

	org := r.Group("/Organizations/:org", s.authenticate, s.orgScope, s.accountCredentialScope, s.idempotency)
	org.GET("", s.getOrganization)
	org.GET("/Accounts", s.listAccounts)
	org.POST("/Accounts", s.createAccount)
	org.GET("/Accounts/:account", s.getAccount)
	org.POST("/Accounts/:account", s.updateAccount)
	org.GET("/Accounts/:account/Creation", s.getCreation)
	org.GET("/RoleAssignments", s.listRoleAssignments)
	org.POST("/RoleAssignments", s.createRoleAssignment)
	org.DELETE("/RoleAssignments/:assignment", s.deleteRoleAssignment)
	org.GET("/Events", s.listEvents)
	org.POST("/Accounts/Imports", s.importAccount)
	org.DELETE("/Accounts/Imports/:request", s.cancelRequest(domain.RequestImport))
	org.POST("/Accounts/Shares", s.shareAccount)
	org.DELETE("/Accounts/Shares/:request", s.cancelRequest(domain.RequestShare))
	org.POST("/Accounts/:account/Relinquish", s.relinquish)
	org.GET("/PendingAccounts", s.listPendingAccounts)
	org.GET("/PendingAccounts/:request", s.getPendingAccount)
	s.registerPeople(org)
	org.GET("/Accounts/:account/Invitations", s.listInvitations)
	org.POST("/Accounts/:account/Invitations", s.invite)
	org.GET("/Accounts/:account/Invitations/:invitation", s.getInvitation)
	org.DELETE("/Accounts/:account/Invitations/:invitation", s.revokeInvitation)
	org.POST("/Accounts/:account/Invitations/:invitation/Resend", s.resendInvitation)
	s.registerClosure(org)
	s.registerDomains(org)

	// Confirmation pages, reached from emailed links without credentials.
	r.GET("/confirm/:token", s.showConfirm)
	r.POST("/confirm/:token", s.answerConfirm)
	r.POST("/confirm/:token/two-factor", s.enrolTwoFactor)

	scim := org.Group("/scim", func(c *gin.Context) { c.Set(ctxSCIM, true) })
	scim.GET("/Users", s.listSCIMUsers)
	scim.POST("/Users", s.createSCIMUser)
	scim.GET("/Users/:user", s.getSCIMUser)
	scim.PUT("/Users/:user", s.replaceSCIMUser)
	scim.PATCH("/Users/:user", s.patchSCIMUser)
	scim.DELETE("/Users/:user", s.deleteSCIMUser)
	return r
}

func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	if s.metrics != nil {
		s.metrics.ObserveHTTP(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	}
	s.log.InfoContext(c.Request.Context(), "http request", "request_id", requestID(c), "method", c.Request.Method,
		"route", c.FullPath(), "path", c.Request.URL.Path, "status", c.Writer.Status(),
		"duration_ms", time.Since(start).Milliseconds(), "client_ip", c.ClientIP())
}

func (s *server) readyz(c *gin.Context) {
	if s.ready != nil {
		if err := s.ready(c.Request.Context()); err != nil {
			c.PureJSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	c.PureJSON(http.StatusOK, gin.H{"status": "ready"})
}

// trace opens a span per request (a no-op unless tracing is configured);
// the workflow starts the request makes become its children.
func (s *server) trace(c *gin.Context) {
	ctx := otel.GetTextMapPropagator().Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
	ctx, span := s.tracer.Start(ctx, c.Request.Method+" "+c.FullPath(), trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", c.Request.Method), attribute.String("http.route", c.FullPath()),
			attribute.String("orgaccounts.request_id", requestID(c))))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	span.SetAttributes(attribute.Int("http.response.status_code", c.Writer.Status()))
	if c.Writer.Status() >= 500 {
		span.SetStatus(codes.Error, http.StatusText(c.Writer.Status()))
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
