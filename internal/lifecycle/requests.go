package lifecycle

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// RequestEngine runs the workflows of import and share requests and of
// relinquishing.
type RequestEngine interface {
	// OpenAccountRequest starts an import or share request and answers
	// with it, recorded and pending, or with the domain error that refused
	// it (nothing recorded): 25017 for an import whose owner is off the
	// verified domains, 25019 for an account already in an organization
	// or with a pending request, 25103 for a grant to someone who is not
	// an active managed user, 25101 for no such account. An empty request
	// (a retry after the run ended) is to be read from the store.
	OpenAccountRequest(ctx context.Context, r domain.AccountRequest, actor domain.Actor) (domain.AccountRequest, domain.Run, error)
	// CancelAccountRequest ends a pending request (25019 once it is not).
	CancelAccountRequest(ctx context.Context, kind, sid string, actor domain.Actor) (domain.RequestState, error)
	// RelinquishAccount revokes the account's pending invitations and ends
	// the organization's access to it, answering with the account,
	// standalone again (25019 unless it is independent, re-checked under
	// its lock); the owner is emailed afterwards.
	RelinquishAccount(ctx context.Context, r domain.Relinquishment) (domain.Account, domain.Run, error)
}

// requestStore is what the requests service reads.
type requestStore interface {
	FindAccount(ctx context.Context, orgSid, sid string) (domain.Account, error)
	FindAccountRequest(ctx context.Context, orgSid, sid string) (domain.AccountRequest, error)
	ListAccountRequests(ctx context.Context, f domain.AccountRequestFilter) ([]domain.AccountRequest, error)
}

// Requests is the lifecycle of import and share requests (an organization
// asks an outside account's owner to let it in), and of relinquishing
// shared accounts. Only organization Owners and Administrators use it.
type Requests struct {
	access access
	store  requestStore
	engine RequestEngine
	clock  domain.Clock
	ttl    time.Duration
}

// PendingAccount is an import or share request with the run of its
// workflow.
type PendingAccount struct {
	Request domain.AccountRequest
	Run     domain.Run
}

func pendingAccount(r domain.AccountRequest, run domain.Run) PendingAccount {
	if run.WorkflowID == "" {
		run.WorkflowID = domain.AccountRequestWorkflowID(r.Kind, r.Sid)
	}
	return PendingAccount{Request: r, Run: run}
}

// ImportAccount asks the owner of a standalone account to let the
// organization import it.
type ImportAccount struct {
	AccountSid string
}

// ShareAccount asks the owner of a standalone account to share it with the
// organization, granting roles on it to managed users.
type ShareAccount struct {
	AccountSid string
	Grants     []domain.Grant
}

// Import starts an import request: the answer comes once it is recorded
// and its workflow emails the owner; every refusal is the answer instead,
// and records nothing.
func (s *Requests) Import(ctx context.Context, p domain.Principal, cmd ImportAccount) (PendingAccount, error) {
	return s.open(ctx, p, domain.RequestImport, cmd.AccountSid, nil)
}

// Share starts a share request, as Import does.
func (s *Requests) Share(ctx context.Context, p domain.Principal, cmd ShareAccount) (PendingAccount, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return PendingAccount{}, err
	}
	grants, err := domain.NormalizeGrants(cmd.Grants)
	if err != nil {
		return PendingAccount{}, err
	}
	return s.open(ctx, p, domain.RequestShare, cmd.AccountSid, grants)
}

func (s *Requests) open(ctx context.Context, p domain.Principal, kind, accountSid string, grants []domain.Grant) (PendingAccount, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return PendingAccount{}, err
	}
	if err := domain.CheckSID("account_sid", domain.PrefixAccount, accountSid); err != nil {
		return PendingAccount{}, err
	}
	sid := newSID(ctx, s.clock, domain.PrefixAccountRequest)
	r, run, err := s.engine.OpenAccountRequest(ctx, domain.AccountRequest{
		Sid: sid, OrganizationSid: p.OrganizationSid, AccountSid: accountSid, Kind: kind,
		RequesterSid: p.UserSid, Grants: grants, ExpiresAt: s.clock.Now().Add(s.ttl).UTC().Truncate(time.Microsecond),
	}, p.Actor())
	if err != nil {
		return PendingAccount{}, err
	}
	if r.Sid == "" {
		// A retry of a request whose workflow has ended since.
		if r, err = s.store.FindAccountRequest(ctx, p.OrganizationSid, sid); err != nil {
			return PendingAccount{}, err
		}
	}
	return pendingAccount(r, run), nil
}

// Get returns a request of the organization (20404 otherwise).
func (s *Requests) Get(ctx context.Context, p domain.Principal, sid string) (PendingAccount, error) {
	r, err := s.find(ctx, p, "", sid)
	return pendingAccount(r, domain.Run{}), err
}

// find loads a request of the organization, of kind when not empty.
func (s *Requests) find(ctx context.Context, p domain.Principal, kind, sid string) (domain.AccountRequest, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.AccountRequest{}, err
	}
	if err := domain.CheckSID("request", domain.PrefixAccountRequest, sid); err != nil {
		return domain.AccountRequest{}, err
	}
	r, err := s.store.FindAccountRequest(ctx, p.OrganizationSid, sid)
	if err == nil && kind != "" && r.Kind != kind {
		err = domain.Errorf(domain.ENotFound, 20404, "%s is a %s request, not an %s request", sid, r.Kind, kind)
	}
	return r, err
}

// Cancel ends a pending request of kind on the requester's behalf (25019
// once it has ended) and returns it, cancelled.
func (s *Requests) Cancel(ctx context.Context, p domain.Principal, kind, sid string) (PendingAccount, error) {
	r, err := s.find(ctx, p, kind, sid)
	if err != nil {
		return PendingAccount{}, err
	}
	if r.Ended() {
		return PendingAccount{}, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the request is already %s", r.Status)
	}
	if _, err := s.engine.CancelAccountRequest(ctx, r.Kind, r.Sid, p.Actor()); err != nil {
		return PendingAccount{}, err
	}
	r, err = s.store.FindAccountRequest(ctx, r.OrganizationSid, r.Sid)
	return pendingAccount(r, domain.Run{}), err
}

// RequestStatuses are the statuses a listing may filter on.
var RequestStatuses = []string{domain.RequestPending, domain.RequestAccepted, domain.RequestDeclined, domain.RequestCancelled, domain.RequestExpired}

// ListRequests selects a page of the organization's requests: the pending
// ones and those that ended recently, of a Status and a Kind when given.
type ListRequests struct {
	// Status and Kind, when given, must be one of RequestStatuses and
	// import or share.
	Status *string
	Kind   *string
	Page   domain.PageRequest
}

// List returns one page of the organization's pending accounts.
func (s *Requests) List(ctx context.Context, p domain.Principal, q ListRequests) (domain.Page[PendingAccount], error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.Page[PendingAccount]{}, err
	}
	f := domain.AccountRequestFilter{OrganizationSid: p.OrganizationSid, EndedAfter: s.clock.Now().Add(-domain.RequestListedFor), Page: q.Page}
	if q.Status != nil {
		if !slices.Contains(RequestStatuses, *q.Status) {
			return domain.Page[PendingAccount]{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Status must be one of %s", strings.Join(RequestStatuses, ", "))
		}
		f.Status = *q.Status
	}
	if q.Kind != nil {
		if *q.Kind != domain.RequestImport && *q.Kind != domain.RequestShare {
			return domain.Page[PendingAccount]{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Kind must be import or share")
		}
		f.Kind = *q.Kind
	}
	return page(q.Page, func() ([]PendingAccount, error) {
		items, err := s.store.ListAccountRequests(ctx, f)
		out := make([]PendingAccount, len(items))
		for i, r := range items {
			out[i] = pendingAccount(r, domain.Run{})
		}
		return out, err
	})
}

// Relinquished is an account the organization gave up: standalone again,
// its owner told by email.
type Relinquished struct {
	Account domain.Account
	Run     domain.Run
}

// Relinquish ends the organization's access to an independent (shared)
// account at once: its pending invitations are revoked, every role
// assignment and credential of the organization on it goes, and its owner
// is told. A managed account is the organization's own (25019).
func (s *Requests) Relinquish(ctx context.Context, p domain.Principal, accountSid string) (Relinquished, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return Relinquished{}, err
	}
	if err := domain.CheckSID("account", domain.PrefixAccount, accountSid); err != nil {
		return Relinquished{}, err
	}
	acct, err := s.store.FindAccount(ctx, p.OrganizationSid, accountSid)
	if err != nil {
		return Relinquished{}, err
	}
	// Checked before anything is revoked, and again under the account's
	// lock.
	if err := domain.CheckRelinquish(acct); err != nil {
		return Relinquished{}, err
	}
	out, run, err := s.engine.RelinquishAccount(ctx, domain.Relinquishment{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, Version: acct.Version, Actor: p.Actor(),
	})
	return Relinquished{Account: out, Run: run}, err
}
