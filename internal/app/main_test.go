package app_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// temporal is the package's one Temporal dev server, shared by every test
// (each app runs on its own task queue). Under -short there is none, and
// every test here is skipped: they all run the whole service.
//
// Tests that start their own app on a fresh database call t.Parallel. The
// others set process-wide state (the OpenTelemetry tracer provider), stop
// or kill something under a running service, or hold a wall-clock window
// that parallel load could miss; each says which. Go runs the serial ones
// first, then the parallel ones, -parallel at a time (make test: 4).
var temporal *testenv.Temporal

func TestMain(m *testing.M) {
	flag.Parse()
	temporal = testenv.StartTemporal()
	code := m.Run()
	temporal.Stop()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binDir holds the binary buildBinary built, if it did.
var binDir string

// buildBinary builds orgaccounts once per test run, for the tests that run
// it as a process; TestMain removes it.
var buildBinary = sync.OnceValues(func() (string, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "orgaccounts-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "orgaccounts")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/orgaccounts")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})
