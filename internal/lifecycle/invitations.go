package lifecycle

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// InvitationEngine runs the workflows of Invitations.
type InvitationEngine interface {
	// Invite starts the invitation's workflow with its StartUpdate, which
	// records the invitation under the store's rules: the answer is the
	// pending invitation, or the refusal (25019 a pending invitation for
	// the email already, or an account that accepts none; 25101), and
	// then nothing is recorded and no workflow waits. When the workflow
	// had ended already (a retried request), only the SID is set.
	Invite(ctx context.Context, inv domain.Invitation, actor domain.Actor) (domain.Invitation, domain.Run, error)
	// ResendInvitation returns 25021 past the resend limits, 25019 when
	// the invitation is no longer pending (as does RevokeInvitation).
	ResendInvitation(ctx context.Context, sid string) (domain.InvitationState, error)
	RevokeInvitation(ctx context.Context, sid string, actor domain.Actor) (domain.InvitationState, error)
}

// invitationStore is what the invitations service reads and writes.
type invitationStore interface {
	accessStore
	domain.RoleGranter
	FindUserByEmail(ctx context.Context, orgSid, email string) (domain.User, error)
	FindInvitation(ctx context.Context, accountSid, sid string) (domain.Invitation, error)
	ListInvitations(ctx context.Context, f domain.InvitationFilter) ([]domain.Invitation, error)
}

// Invitations is the lifecycle of invitations: asking someone who is not
// a managed user of the organization to join an account with some roles,
// by an emailed link (see Confirmations for the link's side).
type Invitations struct {
	access access
	store  invitationStore
	engine InvitationEngine
	clock  domain.Clock
}

// List returns one page of an account's invitations of a status (pending
// when empty), for those who may manage its users.
func (s *Invitations) List(ctx context.Context, p domain.Principal, accountSid string, f domain.InvitationFilter) (domain.Page[domain.Invitation], error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionManageUsers)
	if err != nil {
		return domain.Page[domain.Invitation]{}, err
	}
	if f.Status == "" {
		f.Status = domain.InvitationPending
	}
	if err := domain.CheckInvitationStatus(f.Status); err != nil {
		return domain.Page[domain.Invitation]{}, err
	}
	f.AccountSid = acct.Sid
	return page(f.Page, func() ([]domain.Invitation, error) { return s.store.ListInvitations(ctx, f) })
}

// Get returns an invitation of an account whose users the caller may
// manage (20404 when the account has no such invitation).
func (s *Invitations) Get(ctx context.Context, p domain.Principal, accountSid, sid string) (domain.Invitation, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionManageUsers)
	if err != nil {
		return domain.Invitation{}, err
	}
	if err := domain.CheckSID("invitation", domain.PrefixInvitation, sid); err != nil {
		return domain.Invitation{}, err
	}
	return s.store.FindInvitation(ctx, acct.Sid, sid)
}

// Invite is someone to give roles on an account, by email.
type Invite struct {
	Email string
	Roles []string
}

// Invited is what an invitation did: either Granted (the email is a
// managed user's of the organization, who got the roles at once) or
// Invitation (a pending invitation whose workflow Run emails it).
type Invited struct {
	Granted    *Granted
	Invitation *domain.Invitation
	Run        domain.Run
}

// Granted is a managed user given an invitation's roles at once.
type Granted struct {
	Email      string
	UserSid    string
	AccountSid string
	// Roles are every role the user now holds on the account.
	Roles []string
}

// Invite gives a person roles on an account, for those who may manage its
// users (only the account Owner and organization admins give
// Administrator) on an active account. A managed user of the organization
// gets them at once; anyone else gets an invitation, recorded by its
// workflow's StartUpdate (which refuses a second pending invitation for
// the same email) and then emailed.
func (s *Invitations) Invite(ctx context.Context, p domain.Principal, accountSid string, cmd Invite) (Invited, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionManageUsers)
	if err != nil {
		return Invited{}, err
	}
	if err := domain.CheckAcceptsNewRequests(acct); err != nil {
		return Invited{}, err
	}
	email, err := domain.NormalizeEmail("email", cmd.Email)
	if err != nil {
		return Invited{}, err
	}
	roles, err := domain.NormalizeRoles(cmd.Roles)
	if err != nil {
		return Invited{}, err
	}
	if roles[0] == domain.RoleAdministrator {
		callerRoles, err := s.access.rolesOf(ctx, p, acct.Sid)
		if err != nil {
			return Invited{}, err
		}
		if !p.MayManageAdministrators(callerRoles) {
			return Invited{}, domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only the account Owner or an organization Owner/Administrator may grant Administrator")
		}
	}
	u, err := s.store.FindUserByEmail(ctx, p.OrganizationSid, email)
	if err == nil && u.IsManagedBy(p.OrganizationSid) {
		if _, err := domain.GrantInvitee(ctx, s.store, s.clock.Now(), domain.InviteeGrant{
			OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, UserSid: u.Sid, Roles: roles, Actor: p.Actor(),
		}); err != nil {
			return Invited{}, err
		}
		held, err := s.store.RolesOn(ctx, acct.Sid, u.Sid)
		if err != nil {
			return Invited{}, err
		}
		return Invited{Granted: &Granted{Email: email, UserSid: u.Sid, AccountSid: acct.Sid, Roles: held}}, nil
	} else if err != nil && domain.ErrorKind(err) != domain.ENotFound {
		return Invited{}, err
	}
	inv := domain.Invitation{
		Sid: newSID(ctx, s.clock, domain.PrefixInvitation), OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid,
		Email: email, Roles: roles, InviterSid: p.UserSid,
	}
	stored, run, err := s.engine.Invite(ctx, inv, p.Actor())
	if err != nil {
		return Invited{}, err
	}
	if stored.Status == "" {
		// Its workflow had ended already: the store has how it ended.
		if stored, err = s.store.FindInvitation(ctx, acct.Sid, inv.Sid); err != nil {
			return Invited{}, err
		}
	}
	return Invited{Invitation: &stored, Run: run}, nil
}

// Resend emails a pending invitation again with a new link (the old one
// stops working) and restarts its expiry: 25021 past the limits (one per
// resend interval, five in all), 25019 unless pending.
func (s *Invitations) Resend(ctx context.Context, p domain.Principal, accountSid, sid string) (domain.Invitation, error) {
	inv, err := s.Get(ctx, p, accountSid, sid)
	if err != nil {
		return inv, err
	}
	if _, err := s.engine.ResendInvitation(ctx, inv.Sid); err != nil {
		return inv, err
	}
	return s.store.FindInvitation(ctx, inv.AccountSid, inv.Sid)
}

// Revoke withdraws a pending invitation: its link then says so (25019
// unless pending).
func (s *Invitations) Revoke(ctx context.Context, p domain.Principal, accountSid, sid string) error {
	inv, err := s.Get(ctx, p, accountSid, sid)
	if err != nil {
		return err
	}
	_, err = s.engine.RevokeInvitation(ctx, inv.Sid, p.Actor())
	return err
}
