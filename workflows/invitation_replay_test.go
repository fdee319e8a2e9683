package workflows_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/workflows"
)

// The histories in testdata/invitation_*.json were recorded from a real
// server running the whole service: an invitation accepted through the
// emailed link's page; one declined there; one revoked by DELETE; the
// same two answered while the first email was still being sent (the
// update lands before the expiry timer starts); one resent once and
// accepted with the second link; one to an account that requires
// two-factor authentication, accepted after the page's enrolment; and one
// that expired (a short INVITATION_TTL); and, recorded after the
// invitation came to be recorded by a local activity (the local-steps
// version), one accepted (invitation_local_accepted). An invitation waits up to a week
// for its answer, so runs started by older code must replay with the
// current code: a change that fails this test needs workflow.GetVersion,
// and these files stay.
func TestInvitationWorkflow_ReplaysRecordedHistories(t *testing.T) {
	replayRecorded(t, "testdata/invitation_*.json", 9, workflows.InvitationWorkflow)
}
