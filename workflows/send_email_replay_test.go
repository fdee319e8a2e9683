package workflows_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/send_email_*.json were recorded from a real
// server running the whole service: the two notices of an ownership
// transfer (to the former and to the new owner) and the notice of a
// relinquished share. A notice retries until the email is sent, so runs
// started by older code must replay with the current code: a change that
// fails this test needs workflow.GetVersion, and these files stay.
func TestSendEmailWorkflow_ReplaysRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/send_email_*.json", 3, workflows.SendEmailWorkflow)
}
