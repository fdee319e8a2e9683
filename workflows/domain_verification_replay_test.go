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

// The histories in testdata were recorded from a real server: four runs of
// one DomainVerificationWorkflow (checks while pending and continue-as-new;
// verify, lapse and restore; daily re-checks; cancellation by a delete).
// Verifications run for as long as their domain exists, so runs recorded
// with older code must replay with the current code: a change that fails
// this test needs workflow.GetVersion, and these files stay.
func TestDomainVerificationWorkflow_ReplaysRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/domain_verification_run*.json", 4, workflows.DomainVerificationWorkflow)
}

// replayRecorded replays each of the want histories matching pattern, all
// recorded from a real server, against the current code of wfs.
func replayRecorded(t *testing.T, pattern string, want int, wfs ...any) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.Len(t, files, want)
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			f, err := os.Open(name)
			require.NoError(t, err)
			defer func() { _ = f.Close() }()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			require.NoError(t, err)
			require.NotEmpty(t, h.Events)
			replayer := sdkworker.NewWorkflowReplayer()
			for _, wf := range wfs {
				replayer.RegisterWorkflow(wf)
			}
			require.NoError(t, replayer.ReplayWorkflowHistory(nil, h))
		})
	}
}
