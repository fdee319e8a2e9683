package app_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

var temporal *testenv.Temporal

func TestMain(m *testing.M) {
	t, err := testenv.StartTemporal()
	if err != nil {
		if testenv.InCI() {
			fmt.Fprintln(os.Stderr, "FAIL: a Temporal server is required under CI=true:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIPPED: end-to-end tests need a Temporal dev server:", err)
		os.Exit(0)
	}
	temporal = t
	code := m.Run()
	t.Stop()
	os.Exit(code)
}
