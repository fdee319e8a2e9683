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

// InvitationInput is what the API passes to InvitationWorkflow.
type InvitationInput struct {
	OrganizationSid string
	AccountSid      string
	InvitationSid   string
	TTL             time.Duration // how long each emailed link lives
	ResendInterval  time.Duration // the least time between two sends
	Actor           domain.Actor
}

// InvitationState is the invitation as the workflow sees it; the progress
// query and every update return it.
type InvitationState struct {
	Status      string    `json:"status"`
	SentCount   int       `json:"sent_count"`
	LastSentAt  time.Time `json:"last_sent_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	LinkVersion int       `json:"link_version"`
}

// AnswerRequest is the answer from a confirmation page, for the link
// version it was given.
type AnswerRequest = domain.LinkAnswer

// InvitationWorkflow emails an invitation and waits for the invitee's
// answer, a revocation, or the expiry of the latest link. A resend issues
// a new link (the old one stops working) and restarts the expiry.
func InvitationWorkflow(ctx workflow.Context, in InvitationInput) (InvitationState, error) {
	w := &invitation{in: in, state: InvitationState{Status: domain.InvitationPending}}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	return w.run(ctx)
}

type invitation struct {
	in    InvitationInput
	state InvitationState
	acts  *activities.Activities
	log   log.Logger
}

// domainError is how validators and handlers refuse: the API maps it back
// to the domain error (and its HTTP status).
func domainError(e *domain.Error) error {
	return temporal.NewApplicationErrorWithOptions(e.Message, activities.ErrorType, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{activities.DomainFailure{Kind: e.Kind, Code: e.Code, Message: e.Message, RetryAfter: e.RetryAfter}},
	})
}

func (w *invitation) notPending() error {
	if w.state.Status != domain.InvitationPending {
		return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is %s", w.state.Status))
	}
	return nil
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
		if !req.Accept {
			return w.finish(actx, domain.InvitationDeclined, req.Actor)
		}
		st, err := w.finish(actx, domain.InvitationAccepted, req.Actor)
		if err == nil {
			if nerr := workflow.ExecuteActivity(actx, w.acts.NotifyInviter, w.in.InvitationSid).Get(ctx, nil); nerr != nil {
				w.log.Error("notifying the inviter", "Error", nerr)
			}
		}
		return st, err
	}, workflow.UpdateHandlerOptions{Validator: validAnswer})
}

func (w *invitation) checkResend(ctx workflow.Context) error {
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
