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
