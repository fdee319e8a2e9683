package workflows

import (
	"context"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// OpenAccountRequest starts an import or share request
// (lifecycle.RequestEngine): Update-with-Start of its workflow, whose
// StartUpdate applies every rule and records the request. The answer is
// the pending request or the domain error that refused it (nothing is
// recorded then). A retry after the run has ended answers with an empty
// request: the caller reads it from the store.
func (c Client) OpenAccountRequest(ctx context.Context, r domain.AccountRequest, actor domain.Actor) (domain.AccountRequest, domain.Run, error) {
	fn := any(ImportAccountWorkflow)
	if r.Kind == domain.RequestShare {
		fn = ShareAccountWorkflow
	}
	in := AccountRequestInput{
		OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, RequestSid: r.Sid, ExpiresAt: r.ExpiresAt, Actor: actor,
		RequesterSid: r.RequesterSid, Grants: r.Grants,
	}
	ended := func(ctx context.Context, run domain.Run) (domain.AccountRequest, error) {
		err := c.Temporal.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, nil)
		if e, ok := activities.AsDomainError(err); ok {
			return domain.AccountRequest{}, e
		} else if err != nil {
			return domain.AccountRequest{}, unavailable(err)
		}
		return domain.AccountRequest{}, nil
	}
	what := "Import account %s into organization %s (request %s): wait for the owner's answer"
	if r.Kind == domain.RequestShare {
		what = "Share account %s with organization %s (request %s): wait for the owner's answer"
	}
	opts := summarized(c.options(AccountRequestWorkflowID(r.Kind, r.Sid), r.OrganizationSid, r.AccountSid, actor.RequestID),
		what, r.AccountSid, r.OrganizationSid, r.Sid)
	return startWith(ctx, c, opts, ended, fn, in)
}

// updateRequest sends an update to a request's workflow and waits for its
// answer; a workflow that has ended means the request is no longer pending.
func (c Client) updateRequest(ctx context.Context, kind, sid, name string, args ...any) (RequestState, error) {
	return update[RequestState](ctx, c, AccountRequestWorkflowID(kind, sid), name,
		domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the request is no longer pending"), args...)
}

// CancelAccountRequest ends a pending request on the requester's behalf.
func (c Client) CancelAccountRequest(ctx context.Context, kind, sid string, actor domain.Actor) (RequestState, error) {
	return c.updateRequest(ctx, kind, sid, RequestCancelUpdate, actor)
}

// RelinquishAccount ends an organization's access to an independent
// account (lifecycle.RequestEngine): Update-with-Start of
// RelinquishAccountWorkflow, whose StartUpdate revokes the account's
// pending invitations and relinquishes it. The answer is the account,
// standalone again, or the domain error that refused it; the owner's
// email follows from the workflow.
func (c Client) RelinquishAccount(ctx context.Context, r domain.Relinquishment) (domain.Account, domain.Run, error) {
	in := RelinquishInput{OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, Version: r.Version, Actor: r.Actor}
	ended := func(ctx context.Context, run domain.Run) (domain.Account, error) {
		var res RelinquishResult
		err := c.Temporal.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, &res)
		if e, ok := activities.AsDomainError(err); ok {
			return res.Account, e
		} else if err != nil {
			return res.Account, unavailable(err)
		}
		return res.Account, nil
	}
	opts := summarized(c.options(RelinquishAccountWorkflowID(r.AccountSid, r.Version), r.OrganizationSid, r.AccountSid, r.Actor.RequestID),
		"Relinquish account %s from organization %s", r.AccountSid, r.OrganizationSid)
	return startWith(ctx, c, opts, ended, RelinquishAccountWorkflow, in)
}
