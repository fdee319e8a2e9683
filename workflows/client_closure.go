package workflows

import (
	"context"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// CloseAccount starts the closure of an account (lifecycle.ClosureEngine)
// by Update-with-Start: StartUpdate cuts the account off at once
// (pending_closure) and the answer is the closing account, or the domain
// error that refused the closure (25019 for the organization's last open
// account; nothing changed then). An account already closing answers with
// its running closure, Started false.
func (c Client) CloseAccount(ctx context.Context, cs domain.ClosureStart) (domain.ClosureBegun, domain.Run, error) {
	opts := summarized(c.options(CloseAccountWorkflowID(cs.AccountSid), cs.OrganizationSid, cs.AccountSid, cs.Actor.RequestID),
		"Close account %s, purge it after %s unless reopened", cs.AccountSid, cs.PurgeAfter.UTC().Format(time.RFC3339))
	// A reopened account may be closed again under the same ID.
	opts.WorkflowIDReusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	opts.TypedSearchAttributes = temporal.NewSearchAttributes(
		OrganizationSidKey.ValueSet(cs.OrganizationSid), AccountSidKey.ValueSet(cs.AccountSid), LifecycleStageKey.ValueSet(StepBeginClosure))
	return startWith[domain.ClosureBegun](ctx, c, opts, nil, CloseAccountWorkflow, CloseAccountInput{
		OrganizationSid: cs.OrganizationSid, AccountSid: cs.AccountSid, PurgeAfter: cs.PurgeAfter, Actor: cs.Actor,
	})
}

// CloseAccountProgress asks the latest closure of an account where it
// stands (25101 when there is none).
func (c Client) CloseAccountProgress(ctx context.Context, accountSid string) (domain.ClosureProgress, domain.Run, error) {
	p, run, err := progress[ClosureProgress](ctx, c, CloseAccountWorkflowID(accountSid),
		domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "no closure is known for account %s", accountSid))
	if err == nil {
		c.countBatchesInFlight(ctx, run, &p)
	}
	return p, run, err
}

// countBatchesInFlight adds to p the items done so far by the batches
// still running (their last heartbeat), so the counts move item by item
// while the workflow adds a batch only when it completes. Left as they
// are when the run cannot be described.
func (c Client) countBatchesInFlight(ctx context.Context, run domain.Run, p *ClosureProgress) {
	desc, err := c.Temporal.DescribeWorkflow(ctx, run.WorkflowID, run.RunID)
	if err != nil || desc.RawResponse == nil {
		return
	}
	for _, pa := range desc.RawResponse.GetPendingActivities() {
		var n int
		if pa.GetHeartbeatDetails() == nil || converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &n) != nil {
			continue
		}
		switch pa.GetActivityType().GetName() {
		case batchReleaseNumbers:
			p.Released += n
		case batchStopCharges:
			p.ChargesStopped += n
		}
	}
}

// Activity types of the closure's batches.
const (
	batchReleaseNumbers = "ReleaseNumbers"
	batchStopCharges    = "StopCharges"
)

// SubaccountClosureProgress asks the child closure a parent's closure ran
// for one of its subaccounts where it stands (25101 when there is none).
func (c Client) SubaccountClosureProgress(ctx context.Context, parentSid, subSid string) (domain.ClosureProgress, domain.Run, error) {
	p, run, err := progress[ClosureProgress](ctx, c, SubaccountClosureWorkflowID(parentSid, subSid),
		domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "no closure is known for account %s", subSid))
	if err == nil {
		c.countBatchesInFlight(ctx, run, &p)
	}
	return p, run, err
}

// ReopenAccount asks the account's closure to reopen it and waits for the
// reopened account: 25019 when the closure has gone too far (purging) or
// there is none running.
func (c Client) ReopenAccount(ctx context.Context, accountSid string, actor domain.Actor) (domain.Account, error) {
	return update[domain.Account](ctx, c, CloseAccountWorkflowID(accountSid), ReopenUpdate,
		domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account has no closure in progress"), actor)
}
