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

// The histories in testdata/account_request_*.json were recorded from a
// real server running the whole service: an import accepted through its
// link, an import cancelled, a share declined with the reminder's link, and
// a share that expired after its reminder. A request waits up to 15 days
// for its owner, so runs started by older code must replay with the
// current code: a change that fails this test needs workflow.GetVersion,
// and these files stay.
func TestAccountRequestWorkflows_ReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob("testdata/account_request_*.json")
	require.NoError(t, err)
	require.Len(t, files, 4)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := os.Open(name)
			require.NoError(t, err)
			defer f.Close()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, h.Events)
			replayer := sdkworker.NewWorkflowReplayer()
			replayer.RegisterWorkflow(workflows.ImportAccountWorkflow)
			replayer.RegisterWorkflow(workflows.ShareAccountWorkflow)
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}
