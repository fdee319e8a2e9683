package workflows

import (
	"crypto/rand"
	"errors"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// CreateAccountInput is what the API passes to CreateAccountWorkflow.
type CreateAccountInput struct {
	OrganizationSid string
	AccountSid      string
	FriendlyName    string
	// OwnerSid is the owner the API resolved (runs started before the
	// account was persisted by StartUpdate); Owner is what the caller
	// named: a User SID, a managed user's email, or empty for the
	// organization owner, resolved in the activity that persists.
	OwnerSid string
	Owner    string
	Flex     bool
	// CreatorSid is the user who asked; a Standard user who is not the
	// owner is made Administrator of the account so they can reach it.
	CreatorSid string
	// RequestedAt is when the API accepted the request; it becomes the
	// account's date_created, as the 202 answer already said.
	RequestedAt time.Time
	Actor       domain.Actor
	// ParentSid makes the account a subaccount.
	ParentSid string
	// Persisted says the API persisted the account, its roles and this
	// creation before the start (runs at versionAPIPersisted): the run
	// goes on from there, with OwnerSid the owner it checked.
	Persisted bool `json:",omitempty"`
}

// CreateAccountResult is the created account.
type CreateAccountResult struct {
	Account domain.Account
}

// Step names of CreateAccountWorkflow.
const (
	StepValidateOwner  = "validate_owner"
	StepPersistAccount = "persist_account"
	StepActivate       = "activate"
)

// CreateAccountWorkflow validates the owner, persists the account with its
// Owner role, runs the Flex provisioning steps for a Flex account, and
// activates it. A failure after the account was persisted discards it, so
// no half-created account is ever visible.
func CreateAccountWorkflow(ctx workflow.Context, in CreateAccountInput) (CreateAccountResult, error) {
	w, err := newCreateAccount(ctx, in)
	if err != nil {
		return CreateAccountResult{}, err
	}
	return w.run(ctx)
}

type createAccount struct {
	in       CreateAccountInput
	progress Progress
	acts     *activities.Activities
	// version is versionUpdateWithStart for runs started by StartUpdate.
	version workflow.Version
	// local is set for runs whose steps on the database alone run as
	// local activities (see changeLocalSteps).
	local bool
	// persisted is set for runs at versionAPIPersisted.
	persisted bool
	// opened is set once StartUpdate's persist step has run: account is
	// what it persisted, or openErr why it was refused.
	opening, opened bool
	account         domain.Account
	openErr         error
}

// versionUpdateWithStart marks the runs whose record is persisted by the
// StartUpdate that came with their start (older runs persisted it in their
// main flow, after the API had resolved the owner).
const (
	changeUpdateWithStart                   = "update-with-start"
	versionUpdateWithStart workflow.Version = 1
)

// versionLocalSteps marks the runs whose steps that only touch the
// database (resolving the owner, persisting, activating) run as local
// activities, in the workflow task that needs them, instead of a round
// trip through the server's task queues each (older runs scheduled them
// as regular activities). Steps that reach outside systems stay regular.
const (
	changeLocalSteps                   = "local-steps"
	versionLocalSteps workflow.Version = 1
)

// versionAPIPersisted marks the runs started after the API persisted
// the account in its own transaction (CreateAccountInput.Persisted): they
// begin at the Flex steps, so the request is answered without waiting for
// the run's first task (older runs persisted it in StartUpdate's handler,
// or in their main flow). Such runs record this version alone: it implies
// the local steps.
const (
	changeAPIPersisted                   = "api-persisted"
	versionAPIPersisted workflow.Version = 1
)

// localOptions are the retries of a step run as a local activity: the
// same attempts and backoff as activityOptions, within a schedule-to-close
// bound that lets them all run (it defaults to one attempt's timeout). A
// backoff longer than the workflow task becomes a timer, so a database
// down for minutes holds no task open.
var localOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: 30 * time.Minute,
	RetryPolicy:            activityOptions.RetryPolicy,
}

// dbStep runs fn, a step that touches only the database, as a local
// activity when local (see changeLocalSteps), else as a regular one.
func dbStep(ctx workflow.Context, local bool, fn, arg any) workflow.Future {
	if local {
		return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localOptions), fn, arg)
	}
	return workflow.ExecuteActivity(ctx, fn, arg)
}

// startTimeout bounds how long a run waits for the StartUpdate that
// Update-with-Start delivers with its start.
const startTimeout = 5 * time.Minute

func newCreateAccount(ctx workflow.Context, in CreateAccountInput) (*createAccount, error) {
	if !domain.ValidSID(domain.PrefixAccount, in.AccountSid) || !domain.ValidSID(domain.PrefixOrganization, in.OrganizationSid) {
		return nil, temporal.NewNonRetryableApplicationError("invalid input: organization and account SIDs are required", activities.ErrorType, nil,
			activities.DomainFailure{Kind: domain.EInvalid, Code: domain.CodeBadRequest, Message: "invalid workflow input"})
	}
	w := &createAccount{in: in, progress: Progress{OrganizationSid: in.OrganizationSid, RequestedBy: in.Actor.UserSid, Status: StepRunning}}
	names := []string{StepValidateOwner, StepPersistAccount}
	if in.Flex {
		names = append(names, domain.FlexProvisioningSteps...)
	}
	names = append(names, StepActivate)
	for _, n := range names {
		w.progress.Steps = append(w.progress.Steps, Step{Name: n, Status: StepPending})
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) { return w.progress, nil }); err != nil {
		return nil, err
	}
	if in.Persisted {
		w.persisted = workflow.GetVersion(ctx, changeAPIPersisted, workflow.DefaultVersion, versionAPIPersisted) == versionAPIPersisted
	}
	if w.persisted {
		// The newest shape, which implies the older changes: one version
		// marker (and one change-version search attribute) instead of
		// three.
		w.local = true
		w.progress.Steps[0].Status, w.progress.Steps[1].Status = StepCompleted, StepCompleted
	} else {
		w.version = workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart)
		w.local = workflow.GetVersion(ctx, changeLocalSteps, workflow.DefaultVersion, versionLocalSteps) == versionLocalSteps
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, StartUpdate, func(ctx workflow.Context) (domain.Account, error) {
		if w.opening {
			// A retried request: answer as the first one was answered.
			if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
				return domain.Account{}, err
			}
			return w.account, w.openErr
		}
		w.opening = true
		w.account, w.openErr = w.persist(workflow.WithActivityOptions(ctx, activityOptions))
		w.opened = true
		return w.account, w.openErr
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
		if w.version != versionUpdateWithStart {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this creation was started without %s", StartUpdate))
		}
		return nil
	}})
	return w, err
}

// MaxActivityAttempts bounds the retries of a failure that is not a domain
// error (a database down, a worker crash, a row that vanished under a
// step): with the backoff below they span about a quarter of an hour,
// enough to ride out a restart, and then the workflow fails visibly (its
// progress says failed, orgaccounts_workflow_outcomes_total counts it)
// instead of retrying forever while its progress says running. Domain
// errors are never retried.
const MaxActivityAttempts = 20

// activityOptions are the retries of every lifecycle step.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		MaximumAttempts:        MaxActivityAttempts,
		NonRetryableErrorTypes: []string{activities.ErrorType},
	},
}

func (w *createAccount) run(ctx workflow.Context) (CreateAccountResult, error) {
	ctx = workflow.WithActivityOptions(ctx, activityOptions)
	in := w.in
	logger := log.With(workflow.GetLogger(ctx), "request_id", in.Actor.RequestID)

	var acct domain.Account
	switch {
	case w.persisted:
		// The API persisted the account before the start.
	case w.version == versionUpdateWithStart:
		started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opened })
		if err != nil {
			// Cancelled: StartUpdate's handler sees it too, and discards
			// what it may have written before it answers.
			dctx, _ := workflow.NewDisconnectedContext(ctx)
			if w.opening {
				_ = workflow.Await(dctx, func() bool { return w.opened })
			}
			return CreateAccountResult{}, err
		}
		if !started {
			w.progress.Status, w.progress.Error = StepFailed, &Failure{Code: domain.CodeInvalidState, Message: "the creation was never started"}
			return CreateAccountResult{}, nil
		}
		if w.openErr != nil {
			// Refused (the caller was told so by StartUpdate's answer),
			// or failed: nothing is left persisted.
			return CreateAccountResult{}, w.openErr
		}
		acct = w.account
	default:
		var err error
		if acct, err = w.persist(ctx); err != nil {
			return CreateAccountResult{}, err
		}
	}

	steps := []string{}
	if in.Flex {
		steps = domain.FlexProvisioningSteps
	}
	for _, kind := range steps {
		if err := w.step(ctx, kind, func() error {
			return workflow.ExecuteActivity(ctx, w.acts.ProvisionFlexResource, activities.ProvisionInput{
				OrganizationSid: in.OrganizationSid, AccountSid: in.AccountSid, Kind: kind, Actor: in.Actor,
			}).Get(ctx, nil)
		}); err != nil {
			w.discard(ctx)
			return CreateAccountResult{}, err
		}
	}

	if err := w.step(ctx, StepActivate, func() error {
		return dbStep(ctx, w.local, w.acts.ActivateAccount, activities.AccountStepInput{
			OrganizationSid: in.OrganizationSid, AccountSid: in.AccountSid, Actor: in.Actor,
		}).Get(ctx, &acct)
	}); err != nil {
		w.discard(ctx)
		return CreateAccountResult{}, err
	}
	w.progress.Status = StepCompleted
	logger.Info("account created", "AccountSid", in.AccountSid)
	return CreateAccountResult{Account: acct}, nil
}

// persist is the creation's first two steps: resolve and check the owner
// (25103 unless a managed user of the organization), then persist the
// account, provisioning, with its Owner role (the store re-checks a
// subaccount's parent under its lock). Runs started with StartUpdate run
// them in its handler, whose answer the caller waits for; older runs ran
// them in their main flow, with the owner resolved by the API.
func (w *createAccount) persist(ctx workflow.Context) (domain.Account, error) {
	in := w.in
	var ownerSid string
	if err := w.step(ctx, StepValidateOwner, func() error {
		return dbStep(ctx, w.local, w.acts.ResolveOwner, activities.ResolveOwnerInput{
			OrganizationSid: in.OrganizationSid, OwnerSid: in.OwnerSid, Owner: in.Owner,
		}).Get(ctx, &ownerSid)
	}); err != nil {
		return domain.Account{}, err
	}
	ownerRA, creatorRA := w.newSID(ctx, domain.PrefixRoleAssignment), w.newSID(ctx, domain.PrefixRoleAssignment)
	acct := domain.Account{
		Sid: in.AccountSid, OrganizationSid: in.OrganizationSid, FriendlyName: in.FriendlyName,
		Kind: domain.AccountManaged, OwnerSid: ownerSid, Flex: in.Flex,
		Require2FA: domain.NewAccountDefaults.Require2FA, DateCreated: in.RequestedAt, ParentSid: in.ParentSid,
	}
	if err := w.step(ctx, StepPersistAccount, func() error {
		return dbStep(ctx, w.local, w.acts.CreateAccountRecord, activities.CreateAccountRecordInput{
			Account: acct, OwnerAssignmentSid: ownerRA, CreatorSid: in.CreatorSid, CreatorAssignmentSid: creatorRA, Actor: in.Actor,
		}).Get(ctx, &acct)
	}); err != nil {
		// The record may have been written even so (the workflow was
		// cancelled while the activity ran, say): discarding is a no-op
		// when it was not.
		w.discard(ctx)
		return acct, err
	}
	return acct, nil
}

// step runs fn as the named step, keeping the progress up to date.
func (w *createAccount) step(ctx workflow.Context, name string, fn func() error) error {
	i := w.stepIndex(name)
	w.progress.Steps[i].Status = StepRunning
	if err := fn(); err != nil {
		w.progress.Steps[i].Status = StepFailed
		w.progress.Steps[i].Error = err.Error()
		w.progress.Status = StepFailed
		w.progress.Error = failureOf(err)
		return err
	}
	w.progress.Steps[i].Status = StepCompleted
	return nil
}

func (w *createAccount) stepIndex(name string) int {
	for i, s := range w.progress.Steps {
		if s.Name == name {
			return i
		}
	}
	panic("unknown step " + name)
}

// discard removes the provisional account on a disconnected context, so it
// runs even when the workflow was cancelled.
func (w *createAccount) discard(ctx workflow.Context) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	err := workflow.ExecuteActivity(dctx, w.acts.DiscardAccount, activities.AccountStepInput{
		OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid, Actor: w.in.Actor,
	}).Get(dctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("discarding the failed account", "AccountSid", w.in.AccountSid, "Error", err)
	}
}

// newSID makes a random SID once and records it in the history.
func (w *createAccount) newSID(ctx workflow.Context, prefix string) string {
	var sid string
	_ = workflow.SideEffect(ctx, func(workflow.Context) any {
		return domain.NewSIDFrom(prefix, time.Now(), rand.Reader)
	}).Get(&sid)
	return sid
}

func failureOf(err error) *Failure {
	if e, ok := activities.AsDomainError(err); ok {
		return &Failure{Code: e.Code, Message: e.Message}
	}
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		return &Failure{Code: domain.CodeInvalidState, Message: "cancelled"}
	}
	return &Failure{Code: domain.CodeInternal, Message: "internal error"}
}
