package app_test

import (
	"flag"
	"os"
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// temporal is the package's one Temporal dev server, shared by every test
// (each app runs on its own task queue). Under -short there is none, and
// every test here is skipped: they all run the whole service.
var temporal *testenv.Temporal

func TestMain(m *testing.M) {
	flag.Parse()
	temporal = testenv.StartTemporal()
	code := m.Run()
	temporal.Stop()
	os.Exit(code)
}
