package workflows

import (
	"context"

	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// SendEmailWorkflowID derives from the email's key: the same notice is
// never started twice.
func SendEmailWorkflowID(key string) string { return "email/" + key }

// SendEmailWorkflow sends one notice with retries, for changes made
// synchronously by the API (an ownership transfer, say). Like every
// lifecycle it starts with StartUpdate, which accepts the notice at once;
// runs started before that existed just send.
func SendEmailWorkflow(ctx workflow.Context, in activities.EmailInput) error {
	var a *activities.Activities
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	if workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart) == versionUpdateWithStart {
		accepted := false
		if err := workflow.SetUpdateHandler(ctx, StartUpdate, func(workflow.Context) (string, error) {
			accepted = true
			return in.Key, nil
		}); err != nil {
			return err
		}
		if ok, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return accepted }); err != nil || !ok {
			return err
		}
	}
	return workflow.ExecuteActivity(ctx, a.SendEmail, in).Get(ctx, nil)
}

// StartEmail sends a notice through SendEmailWorkflow, once per key: a
// notice whose workflow ran already is not sent again.
func (c Client) StartEmail(ctx context.Context, orgSid, accountSid, requestID string, in activities.EmailInput) error {
	sent := func(context.Context, domain.Run) (string, error) { return in.Key, nil }
	_, _, err := startWith(ctx, c, c.options(SendEmailWorkflowID(in.Key), orgSid, accountSid, requestID), sent, SendEmailWorkflow, in)
	return err
}
