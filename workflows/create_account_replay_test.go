package workflows_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/create_account_*.json were recorded from a
// real server running the whole service: a plain account, a Flex account
// (its provisioning steps), a subaccount, and a creation that failed at
// its first step because the owner was deactivated through SCIM after the
// API accepted the request. The two create_account_local_* files (a plain
// and a Flex account) were recorded after its steps on the database alone
// became local activities (the local-steps version), and the two
// create_account_persisted_* files (a plain and a Flex account) after the
// API persisted the account itself before the start (the api-persisted
// version). A creation retries its activities for as long
// as the database or the worker is down, so runs started by older code
// must replay with the current code: a change that fails this test needs
// workflow.GetVersion, and these files stay.
func TestCreateAccountWorkflow_ReplaysRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/create_account_*.json", 8, workflows.CreateAccountWorkflow)
}
