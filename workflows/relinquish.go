package workflows

import (
	"fmt"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// RelinquishAccountWorkflowID is the workflow ID of one relinquish of an
// account: one per version of the account, so a retried request finds the
// run it started, and a later share then relinquish gets a run of its own.
func RelinquishAccountWorkflowID(accountSid string, version int) string {
	return fmt.Sprintf("relinquish-account/%s/v%d", accountSid, version)
}

// RelinquishInput is what the requests service passes to
// RelinquishAccountWorkflow.
type RelinquishInput struct {
	OrganizationSid string
	AccountSid      string
	// Version is the account's version when the relinquish was asked.
	Version int
	Actor   domain.Actor
}

// RelinquishResult is the account, standalone again.
type RelinquishResult struct {
	Account domain.Account
}

type relinquish struct {
	in   RelinquishInput
	acts *activities.Activities
	log  log.Logger
	// opened is set once StartUpdate's steps have run: account is the
	// account relinquished, or openErr why it was not.
	opening, opened bool
	account         domain.Account
	openErr         error
}

// RelinquishAccountWorkflow ends an organization's access to an
// independent (shared) account. Its StartUpdate revokes the account's
// pending invitations, then relinquishes it in the store (the rule checked
// again under the account's lock: every role assignment and credential of
// the organization goes, the account is standalone again), and answers
// with the account or with the domain error that refused it. The workflow
// then tells the owner by email.
func RelinquishAccountWorkflow(ctx workflow.Context, in RelinquishInput) (RelinquishResult, error) {
	if !domain.ValidSID(domain.PrefixAccount, in.AccountSid) || !domain.ValidSID(domain.PrefixOrganization, in.OrganizationSid) {
		return RelinquishResult{}, domainError(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "invalid relinquish workflow input"))
	}
	w := &relinquish{in: in, log: log.With(workflow.GetLogger(ctx), "request_id", in.Actor.RequestID, "AccountSid", in.AccountSid)}
	if err := workflow.SetUpdateHandler(ctx, StartUpdate, w.open); err != nil {
		return RelinquishResult{}, err
	}
	started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opened })
	if err != nil {
		return RelinquishResult{}, err
	}
	if !started {
		return RelinquishResult{}, domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the relinquish was never started"))
	}
	if w.openErr != nil {
		return RelinquishResult{}, w.openErr
	}
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	if err := workflow.ExecuteActivity(actx, w.acts.NotifyRelinquished, activities.NotifyRelinquishedInput{
		OrganizationSid: in.OrganizationSid, Account: w.account,
	}).Get(ctx, nil); err != nil {
		// The access is gone already; the notice is best effort.
		w.log.Error("telling the owner", "Error", err)
	}
	w.log.Info("account relinquished", "OrganizationSid", in.OrganizationSid)
	return RelinquishResult{Account: w.account}, nil
}

// open is StartUpdate's handler; a retried request gets the first answer.
func (w *relinquish) open(ctx workflow.Context) (domain.Account, error) {
	if w.opening {
		if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
			return domain.Account{}, err
		}
		return w.account, w.openErr
	}
	w.opening = true
	w.account, w.openErr = w.relinquish(workflow.WithActivityOptions(ctx, activityOptions))
	if w.openErr != nil {
		w.log.Info("relinquish refused", "Error", w.openErr)
	}
	w.opened = true
	return w.account, w.openErr
}

func (w *relinquish) relinquish(ctx workflow.Context) (domain.Account, error) {
	in := activities.RelinquishInput{OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid, Version: w.in.Version, Actor: w.in.Actor}
	var pending []domain.PendingRequest
	if err := workflow.ExecuteActivity(ctx, w.acts.PendingRequestsToRelinquish, in).Get(ctx, &pending); err != nil {
		return domain.Account{}, err
	}
	// Pending invitations end first, through their own workflows, as a
	// closure ends them.
	for _, r := range pending {
		if err := workflow.ExecuteActivity(ctx, w.acts.CancelPendingRequest, activities.CancelRequestInput{
			CloseStepInput: activities.CloseStepInput{OrganizationSid: w.in.OrganizationSid, AccountSid: w.in.AccountSid, Actor: w.in.Actor},
			Request:        r,
		}).Get(ctx, nil); err != nil {
			return domain.Account{}, err
		}
	}
	var acct domain.Account
	err := workflow.ExecuteActivity(ctx, w.acts.RelinquishAccount, in).Get(ctx, &acct)
	return acct, err
}
