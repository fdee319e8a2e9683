package lifecycle

import (
	"context"
	"log/slog"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// peopleStore is what the people service reads and writes.
type peopleStore interface {
	accessStore
	FindUser(ctx context.Context, orgSid, sid string) (domain.User, error)
	FindUserByEmail(ctx context.Context, orgSid, email string) (domain.User, error)
	ListAccountUsers(ctx context.Context, f domain.AccountUserFilter) ([]domain.AccountUser, error)
	SetAccountUserRoles(ctx context.Context, c domain.RoleChange, ev domain.AuditEvent) (domain.AccountUser, error)
	RemoveAccountUser(ctx context.Context, c domain.RoleChange, ev domain.AuditEvent) error
	TransferOwnership(ctx context.Context, t domain.OwnershipTransfer, ev domain.AuditEvent) (domain.TransferredOwnership, error)
	CreateRoleAssignment(ctx context.Context, ra domain.RoleAssignment, ev domain.AuditEvent) (domain.RoleAssignment, error)
	ListRoleAssignments(ctx context.Context, f domain.RoleAssignmentFilter) ([]domain.RoleAssignment, error)
	FindRoleAssignment(ctx context.Context, orgSid, sid string) (domain.RoleAssignment, error)
	DeleteRoleAssignment(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error
	ListUsers(ctx context.Context, f domain.UserFilter) ([]domain.User, int, error)
}

// People is the lifecycle of who may do what on an account: its users and
// their roles, role assignments, and ownership transfers.
type People struct {
	access access
	store  peopleStore
	engine NoticeEngine
	clock  domain.Clock
	log    *slog.Logger
}

// Users returns one page of the users holding a role on the account, each
// once with all its roles there (f.Role filters).
func (s *People) Users(ctx context.Context, p domain.Principal, accountSid string, f domain.AccountUserFilter) (domain.Page[domain.AccountUser], error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionReadAccount)
	if err != nil {
		return domain.Page[domain.AccountUser]{}, err
	}
	f.OrganizationSid, f.AccountSid = p.OrganizationSid, acct.Sid
	if err := f.Validate(); err != nil {
		return domain.Page[domain.AccountUser]{}, err
	}
	return page(f.Page, func() ([]domain.AccountUser, error) { return s.store.ListAccountUsers(ctx, f) })
}

// roleChange reads what setting and removing a user's roles share: the
// account (the caller must manage its users), the user, and whether the
// caller may grant or remove Administrator.
func (s *People) roleChange(ctx context.Context, p domain.Principal, accountSid, userSid string) (domain.RoleChange, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionManageUsers)
	if err != nil {
		return domain.RoleChange{}, err
	}
	if err := domain.CheckSID("user", domain.PrefixUser, userSid); err != nil {
		return domain.RoleChange{}, err
	}
	roles, err := s.access.rolesOf(ctx, p, acct.Sid)
	if err != nil {
		return domain.RoleChange{}, err
	}
	return domain.RoleChange{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, UserSid: userSid,
		MayManageAdministrators: p.MayManageAdministrators(roles),
	}, nil
}

// SetRoles is the new set of roles of a user on an account. Malformed is
// why the request's body could not be read, if it could not: a caller who
// may not change roles is told that first, whatever it sent.
type SetRoles struct {
	AccountSid, UserSid string
	Roles               []string
	Malformed           error
}

// SetRoles replaces the roles of a user on an account. Administrator
// supersedes the others: a set holding it is stored as Administrator
// alone, and the answer shows what was stored.
func (s *People) SetRoles(ctx context.Context, p domain.Principal, cmd SetRoles) (domain.AccountUser, error) {
	change, err := s.roleChange(ctx, p, cmd.AccountSid, cmd.UserSid)
	if err != nil {
		return domain.AccountUser{}, err
	}
	if cmd.Malformed != nil {
		return domain.AccountUser{}, cmd.Malformed
	}
	if change.Roles, err = domain.NormalizeRoles(cmd.Roles); err != nil {
		return domain.AccountUser{}, err
	}
	return s.store.SetAccountUserRoles(ctx, change,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUserRolesSet, change.AccountSid, nil))
}

// Remove removes every role of a user on an account.
func (s *People) Remove(ctx context.Context, p domain.Principal, accountSid, userSid string) error {
	change, err := s.roleChange(ctx, p, accountSid, userSid)
	if err != nil {
		return err
	}
	return s.store.RemoveAccountUser(ctx, change,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUserRemoved, change.AccountSid, nil))
}

// TransferOwnership moves a managed account to another managed user of
// the organization, named by SID or email; the former owner stays on as
// Administrator and both are emailed. Transferring to the current owner
// changes nothing. The store applies the rule (CheckOwnershipTransfer)
// under the account's lock.
func (s *People) TransferOwnership(ctx context.Context, p domain.Principal, accountSid, ownerRef string) (domain.Account, error) {
	acct, err := s.access.account(ctx, p, accountSid, domain.ActionTransferOwnership)
	if err != nil {
		return acct, err
	}
	sid, email, err := domain.ParseUserRef("owner", ownerRef)
	if err != nil {
		return acct, err
	}
	if sid == "" && email == "" {
		return acct, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "owner is required: a User SID (US…) or the email of a managed user")
	}
	var owner domain.User
	if sid != "" {
		owner, err = s.store.FindUser(ctx, p.OrganizationSid, sid)
	} else {
		owner, err = s.store.FindUserByEmail(ctx, p.OrganizationSid, email)
	}
	if domain.ErrorCode(err) == domain.CodeUserNotFound {
		return acct, domain.Errorf(domain.EInvalid, domain.CodeOwnerNotManaged, "the account owner %q is not a managed user of this organization", ownerRef)
	}
	if err != nil {
		return acct, err
	}
	out, err := s.store.TransferOwnership(ctx, domain.OwnershipTransfer{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, NewOwnerSid: owner.Sid, ExpectVersion: acct.Version,
	}, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventOwnershipTransferred, acct.Sid, nil))
	if err != nil {
		return acct, err
	}
	if out.Changed() {
		// The transfer has happened; should the notice not start, the
		// owners are told by nobody, which the log says.
		if err := s.engine.NotifyOwnershipChange(ctx, out, p.Actor()); err != nil {
			s.log.ErrorContext(ctx, "ownership notice not started", "request_id", p.RequestID, "AccountSid", acct.Sid, "error", err.Error())
		}
	}
	return out.Account, nil
}

// Assignments returns one page of role assignments by identity or scope.
// Outside the organization's Owner and Administrators, a user sees its
// own assignments and those on accounts it can read.
func (s *People) Assignments(ctx context.Context, p domain.Principal, f domain.RoleAssignmentFilter) (domain.Page[domain.RoleAssignment], error) {
	f.OrganizationSid = p.OrganizationSid
	if err := f.Validate(); err != nil {
		return domain.Page[domain.RoleAssignment]{}, err
	}
	if !p.IsOrgAdmin() {
		if f.Scope != "" {
			roles, err := s.access.rolesOf(ctx, p, f.Scope)
			if err == nil {
				err = p.AuthorizeAccount(domain.ActionReadAccount, roles)
			}
			if err != nil {
				return domain.Page[domain.RoleAssignment]{}, err
			}
		} else if f.Identity != p.UserSid {
			return domain.Page[domain.RoleAssignment]{}, domain.Errorf(domain.EForbidden, domain.CodeForbidden, "you may list only your own role assignments")
		}
	}
	return page(f.Page, func() ([]domain.RoleAssignment, error) { return s.store.ListRoleAssignments(ctx, f) })
}

// AssignRole is a role to grant a managed user on an account.
type AssignRole struct {
	RoleSid, Scope, Identity string
}

// Assign grants a role on an account to a managed user of the
// organization; only the account Owner and organization admins grant
// Administrator.
func (s *People) Assign(ctx context.Context, p domain.Principal, cmd AssignRole) (domain.RoleAssignment, error) {
	if err := domain.CheckGrantableRole(cmd.RoleSid); err != nil {
		return domain.RoleAssignment{}, err
	}
	if err := domain.CheckSID("scope", domain.PrefixAccount, cmd.Scope); err != nil {
		return domain.RoleAssignment{}, err
	}
	if err := domain.CheckSID("identity", domain.PrefixUser, cmd.Identity); err != nil {
		return domain.RoleAssignment{}, err
	}
	acct, err := s.store.FindAccount(ctx, p.OrganizationSid, cmd.Scope)
	if domain.ErrorKind(err) == domain.ENotFound {
		acct, err = domain.Account{Sid: cmd.Scope}, nil
	}
	if err == nil {
		err = domain.CheckRoleScope(acct)
	}
	if err != nil {
		return domain.RoleAssignment{}, err
	}
	if err := s.mayManageRole(ctx, p, acct.Sid, cmd.RoleSid, "grant"); err != nil {
		return domain.RoleAssignment{}, err
	}
	u, err := s.store.FindUser(ctx, p.OrganizationSid, cmd.Identity)
	if err != nil || !u.IsManagedBy(p.OrganizationSid) {
		if err != nil && domain.ErrorKind(err) != domain.ENotFound {
			return domain.RoleAssignment{}, err
		}
		return domain.RoleAssignment{}, domain.Errorf(domain.EInvalid, domain.CodeIdentityNotManaged, "identity %s is not a managed user of this organization", cmd.Identity)
	}
	ra := domain.RoleAssignment{Sid: newSID(ctx, s.clock, domain.PrefixRoleAssignment), OrganizationSid: p.OrganizationSid, RoleSid: cmd.RoleSid, Scope: cmd.Scope, Identity: cmd.Identity}
	return s.store.CreateRoleAssignment(ctx, ra, domain.RoleAssignedEvent(p.Actor(), ra))
}

// Unassign deletes a role assignment (never the Owner's).
func (s *People) Unassign(ctx context.Context, p domain.Principal, sid string) error {
	if err := domain.CheckSID("assignment", domain.PrefixRoleAssignment, sid); err != nil {
		return err
	}
	ra, err := s.store.FindRoleAssignment(ctx, p.OrganizationSid, sid)
	if err != nil {
		return err
	}
	if err := s.mayManageRole(ctx, p, ra.Scope, ra.RoleSid, "remove"); err != nil {
		return err
	}
	return s.store.DeleteRoleAssignment(ctx, p.OrganizationSid, sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventRoleRemoved, sid, nil))
}

// mayManageRole checks the caller manages the account's users, and may
// grant or remove Administrator when role is that.
func (s *People) mayManageRole(ctx context.Context, p domain.Principal, scope, role, verb string) error {
	roles, err := s.access.rolesOf(ctx, p, scope)
	if err == nil {
		err = p.AuthorizeAccount(domain.ActionManageUsers, roles)
	}
	if err == nil && role == domain.RoleAdministrator && !p.MayManageAdministrators(roles) {
		err = domain.Errorf(domain.EForbidden, domain.CodeForbidden, "only the account Owner or an organization Owner/Administrator may %s Administrator", verb)
	}
	return err
}

// MaxOwnerCandidates is how many managed users OwnerCandidates lists.
const MaxOwnerCandidates = 200

// OwnerCandidates lists the active managed users an account's ownership
// may move to (the first MaxOwnerCandidates), for those who may transfer
// it: what a form offers as it is typed.
func (s *People) OwnerCandidates(ctx context.Context, p domain.Principal, accountSid string) ([]domain.User, error) {
	if _, err := s.access.account(ctx, p, accountSid, domain.ActionTransferOwnership); err != nil {
		return nil, err
	}
	users, _, err := s.store.ListUsers(ctx, domain.UserFilter{OrganizationSid: p.OrganizationSid, Limit: MaxOwnerCandidates})
	if err != nil {
		return nil, err
	}
	out := users[:0]
	for _, u := range users {
		if u.IsManagedBy(p.OrganizationSid) {
			out = append(out, u)
		}
	}
	return out, nil
}
