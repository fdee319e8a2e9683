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

// SendInvitation issues a fresh single-use link (superseding the older
// ones) and emails it, once per version. The token exists only in the
// email: the database keeps its hash and the workflow history never sees
// it.
func (a *Activities) SendInvitation(ctx context.Context, in SendInvitationInput) error {
	key := fmt.Sprintf("invitation/%s/v%d", in.InvitationSid, in.Version)
	if done, err := a.Store.EmailSent(ctx, key); err != nil || done {
		return wrap(err)
	}
	inv, err := a.Store.FindInvitation(ctx, "", in.InvitationSid)
	if err != nil {
		return wrap(err)
	}
	if inv.Status != domain.InvitationPending {
		// Revoked before its workflow could send it (its account closed).
		return wrap(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is %s", inv.Status))
	}
	acct, err := a.Store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
	if err != nil {
		return wrap(err)
	}
	org, err := a.Store.FindOrganization(ctx, inv.OrganizationSid)
	if err != nil {
		return wrap(err)
	}
	inviter, err := a.Store.FindUser(ctx, inv.OrganizationSid, inv.InviterSid)
	if err != nil {
		inviter = domain.User{UserName: "An administrator"}
	}
	token := domain.NewSecret(32)
	if err := a.Store.IssueLink(ctx, domain.ConfirmationLink{
		TokenHash: domain.HashSecret(token), Kind: domain.LinkInvitation, SubjectSid: inv.Sid, Version: in.Version, ExpiresAt: in.ExpiresAt,
	}); err != nil {
		return wrap(err)
	}
	m, err := email.Render(email.TemplateInvitation, inv.Email, map[string]any{
		"InviterName": displayName(inviter), "AccountName": acct.FriendlyName, "OrganizationName": org.FriendlyName,
		"RoleNames": roleNames(inv.Roles), "Link": a.linkURL(token), "Expires": in.ExpiresAt.UTC().Format("2 Jan 2006 15:04 MST"),
	})
	if err != nil {
		return wrap(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%v", err))
	}
	if err := a.Mailer.Send(ctx, m); err != nil {
		return err
	}
	if err := a.Store.RecordEmail(ctx, domain.SentEmail{
		Key: key, OrganizationSid: inv.OrganizationSid, To: inv.Email, Template: email.TemplateInvitation, Subject: m.Subject,
		BodyText: "(link withheld)", Transport: a.Mailer.Transport(), WorkflowID: workflowID(ctx), RelatedSid: inv.Sid,
	}); err != nil {
		return wrap(err)
	}
	logger(ctx).Info("invitation sent", "InvitationSid", inv.Sid, "to", inv.Email, "version", in.Version)
	return wrap(a.Store.MarkInvitationSent(ctx, inv.Sid, in.Version, in.SentAt, in.ExpiresAt))
}

func displayName(u domain.User) string {
	if u.DisplayName != "" {
		return u.DisplayName + " (" + u.UserName + ")"
	}
	return u.UserName
}

// AnswerInput is an invitee's answer, or an administrator's revocation.
type AnswerInput struct {
	InvitationSid string
	Status        string // accepted | declined | revoked | expired
	Actor         domain.Actor
}

// FinishInvitation records how an invitation ended. For an acceptance it
// first makes sure the invitee has a user (managed when the email is on a
// verified domain of the organization, external otherwise) and the roles.
// Every step tolerates having run before.
func (a *Activities) FinishInvitation(ctx context.Context, in AnswerInput) (domain.Invitation, error) {
	inv, err := a.Store.FindInvitation(ctx, "", in.InvitationSid)
	if err != nil {
		return inv, wrap(err)
	}
	actor := in.Actor
	userSid := ""
	if in.Status == domain.InvitationAccepted {
		u, err := a.EnsureUser(ctx, inv.OrganizationSid, inv.Email, actor)
		if err != nil {
			return inv, wrap(err)
		}
		userSid = u.Sid
		if actor.UserSid == "" {
			actor.UserSid = u.Sid
		}
		for _, role := range inv.Roles {
			ra := domain.RoleAssignment{
				Sid: domain.NewSID(domain.PrefixRoleAssignment, a.Clock.Now()), OrganizationSid: inv.OrganizationSid,
				RoleSid: role, Scope: inv.AccountSid, Identity: u.Sid,
			}
			_, err := a.Store.CreateRoleAssignment(ctx, ra, domain.NewAuditEvent(actor, inv.OrganizationSid, domain.EventRoleAssigned, ra.Sid,
				map[string]any{"role_sid": role, "scope": inv.AccountSid, "identity": u.Sid, "invitation_sid": inv.Sid}))
			if err != nil && domain.ErrorCode(err) != domain.CodeInvalidState {
				return inv, wrap(err)
			}
		}
	}
	out, err := a.Store.FinishInvitation(ctx, inv.Sid, in.Status, userSid,
		domain.NewAuditEvent(actor, inv.OrganizationSid, "invitation."+in.Status, inv.Sid, map[string]any{"account_sid": inv.AccountSid, "email": inv.Email}))
	return out, wrap(err)
}

// EnsureUser finds the user with this email or creates it: managed by the
// organization when the email is on one of its verified domains, external
// otherwise.
func (a *Activities) EnsureUser(ctx context.Context, orgSid, emailAddr string, actor domain.Actor) (domain.User, error) {
	u, err := a.Store.FindUserByEmailAnywhere(ctx, emailAddr)
	if err == nil || domain.ErrorCode(err) != domain.CodeUserNotFound {
		return u, err
	}
	managed, err := a.Store.IsVerifiedDomain(ctx, orgSid, domain.EmailDomain(emailAddr))
	if err != nil {
		return u, err
	}
	u = domain.NewInvitee(domain.NewSID(domain.PrefixUser, a.Clock.Now()), orgSid, emailAddr, managed)
	err = a.Store.CreateUser(ctx, u, domain.NewAuditEvent(actor, orgSid, domain.EventUserCreated, u.Sid, map[string]any{"userName": emailAddr, "managed": managed}))
	if domain.ErrorCode(err) == domain.CodeDuplicateUser { // created by an earlier attempt
		return a.Store.FindUserByEmailAnywhere(ctx, emailAddr)
	}
	return u, err
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
