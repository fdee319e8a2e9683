package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/close_account_*.json were recorded from a real
// server running the whole service: a closure of an account with a
// subaccount, two numbers, a short code, a charge and a pending invitation,
// purged after its retention window; and a closure reopened during the
// window. A closure waits out a 30-day window, so runs started by older
// code must replay with the current code: a change that fails this test
// needs workflow.GetVersion, and these files stay.
func TestCloseAccountWorkflow_ReplaysRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/close_account_*.json")
	require.NoError(t, err)
	require.Len(t, files, 2)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := os.Open(name)
			require.NoError(t, err)
			defer f.Close()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, h.Events)
			replayer := sdkworker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.CloseAccountWorkflow)
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}
