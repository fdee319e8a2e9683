package workflows_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/account_request_*.json were recorded from a
// real server running the whole service: an import accepted through its
// link, an import cancelled, a share declined with the reminder's link, and
// a share that expired after its reminder; and an import cancelled,
// recorded after the request came to be recorded by a local activity (the
// local-steps version). A request waits up to 15 days
// for its owner, so runs started by older code must replay with the
// current code: a change that fails this test needs workflow.GetVersion,
// and these files stay.
func TestAccountRequestWorkflows_ReplayRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/account_request_*.json", 5, workflows.ImportAccountWorkflow, workflows.ShareAccountWorkflow)
}
