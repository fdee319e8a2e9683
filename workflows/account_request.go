package workflows

import (
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Updates of the import and share workflows: the owner's answer from the
// confirmation page, and the requester's cancellation. Their validators
// refuse what the state does not allow, so callers get the error at once.
const (
	RequestAnswerUpdate = "answer"
	RequestCancelUpdate = "cancel"
)

// AccountRequestWorkflowID is the workflow ID of an import or share
// request; it derives from the request SID.
func AccountRequestWorkflowID(kind, requestSid string) string {
	return domain.AccountRequestWorkflowID(kind, requestSid)
}

// ImportAccountWorkflowID is the workflow ID of an import request.
func ImportAccountWorkflowID(requestSid string) string {
	return domain.AccountRequestWorkflowID(domain.RequestImport, requestSid)
}

// ShareAccountWorkflowID is the workflow ID of a share request.
func ShareAccountWorkflowID(requestSid string) string {
	return domain.AccountRequestWorkflowID(domain.RequestShare, requestSid)
}

// AccountRequestInput is what the requests service passes to
// ImportAccountWorkflow and ShareAccountWorkflow. ExpiresAt is stored with
// the request; the reminder goes out half-way between the start and it.
// RequesterSid and Grants are what StartUpdate records (runs started
// before it was the request's record already, written by the API).
type AccountRequestInput struct {
	OrganizationSid string
	AccountSid      string
	RequestSid      string
	ExpiresAt       time.Time
	Actor           domain.Actor
	RequesterSid    string
	Grants          []domain.Grant
}

// RequestState is the request as its workflow sees it; the progress query
// and the updates return it.
type RequestState = domain.RequestState

// ImportAccountWorkflow asks an account's owner to confirm that the
// organization may import the account (it becomes managed), reminds them
// half-way, and ends when they confirm or decline, the requester cancels,
// or the request expires.
func ImportAccountWorkflow(ctx workflow.Context, in AccountRequestInput) (RequestState, error) {
	return runAccountRequest(ctx, domain.RequestImport, in)
}

// ShareAccountWorkflow does the same for sharing an independent account
// with the organization.
func ShareAccountWorkflow(ctx workflow.Context, in AccountRequestInput) (RequestState, error) {
	return runAccountRequest(ctx, domain.RequestShare, in)
}

type accountRequest struct {
	in    AccountRequestInput
	state RequestState
	acts  *activities.Activities
	log   log.Logger
	// ending is set while an answer or a cancellation is being carried
	// out, so the expiry cannot race it.
	ending bool
	// version is versionUpdateWithStart for runs whose request is
	// recorded by StartUpdate. opened is set once it ran: request is the
	// record, or openErr why it was refused.
	version         workflow.Version
	opening, opened bool
	// local is set for runs that record the request in a local activity
	// (see changeLocalSteps).
	local   bool
	request domain.AccountRequest
	openErr error
}

func runAccountRequest(ctx workflow.Context, kind string, in AccountRequestInput) (RequestState, error) {
	w := &accountRequest{in: in, state: RequestState{Kind: kind, Status: domain.RequestPending, ExpiresAt: in.ExpiresAt}}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	if w.version == versionUpdateWithStart {
		if ok, err := w.awaitOpened(ctx); !ok || err != nil {
			return w.state, err
		}
	}
	return w.run(ctx)
}

// awaitOpened waits for StartUpdate's answer: ok when the request was
// recorded. A refusal (the caller had it as StartUpdate's answer) fails the
// run with it; nothing was recorded.
func (w *accountRequest) awaitOpened(ctx workflow.Context) (bool, error) {
	started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opened })
	switch {
	case err != nil:
		return false, err
	case !started:
		w.state.Status = domain.RequestCancelled
		w.log.Warn("the request was never started")
		return false, nil
	case w.openErr != nil:
		return false, w.openErr
	}
	return true, nil
}

// openRequest is StartUpdate's handler: one activity applies every rule of
// an import or a share and records the pending request. A retried
// request gets the first answer.
func (w *accountRequest) openRequest(ctx workflow.Context) (domain.AccountRequest, error) {
	if w.opening {
		if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
			return domain.AccountRequest{}, err
		}
		return w.request, w.openErr
	}
	w.opening = true
	w.openErr = dbStep(workflow.WithActivityOptions(ctx, activityOptions), w.local, w.acts.OpenAccountRequest, activities.OpenRequestInput{
		Request: domain.AccountRequest{
			Sid: w.in.RequestSid, OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid, Kind: w.state.Kind,
			RequesterSid: w.in.RequesterSid, Grants: w.in.Grants, ExpiresAt: w.in.ExpiresAt,
		},
		Actor: w.in.Actor,
	}).Get(ctx, &w.request)
	if w.openErr != nil {
		w.log.Info("request refused", "Error", w.openErr)
	}
	w.opened = true
	return w.request, w.openErr
}

func (w *accountRequest) refuse(format string, args ...any) error {
	return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, format, args...))
}

// open refuses once the request is no longer pending (or is being ended),
// and, for runs started by StartUpdate, until it was recorded.
func (w *accountRequest) open(ctx workflow.Context) error {
	switch {
	case w.version == versionUpdateWithStart && (!w.opened || w.openErr != nil):
		return w.refuse("the request is not open")
	case w.state.Status != domain.RequestPending:
		return w.refuse("the request is %s", w.state.Status)
	case w.ending:
		return w.refuse("the request is being answered")
	case !workflow.Now(ctx).Before(w.state.ExpiresAt):
		return w.refuse("the request has expired")
	}
	return nil
}

func (w *accountRequest) setup(ctx workflow.Context) error {
	if !domain.ValidSID(domain.PrefixAccountRequest, w.in.RequestSid) || w.in.ExpiresAt.IsZero() {
		return domainError(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "invalid account request workflow input"))
	}
	w.log = log.With(workflow.GetLogger(ctx), "request_id", w.in.Actor.RequestID, "RequestSid", w.in.RequestSid, "kind", w.state.Kind)
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (RequestState, error) { return w.state, nil }); err != nil {
		return err
	}
	w.version = workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart)
	w.local = workflow.GetVersion(ctx, changeLocalSteps, workflow.DefaultVersion, versionLocalSteps) == versionLocalSteps
	if err := workflow.SetUpdateHandlerWithOptions(ctx, StartUpdate, w.openRequest, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context) error {
			if w.version != versionUpdateWithStart {
				return w.refuse("this request was started without %s", StartUpdate)
			}
			return nil
		}}); err != nil {
		return err
	}
	validAnswer := func(ctx workflow.Context, req AnswerRequest) error {
		if err := w.open(ctx); err != nil {
			return err
		}
		if req.LinkVersion != w.state.LinkVersion {
			return w.refuse("this link is no longer valid: a newer email was sent")
		}
		return nil
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, RequestAnswerUpdate, func(ctx workflow.Context, req AnswerRequest) (RequestState, error) {
		if err := validAnswer(ctx, req); err != nil {
			return w.state, err
		}
		status := domain.RequestDeclined
		if req.Accept {
			status = domain.RequestAccepted
		}
		return w.finish(ctx, status, req.Actor)
	}, workflow.UpdateHandlerOptions{Validator: validAnswer}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, RequestCancelUpdate, func(ctx workflow.Context, actor domain.Actor) (RequestState, error) {
		if err := w.open(ctx); err != nil {
			return w.state, err
		}
		return w.finish(ctx, domain.RequestCancelled, actor)
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, actor domain.Actor) error { return w.open(ctx) }})
}

// finish ends the request with status through the activity (which, for an
// acceptance, brings the account into the organization). On a refusal by
// the store (the account joined another organization meanwhile) the
// request stays pending and the caller sees why.
func (w *accountRequest) finish(ctx workflow.Context, status string, actor domain.Actor) (RequestState, error) {
	w.ending = true
	defer func() { w.ending = false }()
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	var out domain.AccountRequest
	err := workflow.ExecuteActivity(actx, w.acts.FinishAccountRequest, activities.FinishRequestInput{
		RequestSid: w.in.RequestSid, Status: status, Actor: actor,
	}).Get(ctx, &out)
	if err != nil {
		w.log.Error("ending the request", "status", status, "Error", err)
		return w.state, err
	}
	w.state.Status = out.Status
	return w.state, nil
}

// send emails link version v (1: the request, 2: the reminder).
func (w *accountRequest) send(ctx workflow.Context, reminder bool) error {
	prev := w.state
	next := prev.LinkVersion + 1
	// The link is current from the moment it is issued, inside the
	// activity: an owner who answers from the email before the activity's
	// completion reaches the workflow must not be told a newer email was
	// sent.
	w.state.LinkVersion, w.state.SentCount, w.state.Reminded = next, next, prev.Reminded || reminder
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activityOptions), w.acts.SendAccountRequest, activities.SendRequestInput{
		RequestSid: w.in.RequestSid, Version: next, Reminder: reminder, SentAt: workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		w.state.LinkVersion, w.state.SentCount, w.state.Reminded = prev.LinkVersion, prev.SentCount, prev.Reminded
		return err
	}
	return nil
}

func (w *accountRequest) pending() bool { return w.state.Status == domain.RequestPending }

// waitUntil waits for t unless the request ends first; it reports whether
// t was reached with the request still pending and no answer in flight.
func (w *accountRequest) waitUntil(ctx workflow.Context, t time.Time) (bool, error) {
	if d := t.Sub(workflow.Now(ctx)); d > 0 {
		if _, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return !w.pending() }); err != nil {
			return false, err
		}
	}
	// An answer being carried out wins over the clock.
	if err := workflow.Await(ctx, func() bool { return !w.ending }); err != nil {
		return false, err
	}
	return w.pending(), nil
}

func (w *accountRequest) run(ctx workflow.Context) (RequestState, error) {
	start := workflow.Now(ctx)
	if err := w.send(ctx, false); err != nil {
		_, _ = w.finish(ctx, domain.RequestCancelled, domain.SystemActor)
		return w.state, err
	}
	remindAt := start.Add(w.in.ExpiresAt.Sub(start) / 2)
	if ok, err := w.waitUntil(ctx, remindAt); err != nil {
		return w.state, err
	} else if ok {
		if err := w.send(ctx, true); err != nil {
			w.log.Error("sending the reminder", "Error", err)
		}
	}
	if ok, err := w.waitUntil(ctx, w.in.ExpiresAt); err != nil {
		return w.state, err
	} else if ok {
		if _, err := w.finish(ctx, domain.RequestExpired, domain.SystemActor); err != nil {
			return w.state, err
		}
	}
	// Let answer/cancel handlers finish before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.state, err
	}
	if w.state.Status != domain.RequestCancelled {
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activityOptions), w.acts.NotifyRequester, w.in.RequestSid).Get(ctx, nil); err != nil {
			w.log.Error("notifying the requester", "Error", err)
		}
	}
	w.log.Info("account request ended", "status", w.state.Status)
	return w.state, nil
}
