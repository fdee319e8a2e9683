package lifecycle

import (
	"context"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// AccountEngine runs account creations.
type AccountEngine interface {
	// CreateAccount starts the creation and answers with the persisted
	// account (provisioning) or the domain error that refused it: 25103
	// for an owner who is not a managed user, 25101/25019 for a parent
	// that may not take a subaccount (re-checked under its lock).
	CreateAccount(ctx context.Context, c domain.AccountCreation) (domain.Account, domain.Run, error)
	// CreateAccountProgress returns 25101 when no creation is known.
	CreateAccountProgress(ctx context.Context, accountSid string) (domain.Progress, domain.Run, error)
}

// accountStore is what the accounts service reads and writes.
type accountStore interface {
	accessStore
	ListAccounts(ctx context.Context, f domain.AccountFilter) ([]domain.Account, error)
	UpdateAccount(ctx context.Context, orgSid, sid string, u domain.AccountUpdate, ev domain.AuditEvent) (domain.Account, error)
}

// Accounts is the lifecycle of an organization's accounts: creation,
// reads and settings.
type Accounts struct {
	access access
	store  accountStore
	engine AccountEngine
	clock  domain.Clock
}

// List returns one page of the accounts the caller may see: all of them
// for an organization Owner or Administrator, those a Standard user holds
// a role on otherwise. f's status, kind and search narrow it (25106 when
// one is not valid); its organization and visibility are the caller's.
func (s *Accounts) List(ctx context.Context, p domain.Principal, f domain.AccountFilter) (domain.Page[domain.Account], error) {
	if err := f.Validate(); err != nil {
		return domain.Page[domain.Account]{}, err
	}
	f.OrganizationSid, f.VisibleTo = p.OrganizationSid, ""
	if !p.IsOrgAdmin() {
		f.VisibleTo = p.UserSid
	}
	return page(f.Page, func() ([]domain.Account, error) { return s.store.ListAccounts(ctx, f) })
}

// Get returns an account the caller holds any role on (25101 otherwise,
// and while it is provisioning).
func (s *Accounts) Get(ctx context.Context, p domain.Principal, sid string) (domain.Account, error) {
	return s.access.account(ctx, p, sid, domain.ActionReadAccount)
}

// CreateAccount is a request for a new managed account.
type CreateAccount struct {
	FriendlyName string
	// Owner is a User SID or a managed user's email; empty means the
	// organization owner.
	Owner string
	Flex  bool
	// ParentSid makes the account a subaccount of an active top-level
	// account the caller may manage.
	ParentSid string
}

// Creation is an account whose creation has started.
type Creation struct {
	Account domain.Account // provisioning
	Run     domain.Run
}

// Create starts an account's creation. The answer comes once the account
// is persisted (provisioning): the owner and the parent have been checked
// by then; the workflow goes on with the Flex steps and the activation.
func (s *Accounts) Create(ctx context.Context, p domain.Principal, cmd CreateAccount) (Creation, error) {
	if err := p.CanCreateAccounts(); err != nil {
		return Creation{}, err
	}
	if err := domain.ValidateFriendlyName("friendly_name", cmd.FriendlyName); err != nil {
		return Creation{}, err
	}
	if _, _, err := domain.ParseUserRef("owner", cmd.Owner); err != nil {
		return Creation{}, err
	}
	if cmd.ParentSid != "" {
		if err := domain.CheckSID("parent_sid", domain.PrefixAccount, cmd.ParentSid); err != nil {
			return Creation{}, err
		}
		// The caller must manage the parent; the rules on the parent
		// itself are applied where the account is persisted, under the
		// parent's lock.
		if _, err := s.access.account(ctx, p, cmd.ParentSid, domain.ActionUpdateSettings); err != nil {
			return Creation{}, err
		}
	}
	// A Standard user who creates an account for someone else becomes its
	// Administrator, to reach it; organization admins reach it anyway.
	creator := p.UserSid
	if p.IsOrgAdmin() {
		creator = ""
	}
	acct, run, err := s.engine.CreateAccount(ctx, domain.AccountCreation{
		OrganizationSid: p.OrganizationSid, AccountSid: newSID(ctx, s.clock, domain.PrefixAccount), FriendlyName: cmd.FriendlyName,
		Owner: cmd.Owner, Flex: cmd.Flex, ParentSid: cmd.ParentSid, CreatorSid: creator,
		RequestedAt: s.clock.Now().Truncate(time.Second), Actor: p.Actor(),
	})
	return Creation{Account: acct, Run: run}, err
}

// CreationProgress is where an account's creation stands; Account is set
// once it completed.
type CreationProgress struct {
	AccountSid string
	Progress   domain.Progress
	Run        domain.Run
	Account    *domain.Account
}

// Progress returns the steps of an account's creation to its requester,
// to those with a role on it, and to organization admins.
func (s *Accounts) Progress(ctx context.Context, p domain.Principal, sid string) (CreationProgress, error) {
	if err := domain.CheckSID("account", domain.PrefixAccount, sid); err != nil {
		return CreationProgress{}, err
	}
	progress, run, err := s.engine.CreateAccountProgress(ctx, sid)
	if err != nil {
		return CreationProgress{}, err
	}
	if progress.OrganizationSid != p.OrganizationSid {
		return CreationProgress{}, errAccountNotFound()
	}
	if !p.IsOrgAdmin() && (progress.RequestedBy == "" || progress.RequestedBy != p.UserSid) {
		if _, err := s.access.account(ctx, p, sid, domain.ActionReadAccount); err != nil {
			return CreationProgress{}, err
		}
	}
	out := CreationProgress{AccountSid: sid, Progress: progress, Run: run}
	if progress.Status == domain.StepCompleted {
		if a, err := s.store.FindAccount(ctx, p.OrganizationSid, sid); err == nil {
			out.Account = &a
		}
	}
	return out, nil
}

// Update applies settings (name, require 2FA) for the account's Owner or
// Administrator and organization admins.
func (s *Accounts) Update(ctx context.Context, p domain.Principal, sid string, u domain.AccountUpdate) (domain.Account, error) {
	a, err := s.access.account(ctx, p, sid, domain.ActionUpdateSettings)
	if err != nil {
		return a, err
	}
	if err := u.Validate(); err != nil {
		return a, err
	}
	return s.store.UpdateAccount(ctx, p.OrganizationSid, a.Sid, u,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUpdated, a.Sid, nil))
}

// Permissions are what a caller may do on one account, so that an edge
// offers only the actions the caller's roles allow (the methods that act
// refuse the others anyway).
type Permissions struct {
	// Roles are the caller's roles on the account (none for organization
	// admins, who may do everything).
	Roles                                                         []string
	UpdateSettings, ManageUsers, Close, TransferOwnership, Reopen bool
}

// AccountView is an account with what the caller may do on it.
type AccountView struct {
	Account domain.Account
	May     Permissions
}

// View returns an account the caller may read (as Get does) with the
// caller's permissions on it.
func (s *Accounts) View(ctx context.Context, p domain.Principal, sid string) (AccountView, error) {
	a, err := s.access.account(ctx, p, sid, domain.ActionReadAccount)
	if err != nil {
		return AccountView{}, err
	}
	var roles []string
	if p.AccountSid == "" {
		if roles, err = s.access.rolesOf(ctx, p, a.Sid); err != nil {
			return AccountView{}, err
		}
	}
	may := func(action domain.AccountAction) bool { return p.AuthorizeAccount(action, roles) == nil }
	return AccountView{Account: a, May: Permissions{
		Roles: roles, UpdateSettings: may(domain.ActionUpdateSettings), ManageUsers: may(domain.ActionManageUsers),
		Close: may(domain.ActionCloseAccount), TransferOwnership: may(domain.ActionTransferOwnership), Reopen: p.IsOrgAdmin(),
	}}, nil
}
