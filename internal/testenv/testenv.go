// Package testenv gives tests the real components: a fresh PostgreSQL
// database, a Temporal dev server, Mailpit, Chromium, and the whole app
// running in-process with its bootstrap organization (Org). Nothing here is
// a mock.
//
// Under `go test -short` (make test-short) every helper that brings up an
// external component skips its test instead, so the short tier needs
// nothing but Go. `make test` never uses -short, and under CI=true a
// component that cannot be had fails the test rather than skipping it.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating test databases
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// DefaultPostgresURL is the server tests use unless TEST_DATABASE_URL says
// otherwise.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// InCI reports whether nothing may be skipped.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipShort skips the test under -short, the tier that runs without
// external components; what names the component it would need.
func SkipShort(tb testing.TB, what string) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("SKIPPED under -short: needs %s (make test runs it)", what)
	}
}

// PostgresURL is the URL of the server tests create their databases on.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// MustPostgres creates a fresh database for the test and returns its URL;
// the database is dropped when the test ends. Under -short, or loudly
// without a reachable server, the test is skipped (without one under
// CI=true it fails).
func MustPostgres(tb testing.TB) string {
	tb.Helper()
	SkipShort(tb, "PostgreSQL")
	base := PostgresURL()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if admin != nil {
			_ = admin.Close()
		}
		if InCI() {
			tb.Fatalf("PostgreSQL at %s is required under CI=true: %v", redact(base), err)
		}
		tb.Skipf("SKIPPED: no PostgreSQL at %s (%v); set TEST_DATABASE_URL or run `make test`, which starts a throwaway cluster", redact(base), err)
	}
	name := "oa_test_" + randomHex(8)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		tb.Fatalf("creating database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RepoRoot is the directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// TemporalCLIVersion is the CLI whose dev server the tests and `make run`
// use.
const TemporalCLIVersion = "v1.5.1"

// TemporalCLI returns ./bin/temporal, building it from the Go module proxy
// when missing.
func TemporalCLI() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "temporal")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "install", "github.com/temporalio/cli/cmd/temporal@"+TemporalCLIVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(root, "bin"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the Temporal CLI: %w", err)
	}
	return bin, nil
}

// SearchAttributeArgs registers our custom search attributes on a dev
// server.
func SearchAttributeArgs() []string {
	var args []string
	for _, k := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", k.GetName()+"=Keyword")
	}
	return args
}

// Temporal is the Temporal dev server of a test package: TestMain starts it
// with StartTemporal and stops it, each test asks for it with Require (MustApp
// and Client do).
type Temporal struct {
	Address string
	server  *testsuite.DevServer
	// missing says why there is no server: tests that need one skip, or
	// fail under CI=true when it could not start.
	missing error
	short   bool
}

// StartTemporal starts a dev server on a free port from ./bin/temporal, or
// uses TEMPORAL_ADDRESS when set. Call it from TestMain, after flag.Parse,
// and Stop it after m.Run. It always returns a Temporal: under -short it
// starts nothing, and when the server cannot start the error is kept for
// Require to report in each test (printed once here too).
func StartTemporal() *Temporal {
	if testing.Short() {
		return &Temporal{short: true, missing: errors.New("not started under -short")}
	}
	if addr := os.Getenv("TEMPORAL_ADDRESS"); addr != "" {
		return &Temporal{Address: addr}
	}
	t, err := startDevServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv: no Temporal dev server:", err)
		return &Temporal{missing: err}
	}
	return t
}

func startDevServer() (*Temporal, error) {
	bin, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: &client.Options{HostPort: addr, Namespace: "default"},
		LogLevel:      "error",
		ExtraArgs:     SearchAttributeArgs(),
		Stdout:        os.Stderr,
		Stderr:        os.Stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("starting the Temporal dev server: %w", err)
	}
	return &Temporal{Address: addr, server: srv}, nil
}

// Require skips the test when there is no server (under -short, or when it
// could not start outside CI) and fails it under CI=true.
func (t *Temporal) Require(tb testing.TB) {
	tb.Helper()
	switch {
	case t == nil:
		tb.Fatal("testenv: no Temporal: TestMain must call StartTemporal")
	case t.missing == nil:
	case t.short:
		SkipShort(tb, "a Temporal dev server")
	case InCI():
		tb.Fatalf("a Temporal server is required under CI=true: %v", t.missing)
	default:
		tb.Skipf("SKIPPED: no Temporal dev server: %v", t.missing)
	}
}

// Stop stops a dev server this package started.
func (t *Temporal) Stop() {
	if t != nil && t.server != nil {
		_ = t.server.Stop()
	}
}

// Client dials the server.
func (t *Temporal) Client(tb testing.TB) client.Client {
	tb.Helper()
	t.Require(tb)
	c, err := client.Dial(client.Options{HostPort: t.Address, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		tb.Fatalf("dialing Temporal at %s: %v", t.Address, err)
	}
	tb.Cleanup(c.Close)
	return c
}

// FreePort asks the kernel for a free TCP port on loopback.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// RandomName returns prefix plus random hex, for task queues and the like.
func RandomName(prefix string) string { return prefix + "-" + randomHex(6) }

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(msg string, kv ...any) {
	if !strings.Contains(msg, "context canceled") {
		fmt.Fprintln(os.Stderr, append([]any{"temporal client:", msg}, kv...)...)
	}
}
