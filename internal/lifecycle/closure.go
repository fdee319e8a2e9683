package lifecycle

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ClosureEngine runs account closures.
type ClosureEngine interface {
	// CloseAccount starts the closure: the answer comes once the account
	// is cut off (pending_closure), or is the domain error that refused
	// it (25019 for the organization's last open account; nothing changed
	// then). An account already closing answers with its running closure,
	// Started false.
	CloseAccount(ctx context.Context, c domain.ClosureStart) (domain.ClosureBegun, domain.Run, error)
	// CloseAccountProgress returns 25101 when no closure is known.
	CloseAccountProgress(ctx context.Context, accountSid string) (domain.ClosureProgress, domain.Run, error)
	// SubaccountClosureProgress is the closure of a subaccount run by its
	// parent's closure (25101 when there is none).
	SubaccountClosureProgress(ctx context.Context, parentSid, subSid string) (domain.ClosureProgress, domain.Run, error)
	// ReopenAccount returns 25019 when the closure went too far, or none
	// is running.
	ReopenAccount(ctx context.Context, accountSid string, actor domain.Actor) (domain.Account, error)
}

// closureStore is what the closure service reads and writes.
type closureStore interface {
	accessStore
	AcquireNumber(ctx context.Context, n domain.Number, ev domain.AuditEvent) (domain.Number, error)
	PageNumbers(ctx context.Context, accountSid, kind string, p domain.PageRequest) ([]domain.Number, error)
	CreateSubscription(ctx context.Context, sub domain.Subscription, ev domain.AuditEvent) (domain.Subscription, error)
	PageSubscriptions(ctx context.Context, accountSid string, p domain.PageRequest) ([]domain.Subscription, error)
	CreateCredential(ctx context.Context, c domain.Credential, ev domain.AuditEvent) error
	ListAccountCredentials(ctx context.Context, orgSid, accountSid string) ([]domain.Credential, error)
	RevokeAccountCredential(ctx context.Context, orgSid, accountSid, sid string, ev domain.AuditEvent) error
	ListReleases(ctx context.Context, accountSid string) ([]domain.ResourceRelease, error)
}

// Closure is the lifecycle of closing and reopening accounts, and of what
// an account owns (numbers, charges, credentials).
type Closure struct {
	access    access
	store     closureStore
	engine    ClosureEngine
	clock     domain.Clock
	retention time.Duration
}

// Numbers returns one page of the account's phone numbers or short codes
// (kind).
func (s *Closure) Numbers(ctx context.Context, p domain.Principal, accountSid, kind string, req domain.PageRequest) (domain.Page[domain.Number], error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionReadAccount)
	if err != nil {
		return domain.Page[domain.Number]{}, err
	}
	return page(req, func() ([]domain.Number, error) { return s.store.PageNumbers(ctx, acct.Sid, kind, req) })
}

// AcquireNumber is a request for a phone number or a short code: the
// value of the kind acquired, or none for a random one. Naming the other
// kind's value is refused.
type AcquireNumber struct {
	PhoneNumber *string
	ShortCode   *string
}

// AcquireNumber assigns a number of the kind to the account, for its
// Owner or Administrator (21422 when another account holds it; 25019
// unless the account is active).
func (s *Closure) AcquireNumber(ctx context.Context, p domain.Principal, accountSid, kind string, cmd AcquireNumber) (domain.Number, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionUpdateSettings)
	if err != nil {
		return domain.Number{}, err
	}
	field, other := cmd.PhoneNumber, cmd.ShortCode
	if kind == domain.NumberShortCode {
		field, other = cmd.ShortCode, cmd.PhoneNumber
	}
	if other != nil {
		return domain.Number{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "this endpoint acquires a %s; the other field is not accepted here", strings.ReplaceAll(kind, "_", " "))
	}
	var value string
	switch {
	case field != nil:
		value = *field
	case kind == domain.NumberShortCode:
		value = "8" + randomDigits(5)
	default:
		value = "+1555" + randomDigits(7)
	}
	if err := domain.ValidateNumber(kind, value); err != nil {
		return domain.Number{}, err
	}
	return s.store.AcquireNumber(ctx, domain.Number{
		Sid: newSID(ctx, s.clock, domain.NumberPrefix(kind)), Kind: kind, Value: value, OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid,
	}, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventNumberAcquired, acct.Sid, nil))
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteString(d.String())
	}
	return b.String()
}

// Subscriptions returns one page of the account's recurring charges.
func (s *Closure) Subscriptions(ctx context.Context, p domain.Principal, accountSid string, req domain.PageRequest) (domain.Page[domain.Subscription], error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionReadAccount)
	if err != nil {
		return domain.Page[domain.Subscription]{}, err
	}
	return page(req, func() ([]domain.Subscription, error) { return s.store.PageSubscriptions(ctx, acct.Sid, req) })
}

// CreateSubscription is a new recurring charge.
type CreateSubscription struct {
	Description  string
	MonthlyPrice string
	Currency     string
}

// CreateSubscription adds a recurring charge to the account, for its
// Owner or Administrator (25019 unless the account is active).
func (s *Closure) CreateSubscription(ctx context.Context, p domain.Principal, accountSid string, cmd CreateSubscription) (domain.Subscription, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionUpdateSettings)
	if err != nil {
		return domain.Subscription{}, err
	}
	sub := domain.Subscription{Sid: newSID(ctx, s.clock, domain.PrefixSubscription), OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid,
		Description: cmd.Description, MonthlyPrice: cmd.MonthlyPrice, Currency: cmd.Currency}
	if err := sub.Validate(); err != nil {
		return domain.Subscription{}, err
	}
	return s.store.CreateSubscription(ctx, sub, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSubscriptionAdded, acct.Sid, nil))
}

// IssuedCredential is a new credential scoped to an account, and its
// secret, which exists only in this answer (its hash is kept).
type IssuedCredential struct {
	Credential domain.Credential
	Secret     string
}

// CreateCredential issues a credential scoped to an active account, for
// its Owner or Administrator.
func (s *Closure) CreateCredential(ctx context.Context, p domain.Principal, accountSid, friendlyName string) (IssuedCredential, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionUpdateSettings)
	if err == nil {
		err = domain.CheckAcceptsNewRequests(acct)
	}
	if err != nil {
		return IssuedCredential{}, err
	}
	if friendlyName != "" {
		if err := domain.ValidateFriendlyName("friendly_name", friendlyName); err != nil {
			return IssuedCredential{}, err
		}
	}
	secret := domain.NewSecret(32)
	cred := domain.Credential{Sid: newSID(ctx, s.clock, domain.PrefixCredential), OrganizationSid: p.OrganizationSid, UserSid: p.UserSid,
		FriendlyName: friendlyName, SecretHash: domain.HashSecret(secret), AccountSid: acct.Sid}
	if err := s.store.CreateCredential(ctx, cred, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountCredentials, acct.Sid,
		map[string]any{"credential_sid": cred.Sid})); err != nil {
		return IssuedCredential{}, err
	}
	return IssuedCredential{Credential: cred, Secret: secret}, nil
}

// Credentials lists the credentials scoped to the account (the auth token
// of an imported or shared account among them), for its Owner or
// Administrator.
func (s *Closure) Credentials(ctx context.Context, p domain.Principal, accountSid string) ([]domain.Credential, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionUpdateSettings)
	if err != nil {
		return nil, err
	}
	return s.store.ListAccountCredentials(ctx, acct.OrganizationSid, acct.Sid)
}

// RevokeCredential deletes a credential scoped to the account: it stops
// working at once, bearer tokens issued from it included. Revoking is
// allowed whatever the account's status.
func (s *Closure) RevokeCredential(ctx context.Context, p domain.Principal, accountSid, credentialSid string) error {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionUpdateSettings)
	if err != nil {
		return err
	}
	if err := domain.CheckSID("credential", domain.PrefixCredential, credentialSid); err != nil {
		return err
	}
	return s.store.RevokeAccountCredential(ctx, acct.OrganizationSid, acct.Sid, credentialSid,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventCredentialRevoked, acct.Sid, map[string]any{"credential_sid": credentialSid}))
}

// Closing is an account whose closure has started, or was running
// already (Started false).
type Closing struct {
	Account domain.Account // pending_closure or closed
	Started bool
	Run     domain.Run
}

// Close starts closing an account, for its Owner or Administrator and
// organization admins, once the caller gave every acknowledgement (400
// naming a missing one). The answer comes once the account is cut off
// (pending_closure: its credentials fail at once) or refused (25019 for the
// organization's last open account, and nothing changed); the closure goes
// on with the rest. Closing an account already closing answers with the
// running closure.
func (s *Closure) Close(ctx context.Context, p domain.Principal, accountSid string, ack domain.CloseAcknowledgements) (Closing, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionCloseAccount)
	if domain.ErrorCode(err) == domain.CodeAccountNotFound && acct.OwnerSid != "" && acct.OwnerSid == p.UserSid &&
		(acct.Status == domain.AccountPendingClosure || acct.Status == domain.AccountClosed) {
		// Its owner lost its role to the closure, not the right to be
		// answered with it.
		err = nil
	}
	if err != nil {
		return Closing{}, err
	}
	if err := ack.Validate(); err != nil {
		return Closing{}, err
	}
	begun, run, err := s.engine.CloseAccount(ctx, domain.ClosureStart{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, PurgeAfter: s.clock.Now().Add(s.retention), Actor: p.Actor(),
	})
	if err != nil {
		return Closing{}, err
	}
	if begun.Account.PurgeAfter == nil {
		return Closing{}, fmt.Errorf("account %s is %s without a purge time", begun.Account.Sid, begun.Account.Status)
	}
	return Closing{Account: begun.Account, Started: begun.Started, Run: run}, nil
}

// ClosureView is where an account's latest closure stands; Account is set
// while the account exists.
type ClosureView struct {
	AccountSid string
	Progress   domain.ClosureProgress
	Run        domain.Run
	Account    *domain.Account
}

// Progress returns the latest closure of an account to its requester,
// to those with a role on the account, and to organization admins (the
// role assignments go with the closure). A closure refused at its start
// never began: 25101, as for an account never closed.
func (s *Closure) Progress(ctx context.Context, p domain.Principal, accountSid string) (ClosureView, error) {
	if err := domain.CheckSID("account", domain.PrefixAccount, accountSid); err != nil {
		return ClosureView{}, err
	}
	progress, run, err := s.engine.CloseAccountProgress(ctx, accountSid)
	if domain.ErrorCode(err) == domain.CodeAccountNotFound {
		// A subaccount closed with its parent: its closure is the
		// parent's child.
		if a, ferr := s.store.FindAccount(ctx, p.OrganizationSid, accountSid); ferr == nil && a.ParentSid != "" {
			if sp, srun, serr := s.engine.SubaccountClosureProgress(ctx, a.ParentSid, accountSid); serr == nil {
				progress, run, err = sp, srun, nil
				// A closure begun before subaccount-outcome ended at
				// "closed"; the parent's reopen brought it back with the
				// parent, so that is where it stands now. (Later ones end
				// with their parent's outcome and say so themselves.)
				if pp, _, perr := s.engine.CloseAccountProgress(ctx, a.ParentSid); perr == nil && pp.Stage == domain.ClosureStageReopened &&
					progress.Stage == domain.ClosureStageClosed && a.Status == domain.AccountActive {
					progress.Stage = domain.ClosureStageReopened
				}
			}
		}
	}
	if err == nil && progress.OrganizationSid != p.OrganizationSid {
		err = errAccountNotFound()
	}
	if err == nil && refusedAtStart(progress) {
		err = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "no closure is known for account %s", accountSid)
	}
	if err != nil {
		return ClosureView{}, err
	}
	if !p.IsOrgAdmin() && progress.RequestedBy != p.UserSid {
		if _, err := s.access.account(ctx, p, accountSid, domain.ActionReadAccount); err != nil {
			return ClosureView{}, err
		}
	}
	out := ClosureView{AccountSid: accountSid, Progress: progress, Run: run}
	if a, err := s.store.FindAccount(ctx, p.OrganizationSid, accountSid); err == nil {
		out.Account = &a
	}
	return out, nil
}

// refusedAtStart tells a closure whose cut-off, its first step, failed:
// the account never began closing.
func refusedAtStart(p domain.ClosureProgress) bool {
	return p.Status == domain.StepFailed && len(p.Steps) > 0 && p.Steps[0].Status == domain.StepFailed
}

// Reopened is an account active again, and what did not come back.
type Reopened struct {
	Account domain.Account
	// Released phone numbers and short codes and stopped subscriptions
	// are not restored, nor the account's credentials (closing revoked
	// them for good, bearer tokens included).
	PhoneNumbers, ShortCodes, Subscriptions, Credentials int
}

// Reopen makes a closing or closed account active again with its owner,
// before its purge, for organization admins (25019 once purging).
func (s *Closure) Reopen(ctx context.Context, p domain.Principal, accountSid string) (Reopened, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return Reopened{}, err
	}
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionReadAccount)
	if err == nil {
		err = domain.CheckReopenable(acct)
	}
	if err != nil {
		return Reopened{}, err
	}
	creds, err := s.store.ListAccountCredentials(ctx, p.OrganizationSid, acct.Sid)
	if err != nil {
		return Reopened{}, err
	}
	out, err := s.engine.ReopenAccount(ctx, acct.Sid, p.Actor())
	if err != nil {
		return Reopened{}, err
	}
	releases, err := s.store.ListReleases(ctx, acct.Sid)
	if err != nil {
		return Reopened{}, err
	}
	r := Reopened{Account: out, Credentials: len(creds)}
	for _, rel := range releases {
		switch rel.Kind {
		case domain.NumberPhone:
			r.PhoneNumbers++
		case domain.NumberShortCode:
			r.ShortCodes++
		case domain.ReleaseCharge:
			r.Subscriptions++
		}
	}
	return r, nil
}
