package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
)

// SendEmailWorkflowID derives from the email's key: the same notice is
// never started twice.
func SendEmailWorkflowID(key string) string { return "email/" + key }

// SendEmailWorkflow sends one notice with retries, for changes made
// synchronously by the API (an ownership transfer, say).
func SendEmailWorkflow(ctx workflow.Context, in activities.EmailInput) error {
	var a *activities.Activities
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	return workflow.ExecuteActivity(ctx, a.SendEmail, in).Get(ctx, nil)
}
