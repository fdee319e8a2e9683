package workflows_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/close_account_*.json were recorded from a real
// server running the whole service: a closure of an account with a
// subaccount, two numbers, a short code, a charge and a pending invitation,
// purged after its retention window; a closure reopened during the
// window; and, recorded after the local-steps version (steps on the
// database alone as local activities, releases and charge stops in
// heartbeating batches), a closure like the first, purged after a short
// retention; and, recorded after the subaccount-outcome version (a
// subaccount's closure waits for its parent's outcome), a closure of an
// account with a subaccount reopened during the window; and, recorded after
// the charges-and-numbers-together version (charges stopped and numbers
// released side by side), a closure of an account with two numbers, a
// short code and a charge, purged after a short retention; and, recorded
// after the closure-shape version (one version marker, the holdings listed
// once, LifecycleStage only for the steps that wait), a closure of an
// account with a subaccount, two numbers and a charge purged after a short
// retention, its subaccount's closure, and a closure reopened during the
// window. A closure waits
// out a 30-day window, so runs started by older
// code must replay with the current code: a change that fails this test
// needs workflow.GetVersion, and these files stay.
func TestCloseAccountWorkflow_ReplaysRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/close_account_*.json", 8, workflows.CloseAccountWorkflow)
}
