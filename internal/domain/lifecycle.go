package domain

import "time"

// What the lifecycle engine (Temporal workflows) reports back to the
// services: which run carries a lifecycle, and how far it has come. The
// workflows package declares its progress types as these, so the services
// and the HTTP edge read them without importing the engine.

// Run names one run of a lifecycle workflow (for operators: it is the
// workflow in the Web UI).
type Run struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// Step statuses, and the overall status of a Progress.
const (
	StepPending   = "pending"
	StepRunning   = "running"
	StepCompleted = "completed"
	StepFailed    = "failed"
)

// Step is one step of a lifecycle workflow.
type Step struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Failure is why a workflow failed, with its Twilio code.
type Failure struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Progress is what a lifecycle workflow's progress query answers.
type Progress struct {
	OrganizationSid string   `json:"organization_sid"`
	RequestedBy     string   `json:"requested_by"`
	Status          string   `json:"status"` // running | completed | failed
	Steps           []Step   `json:"steps"`
	Error           *Failure `json:"error,omitempty"`
}

// Closure stages the services read (the workflow sets them all).
const (
	// ClosureStageClosed: a subaccount's closure, closed with its parent.
	ClosureStageClosed = "closed"
	// ClosureStageReopened: the account was reopened before its purge.
	ClosureStageReopened = "reopened"
)

// ClosureProgress is where an account's closure stands.
type ClosureProgress struct {
	Progress
	Stage          string    `json:"stage"`
	PurgeAfter     time.Time `json:"purge_after"`
	Subaccounts    int       `json:"subaccounts_closed"`
	Cancelled      int       `json:"requests_cancelled"`
	ChargesStopped int       `json:"charges_stopped"`
	Released       int       `json:"numbers_released"`
	AccessRemoved  int       `json:"role_assignments_removed"`
}

// LinkAnswer is an answer given on an emailed confirmation page, for the
// link version the page was reached with.
type LinkAnswer struct {
	LinkVersion int
	Accept      bool
	Actor       Actor
}

// AccountCreation is a creation the accounts service hands the engine.
type AccountCreation struct {
	OrganizationSid string
	AccountSid      string
	FriendlyName    string
	// Owner is what the caller named: a User SID, a managed user's
	// email, or empty for the organization owner. OwnerSid is that owner
	// as resolved and checked when the account was persisted.
	Owner     string
	OwnerSid  string
	Flex      bool
	ParentSid string
	// CreatorSid is a Standard user who asked for someone else's account:
	// they become its Administrator, to reach it.
	CreatorSid  string
	RequestedAt time.Time
	Actor       Actor
}

// AccountOpening is a new account as the accounts service persists it, in
// one transaction: the account (provisioning) with its Owner role, the
// creator's Administrator role when set, the audit events, and the
// creation itself, kept as a pending start until the creation's workflow
// has run (see AccountStore.PendingCreations).
type AccountOpening struct {
	Account  Account
	Owner    RoleAssignment
	Creator  *RoleAssignment
	Creation AccountCreation
	Events   []AuditEvent
}
