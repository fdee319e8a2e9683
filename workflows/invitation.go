package workflows

import (
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Names of InvitationWorkflow's updates. Each answers the caller at once,
// and its validator refuses what the state does not allow, so the API can
// answer with the right error instead of a silently failed workflow.
const (
	ResendUpdate = "resend"
	RevokeUpdate = "revoke"
	AnswerUpdate = "answer"
)

// InvitationWorkflowID is the workflow ID of an invitation.
func InvitationWorkflowID(invitationSid string) string { return "invitation/" + invitationSid }

// InvitationInput is what the invitations service passes to
// InvitationWorkflow. Email, Roles and InviterSid are the invitation its
// StartUpdate records (runs started before that found it recorded by the
// API already).
type InvitationInput struct {
	OrganizationSid string
	AccountSid      string
	InvitationSid   string
	TTL             time.Duration // how long each emailed link lives
	ResendInterval  time.Duration // the least time between two sends
	Actor           domain.Actor
	Email           string
	Roles           []string
	InviterSid      string
}

// InvitationState is the invitation as the workflow sees it; the progress
// query and every update return it.
type InvitationState = domain.InvitationState

// AnswerRequest is the answer from a confirmation page, for the link
// version it was given.
type AnswerRequest = domain.LinkAnswer

// InvitationWorkflow records an invitation (its StartUpdate, sent with
// the start, answers with it or with the refusal), emails it and waits for
// the invitee's answer, a revocation, or the expiry of the latest link. A
// resend issues a new link (the old one stops working) and restarts the
// expiry.
func InvitationWorkflow(ctx workflow.Context, in InvitationInput) (InvitationState, error) {
	w := &invitation{in: in, state: InvitationState{Status: domain.InvitationPending}}
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

type invitation struct {
	in    InvitationInput
	state InvitationState
	acts  *activities.Activities
	log   log.Logger
	// version is versionUpdateWithStart for runs whose invitation is
	// recorded by StartUpdate. opened is set once that ran: record is
	// the invitation, or openErr why it was refused.
	version         workflow.Version
	opening, opened bool
	// local is set for runs that record the invitation in a local
	// activity (see changeLocalSteps).
	local   bool
	record  domain.Invitation
	openErr error
	// ending is set while an answer is being carried out (runs that
	// settle answers first): the invitation is still pending, but takes
	// no other answer, resend or revocation, and the expiry waits.
	ending bool
}

// Answers settle before the state moves: the invitation stays pending
// until the activity has carried the answer out, so a refusal (enrol in
// two-factor authentication first) leaves it open. Answers to older runs
// moved the state first.
const (
	changeAnswerSettles                   = "answer-settles-first"
	versionAnswerSettles workflow.Version = 1
)

// domainError is how validators and handlers refuse: the API maps it back
// to the domain error (and its HTTP status).
func domainError(e *domain.Error) error {
	return temporal.NewApplicationErrorWithOptions(e.Message, activities.ErrorType, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{activities.DomainFailure{Kind: e.Kind, Code: e.Code, Message: e.Message, RetryAfter: e.RetryAfter}},
	})
}

// busy refuses while the invitation cannot take a change: before
// StartUpdate recorded it, and while an answer is being carried out.
func (w *invitation) busy() error {
	switch {
	case w.version == versionUpdateWithStart && (!w.opened || w.openErr != nil):
		return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is not open"))
	case w.ending:
		return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is being answered"))
	}
	return nil
}

func (w *invitation) notPending() error {
	if w.state.Status != domain.InvitationPending {
		return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is %s", w.state.Status))
	}
	return w.busy()
}

// open is StartUpdate's handler: one activity records the invitation,
// under the rules the store applies (25019 a pending invitation for the
// email already, or an account that accepts none; 25101). A retried
// request gets the first answer.
func (w *invitation) open(ctx workflow.Context) (domain.Invitation, error) {
	if w.opening {
		if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
			return domain.Invitation{}, err
		}
		return w.record, w.openErr
	}
	w.opening = true
	w.openErr = dbStep(workflow.WithActivityOptions(ctx, activityOptions), w.local, w.acts.OpenInvitation, activities.OpenInvitationInput{
		Invitation: domain.Invitation{
			Sid: w.in.InvitationSid, OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid,
			Email: w.in.Email, Roles: w.in.Roles, InviterSid: w.in.InviterSid,
		},
		Actor: w.in.Actor,
	}).Get(ctx, &w.record)
	if w.openErr != nil {
		w.log.Info("invitation refused", "Error", w.openErr)
	}
	w.opened = true
	return w.record, w.openErr
}

// awaitOpened waits for StartUpdate: ok once the invitation is recorded.
// A refusal (the caller had it as StartUpdate's answer) fails the run with
// it, leaving nothing recorded; a run whose StartUpdate never came ends.
func (w *invitation) awaitOpened(ctx workflow.Context) (bool, error) {
	started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opening })
	if err == nil && started {
		err = workflow.Await(ctx, func() bool { return w.opened })
	}
	switch {
	case err != nil:
		return false, err
	case !started:
		w.state.Status = domain.InvitationRevoked
		w.log.Warn("the invitation was never started")
		return false, nil
	case w.openErr != nil:
		return false, w.openErr
	}
	return true, nil
}

func (w *invitation) setup(ctx workflow.Context) error {
	if w.in.ResendInterval <= 0 {
		w.in.ResendInterval = domain.DefaultResendInterval
	}
	if !domain.ValidSID(domain.PrefixInvitation, w.in.InvitationSid) || w.in.TTL <= 0 {
		return domainError(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "invalid invitation workflow input"))
	}
	w.log = log.With(workflow.GetLogger(ctx), "request_id", w.in.Actor.RequestID, "InvitationSid", w.in.InvitationSid)
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (InvitationState, error) { return w.state, nil }); err != nil {
		return err
	}
	w.version = workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart)
	w.local = workflow.GetVersion(ctx, changeLocalSteps, workflow.DefaultVersion, versionLocalSteps) == versionLocalSteps
	if err := workflow.SetUpdateHandlerWithOptions(ctx, StartUpdate, w.open, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context) error {
			if w.version != versionUpdateWithStart {
				return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this invitation was started without %s", StartUpdate))
			}
			return nil
		}}); err != nil {
		return err
	}
	// Each handler runs in its own coroutine and must schedule activities
	// on its own context.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, ResendUpdate, func(ctx workflow.Context) (InvitationState, error) {
		// Checked again here: two resends may pass their validators in
		// one workflow task.
		if err := w.checkResend(ctx); err != nil {
			return w.state, err
		}
		err := w.send(workflow.WithActivityOptions(ctx, activityOptions))
		return w.state, err
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error { return w.checkResend(ctx) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, RevokeUpdate, func(ctx workflow.Context, actor domain.Actor) (InvitationState, error) {
		if err := w.notPending(); err != nil {
			return w.state, err
		}
		return w.finish(workflow.WithActivityOptions(ctx, activityOptions), domain.InvitationRevoked, actor)
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, actor domain.Actor) error { return w.notPending() }}); err != nil {
		return err
	}
	validAnswer := func(ctx workflow.Context, req AnswerRequest) error {
		if err := w.notPending(); err != nil {
			return err
		}
		if req.LinkVersion != w.state.LinkVersion {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this link is no longer valid: a newer invitation was sent"))
		}
		if !workflow.Now(ctx).Before(w.state.ExpiresAt) {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this invitation has expired"))
		}
		return nil
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, AnswerUpdate, func(ctx workflow.Context, req AnswerRequest) (InvitationState, error) {
		if err := validAnswer(ctx, req); err != nil {
			return w.state, err
		}
		actx := workflow.WithActivityOptions(ctx, activityOptions)
		status := domain.InvitationDeclined
		if req.Accept {
			status = domain.InvitationAccepted
		}
		var st InvitationState
		var err error
		if workflow.GetVersion(ctx, changeAnswerSettles, workflow.DefaultVersion, versionAnswerSettles) == workflow.DefaultVersion {
			st, err = w.finish(actx, status, req.Actor)
		} else {
			st, err = w.settle(actx, status, req.Actor)
		}
		if err == nil && req.Accept {
			if nerr := workflow.ExecuteActivity(actx, w.acts.NotifyInviter, w.in.InvitationSid).Get(ctx, nil); nerr != nil {
				w.log.Error("notifying the inviter", "Error", nerr)
			}
		}
		return st, err
	}, workflow.UpdateHandlerOptions{Validator: validAnswer})
}

func (w *invitation) checkResend(ctx workflow.Context) error {
	if err := w.busy(); err != nil {
		return err
	}
	if err := domain.CheckResend(w.state.Status, w.state.SentCount, w.state.LastSentAt, workflow.Now(ctx), w.in.ResendInterval); err != nil {
		e, _ := domain.AsError(err)
		return domainError(e)
	}
	return nil
}

// send issues the next link version and emails it; the expiry restarts.
func (w *invitation) send(ctx workflow.Context) error {
	now := workflow.Now(ctx)
	next := w.state
	next.LinkVersion++
	next.SentCount++
	next.LastSentAt, next.ExpiresAt = now, now.Add(w.in.TTL)
	// The state moves before the activity runs, so a second resend in the
	// same moment sees this one.
	prev := w.state
	w.state = next
	err := workflow.ExecuteActivity(ctx, w.acts.SendInvitation, activities.SendInvitationInput{
		InvitationSid: w.in.InvitationSid, Version: next.LinkVersion, ExpiresAt: next.ExpiresAt, SentAt: now,
	}).Get(ctx, nil)
	if err != nil && next.LinkVersion > 1 {
		w.state = prev
	}
	return err
}

// finish ends the invitation with status. The state changes first, so no
// other answer is accepted meanwhile.
func (w *invitation) finish(ctx workflow.Context, status string, actor domain.Actor) (InvitationState, error) {
	w.state.Status = status
	err := workflow.ExecuteActivity(ctx, w.acts.FinishInvitation, activities.AnswerInput{
		InvitationSid: w.in.InvitationSid, Status: status, Actor: actor,
	}).Get(ctx, nil)
	return w.state, err
}

// settle carries an answer out and only then ends the invitation with
// status: a refusal (CheckTwoFactor, applied by the activity) leaves it
// pending, and the caller has the refusal. Meanwhile it takes no other
// change (busy).
func (w *invitation) settle(ctx workflow.Context, status string, actor domain.Actor) (InvitationState, error) {
	w.ending = true
	err := workflow.ExecuteActivity(ctx, w.acts.FinishInvitation, activities.AnswerInput{
		InvitationSid: w.in.InvitationSid, Status: status, Actor: actor,
	}).Get(ctx, nil)
	w.ending = false
	if err != nil {
		w.log.Info("answer refused", "status", status, "Error", err)
		return w.state, err
	}
	w.state.Status = status
	return w.state, nil
}

func (w *invitation) run(ctx workflow.Context) (InvitationState, error) {
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	if err := w.send(actx); err != nil {
		w.state.Status = domain.InvitationRevoked
		_, _ = w.finish(actx, domain.InvitationRevoked, domain.SystemActor)
		if e, ok := activities.AsDomainError(err); ok && e.Code == domain.CodeInvalidState {
			// Revoked before it could be sent (its account started
			// closing): that is how it ends, not a failure.
			w.log.Info("invitation ended before it was sent", "status", w.state.Status)
			return w.state, nil
		}
		return w.state, err
	}
	for w.state.Status == domain.InvitationPending {
		deadline := w.state.ExpiresAt
		wait := deadline.Sub(workflow.Now(ctx))
		fired := false
		if wait > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, wait, func() bool {
				return w.state.Status != domain.InvitationPending || !w.state.ExpiresAt.Equal(deadline)
			})
			if err != nil {
				return w.state, err
			}
			fired = !ok
		} else {
			fired = true
		}
		if fired && w.ending {
			// An answer being carried out wins over the clock.
			if err := workflow.Await(ctx, func() bool { return !w.ending }); err != nil {
				return w.state, err
			}
		}
		if fired && w.state.Status == domain.InvitationPending && w.state.ExpiresAt.Equal(deadline) {
			if _, err := w.finish(actx, domain.InvitationExpired, domain.SystemActor); err != nil {
				return w.state, err
			}
		}
	}
	// Let answer/revoke handlers finish their activities before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.state, err
	}
	w.log.Info("invitation ended", "status", w.state.Status)
	return w.state, nil
}
