package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// RequestCanceller ends the workflow of a pending request (an invitation:
// its revoke update) so it finishes as revoked/cancelled. A request whose
// workflow has already ended, or never started, is not an error.
type RequestCanceller interface {
	CancelRequest(ctx context.Context, r domain.PendingRequest, actor domain.Actor) error
}

// CloseStepInput names the account a closure step acts on.
type CloseStepInput struct {
	OrganizationSid string
	AccountSid      string
	// PurgeAfter is when the account's data may be purged (set by the
	// API for the account closed; a subaccount inherits its parent's).
	PurgeAfter time.Time
	Actor      domain.Actor
}

func (in CloseStepInput) event(typ string, changes map[string]any) domain.AuditEvent {
	return domain.NewAuditEvent(in.Actor, in.OrganizationSid, typ, in.AccountSid, changes)
}

// BeginAccountClosure moves the account to pending_closure as the first
// step of a subaccount's child closure (and of closures started before
// StartUpdate, whose account the API had moved already). An account
// already closing or closed is left as it is.
func (a *Activities) BeginAccountClosure(ctx context.Context, in CloseStepInput) (domain.Account, error) {
	acct, _, err := a.Store.BeginClosure(ctx, in.OrganizationSid, in.AccountSid, in.PurgeAfter, in.event(domain.EventClosureRequested, nil))
	return acct, wrap(err)
}

// StartAccountClosure is the immediate cut-off of a closure started by
// its StartUpdate: the account moves to pending_closure (its credentials
// fail at once with 20005), CheckClosable applied under its lock (25019
// for the organization's last open top-level account). An account already
// closing or closed is left as it is, and the answer says so (Started is
// false): a retry after a crash answers that way too, with the account as
// the first call left it.
func (a *Activities) StartAccountClosure(ctx context.Context, in CloseStepInput) (domain.ClosureBegun, error) {
	acct, started, err := a.Store.BeginClosure(ctx, in.OrganizationSid, in.AccountSid, in.PurgeAfter, in.event(domain.EventClosureRequested, nil))
	if err != nil {
		return domain.ClosureBegun{}, wrap(err)
	}
	return domain.ClosureBegun{Account: acct, Started: started}, nil
}

// FindClosingAccount reads the account a closure acts on (a Close of an
// account already closing answers with it).
func (a *Activities) FindClosingAccount(ctx context.Context, in CloseStepInput) (domain.Account, error) {
	acct, err := a.Store.FindAccount(ctx, in.OrganizationSid, in.AccountSid)
	return acct, wrap(err)
}

// ListSubaccounts returns the SIDs of the account's subaccounts.
func (a *Activities) ListSubaccounts(ctx context.Context, in CloseStepInput) ([]string, error) {
	subs, err := a.Store.ListSubaccounts(ctx, in.AccountSid)
	if err != nil {
		return nil, wrap(err)
	}
	out := make([]string, len(subs))
	for i, s := range subs {
		out[i] = s.Sid
	}
	return out, nil
}

// ListPendingRequests lists the account's requests still waiting for an
// answer.
func (a *Activities) ListPendingRequests(ctx context.Context, in CloseStepInput) ([]domain.PendingRequest, error) {
	out, err := a.Store.ListPendingRequests(ctx, in.AccountSid)
	return out, wrap(err)
}

// CancelRequestInput is one pending request to cancel.
type CancelRequestInput struct {
	CloseStepInput
	Request domain.PendingRequest
}

// CancelPendingRequest ends one pending request: its workflow is told to
// finish it as revoked, and when there is no workflow to tell (it ended,
// or has not started yet) the record is finished directly, so it never
// stays pending on a closed account.
func (a *Activities) CancelPendingRequest(ctx context.Context, in CancelRequestInput) error {
	if a.Requests != nil {
		if err := a.Requests.CancelRequest(ctx, in.Request, in.Actor); err != nil {
			return err
		}
	}
	switch in.Request.Kind {
	case domain.RequestInvitation:
		inv, err := a.Store.FindInvitation(ctx, "", in.Request.Sid)
		if err != nil || inv.Status != domain.InvitationPending {
			return wrap(err)
		}
		_, err = a.Store.FinishInvitation(ctx, inv.Sid, domain.InvitationRevoked, "",
			domain.NewAuditEvent(in.Actor, inv.OrganizationSid, "invitation."+domain.InvitationRevoked, inv.Sid,
				map[string]any{"account_sid": inv.AccountSid, "email": inv.Email, "reason": "account closing"}))
		if domain.ErrorCode(err) == domain.CodeInvalidState {
			return nil // answered meanwhile; the access it gave is removed later
		}
		return wrap(err)
	}
	return wrap(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "unknown kind of pending request %q", in.Request.Kind))
}

// Holdings is what a closure releases: the account's active
// subscriptions and assigned numbers.
type Holdings struct {
	Subscriptions []domain.Subscription
	Numbers       []domain.Number
}

// ListHoldings lists the account's active subscriptions and its numbers.
func (a *Activities) ListHoldings(ctx context.Context, in CloseStepInput) (Holdings, error) {
	var h Holdings
	subs, err := a.Store.ListSubscriptions(ctx, in.AccountSid)
	if err != nil {
		return h, wrap(err)
	}
	for _, s := range subs {
		if s.Status == domain.SubscriptionActive {
			h.Subscriptions = append(h.Subscriptions, s)
		}
	}
	h.Numbers, err = a.Store.ListNumbers(ctx, in.AccountSid, "")
	return h, wrap(err)
}

// pace waits ReleasePacing (tests only), or until ctx ends.
func (a *Activities) pace(ctx context.Context) error {
	if a.ReleasePacing <= 0 {
		return nil
	}
	t := time.NewTimer(a.ReleasePacing)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StopCharge stops one recurring charge through the billing port, under
// the closure's idempotency key for it.
func (a *Activities) StopCharge(ctx context.Context, sub domain.Subscription) error {
	if err := a.pace(ctx); err != nil {
		return err
	}
	billing := a.Billing
	if billing == nil {
		billing = a.Store
	}
	return wrap(billing.StopCharge(ctx, sub, domain.ReleaseKey(sub.AccountSid, sub.Sid)))
}

// ReleaseNumber releases one phone number or short code through the
// carrier port, under the closure's idempotency key for it.
func (a *Activities) ReleaseNumber(ctx context.Context, n domain.Number) error {
	if err := a.pace(ctx); err != nil {
		return err
	}
	carrier := a.Carrier
	if carrier == nil {
		carrier = a.Store
	}
	return wrap(carrier.ReleaseNumber(ctx, n, domain.ReleaseKey(n.AccountSid, n.Sid)))
}

// RemoveAccountAccess removes every role assignment on the account; the
// audit event keeps who had which role. It returns how many there were.
func (a *Activities) RemoveAccountAccess(ctx context.Context, in CloseStepInput) (int, error) {
	removed, err := a.Store.RemoveAccountAccess(ctx, in.AccountSid, in.event(domain.EventAccessRemoved, nil))
	return len(removed), wrap(err)
}

// MarkAccountClosed moves the account from pending_closure to closed.
func (a *Activities) MarkAccountClosed(ctx context.Context, in CloseStepInput) (domain.Account, error) {
	acct, err := a.Store.MarkClosed(ctx, in.AccountSid, in.event(domain.EventAccountClosed, nil))
	if err == nil {
		logger(ctx).Info("account closed", "AccountSid", acct.Sid)
	}
	return acct, wrap(err)
}

// NotifyAccountClosedInput names the closed account and how many
// subaccounts closed with it.
type NotifyAccountClosedInput struct {
	CloseStepInput
	Subaccounts int
}

// NotifyAccountClosed emails the account's owner that it is closed, once.
func (a *Activities) NotifyAccountClosed(ctx context.Context, in NotifyAccountClosedInput) error {
	acct, err := a.Store.FindAccount(ctx, in.OrganizationSid, in.AccountSid)
	if err != nil {
		return wrap(err)
	}
	owner, err := a.Store.FindUser(ctx, in.OrganizationSid, acct.OwnerSid)
	if domain.ErrorCode(err) == domain.CodeUserNotFound {
		return nil
	} else if err != nil {
		return wrap(err)
	}
	org, err := a.Store.FindOrganization(ctx, in.OrganizationSid)
	if err != nil {
		return wrap(err)
	}
	purge := in.PurgeAfter
	if acct.PurgeAfter != nil {
		purge = *acct.PurgeAfter
	}
	key := "closed/" + acct.Sid
	if acct.DateClosureRequested != nil { // one email per closure
		key += "/" + acct.DateClosureRequested.UTC().Format(time.RFC3339Nano)
	}
	return a.SendEmail(ctx, EmailInput{
		Key: key, OrganizationSid: in.OrganizationSid,
		To: owner.UserName, Template: email.TemplateAccountClosed, RelatedSid: acct.Sid,
		Data: map[string]any{"AccountName": acct.FriendlyName, "AccountSid": acct.Sid, "OrganizationName": org.FriendlyName,
			"Subaccounts": in.Subaccounts, "PurgeAfter": purge.UTC().Format("2 Jan 2006 15:04 MST")},
	})
}

// ReopenAccount makes the account (and the subaccounts closed with it)
// active again with its owner.
func (a *Activities) ReopenAccount(ctx context.Context, in CloseStepInput) (domain.Account, error) {
	acct, err := a.Store.ReopenAccount(ctx, in.AccountSid, in.event(domain.EventAccountReopened, nil))
	if err == nil {
		logger(ctx).Info("account reopened", "AccountSid", acct.Sid)
	}
	return acct, wrap(err)
}

// PurgeAccount deletes the closed account's data, leaving an audit
// tombstone naming who closed it.
func (a *Activities) PurgeAccount(ctx context.Context, in CloseStepInput) error {
	err := a.Store.PurgeAccount(ctx, in.AccountSid, in.event(domain.EventAccountPurged, map[string]any{"closed_by": in.Actor.UserSid}))
	if err == nil {
		logger(ctx).Info("account purged", "AccountSid", in.AccountSid)
	}
	return wrap(err)
}

// MaxBatch is the most items one ReleaseNumbers or StopCharges call
// handles.
const MaxBatch = 100

// ReleaseBatch is one batch of a closure's numbers to release.
type ReleaseBatch struct {
	Numbers []domain.Number
}

// ChargeBatch is one batch of a closure's charges to stop.
type ChargeBatch struct {
	Subscriptions []domain.Subscription
}

// ReleaseNumbers releases each number of the batch in turn through the
// carrier port, each under the closure's idempotency key for it (as
// ReleaseNumber does), and returns how many it released. It heartbeats
// after each item with the count done so far: a retry after a crash
// resumes from the last count the server received, and an item the
// crashed attempt released after that count is a no-op the second time,
// by its key. The running count is how a closure's progress counts item by
// item (workflows.Client.CloseAccountProgress).
func (a *Activities) ReleaseNumbers(ctx context.Context, b ReleaseBatch) (int, error) {
	return inBatch(ctx, len(b.Numbers), func(i int) error { return a.ReleaseNumber(ctx, b.Numbers[i]) })
}

// StopCharges stops each charge of the batch in turn through the billing
// port, each under its idempotency key, heartbeating and resuming as
// ReleaseNumbers does.
func (a *Activities) StopCharges(ctx context.Context, b ChargeBatch) (int, error) {
	return inBatch(ctx, len(b.Subscriptions), func(i int) error { return a.StopCharge(ctx, b.Subscriptions[i]) })
}

// inBatch runs do for items [resumed, n), heartbeating the count done
// after each.
func inBatch(ctx context.Context, n int, do func(i int) error) (int, error) {
	done := 0
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &done); err != nil || done < 0 || done > n {
			done = 0
		}
	}
	for ; done < n; done++ {
		if err := do(done); err != nil {
			return done, err
		}
		activity.RecordHeartbeat(ctx, done+1)
	}
	return done, nil
}
