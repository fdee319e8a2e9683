// Package workflows holds orgaccounts' deterministic Temporal workflows,
// their inputs, results and progress types, and every name an operator or
// client needs to find them.
package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// DefaultTaskQueue is the task queue workers poll unless configured.
const DefaultTaskQueue = "orgaccounts"

// ProgressQuery is the query every lifecycle workflow answers with its
// Progress.
const ProgressQuery = "progress"

// Search attributes, registered on the Temporal server, that let an
// operator find every workflow of an organization or an account.
var (
	OrganizationSidKey = temporal.NewSearchAttributeKeyKeyword("OrganizationSid")
	AccountSidKey      = temporal.NewSearchAttributeKeyKeyword("AccountSid")
	// LifecycleStageKey is where a closure stands: the step it runs
	// (stop_charges, retention, …) or how it ended (purged, reopened).
	LifecycleStageKey = temporal.NewSearchAttributeKeyKeyword("LifecycleStage")
)

// SearchAttributes lists the custom search attributes to register.
var SearchAttributes = []temporal.SearchAttributeKey{OrganizationSidKey, AccountSidKey, LifecycleStageKey}

// CreateAccountWorkflowID is the workflow ID of an account's creation. It
// derives from the account SID so a retried request cannot start a twin.
func CreateAccountWorkflowID(accountSid string) string { return "create-account/" + accountSid }

// Step statuses in Progress.
const (
	StepPending   = domain.StepPending
	StepRunning   = domain.StepRunning
	StepCompleted = domain.StepCompleted
	StepFailed    = domain.StepFailed
)

// Step is one step of a lifecycle workflow.
type Step = domain.Step

// Progress is what the progress query returns.
type Progress = domain.Progress

// Failure is why a workflow failed, with its Twilio code.
type Failure = domain.Failure

// Started identifies a workflow run.
type Started = domain.Run
