package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// SendInvitationInput names one sending of an invitation.
type SendInvitationInput struct {
	InvitationSid string
	Version       int // link version: 1 for the first email, +1 per resend
	ExpiresAt     time.Time
	SentAt        time.Time
}

// SendInvitation emails the invitation with link version in.Version (see
// sendLinkOnce) and records the send on the invitation.
func (a *Activities) SendInvitation(ctx context.Context, in SendInvitationInput) error {
	var inv domain.Invitation
	return a.sendLinkOnce(ctx, fmt.Sprintf("invitation/%s/v%d", in.InvitationSid, in.Version), func() (*linkEmail, error) {
		var err error
		if inv, err = a.Store.FindInvitation(ctx, "", in.InvitationSid); err != nil {
			return nil, err
		}
		if inv.Status != domain.InvitationPending {
			// Revoked before its workflow could send it (its account closed).
			return nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is %s", inv.Status)
		}
		acct, err := a.Store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
		if err != nil {
			return nil, err
		}
		org, err := a.Store.FindOrganization(ctx, inv.OrganizationSid)
		if err != nil {
			return nil, err
		}
		inviter, err := a.Store.FindUser(ctx, inv.OrganizationSid, inv.InviterSid)
		if err != nil {
			inviter = domain.User{UserName: "An administrator"}
		}
		return &linkEmail{
			Link:            domain.ConfirmationLink{Kind: domain.LinkInvitation, SubjectSid: inv.Sid, Version: in.Version, ExpiresAt: in.ExpiresAt},
			OrganizationSid: inv.OrganizationSid, To: inv.Email, Template: email.TemplateInvitation,
			Data: map[string]any{
				"InviterName": domain.DisplayName(inviter), "AccountName": acct.FriendlyName, "OrganizationName": org.FriendlyName,
				"RoleNames": roleNames(inv.Roles), "Expires": in.ExpiresAt.UTC().Format(linkExpiry),
			},
		}, nil
	}, func() error {
		return a.Store.MarkInvitationSent(ctx, inv.Sid, in.Version, in.SentAt, in.ExpiresAt)
	})
}

// OpenInvitationInput is an invitation to record, and who asked.
type OpenInvitationInput struct {
	Invitation domain.Invitation
	Actor      domain.Actor
}

// OpenInvitation records a pending invitation and returns it as stored.
// The store applies the rules under the account's lock: 25019 when the
// email has a pending invitation to the account already or the account
// accepts no new invitation, 25101 when it is not in the organization.
// Running it again returns the invitation the first run recorded.
func (a *Activities) OpenInvitation(ctx context.Context, in OpenInvitationInput) (domain.Invitation, error) {
	inv := in.Invitation
	if stored, err := a.Store.FindInvitation(ctx, inv.AccountSid, inv.Sid); err == nil {
		return stored, nil
	} else if domain.ErrorKind(err) != domain.ENotFound {
		return stored, wrap(err)
	}
	err := a.Store.CreateInvitation(ctx, inv, domain.NewAuditEvent(in.Actor, inv.OrganizationSid, domain.EventInvitationCreated, inv.Sid,
		map[string]any{"account_sid": inv.AccountSid, "email": inv.Email, "roles": inv.Roles}))
	if err != nil {
		return inv, wrap(err)
	}
	logger(ctx).Info("invitation recorded", "InvitationSid", inv.Sid, "AccountSid", inv.AccountSid)
	stored, err := a.Store.FindInvitation(ctx, inv.AccountSid, inv.Sid)
	return stored, wrap(err)
}

// AnswerInput is an invitee's answer, or an administrator's revocation.
type AnswerInput struct {
	InvitationSid string
	Status        string // accepted | declined | revoked | expired
	Actor         domain.Actor
}

// FinishInvitation records how an invitation ended. An acceptance is
// refused (25019) while the account requires two-factor authentication
// and the invitee is not enrolled (CheckTwoFactor), before anything is
// written; otherwise the invitee gets a user (EnsureInvitee: managed when
// the email is on a verified domain of the organization, external
// otherwise) and the roles (GrantInvitee). Every step tolerates having run
// before.
func (a *Activities) FinishInvitation(ctx context.Context, in AnswerInput) (domain.Invitation, error) {
	inv, err := a.Store.FindInvitation(ctx, "", in.InvitationSid)
	if err != nil {
		return inv, wrap(err)
	}
	actor := in.Actor
	userSid := ""
	if in.Status == domain.InvitationAccepted && inv.Status != domain.InvitationAccepted {
		if err := a.checkTwoFactor(ctx, inv); err != nil {
			return inv, wrap(err)
		}
		u, err := domain.EnsureInvitee(ctx, a.Store, a.Clock.Now(), inv.OrganizationSid, inv.Email, actor)
		if err != nil {
			return inv, wrap(err)
		}
		userSid = u.Sid
		if actor.UserSid == "" {
			actor.UserSid = u.Sid
		}
		if _, err := domain.GrantInvitee(ctx, a.Store, a.Clock.Now(), domain.InviteeGrant{
			OrganizationSid: inv.OrganizationSid, AccountSid: inv.AccountSid, UserSid: u.Sid, Roles: inv.Roles, InvitationSid: inv.Sid, Actor: actor,
		}); err != nil {
			return inv, wrap(err)
		}
	}
	out, err := a.Store.FinishInvitation(ctx, inv.Sid, in.Status, userSid,
		domain.NewAuditEvent(actor, inv.OrganizationSid, "invitation."+in.Status, inv.Sid, map[string]any{"account_sid": inv.AccountSid, "email": inv.Email}))
	return out, wrap(err)
}

// checkTwoFactor applies CheckTwoFactor to the invitee of inv, as the
// organization, the account and the invitee are now.
func (a *Activities) checkTwoFactor(ctx context.Context, inv domain.Invitation) error {
	acct, err := a.Store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
	if err != nil {
		return err
	}
	org, err := a.Store.FindOrganization(ctx, inv.OrganizationSid)
	if err != nil {
		return err
	}
	invitee, err := a.Store.FindUserByEmailAnywhere(ctx, inv.Email)
	if err != nil && domain.ErrorCode(err) != domain.CodeUserNotFound {
		return err
	}
	return domain.CheckTwoFactor(org, acct, invitee)
}

// NotifyInviter tells the inviter that the invitation was accepted.
func (a *Activities) NotifyInviter(ctx context.Context, invitationSid string) error {
	inv, err := a.Store.FindInvitation(ctx, "", invitationSid)
	if err != nil {
		return wrap(err)
	}
	inviter, err := a.Store.FindUser(ctx, inv.OrganizationSid, inv.InviterSid)
	if domain.ErrorCode(err) == domain.CodeUserNotFound {
		return nil // the inviter left the organization
	} else if err != nil {
		return wrap(err)
	}
	acct, err := a.Store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
	if err != nil {
		return wrap(err)
	}
	return a.SendEmail(ctx, EmailInput{
		Key: "invitation/" + inv.Sid + "/accepted", OrganizationSid: inv.OrganizationSid, To: inviter.UserName,
		Template: email.TemplateInvitationAccepted, RelatedSid: inv.Sid,
		Data: map[string]any{"InviteeEmail": inv.Email, "AccountName": acct.FriendlyName, "RoleNames": roleNames(inv.Roles)},
	})
}
