package lifecycle

import (
	"context"
	"log/slog"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ConfirmationEngine carries the answers given on confirmation pages to
// the workflows that wait for them.
type ConfirmationEngine interface {
	// AnswerLink gives the answer to the workflow of the link's subject
	// (an invitation, an import or a share request): 25019 when its state
	// does not allow it (no longer pending, a newer link, expired; an
	// acceptance before two-factor enrolment where the account requires
	// it).
	AnswerLink(ctx context.Context, kind, subjectSid string, a domain.LinkAnswer) error
}

// confirmationStore is what loading a link and enrolling its invitee read
// and write.
type confirmationStore interface {
	domain.InviteeStore
	FindLink(ctx context.Context, tokenHash string) (domain.ConfirmationLink, error)
	FindInvitation(ctx context.Context, accountSid, sid string) (domain.Invitation, error)
	FindAccountRequest(ctx context.Context, orgSid, sid string) (domain.AccountRequest, error)
	FindAccount(ctx context.Context, orgSid, sid string) (domain.Account, error)
	FindOrganization(ctx context.Context, sid string) (domain.Organization, error)
	FindUser(ctx context.Context, orgSid, sid string) (domain.User, error)
	EnrollTwoFactor(ctx context.Context, userSid string) error
	FindPersonByEmail(ctx context.Context, email string) (domain.Person, error)
}

// Confirmations is the emailed single-use confirmation link, one concept
// for invitations, imports and shares: loading what a link is about and
// what its page may offer, and carrying its holder's answer to the
// lifecycle that waits for it. Nobody signs in: the token is the
// credential.
type Confirmations struct {
	store     confirmationStore
	engine    ConfirmationEngine
	clock     domain.Clock
	passwords *SignIn
	log       *slog.Logger
}

// errInvalidLink is how a token that names no link (or a link whose
// subject is gone) answers.
func errInvalidLink() error {
	return domain.Errorf(domain.ENotFound, 20404, "this link is not valid")
}

// notFoundAsInvalid turns "not found" into errInvalidLink and keeps any
// other failure.
func notFoundAsInvalid(err error) error {
	if domain.ErrorKind(err) == domain.ENotFound {
		return errInvalidLink()
	}
	return err
}

// View loads the link of a token and what it is about. It never changes
// anything (mail scanners prefetch links): 20404 for a token that names no
// link.
func (s *Confirmations) View(ctx context.Context, token string) (domain.Confirmation, error) {
	if !domain.ValidSecret(token) {
		return domain.Confirmation{}, errInvalidLink()
	}
	link, err := s.store.FindLink(ctx, domain.HashSecret(token))
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	switch link.Kind {
	case domain.LinkInvitation:
		return s.invitation(ctx, link)
	case domain.LinkImport, domain.LinkShare:
		return s.request(ctx, link)
	}
	return domain.Confirmation{}, errInvalidLink()
}

// invitation is View for an invitation's link.
func (s *Confirmations) invitation(ctx context.Context, link domain.ConfirmationLink) (domain.Confirmation, error) {
	inv, err := s.store.FindInvitation(ctx, "", link.SubjectSid)
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	acct, err := s.store.FindAccount(ctx, inv.OrganizationSid, inv.AccountSid)
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	org, err := s.store.FindOrganization(ctx, inv.OrganizationSid)
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	c := domain.Confirmation{
		Link: link, Kind: link.Kind, SubjectSid: inv.Sid, State: domain.ConfirmationState(link, inv.Status, s.clock.Now()),
		OrganizationSid: inv.OrganizationSid, OrganizationName: org.FriendlyName, AccountSid: acct.Sid, AccountName: acct.FriendlyName,
		Asker: s.asker(ctx, inv.OrganizationSid, inv.InviterSid), Recipient: inv.Email, Roles: inv.Roles,
	}
	invitee, err := s.store.FindUserByEmailAnywhere(ctx, inv.Email)
	if err != nil && domain.ErrorCode(err) != domain.CodeUserNotFound {
		return c, err
	}
	c.RecipientSid = invitee.Sid
	c.Need2FA = c.Askable() && domain.CheckTwoFactor(acct, invitee) != nil
	return c, nil
}

// request is View for an import or share request's link.
func (s *Confirmations) request(ctx context.Context, link domain.ConfirmationLink) (domain.Confirmation, error) {
	req, err := s.store.FindAccountRequest(ctx, "", link.SubjectSid)
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	if domain.LinkKind(req.Kind) != link.Kind {
		return domain.Confirmation{}, errInvalidLink()
	}
	org, err := s.store.FindOrganization(ctx, req.OrganizationSid)
	if err != nil {
		return domain.Confirmation{}, notFoundAsInvalid(err)
	}
	grants := make([]domain.NamedGrant, 0, len(req.Grants))
	for _, g := range req.Grants {
		who := g.Identity
		if u, err := s.store.FindUser(ctx, req.OrganizationSid, g.Identity); err == nil {
			who = u.UserName
		}
		grants = append(grants, domain.NamedGrant{Who: who, Roles: g.Roles})
	}
	return domain.Confirmation{
		Link: link, Kind: link.Kind, SubjectSid: req.Sid, State: domain.ConfirmationState(link, req.Status, s.clock.Now()),
		OrganizationSid: req.OrganizationSid, OrganizationName: org.FriendlyName, AccountSid: req.AccountSid, AccountName: req.AccountName,
		Asker: s.asker(ctx, req.OrganizationSid, req.RequesterSid), Recipient: req.OwnerEmail, RecipientSid: req.OwnerSid,
		Grants: grants, ExpiresAt: req.ExpiresAt,
	}, nil
}

// asker names who sent a link, empty when they are gone.
func (s *Confirmations) asker(ctx context.Context, orgSid, userSid string) string {
	if u, err := s.store.FindUser(ctx, orgSid, userSid); err == nil {
		return domain.DisplayName(u)
	}
	return ""
}

// Answer carries the holder's answer (accept or decline) to the workflow
// of the link's subject, and returns the link as answered. It is refused
// (25019, with the link as it is, which says why) when the link is not
// askable, when an invitee who must enrol in two-factor authentication
// first accepts (Need2FA), or when the workflow refuses it (it applies the
// same rules, whoever asks).
func (s *Confirmations) Answer(ctx context.Context, token string, accept bool, actor domain.Actor) (domain.Confirmation, error) {
	c, err := s.View(ctx, token)
	if err != nil {
		return c, err
	}
	if !c.Askable() {
		return c, domain.ErrNotAskable(c)
	}
	if accept && c.Need2FA {
		return c, domain.ErrTwoFactorFirst()
	}
	actor.UserSid = c.RecipientSid
	err = s.engine.AnswerLink(ctx, c.Kind, c.SubjectSid, domain.LinkAnswer{LinkVersion: c.Link.Version, Accept: accept, Actor: actor})
	if err != nil {
		if domain.ErrorKind(err) == domain.EConflict {
			// Refused by the workflow: the link as it now is says why.
			if now, verr := s.View(ctx, token); verr == nil {
				c = now
			}
		}
		return c, err
	}
	c.State, c.Need2FA = domain.ConfirmDeclined, false
	if accept {
		c.State = domain.ConfirmAccepted
		s.offerPassword(ctx, c, actor)
	}
	return c, nil
}

// offerPassword emails the person who accepted a link to set a password,
// unless they have one: from now on they can sign in to the console. A
// failure to start the email leaves the answer as it is (they can ask
// for a link with "forgot password").
func (s *Confirmations) offerPassword(ctx context.Context, c domain.Confirmation, actor domain.Actor) {
	person, err := s.store.FindPersonByEmail(ctx, c.Recipient)
	if err != nil {
		return
	}
	purpose := domain.PasswordForOwner
	if c.Kind == domain.LinkInvitation {
		purpose = domain.PasswordForInvitation
	}
	if err := s.passwords.OfferPassword(ctx, person.User, purpose, c.Kind+"/"+c.SubjectSid, actor); err != nil {
		s.log.ErrorContext(ctx, "password link not started", "user_sid", person.User.Sid, "request_id", actor.RequestID, "error", err.Error())
	}
}

// EnrolTwoFactor enrols the invitee of an askable invitation in
// two-factor authentication, making its user first when it has none
// (EnsureInvitee). It stands in for a real enrolment, which is not this
// service's job. 25105 for any other link.
func (s *Confirmations) EnrolTwoFactor(ctx context.Context, token string, actor domain.Actor) (domain.Confirmation, error) {
	c, err := s.View(ctx, token)
	if err != nil {
		return c, err
	}
	if c.Kind != domain.LinkInvitation || !c.Askable() {
		return c, domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only an invitation that waits for its answer takes a two-factor enrolment")
	}
	actor.UserSid = c.RecipientSid
	u, err := domain.EnsureInvitee(ctx, s.store, s.clock.Now(), c.OrganizationSid, c.Recipient, actor)
	if err != nil {
		return c, err
	}
	if err := s.store.EnrollTwoFactor(ctx, u.Sid); err != nil {
		return c, err
	}
	c.RecipientSid, c.Need2FA = u.Sid, false
	return c, nil
}
