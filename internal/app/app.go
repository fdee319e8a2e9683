// Package app wires orgaccounts together: configuration, store, Temporal
// client, worker and HTTP server. The binary and the end-to-end tests both
// run it, so what is tested is what ships.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgaccounts/orgaccounts/api/signin"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/api/console"
	"github.com/orgaccounts/orgaccounts/internal/config"
	"github.com/orgaccounts/orgaccounts/internal/dnstxt"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/store"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
	"github.com/orgaccounts/orgaccounts/worker"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// Modes of Run.
const (
	ModeServe  = "serve"  // API and worker in one process
	ModeAPI    = "api"    // HTTP only
	ModeWorker = "worker" // Temporal worker only
)

// App is a running orgaccounts.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Temporal client.Client
	Clock    domain.Clock
	// Out receives the bootstrap banner (stdout in main).
	Out     io.Writer
	Metrics *telemetry.Metrics
	tracing telemetry.Tracing

	mu   sync.Mutex
	addr string
	up   chan struct{}
	// draining is set once shutdown starts: /readyz fails from then on.
	draining atomic.Bool
}

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// OpenStore opens and migrates the configured database.
func OpenStore(ctx context.Context, cfg config.Config, clock domain.Clock, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{DatabaseURL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Clock: clock})
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	for _, m := range applied {
		log.Info("applied migration", "migration", m, "dialect", st.Dialect())
	}
	return st, nil
}

// New opens the store (migrating it) and connects to Temporal.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	a := &App{Config: cfg, Log: log, Clock: domain.SystemClock{}, Out: os.Stdout, up: make(chan struct{}), Metrics: telemetry.NewMetrics()}
	var err error
	if a.tracing, err = telemetry.SetupTracing(ctx, cfg.OTLPEndpoint, cfg.ServiceName); err != nil {
		return nil, err
	}
	if a.Store, err = OpenStore(ctx, cfg, a.Clock, log); err != nil {
		return nil, err
	}
	a.Temporal, err = client.DialContext(ctx, client.Options{
		HostPort:           cfg.TemporalAddress,
		Namespace:          cfg.TemporalNamespace,
		Logger:             tlog.NewStructuredLogger(log.With("component", "temporal")),
		MetricsHandler:     a.Metrics.SDKHandler(),
		ContextPropagators: []workflow.ContextPropagator{telemetry.RequestIDPropagator{}},
		Interceptors:       a.tracing.Interceptors,
	})
	if err != nil {
		_ = a.Store.Close()
		return nil, fmt.Errorf("connecting to Temporal at %s: %w", cfg.TemporalAddress, err)
	}
	a.statusGauge("orgaccounts_accounts", "Accounts by status (pending_closure among them).", a.Store.CountAccountsByStatus,
		domain.AccountProvisioning, domain.AccountActive, domain.AccountSuspended, domain.AccountPendingClosure, domain.AccountClosed)
	a.statusGauge("orgaccounts_invitations", "Invitations by status (pending: waiting for an answer).", a.Store.CountInvitationsByStatus,
		domain.InvitationPending, domain.InvitationAccepted, domain.InvitationDeclined, domain.InvitationRevoked, domain.InvitationExpired)
	a.statusGauge("orgaccounts_domains", "Domains by status (lapsed: verified, but the TXT record vanished; removal follows the grace period).",
		a.Store.CountDomainsByStatus, domain.DomainPending, domain.DomainVerified, domain.DomainLapsed, domain.DomainFailed, domain.DomainRemoved)
	for _, kind := range []string{domain.RequestImport, domain.RequestShare} {
		a.statusGauge("orgaccounts_"+kind+"_requests", "Account "+kind+" requests by status (pending: waiting for the owner's answer).",
			requestCounter(a.Store, kind),
			domain.RequestPending, domain.RequestAccepted, domain.RequestDeclined, domain.RequestCancelled, domain.RequestExpired)
	}
	return a, nil
}

// statusGauge exposes name{status} read from count at each scrape, with a
// zero for every known status that has no rows.
func (a *App) statusGauge(name, help string, count func(context.Context) (map[string]int64, error), statuses ...string) {
	a.Metrics.RegisterGauges(name, help, "status", func(ctx context.Context) (map[string]float64, error) {
		counts, err := count(ctx)
		out := map[string]float64{}
		for _, st := range statuses {
			out[st] = float64(counts[st])
		}
		return out, err
	})
}

// requestCounter counts the account requests of one kind by status.
func requestCounter(st domain.Store, kind string) func(context.Context) (map[string]int64, error) {
	return func(ctx context.Context) (map[string]int64, error) {
		counts, err := st.CountAccountRequests(ctx)
		out := map[string]int64{}
		for k, n := range counts {
			if k[0] == kind {
				out[k[1]] = n
			}
		}
		return out, err
	}
}

// Close releases the connections and flushes traces.
func (a *App) Close() {
	a.Temporal.Close()
	_ = a.Store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.tracing.Shutdown(ctx)
}

// Addr is the address the HTTP server listens on, once it does.
func (a *App) Addr() string {
	<-a.up
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addr
}

// Engine is the workflow engine the services start lifecycles on.
func (a *App) Engine() workflows.Client {
	return workflows.Client{
		Temporal: a.Temporal, TaskQueue: a.Config.TaskQueue,
		InvitationTTL: a.Config.InvitationTTL, ResendInterval: a.Config.ResendInterval,
		DomainTimings: workflows.DomainTimings{
			CheckInterval: a.Config.DomainCheck, Window: a.Config.DomainWindow,
			RecheckInterval: a.Config.DomainRecheck, GracePeriod: a.Config.DomainGrace,
		},
	}
}

// Services builds the use cases on the store and the engine.
func (a *App) Services() *lifecycle.Services {
	return lifecycle.New(lifecycle.Deps{
		Store: a.Store, Engine: a.Engine(), Clock: a.Clock, Log: a.Log, TokenTTL: a.Config.TokenTTL,
		RequestTTL: a.Config.RequestTTL, Retention: a.Config.ClosureRetention, SignUpsPerHour: a.Config.SignUpsPerHour,
		BaseURL:        a.Config.PublicBaseURL,
		SignInFailures: a.Config.SignInFailures, SignInWindow: a.Config.SignInLockout,
	})
}

// Handler builds the HTTP handler.
func (a *App) Handler() http.Handler {
	return api.NewHandler(api.Config{
		Services:     a.Services(),
		Idempotency:  a.Store,
		Clock:        a.Clock,
		Logger:       a.Log,
		BaseURL:      a.Config.PublicBaseURL,
		MaxBodyBytes: a.Config.MaxBodyBytes,
		Ready:        a.ready,
		Metrics:      a.Metrics,
		Sessions: signin.SessionConfig{
			Store: a.Store.Sessions(), IdleTimeout: a.Config.SessionIdleTimeout, Lifetime: a.Config.SessionLifetime,
			Secure: strings.HasPrefix(a.Config.PublicBaseURL, "https://"),
		},
		Console: console.Options{
			TemporalUI: a.Config.TemporalUIURL, Namespace: a.Config.TemporalNamespace, ResendInterval: a.Config.ResendInterval,
		},
	})
}

func (a *App) ready(ctx context.Context) error {
	if a.draining.Load() {
		return errors.New("shutting down")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := a.Store.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if pending, err := a.Store.PendingMigrations(ctx); err != nil {
		return err
	} else if len(pending) > 0 {
		return fmt.Errorf("migrations not applied: %v", pending)
	}
	if _, err := a.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal unreachable: %w", err)
	}
	return nil
}

// Run runs the given mode until ctx ends, then shuts down gracefully:
// the listener closes, requests in flight finish, the worker stops.
func (a *App) Run(ctx context.Context, mode string) error {
	if mode == ModeServe || mode == ModeAPI {
		b, created, err := Bootstrap(ctx, a.Store, a.Clock, a.Config.BootstrapOrgName, a.Config.BootstrapOwnerEmail, false)
		if err != nil {
			return fmt.Errorf("bootstrap: %w", err)
		}
		if created {
			if b, err = b.WithPasswordLink(ctx, a.Store, a.Clock, a.Config.PublicBaseURL); err != nil {
				return fmt.Errorf("bootstrap: %w", err)
			}
			b.Print(a.Out, a.Config.PublicBaseURL)
		}
	}
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	if a.Config.DebugAddr != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.serveDebug(runCtx, a.Config.DebugAddr); err != nil {
				a.Log.Warn("debug listener stopped", "error", err)
			}
		}()
	}
	if mode == ModeServe || mode == ModeWorker {
		mailer, err := email.New(a.Config.SMTPURL, a.Config.MailFrom, a.Log)
		if err != nil {
			return err
		}
		acts := &activities.Activities{Store: a.Store, Clock: a.Clock, Mailer: mailer, BaseURL: a.Config.PublicBaseURL,
			Requests: workflows.Client{Temporal: a.Temporal, TaskQueue: a.Config.TaskQueue}, ReleasePacing: a.Config.ReleasePacing}
		if r, err := dnstxt.New(a.Config.DNSResolver); err != nil {
			// Look-ups then fail: pending domains fail in the end, verified
			// ones stay as they are.
			a.Log.Warn("no DNS resolver: domains cannot be verified", "error", err)
		} else {
			acts.Resolver = r
		}
		worker.SetStickyCacheSize(a.Config.StickyCacheSize)
		w := worker.New(a.Temporal, a.Config.TaskQueue, acts, a.Config.ShutdownTimeout)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.Run(runCtx, w); err != nil {
				errc <- err
				stop()
			}
		}()
		a.Log.Info("worker started", "task_queue", a.Config.TaskQueue, "temporal", a.Config.TemporalAddress)
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.resumeCreations(runCtx)
		}()
	}
	if mode == ModeServe || mode == ModeAPI {
		ln, err := net.Listen("tcp", a.Config.HTTPAddr)
		if err != nil {
			stop()
			wg.Wait()
			return fmt.Errorf("listening on %s: %w", a.Config.HTTPAddr, err)
		}
		a.mu.Lock()
		a.addr = ln.Addr().String()
		a.mu.Unlock()
		srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				stop()
			}
		}()
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-runCtx.Done()
			// Drain: readiness fails first, so load balancers stop sending
			// requests, while the listener still serves the ones that come.
			a.draining.Store(true)
			if d := a.Config.ShutdownDrain; d > 0 {
				// Every answer from now on closes its connection, so none
				// is left idle for a client to reuse as the listener
				// closes; a retry meanwhile gets a fresh connection.
				srv.SetKeepAlivesEnabled(false)
				a.Log.Info("draining before the listener closes", "drain", d.String())
				drain := time.NewTimer(d)
				<-drain.C
			}
			sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				a.Log.Warn("HTTP shutdown did not finish in time", "error", err)
			}
		}()
		a.Log.Info("API listening", "addr", a.addr, "public_base_url", a.Config.PublicBaseURL)
	}
	close(a.up)
	<-runCtx.Done()
	wg.Wait()
	a.Log.Info("stopped")
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// How often the worker looks for account creations persisted without a
// confirmed workflow start, and how old one must be to be started again
// (a start the API is still making is not one).
const (
	creationRelayInterval = 15 * time.Second
	creationRelayAge      = 30 * time.Second
)

// resumeCreations starts, until ctx ends, the workflow of every account
// creation the API persisted but could not start (it stopped between its
// commit and the start, or the workflow service was down): no account is
// left provisioning for want of its workflow.
func (a *App) resumeCreations(ctx context.Context) {
	accounts := a.Services().Accounts
	tick := time.NewTicker(creationRelayInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := accounts.ResumeCreations(ctx, a.Clock.Now().Add(-creationRelayAge), 100)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Warn("starting pending account creations", "error", err, "started", n)
		case n > 0:
			a.Log.Info("pending account creations started", "started", n)
		}
	}
}
