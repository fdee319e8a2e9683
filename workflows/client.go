package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Client starts and inspects orgaccounts' workflows for the API.
type Client struct {
	Temporal  client.Client
	TaskQueue string
	// InvitationTTL is how long an emailed invitation link lives;
	// ResendInterval the least time between two sends of one invitation.
	InvitationTTL  time.Duration
	ResendInterval time.Duration
	// DomainTimings are the intervals of domain verification.
	DomainTimings DomainTimings
}

func (c Client) options(id, orgSid, accountSid, requestID string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		// The request that started the workflow, shown in the Web UI: the
		// same id is on the API's log line and on the audit events.
		Memo:      map[string]any{"request_id": requestID},
		ID:        id,
		TaskQueue: c.TaskQueue,
		// A retried request finds the run already there and gets it back
		// instead of starting a twin.
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowExecutionErrorWhenAlreadyStarted: false,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			OrganizationSidKey.ValueSet(orgSid),
			AccountSidKey.ValueSet(accountSid),
		),
	}
}

// summarized gives a start the sentence the Temporal Web UI shows in its
// list of workflows (StaticSummary), so an operator reads what each run is
// for without opening it. Summaries name SIDs, never an email or a secret.
func summarized(opts client.StartWorkflowOptions, format string, args ...any) client.StartWorkflowOptions {
	opts.StaticSummary = fmt.Sprintf(format, args...)
	return opts
}

// StartAccountCreation starts the workflow of a creation whose account
// the API persisted (lifecycle.AccountEngine): the Flex steps and the
// activation. The start is eager: when this process runs a worker for the
// task queue, the server hands it the run's first task with the answer to
// the start, so the task skips the server's queue. Starting it again (a
// retried request, the relay of pending creations) names the same run,
// running or ended. A start that fails still names the workflow's ID.
func (c Client) StartAccountCreation(ctx context.Context, cr domain.AccountCreation) (domain.Run, error) {
	in := CreateAccountInput{
		OrganizationSid: cr.OrganizationSid, AccountSid: cr.AccountSid, FriendlyName: cr.FriendlyName, OwnerSid: cr.OwnerSid, Owner: cr.Owner,
		Flex: cr.Flex, CreatorSid: cr.CreatorSid, RequestedAt: cr.RequestedAt, Actor: cr.Actor, ParentSid: cr.ParentSid, Persisted: true,
	}
	opts := summarized(c.options(CreateAccountWorkflowID(in.AccountSid), in.OrganizationSid, in.AccountSid, in.Actor.RequestID),
		"Create account %s in organization %s", in.AccountSid, in.OrganizationSid)
	opts.EnableEagerStart = true
	run, err := c.Temporal.ExecuteWorkflow(ctx, opts, CreateAccountWorkflow, in)
	if err != nil {
		return domain.Run{WorkflowID: opts.ID}, unavailable(err)
	}
	return domain.Run{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
}

// CreateAccountProgress asks the creation workflow of an account for its
// progress (25101 when there is none). The run it answers with names the
// workflow's ID even then.
func (c Client) CreateAccountProgress(ctx context.Context, accountSid string) (Progress, Started, error) {
	p, run, err := progress[Progress](ctx, c, CreateAccountWorkflowID(accountSid),
		domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "no creation is known for account %s", accountSid))
	run.WorkflowID = CreateAccountWorkflowID(accountSid)
	return p, run, err
}

// progress asks a workflow's latest run for its progress, and names the
// run; a workflow that is not there gives notFound.
func progress[T any](ctx context.Context, c Client, id string, notFound *domain.Error) (T, Started, error) {
	var p T
	resp, err := c.Temporal.QueryWorkflow(ctx, id, "", ProgressQuery)
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return p, Started{}, notFound
		}
		return p, Started{}, unavailable(err)
	}
	if err := resp.Get(&p); err != nil {
		return p, Started{}, fmt.Errorf("decoding progress: %w", err)
	}
	desc, err := c.Temporal.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return p, Started{}, unavailable(err)
	}
	return p, Started{WorkflowID: id, RunID: desc.WorkflowExecution.RunID}, nil
}

func unavailable(err error) error {
	return fmt.Errorf("%w: %w", &domain.Error{Kind: domain.EUnavailable, Code: domain.CodeUnavailable, Message: "the workflow service is unavailable; try again"}, err)
}

// StartUpdate is the first Update of every lifecycle workflow: sent with
// the workflow's start (Update-with-Start), it persists the lifecycle's
// record through an activity and answers with it, or with the domain error
// that refused it, so the caller learns the outcome at once and no
// compensation is ever needed. Sent again to a running workflow (a retried
// request), it answers with the same record.
const StartUpdate = "start"

// startWith is the one way a lifecycle starts: Update-with-Start of the
// workflow under its ID, waiting for StartUpdate's answer. A retried
// request finds the run already there (the conflict policy is "use
// existing") and gets its answer instead of a twin; once that run has
// closed (and the ID may not be reused), ended answers for it.
func startWith[T any](ctx context.Context, c Client, opts client.StartWorkflowOptions, ended func(context.Context, domain.Run) (T, error),
	fn any, args ...any) (T, domain.Run, error) {
	var out T
	opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
	op := c.Temporal.NewWithStartWorkflowOperation(opts, fn, args...)
	h, err := c.Temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions:          client.UpdateWorkflowOptions{UpdateName: StartUpdate, WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err == nil {
		err = h.Get(ctx, &out)
	}
	if err != nil {
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) && ended != nil {
			run := domain.Run{WorkflowID: opts.ID, RunID: already.RunId}
			out, err = ended(ctx, run)
			return out, run, err
		}
		if e, ok := activities.AsDomainError(err); ok {
			return out, domain.Run{}, e
		}
		return out, domain.Run{}, unavailable(err)
	}
	return out, domain.Run{WorkflowID: opts.ID, RunID: h.RunID()}, nil
}

// update sends an update to a workflow and waits for its answer. A refusal
// comes back as the domain error the workflow gave; a workflow that is not
// there (ended and gone, or never started) gives gone.
func update[T any](ctx context.Context, c Client, workflowID, name string, gone *domain.Error, args ...any) (T, error) {
	var out T
	h, err := c.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &out)
	}
	if err == nil {
		return out, nil
	}
	if e, ok := activities.AsDomainError(err); ok {
		return out, e
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return out, gone
	}
	return out, unavailable(err)
}

// Invite starts the workflow of an invitation (lifecycle.InvitationEngine)
// with its StartUpdate, which records the invitation: the answer is the
// pending invitation, or the domain error that refused it (25019 a pending
// invitation for the email already, or an account that accepts none;
// 25101), in which case nothing is recorded and the run has ended. When
// the run ended before (a retried request), only the invitation's SID is
// set, unless it had been refused.
func (c Client) Invite(ctx context.Context, inv domain.Invitation, actor domain.Actor) (domain.Invitation, domain.Run, error) {
	in := InvitationInput{
		OrganizationSid: inv.OrganizationSid, AccountSid: inv.AccountSid, InvitationSid: inv.Sid,
		TTL: c.InvitationTTL, ResendInterval: c.ResendInterval, Actor: actor,
		Email: inv.Email, Roles: inv.Roles, InviterSid: inv.InviterSid,
	}
	if in.TTL <= 0 {
		in.TTL = domain.DefaultInvitationTTL
	}
	ended := func(ctx context.Context, run domain.Run) (domain.Invitation, error) {
		err := c.Temporal.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, nil)
		if e, ok := activities.AsDomainError(err); ok {
			return domain.Invitation{}, e
		} else if err != nil {
			return domain.Invitation{}, unavailable(err)
		}
		return domain.Invitation{Sid: inv.Sid}, nil
	}
	opts := summarized(c.options(InvitationWorkflowID(inv.Sid), inv.OrganizationSid, inv.AccountSid, actor.RequestID),
		"Invitation %s to account %s: wait for the invitee's answer", inv.Sid, inv.AccountSid)
	return startWith(ctx, c, opts, ended, InvitationWorkflow, in)
}

// updateInvitation sends an update to an invitation's workflow and waits
// for its answer. A refusal comes back as the domain error the workflow
// gave; a workflow that has ended means the invitation is no longer
// pending.
func (c Client) updateInvitation(ctx context.Context, sid, name string, args ...any) (InvitationState, error) {
	return update[InvitationState](ctx, c, InvitationWorkflowID(sid), name,
		domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is no longer pending"), args...)
}

// ResendInvitation emails a fresh link (the old one stops working) and
// restarts the expiry; 25021 past the limits.
func (c Client) ResendInvitation(ctx context.Context, sid string) (InvitationState, error) {
	return c.updateInvitation(ctx, sid, ResendUpdate)
}

// RevokeInvitation ends a pending invitation.
func (c Client) RevokeInvitation(ctx context.Context, sid string, actor domain.Actor) (InvitationState, error) {
	return c.updateInvitation(ctx, sid, RevokeUpdate, actor)
}

// CancelRequest ends the workflow of a pending request for a closing
// account (activities.RequestCanceller): an invitation is revoked. A
// request whose workflow ended or never started is not an error. Imports
// and shares add their case here.
func (c Client) CancelRequest(ctx context.Context, r domain.PendingRequest, actor domain.Actor) error {
	switch r.Kind {
	case domain.RequestInvitation:
		_, err := c.RevokeInvitation(ctx, r.Sid, actor)
		if domain.ErrorCode(err) == domain.CodeInvalidState {
			return nil // no longer pending, or no workflow to tell
		}
		return err
	}
	return activities.NonRetryable(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "unknown kind of pending request %q", r.Kind))
}
