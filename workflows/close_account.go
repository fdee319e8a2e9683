package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// CloseAccountWorkflowID is the workflow ID of an account's closure. A
// retried Close finds the running closure; after a reopen, a new closure
// may reuse the ID.
func CloseAccountWorkflowID(accountSid string) string { return "close-account/" + accountSid }

// SubaccountClosureWorkflowID is the ID of the child closure of a
// subaccount, started by its parent's closure.
func SubaccountClosureWorkflowID(parentSid, subSid string) string {
	return "close-account/" + parentSid + "/" + subSid
}

// ReopenUpdate is the update that reopens a closing or closed account
// before its purge. It answers with the reopened account.
const ReopenUpdate = "reopen"

// Steps of CloseAccountWorkflow, in order; each is also the value of the
// LifecycleStage search attribute while it waits on something outside the
// workflow (a step on the database alone begins and ends within one
// workflow task, so closures at versionClosureShape leave it out).
const (
	StepBeginClosure     = "pending_closure"
	StepCloseSubaccounts = "close_subaccounts"
	StepCancelRequests   = "cancel_pending_requests"
	StepStopCharges      = "stop_charges"
	StepReleaseNumbers   = "release_numbers"
	StepRemoveAccess     = "remove_role_assignments"
	StepMarkClosed       = "mark_closed"
	StepNotifyOwner      = "notify_owner"
	StepRetention        = "retention"
	StepPurge            = "purge"
)

// Final stages of a closure (LifecycleStage and ClosureProgress.Stage).
const (
	StageClosed    = "closed" // a subaccount's closure ends here
	StagePurged    = "purged"
	StageReopened  = "reopened"
	StageCancelled = "cancelled"
	StageFailed    = "failed"
)

// Signals between a parent's closure and the closures of its subaccounts
// (runs at versionSubaccountOutcome).
const (
	// SubaccountClosedSignal tells the parent's closure that a
	// subaccount is closed; it carries the subaccount's SID.
	SubaccountClosedSignal = "subaccount-closed"
	// ParentOutcomeSignal tells a subaccount's closure how its parent's
	// ended: StageReopened or StagePurged, which becomes its own stage.
	ParentOutcomeSignal = "parent-outcome"
)

// versionSubaccountOutcome marks the parents' closures whose subaccounts'
// closures, once the subaccount is closed, say so by a signal and wait
// for the parent's outcome (reopened or purged) to end with it, so that a
// reopened subaccount's closure no longer reads LifecycleStage "closed".
// Older parents waited for their children to end at "closed".
const (
	changeSubaccountOutcome                   = "subaccount-outcome"
	versionSubaccountOutcome workflow.Version = 1
)

// versionTogether marks the closures that stop the charges and release the
// numbers side by side (two independent outside systems), instead of one
// after the other: each closure is shorter by a batch's round trip. The
// progress still counts each item, and each step is marked on its own.
const (
	changeTogether                   = "charges-and-numbers-together"
	versionTogether workflow.Version = 1
)

// versionClosureShape marks the closures that record this one version,
// which implies every change above (Update-with-Start, local steps,
// subaccount outcomes, charges and numbers together), instead of a
// version marker and a change-version search attribute update each. Such
// closures also list the account's holdings once for both batches, and
// publish the LifecycleStage search attribute only for the steps that
// wait on something outside the workflow task (batches, subaccounts'
// closures, cancellations, the owner's email, the retention, the purge)
// and for the end: a step that begins and ends within one task was never
// seen in the attribute anyway.
const (
	changeClosureShape                   = "closure-shape"
	versionClosureShape workflow.Version = 1
)

// localStages are the steps whose stage a shaped closure does not publish
// unless they turn out to wait on something outside the task.
var localStages = map[string]bool{
	StepCloseSubaccounts: true, StepCancelRequests: true, StepRemoveAccess: true, StepMarkClosed: true,
}

// Bounds of the closure's parallel work.
const (
	maxParallelSubaccounts = 3
	maxParallelReleases    = 10
	maxChildAttempts       = 5
)

// releaseOptions are for the per-item steps (one release, one charge
// stop, one cancellation): each is one short transaction, so a worker
// that dies mid-call is noticed within seconds and the item retried on
// another, where its idempotency key makes the retry a no-op if the first
// call went through.
var releaseOptions = func() workflow.ActivityOptions {
	o := activityOptions
	o.StartToCloseTimeout = 10 * time.Second
	return o
}()

// batchOptions are for a batch of releases or charge stops (up to
// activities.MaxBatch items, one after the other): the heartbeat after
// each item lets a worker that dies mid-batch be noticed within seconds,
// and the retry resume from the last item it reported.
var batchOptions = func() workflow.ActivityOptions {
	o := activityOptions
	o.StartToCloseTimeout = 10 * time.Minute
	o.HeartbeatTimeout = 10 * time.Second
	return o
}()

// maxParallelBatches bounds the batches of one step running at once.
const maxParallelBatches = 4

// CloseAccountInput is what the closure service passes to
// CloseAccountWorkflow.
type CloseAccountInput struct {
	OrganizationSid string
	AccountSid      string
	// PurgeAfter is when the retention window ends (the closure service
	// computes it from the configured retention; the cut-off stores it on
	// the account).
	PurgeAfter time.Time
	// Subaccount marks a child closure started by the parent's: it ends
	// once the subaccount is closed (no email, no timer; the parent's
	// purge deletes it).
	Subaccount bool
	// AwaitParent, for a subaccount's closure, makes it signal its parent
	// once the subaccount is closed (SubaccountClosedSignal) and end only
	// with the parent's outcome (ParentOutcomeSignal); without it, it ends
	// at "closed".
	AwaitParent bool `json:",omitempty"`
	Actor       domain.Actor
}

// ClosureProgress is what the progress query returns.
type ClosureProgress = domain.ClosureProgress

// ClosureResult is how a closure ended.
type ClosureResult struct {
	Stage   string         // purged | reopened | closed (a subaccount whose parent's outcome it did not hear)
	Account domain.Account // the reopened account
}

// CloseAccountWorkflow closes an account. Its StartUpdate, sent with its
// start, cuts the account off at once (pending_closure: its credentials
// stop working) or answers why it may not close; then its subaccounts close (child workflows), its pending
// requests are cancelled, its charges stopped and its numbers released
// (one idempotent activity each), every role assignment removed, the
// account marked closed and its owner emailed. A durable timer then waits
// for the retention window, and the account's data is purged. Until the
// purge, the reopen update makes the account active again.
func CloseAccountWorkflow(ctx workflow.Context, in CloseAccountInput) (ClosureResult, error) {
	w := &closeAccount{in: in}
	if err := w.setup(ctx); err != nil {
		return ClosureResult{}, err
	}
	return w.run(ctx)
}

type closeAccount struct {
	in       CloseAccountInput
	progress ClosureProgress
	acts     *activities.Activities
	log      log.Logger

	reopenBy  *domain.Actor // set by the reopen update
	reopened  *domain.Account
	reopenErr error

	// version is versionUpdateWithStart for runs whose cut-off is run by
	// their StartUpdate (older runs, and every subaccount's child closure,
	// run it as their first step).
	version workflow.Version
	// opened is set once StartUpdate's cut-off has run: begun is its
	// answer, or openErr why the account may not close.
	opening, opened bool
	begun           domain.ClosureBegun
	openErr         error
	// local is set for runs whose steps on the database alone run as
	// local activities and whose releases and charge stops run in
	// heartbeating batches (see changeLocalSteps); older runs ran one
	// activity per step and per item.
	local bool
	// subOutcome is set for parents at versionSubaccountOutcome:
	// closedSubs are the subaccounts whose closures said they are closed,
	// children those closures (in the order they closed), told the
	// parent's outcome at its end.
	subOutcome bool
	closedSubs map[string]bool
	children   []subaccountClosure
	// together is set for runs at versionTogether.
	together bool
	// shaped is set for runs at versionClosureShape.
	shaped bool
}

// subaccountClosure is the closure of a subaccount, run by its parent's.
type subaccountClosure struct {
	sub    string
	future workflow.ChildWorkflowFuture
}

// byStartUpdate tells whether the cut-off is StartUpdate's.
func (w *closeAccount) byStartUpdate() bool {
	return w.version == versionUpdateWithStart && !w.in.Subaccount
}

func (w *closeAccount) setup(ctx workflow.Context) error {
	in := w.in
	if !domain.ValidSID(domain.PrefixAccount, in.AccountSid) || !domain.ValidSID(domain.PrefixOrganization, in.OrganizationSid) {
		return domainError(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "invalid close-account workflow input"))
	}
	w.log = log.With(workflow.GetLogger(ctx), "request_id", in.Actor.RequestID, "AccountSid", in.AccountSid)
	names := []string{StepBeginClosure, StepCloseSubaccounts, StepCancelRequests, StepStopCharges, StepReleaseNumbers, StepRemoveAccess, StepMarkClosed}
	if !in.Subaccount {
		names = append(names, StepNotifyOwner, StepRetention, StepPurge)
	}
	w.progress = ClosureProgress{
		Progress:   Progress{OrganizationSid: in.OrganizationSid, RequestedBy: in.Actor.UserSid, Status: StepRunning},
		Stage:      StepBeginClosure,
		PurgeAfter: in.PurgeAfter,
	}
	for _, n := range names {
		w.progress.Steps = append(w.progress.Steps, Step{Name: n, Status: StepPending})
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (ClosureProgress, error) { return w.progress, nil }); err != nil {
		return err
	}
	w.shaped = workflow.GetVersion(ctx, changeClosureShape, workflow.DefaultVersion, versionClosureShape) == versionClosureShape
	if w.shaped {
		w.version, w.local, w.subOutcome, w.together = versionUpdateWithStart, true, !in.Subaccount, true
	} else {
		w.version = workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart)
		w.local = workflow.GetVersion(ctx, changeLocalSteps, workflow.DefaultVersion, versionLocalSteps) == versionLocalSteps
		if !in.Subaccount {
			w.subOutcome = workflow.GetVersion(ctx, changeSubaccountOutcome, workflow.DefaultVersion, versionSubaccountOutcome) == versionSubaccountOutcome
		}
		w.together = w.local && workflow.GetVersion(ctx, changeTogether, workflow.DefaultVersion, versionTogether) == versionTogether
	}
	if w.subOutcome {
		w.closedSubs = map[string]bool{}
		closed := workflow.GetSignalChannel(ctx, SubaccountClosedSignal)
		workflow.Go(ctx, func(ctx workflow.Context) {
			var sub string
			for closed.Receive(ctx, &sub) {
				w.closedSubs[sub] = true
			}
		})
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, StartUpdate, w.start, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
		if w.in.Subaccount {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this subaccount closes with its parent"))
		}
		if w.reopenBy != nil {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account is being reopened; try again"))
		}
		switch w.progress.Stage {
		case StepPurge, StagePurged, StageReopened, StageCancelled, StageFailed:
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the closure is %s", w.progress.Stage))
		}
		return nil
	}}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ReopenUpdate, func(ctx workflow.Context, actor domain.Actor) (domain.Account, error) {
		if w.reopenBy == nil {
			w.reopenBy = &actor
		}
		if err := workflow.Await(ctx, func() bool { return w.reopened != nil || w.reopenErr != nil }); err != nil {
			return domain.Account{}, err
		}
		if w.reopenErr != nil {
			return domain.Account{}, w.reopenErr
		}
		return *w.reopened, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, actor domain.Actor) error {
		if w.in.Subaccount {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this subaccount closes with its parent: reopen the parent"))
		}
		switch w.progress.Stage {
		case StepPurge, StagePurged, StageReopened, StageCancelled, StageFailed:
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the closure is %s; the account can no longer be reopened", w.progress.Stage))
		}
		return nil
	}})
}

// start is StartUpdate's handler. The first call runs the cut-off as the
// closure's first step and answers with the account, or with the domain
// error that refused the closure (nothing changed then, and the run ends).
// A later call (a Close of an account already closing, a retried request)
// answers with the account as it stands, Started false, or with the same
// refusal.
func (w *closeAccount) start(ctx workflow.Context) (domain.ClosureBegun, error) {
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	if w.byStartUpdate() && !w.opening {
		w.opening = true
		w.openErr = w.step(ctx, StepBeginClosure, func() error {
			return dbStep(actx, w.local, w.acts.StartAccountClosure, w.stepInput()).Get(ctx, &w.begun)
		})
		w.opened = true
		return w.begun, w.openErr
	}
	if w.byStartUpdate() {
		if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
			return domain.ClosureBegun{}, err
		}
		if w.openErr != nil {
			return domain.ClosureBegun{}, w.openErr
		}
	}
	// Already closing: answer with the account as it stands (read only,
	// so that a reopen running meanwhile is never undone).
	var acct domain.Account
	err := dbStep(actx, w.local, w.acts.FindClosingAccount, w.stepInput()).Get(ctx, &acct)
	return domain.ClosureBegun{Account: acct}, err
}

func (w *closeAccount) stepInput() activities.CloseStepInput {
	return activities.CloseStepInput{OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid, PurgeAfter: w.in.PurgeAfter, Actor: w.in.Actor}
}

func (w *closeAccount) run(ctx workflow.Context) (ClosureResult, error) {
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	in := w.stepInput()
	type closureStep struct {
		name string
		fn   func() error
		// marksItself: fn marks its own steps (charges and numbers side
		// by side, see chargesAndNumbers); name is then only the first.
		marksItself bool
	}
	steps := []closureStep{
		{name: StepBeginClosure, fn: func() error {
			return dbStep(actx, w.local, w.acts.BeginAccountClosure, in).Get(ctx, nil)
		}},
		{name: StepCloseSubaccounts, fn: func() error { return w.closeSubaccounts(ctx, actx) }},
		{name: StepCancelRequests, fn: func() error { return w.cancelRequests(ctx, actx) }},
	}
	if w.together {
		steps = append(steps, closureStep{name: StepStopCharges, fn: func() error { return w.chargesAndNumbers(ctx) }, marksItself: true})
	} else {
		steps = append(steps,
			closureStep{name: StepStopCharges, fn: func() error { return w.stopCharges(ctx, actx) }},
			closureStep{name: StepReleaseNumbers, fn: func() error { return w.releaseNumbers(ctx, actx) }})
	}
	steps = append(steps,
		closureStep{name: StepRemoveAccess, fn: func() error {
			return dbStep(actx, w.local, w.acts.RemoveAccountAccess, in).Get(ctx, &w.progress.AccessRemoved)
		}},
		closureStep{name: StepMarkClosed, fn: func() error {
			return dbStep(actx, w.local, w.acts.MarkAccountClosed, in).Get(ctx, nil)
		}})
	if !w.in.Subaccount {
		steps = append(steps, closureStep{name: StepNotifyOwner, fn: func() error {
			return workflow.ExecuteActivity(actx, w.acts.NotifyAccountClosed, activities.NotifyAccountClosedInput{CloseStepInput: in, Subaccounts: w.progress.Subaccounts}).Get(ctx, nil)
		}})
	}
	if w.byStartUpdate() {
		started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opened })
		if err != nil {
			if w.opening {
				// Cancelled while the cut-off ran: let its answer go out.
				dctx, _ := workflow.NewDisconnectedContext(ctx)
				_ = workflow.Await(dctx, func() bool { return w.opened })
			}
			return ClosureResult{}, w.fail(ctx, err)
		}
		if !started {
			w.mark(StepBeginClosure, StepFailed, "the closure was never started")
			w.progress.Status, w.progress.Error = StepFailed, &Failure{Code: domain.CodeInvalidState, Message: "the closure was never started"}
			w.setStage(ctx, StageFailed)
			return ClosureResult{}, nil
		}
		if w.openErr != nil {
			// Refused (StartUpdate's answer told the caller): nothing
			// changed. The answers of the updates still running go out
			// before the run ends.
			err := w.fail(ctx, w.openErr)
			w.reopenErr = err
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return ClosureResult{}, err
		}
		steps = steps[1:] // the cut-off was StartUpdate's
	}
	for _, s := range steps {
		if w.reopenBy != nil {
			return w.reopen(ctx, actx)
		}
		run := func() error { return w.step(ctx, s.name, s.fn) }
		if s.marksItself {
			run = s.fn
		}
		if err := run(); err != nil {
			return ClosureResult{}, w.fail(ctx, err)
		}
	}
	if w.in.Subaccount {
		w.finish(ctx, StageClosed)
		if w.in.AwaitParent {
			return w.awaitParent(ctx), nil
		}
		return ClosureResult{Stage: StageClosed}, nil
	}

	// The retention window: a durable timer that the reopen update cuts
	// short.
	w.setStage(ctx, StepRetention)
	w.mark(StepRetention, StepRunning, "")
	if wait := w.in.PurgeAfter.Sub(workflow.Now(ctx)); wait > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return w.reopenBy != nil }); err != nil {
			return ClosureResult{}, w.fail(ctx, err)
		}
	}
	if w.reopenBy != nil {
		return w.reopen(ctx, actx)
	}
	w.mark(StepRetention, StepCompleted, "")
	if err := w.step(ctx, StepPurge, func() error {
		return workflow.ExecuteActivity(actx, w.acts.PurgeAccount, in).Get(ctx, nil)
	}); err != nil {
		return ClosureResult{}, w.fail(ctx, err)
	}
	w.tellSubaccounts(ctx, StagePurged)
	w.finish(ctx, StagePurged)
	w.log.Info("account purged")
	return ClosureResult{Stage: StagePurged}, nil
}

// reopen makes the account active again for the reopen update, then
// ends the closure.
func (w *closeAccount) reopen(ctx, actx workflow.Context) (ClosureResult, error) {
	in := w.stepInput()
	in.Actor = *w.reopenBy
	var acct domain.Account
	err := workflow.ExecuteActivity(actx, w.acts.ReopenAccount, in).Get(ctx, &acct)
	if err != nil {
		w.reopenErr = err
	} else {
		w.reopened = &acct
	}
	// The update handler answers the caller before the run ends.
	if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return ClosureResult{}, w.fail(ctx, err)
	}
	if w.progress.Stage == StepRetention {
		w.mark(StepRetention, StepCompleted, "")
	}
	w.tellSubaccounts(ctx, StageReopened)
	w.finish(ctx, StageReopened)
	w.log.Info("account reopened")
	return ClosureResult{Stage: StageReopened, Account: acct}, nil
}

func (w *closeAccount) closeSubaccounts(ctx, actx workflow.Context) error {
	var subs []string
	if err := dbStep(actx, w.local, w.acts.ListSubaccounts, w.stepInput()).Get(ctx, &subs); err != nil {
		return err
	}
	if w.shaped && len(subs) > 0 {
		w.publishStage(ctx, StepCloseSubaccounts)
	}
	return inParallel(ctx, maxParallelSubaccounts, len(subs), func(i int) workflow.Future {
		return w.closeSubaccount(ctx, subs[i])
	}, func() { w.progress.Subaccounts++ })
}

// closeSubaccount runs the child closure of one subaccount, starting it
// again (after a pause) when it fails, up to maxChildAttempts times.
func (w *closeAccount) closeSubaccount(ctx workflow.Context, sub string) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var err error
		for attempt := 1; ; attempt++ {
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:            SubaccountClosureWorkflowID(w.in.AccountSid, sub),
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				TypedSearchAttributes: temporal.NewSearchAttributes(
					OrganizationSidKey.ValueSet(w.in.OrganizationSid), AccountSidKey.ValueSet(sub), LifecycleStageKey.ValueSet(StepBeginClosure)),
			})
			child := workflow.ExecuteChildWorkflow(cctx, CloseAccountWorkflow, CloseAccountInput{
				OrganizationSid: w.in.OrganizationSid, AccountSid: sub, PurgeAfter: w.in.PurgeAfter, Subaccount: true,
				AwaitParent: w.subOutcome, Actor: w.in.Actor,
			})
			if w.subOutcome {
				err = w.awaitSubaccountClosed(ctx, sub, child)
			} else {
				err = child.Get(ctx, nil)
			}
			var canceled *temporal.CanceledError
			if err == nil || attempt >= maxChildAttempts || errors.As(err, &canceled) {
				break
			}
			w.log.Warn("subaccount closure failed; starting it again", "Subaccount", sub, "attempt", attempt, "Error", err)
			if serr := workflow.Sleep(ctx, time.Duration(attempt)*10*time.Second); serr != nil {
				err = serr
				break
			}
		}
		set.Set(nil, err)
	})
	return f
}

// awaitSubaccountClosed waits until the closure of sub says the
// subaccount is closed, keeping it to tell it the outcome, or until it
// ends (failed) first.
func (w *closeAccount) awaitSubaccountClosed(ctx workflow.Context, sub string, child workflow.ChildWorkflowFuture) error {
	var (
		ended  bool
		endErr error
	)
	workflow.Go(ctx, func(ctx workflow.Context) {
		endErr = child.Get(ctx, nil)
		ended = true
	})
	if err := workflow.Await(ctx, func() bool { return w.closedSubs[sub] || ended }); err != nil {
		return err
	}
	if w.closedSubs[sub] {
		w.children = append(w.children, subaccountClosure{sub: sub, future: child})
		return nil
	}
	return endErr
}

// tellSubaccounts tells the closures of the subaccounts closed with the
// account how its closure ended (stage), and waits for them to end with
// it.
func (w *closeAccount) tellSubaccounts(ctx workflow.Context, stage string) {
	for _, c := range w.children {
		if err := c.future.SignalChildWorkflow(ctx, ParentOutcomeSignal, stage).Get(ctx, nil); err != nil {
			w.log.Warn("telling a subaccount's closure the outcome", "Subaccount", c.sub, "Error", err)
		}
	}
	for _, c := range w.children {
		_ = c.future.Get(ctx, nil)
	}
}

// awaitParent is the end of a subaccount's closure once the subaccount
// is closed: it tells the parent's closure, then takes the parent's
// outcome (reopened or purged) as its own stage. Should the parent's
// word not come within a day after the purge was due, it stays closed.
func (w *closeAccount) awaitParent(ctx workflow.Context) ClosureResult {
	parent := workflow.GetInfo(ctx).ParentWorkflowExecution
	if parent == nil {
		return ClosureResult{Stage: StageClosed}
	}
	if err := workflow.SignalExternalWorkflow(ctx, parent.ID, parent.RunID, SubaccountClosedSignal, w.in.AccountSid).Get(ctx, nil); err != nil {
		w.log.Warn("telling the parent's closure the subaccount is closed", "Error", err)
		return ClosureResult{Stage: StageClosed}
	}
	var outcome string
	wait := max(w.in.PurgeAfter.Sub(workflow.Now(ctx)), 0) + 24*time.Hour
	if ok, _ := workflow.GetSignalChannel(ctx, ParentOutcomeSignal).ReceiveWithTimeout(ctx, wait, &outcome); !ok {
		return ClosureResult{Stage: StageClosed}
	}
	switch outcome {
	case StageReopened, StagePurged:
		w.setStage(ctx, outcome)
		return ClosureResult{Stage: outcome}
	}
	return ClosureResult{Stage: StageClosed}
}

func (w *closeAccount) cancelRequests(ctx, actx workflow.Context) error {
	rctx := workflow.WithActivityOptions(ctx, releaseOptions)
	var reqs []domain.PendingRequest
	if err := dbStep(actx, w.local, w.acts.ListPendingRequests, w.stepInput()).Get(ctx, &reqs); err != nil {
		return err
	}
	if w.shaped && len(reqs) > 0 {
		w.publishStage(ctx, StepCancelRequests)
	}
	return inParallel(ctx, maxParallelReleases, len(reqs), func(i int) workflow.Future {
		return workflow.ExecuteActivity(rctx, w.acts.CancelPendingRequest, activities.CancelRequestInput{CloseStepInput: w.stepInput(), Request: reqs[i]})
	}, func() { w.progress.Cancelled++ })
}

// holdings lists what the account still holds, once per step (the list is
// in the history, so a retried step acts on the same items).
func (w *closeAccount) holdings(ctx, actx workflow.Context) (activities.Holdings, error) {
	var h activities.Holdings
	err := dbStep(actx, w.local, w.acts.ListHoldings, w.stepInput()).Get(ctx, &h)
	return h, err
}

func (w *closeAccount) stopCharges(ctx, actx workflow.Context) error {
	h, err := w.holdings(ctx, actx)
	if err != nil {
		return err
	}
	return w.stopChargesOf(ctx, h)
}

func (w *closeAccount) stopChargesOf(ctx workflow.Context, h activities.Holdings) error {
	if w.local {
		bctx := workflow.WithActivityOptions(ctx, batchOptions)
		batches := batchesOf(len(h.Subscriptions))
		return inParallel(ctx, maxParallelBatches, len(batches), func(i int) workflow.Future {
			b := batches[i]
			return w.batchDone(ctx, workflow.ExecuteActivity(bctx, w.acts.StopCharges, activities.ChargeBatch{Subscriptions: h.Subscriptions[b[0]:b[1]]}),
				&w.progress.ChargesStopped)
		}, func() {})
	}
	return inParallel(ctx, maxParallelReleases, len(h.Subscriptions), func(i int) workflow.Future {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, releaseOptions), w.acts.StopCharge, h.Subscriptions[i])
	}, func() { w.progress.ChargesStopped++ })
}

func (w *closeAccount) releaseNumbers(ctx, actx workflow.Context) error {
	h, err := w.holdings(ctx, actx)
	if err != nil {
		return err
	}
	return w.releaseNumbersOf(ctx, h)
}

func (w *closeAccount) releaseNumbersOf(ctx workflow.Context, h activities.Holdings) error {
	if w.local {
		bctx := workflow.WithActivityOptions(ctx, batchOptions)
		batches := batchesOf(len(h.Numbers))
		return inParallel(ctx, maxParallelBatches, len(batches), func(i int) workflow.Future {
			b := batches[i]
			return w.batchDone(ctx, workflow.ExecuteActivity(bctx, w.acts.ReleaseNumbers, activities.ReleaseBatch{Numbers: h.Numbers[b[0]:b[1]]}),
				&w.progress.Released)
		}, func() {})
	}
	return inParallel(ctx, maxParallelReleases, len(h.Numbers), func(i int) workflow.Future {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, releaseOptions), w.acts.ReleaseNumber, h.Numbers[i])
	}, func() { w.progress.Released++ })
}

// chargesAndNumbers stops the charges and releases the numbers at the same
// time, each marked as its own step; it returns the first error, once
// both have ended.
func (w *closeAccount) chargesAndNumbers(ctx workflow.Context) error {
	w.setStage(ctx, StepStopCharges)
	stopCharges, releaseNumbers := w.stopCharges, w.releaseNumbers
	if w.shaped {
		// One list of the holdings for both batches.
		w.mark(StepStopCharges, StepRunning, "")
		h, err := w.holdings(ctx, workflow.WithActivityOptions(ctx, activityOptions))
		if err != nil {
			w.mark(StepStopCharges, StepFailed, err.Error())
			return err
		}
		stopCharges = func(ctx, _ workflow.Context) error { return w.stopChargesOf(ctx, h) }
		releaseNumbers = func(ctx, _ workflow.Context) error { return w.releaseNumbersOf(ctx, h) }
	}
	errs := map[string]error{}
	wg := workflow.NewWaitGroup(ctx)
	for _, s := range []struct {
		name string
		fn   func(ctx, actx workflow.Context) error
	}{{StepStopCharges, stopCharges}, {StepReleaseNumbers, releaseNumbers}} {
		w.mark(s.name, StepRunning, "")
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			err := s.fn(ctx, workflow.WithActivityOptions(ctx, activityOptions))
			if err != nil {
				w.mark(s.name, StepFailed, err.Error())
				errs[s.name] = err
				return
			}
			w.mark(s.name, StepCompleted, "")
		})
	}
	wg.Wait(ctx)
	if err := errs[StepStopCharges]; err != nil {
		return err
	}
	return errs[StepReleaseNumbers]
}

// batchesOf splits n items into [from, to) ranges of at most
// activities.MaxBatch.
func batchesOf(n int) [][2]int {
	var out [][2]int
	for from := 0; from < n; from += activities.MaxBatch {
		out = append(out, [2]int{from, min(from+activities.MaxBatch, n)})
	}
	return out
}

// batchDone is f, a batch activity, whose count of items done is added to
// *count once it completes.
func (w *closeAccount) batchDone(ctx workflow.Context, f workflow.Future, count *int) workflow.Future {
	out, set := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		var n int
		err := f.Get(ctx, &n)
		if err == nil {
			*count += n
		}
		set.Set(nil, err)
	})
	return out
}

// inParallel starts n futures, at most limit at a time, and waits for
// them all; done runs after each success. It returns the first error.
func inParallel(ctx workflow.Context, limit, n int, start func(i int) workflow.Future, done func()) error {
	var first error
	sel := workflow.NewSelector(ctx)
	running := 0
	wait := func() {
		sel.Select(ctx)
		running--
	}
	for i := 0; i < n; i++ {
		if running == limit {
			wait()
		}
		sel.AddFuture(start(i), func(f workflow.Future) {
			if err := f.Get(ctx, nil); err != nil {
				if first == nil {
					first = err
				}
				return
			}
			done()
		})
		running++
	}
	for running > 0 {
		wait()
	}
	return first
}

// step runs fn as the named step, keeping the progress and the
// LifecycleStage search attribute up to date.
func (w *closeAccount) step(ctx workflow.Context, name string, fn func() error) error {
	w.setStage(ctx, name)
	w.mark(name, StepRunning, "")
	if err := fn(); err != nil {
		w.mark(name, StepFailed, err.Error())
		return err
	}
	w.mark(name, StepCompleted, "")
	return nil
}

func (w *closeAccount) mark(name, status, errMsg string) {
	for i := range w.progress.Steps {
		if w.progress.Steps[i].Name == name {
			w.progress.Steps[i].Status, w.progress.Steps[i].Error = status, errMsg
			return
		}
	}
	panic(fmt.Sprintf("unknown step %s", name))
}

// setStage makes stage the closure's stage, and publishes it as the
// LifecycleStage search attribute (a shaped closure's local steps
// excepted: see versionClosureShape).
func (w *closeAccount) setStage(ctx workflow.Context, stage string) {
	w.progress.Stage = stage
	if w.shaped && localStages[stage] {
		return
	}
	w.publishStage(ctx, stage)
}

func (w *closeAccount) publishStage(ctx workflow.Context, stage string) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, LifecycleStageKey.ValueSet(stage)); err != nil {
		w.log.Warn("setting LifecycleStage", "Error", err)
	}
}

func (w *closeAccount) finish(ctx workflow.Context, stage string) {
	w.progress.Status = StepCompleted
	w.setStage(ctx, stage)
}

// fail records why the closure stopped (cancelled or failed) and returns
// err.
func (w *closeAccount) fail(ctx workflow.Context, err error) error {
	w.progress.Status = StepFailed
	w.progress.Error = failureOf(err)
	stage := StageFailed
	var canceled *temporal.CanceledError
	if errors.As(err, &canceled) {
		stage = StageCancelled
	}
	w.setStage(ctx, stage)
	w.log.Error("closure stopped", "stage", stage, "Error", err)
	return err
}
