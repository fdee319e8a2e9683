package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/app"
	"github.com/orgaccounts/orgaccounts/internal/config"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// RunningApp is the whole service running in-process on a free port.
type RunningApp struct {
	*app.App
	BaseURL string
	Boot    app.Bootstrapped
	// Stop starts the graceful shutdown, as SIGTERM does in main; the
	// test's cleanup waits for it to end.
	Stop func()
}

// AppOptions tweak MustApp.
type AppOptions struct {
	// DatabaseURL: a PostgreSQL URL; empty means SQLite in a temp dir.
	DatabaseURL string
	Env         map[string]string
	// Logs, when set, receives the app's JSON log lines.
	Logs io.Writer
	// Host names the app in its public base URL (it listens on 127.0.0.1
	// whatever this says); empty means 127.0.0.1. Passkeys need a domain
	// name: "localhost".
	Host string
}

// MustApp starts orgaccounts (API and worker) against the given database
// and Temporal server, bootstraps its first organization, and stops it
// when the test ends. Without a Temporal server (under -short, say) the
// test is skipped, as Temporal.Require says.
func MustApp(tb testing.TB, t *Temporal, opts AppOptions) *RunningApp {
	tb.Helper()
	t.Require(tb)
	env := map[string]string{
		"DATABASE_URL":     opts.DatabaseURL,
		"DATA_DIR":         tb.TempDir(),
		"TEMPORAL_ADDRESS": t.Address,
		"TASK_QUEUE":       RandomName("orgaccounts-test"),
		"LOG_LEVEL":        "warn",
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		tb.Fatal(err)
	}
	logOut := io.Discard
	if os.Getenv("TEST_LOGS") != "" {
		logOut = os.Stderr
	}
	if opts.Logs != nil {
		logOut = opts.Logs
	}
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		cancel()
		tb.Fatalf("starting the app: %v", err)
	}
	boot, _, err := app.Bootstrap(ctx, a.Store, domain.SystemClock{}, cfg.BootstrapOrgName, cfg.BootstrapOwnerEmail, false)
	if err != nil {
		cancel()
		a.Close()
		tb.Fatalf("bootstrap: %v", err)
	}
	done, err := serve(ctx, a, opts.Host)
	if err != nil {
		cancel()
		a.Close()
		tb.Fatalf("starting the app: %v", err)
	}
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("app stopped with an error: %v", err)
			}
		case <-time.After(30 * time.Second):
			tb.Errorf("app did not stop within 30s")
		}
		a.Close()
	})
	return &RunningApp{App: a, BaseURL: a.Config.PublicBaseURL, Boot: boot, Stop: cancel}
}

// serve runs a on a free loopback port and returns once it listens; done
// receives what Run returns. A free port is released before the app binds
// it, so another process (or test) may take it first: the listen is then
// tried again on another port.
func serve(ctx context.Context, a *app.App, host string) (<-chan error, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	done := make(chan error, 1)
	for attempt := 1; ; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		a.Config.HTTPAddr = fmt.Sprintf("127.0.0.1:%d", port)
		a.Config.PublicBaseURL = fmt.Sprintf("http://%s:%d", host, port)
		go func() { done <- a.Run(ctx, app.ModeServe) }()
		up := make(chan struct{})
		go func() { a.Addr(); close(up) }() // Addr returns once it listens
		select {
		case <-up:
			return done, nil
		case err := <-done:
			if errors.Is(err, syscall.EADDRINUSE) && attempt < 5 {
				continue
			}
			if err == nil {
				err = errors.New("stopped before it listened")
			}
			return nil, err
		}
	}
}
