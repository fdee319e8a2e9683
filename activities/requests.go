package activities

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// SendRequestInput names one email of an import or share request: the
// first (version 1) or the reminder (version 2), each with a fresh link
// that supersedes the older one.
type SendRequestInput struct {
	RequestSid string
	Version    int
	Reminder   bool
	SentAt     time.Time
}

// SendAccountRequest emails the request to the account's owner with link
// version in.Version (see sendLinkOnce; version 2 is the reminder) and
// records the send on the request. A request answered or cancelled
// meanwhile gets no reminder.
func (a *Activities) SendAccountRequest(ctx context.Context, in SendRequestInput) error {
	var req domain.AccountRequest
	return a.sendLinkOnce(ctx, fmt.Sprintf("request/%s/v%d", in.RequestSid, in.Version), func() (*linkEmail, error) {
		var err error
		if req, err = a.Store.FindAccountRequest(ctx, "", in.RequestSid); err != nil {
			return nil, err
		}
		if req.Ended() {
			return nil, nil
		}
		org, err := a.Store.FindOrganization(ctx, req.OrganizationSid)
		if err != nil {
			return nil, err
		}
		requester := "An administrator"
		if u, err := a.Store.FindUser(ctx, req.OrganizationSid, req.RequesterSid); err == nil {
			requester = domain.DisplayName(u)
		}
		recorded := email.TemplateAccountRequest
		if in.Reminder {
			recorded += "_reminder"
		}
		return &linkEmail{
			Link:            domain.ConfirmationLink{Kind: domain.LinkKind(req.Kind), SubjectSid: req.Sid, Version: in.Version, ExpiresAt: req.ExpiresAt},
			OrganizationSid: req.OrganizationSid, To: req.OwnerEmail, Template: email.TemplateAccountRequest, Recorded: recorded,
			Data: map[string]any{
				"Import": req.Kind == domain.RequestImport, "Reminder": in.Reminder, "RequesterName": requester,
				"OrganizationName": org.FriendlyName, "AccountName": req.AccountName, "AccountSid": req.AccountSid,
				"Grants": a.grantNames(ctx, req), "Expires": req.ExpiresAt.UTC().Format(linkExpiry),
			},
		}, nil
	}, func() error {
		return a.Store.MarkRequestSent(ctx, req.Sid, in.Version, in.SentAt, in.Reminder)
	})
}

// grantNames renders a share's grants for people: "ada@example.com as
// Developer, …".
func (a *Activities) grantNames(ctx context.Context, req domain.AccountRequest) string {
	parts := make([]string, 0, len(req.Grants))
	for _, g := range req.Grants {
		who := g.Identity
		if u, err := a.Store.FindUser(ctx, req.OrganizationSid, g.Identity); err == nil {
			who = u.UserName
		}
		parts = append(parts, who+" as "+roleNames(g.Roles))
	}
	return strings.Join(parts, ", ")
}

// FinishRequestInput is how a request ends, and who ended it.
type FinishRequestInput struct {
	RequestSid string
	Status     string // accepted | declined | cancelled | expired
	Actor      domain.Actor
}

// FinishAccountRequest records how a request ended; for an acceptance it
// carries it out (the account joins the organization) in the same
// transaction. Running it again changes nothing.
func (a *Activities) FinishAccountRequest(ctx context.Context, in FinishRequestInput) (domain.AccountRequest, error) {
	req, err := a.Store.FindAccountRequest(ctx, "", in.RequestSid)
	if err != nil {
		return req, wrap(err)
	}
	actor := in.Actor
	if in.Status == domain.RequestAccepted {
		if actor.UserSid == "" {
			actor.UserSid = req.OwnerSid
		}
		typ := domain.EventAccountImported
		if req.Kind == domain.RequestShare {
			typ = domain.EventAccountShared
		}
		out, err := a.Store.AcceptAccountRequest(ctx, req.Sid, domain.NewAuditEvent(actor, req.OrganizationSid, typ, req.AccountSid, nil))
		return out, wrap(err)
	}
	out, err := a.Store.FinishAccountRequest(ctx, req.Sid, in.Status, domain.NewAuditEvent(actor, req.OrganizationSid,
		"account_request."+in.Status, req.Sid, map[string]any{"account_sid": req.AccountSid, "kind": req.Kind}))
	return out, wrap(err)
}

// NotifyRequester tells whoever asked how the request ended (unless they
// cancelled it themselves or left the organization).
func (a *Activities) NotifyRequester(ctx context.Context, requestSid string) error {
	req, err := a.Store.FindAccountRequest(ctx, "", requestSid)
	if err != nil {
		return wrap(err)
	}
	if !req.Ended() || req.Status == domain.RequestCancelled {
		return nil
	}
	requester, err := a.Store.FindUser(ctx, req.OrganizationSid, req.RequesterSid)
	if domain.ErrorCode(err) == domain.CodeUserNotFound {
		return nil
	} else if err != nil {
		return wrap(err)
	}
	org, err := a.Store.FindOrganization(ctx, req.OrganizationSid)
	if err != nil {
		return wrap(err)
	}
	return a.SendEmail(ctx, EmailInput{
		Key: "request/" + req.Sid + "/" + req.Status, OrganizationSid: req.OrganizationSid, To: requester.UserName,
		Template: email.TemplateRequestEnded, RelatedSid: req.Sid,
		Data: map[string]any{"Kind": req.Kind, "Outcome": req.Status, "OwnerEmail": req.OwnerEmail, "AccountName": req.AccountName,
			"AccountSid": req.AccountSid, "OrganizationName": org.FriendlyName},
	})
}

// OpenRequestInput is an import or share to record: Request names its
// SID, organization, account, kind, requester, grants and expiry.
type OpenRequestInput struct {
	Request domain.AccountRequest
	Actor   domain.Actor
}

// OpenAccountRequest applies every rule of an import or a share and
// records the pending request, answering with it: each grant names an
// active managed user of the organization; the account exists outside any
// organization and is active; an import's owner signed up on one of the
// organization's verified domains, a share's did not and is not managed;
// the account has no pending request from any organization (the store's
// unique index). A refusal records nothing. Running it again answers with
// the request it recorded.
func (a *Activities) OpenAccountRequest(ctx context.Context, in OpenRequestInput) (domain.AccountRequest, error) {
	r := in.Request
	if got, err := a.Store.FindAccountRequest(ctx, r.OrganizationSid, r.Sid); err == nil {
		return got, nil
	} else if domain.ErrorKind(err) != domain.ENotFound {
		return got, wrap(err)
	}
	for _, g := range r.Grants {
		u, err := a.Store.FindUser(ctx, r.OrganizationSid, g.Identity)
		if err == nil && !u.IsManagedBy(r.OrganizationSid) {
			err = domain.Errorf(domain.EInvalid, domain.CodeIdentityNotManaged, "grants: %s is not an active managed user of the organization", g.Identity)
		}
		if err != nil {
			return domain.AccountRequest{}, wrap(err)
		}
	}
	acct, owner, err := a.Store.FindAnyAccount(ctx, r.AccountSid)
	if err != nil {
		return domain.AccountRequest{}, wrap(err)
	}
	verified, err := a.Store.IsVerifiedDomain(ctx, r.OrganizationSid, domain.EmailDomain(owner.UserName))
	if err != nil {
		return domain.AccountRequest{}, wrap(err)
	}
	check := domain.CheckImport
	if r.Kind == domain.RequestShare {
		check = domain.CheckShare
	}
	if err := check(acct, owner, verified); err != nil {
		return domain.AccountRequest{}, wrap(err)
	}
	r.OwnerSid, r.OwnerEmail = owner.Sid, owner.UserName
	r.ExpiresAt = r.ExpiresAt.UTC().Truncate(time.Microsecond)
	if err := a.Store.CreateAccountRequest(ctx, r, domain.NewAuditEvent(in.Actor, r.OrganizationSid, domain.EventRequestCreated, r.Sid,
		map[string]any{"kind": r.Kind, "account_sid": acct.Sid, "owner_email": owner.UserName, "expires_at": r.ExpiresAt.Format(time.RFC3339)})); err != nil {
		return domain.AccountRequest{}, wrap(err)
	}
	logger(ctx).Info("account request recorded", "RequestSid", r.Sid, "kind", r.Kind, "AccountSid", r.AccountSid)
	got, err := a.Store.FindAccountRequest(ctx, r.OrganizationSid, r.Sid)
	return got, wrap(err)
}

// RelinquishInput names the account an organization gives up, at the
// version it had when that was asked.
type RelinquishInput struct {
	OrganizationSid string
	AccountSid      string
	Version         int
	Actor           domain.Actor
}

// PendingRequestsToRelinquish checks that the organization may relinquish
// the account (an independent one of its own) and lists its pending
// invitations, which end before the access does: nobody may join the
// account through the organization once it has gone.
func (a *Activities) PendingRequestsToRelinquish(ctx context.Context, in RelinquishInput) ([]domain.PendingRequest, error) {
	acct, err := a.Store.FindAccount(ctx, in.OrganizationSid, in.AccountSid)
	if err != nil {
		return nil, wrap(err)
	}
	if err := domain.CheckRelinquish(acct); err != nil {
		return nil, wrap(err)
	}
	out, err := a.Store.ListPendingRequests(ctx, in.AccountSid)
	return out, wrap(err)
}

// RelinquishAccount ends the organization's access to the account (the
// rule is checked again under the account's lock) and answers with the
// account as it is now, standalone. Running it again after it succeeded
// answers with the same account.
func (a *Activities) RelinquishAccount(ctx context.Context, in RelinquishInput) (domain.Account, error) {
	out, err := a.Store.Relinquish(ctx, in.OrganizationSid, in.AccountSid,
		domain.NewAuditEvent(in.Actor, in.OrganizationSid, domain.EventAccountRelinquished, in.AccountSid, nil))
	if domain.ErrorCode(err) == domain.CodeAccountNotFound {
		// Done already by an earlier attempt: the account left this
		// version for a standalone one.
		if acct, _, ferr := a.Store.FindAnyAccount(ctx, in.AccountSid); ferr == nil &&
			acct.OrganizationSid == "" && acct.Kind == domain.AccountStandalone && acct.Version == in.Version+1 {
			return acct, nil
		}
	}
	return out, wrap(err)
}

// NotifyRelinquishedInput is a relinquished account whose owner is told.
type NotifyRelinquishedInput struct {
	OrganizationSid string
	Account         domain.Account
}

// NotifyRelinquished tells the account's owner that the organization gave
// up its access, once per relinquish.
func (a *Activities) NotifyRelinquished(ctx context.Context, in NotifyRelinquishedInput) error {
	org, err := a.Store.FindOrganization(ctx, in.OrganizationSid)
	if err != nil {
		return wrap(err)
	}
	_, owner, err := a.Store.FindAnyAccount(ctx, in.Account.Sid)
	if err != nil {
		return wrap(err)
	}
	return a.SendEmail(ctx, EmailInput{
		Key: fmt.Sprintf("relinquish/%s/v%d", in.Account.Sid, in.Account.Version), OrganizationSid: in.OrganizationSid, To: owner.UserName,
		Template: email.TemplateRelinquished, RelatedSid: in.Account.Sid,
		Data: map[string]any{"OrganizationName": org.FriendlyName, "AccountName": in.Account.FriendlyName, "AccountSid": in.Account.Sid},
	})
}
