package lifecycle

import (
	"context"
	"log/slog"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// AccountEngine runs account creations.
type AccountEngine interface {
	// StartAccountCreation starts the workflow of a creation whose
	// account is persisted (AccountStore.OpenAccount): its Flex steps and
	// its activation. Starting it again names the same run.
	StartAccountCreation(ctx context.Context, c domain.AccountCreation) (domain.Run, error)
	// CreateAccountProgress returns 25101 when no creation is known.
	CreateAccountProgress(ctx context.Context, accountSid string) (domain.Progress, domain.Run, error)
}

// accountStore is what the accounts service reads and writes.
type accountStore interface {
	accessStore
	domain.OwnerDirectory
	OpenAccount(ctx context.Context, o domain.AccountOpening) (domain.Account, error)
	PendingCreations(ctx context.Context, before time.Time, limit int) ([]domain.AccountCreation, error)
	CreationStarted(ctx context.Context, accountSid string) error
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
	log    *slog.Logger
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

// Create starts an account's creation. The owner and the parent are
// checked and the account is persisted (provisioning, with its roles and
// its pending creation) in one transaction; then its workflow is started
// for the Flex steps and the activation, and the answer goes out without
// waiting for the workflow's first task. When the start fails (the
// workflow service is down), the account is persisted all the same and
// ResumeCreations starts its workflow later: Run then names the
// workflow's ID but no run.
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
	ownerSid, err := domain.ResolveAccountOwner(ctx, s.store, p.OrganizationSid, cmd.Owner)
	if err != nil {
		return Creation{}, err
	}
	c := domain.AccountCreation{
		OrganizationSid: p.OrganizationSid, AccountSid: newSID(ctx, s.clock, domain.PrefixAccount), FriendlyName: cmd.FriendlyName,
		Owner: cmd.Owner, OwnerSid: ownerSid, Flex: cmd.Flex, ParentSid: cmd.ParentSid,
		RequestedAt: s.clock.Now().Truncate(time.Second), Actor: p.Actor(),
	}
	// A Standard user who creates an account for someone else becomes its
	// Administrator, to reach it; organization admins reach it anyway.
	if !p.IsOrgAdmin() && p.UserSid != ownerSid {
		c.CreatorSid = p.UserSid
	}
	acct, err := s.store.OpenAccount(ctx, opening(c, s.clock.Now()))
	if err != nil {
		return Creation{}, err
	}
	run, err := s.engine.StartAccountCreation(ctx, c)
	if err != nil {
		s.log.WarnContext(ctx, "account persisted, its creation not started yet: it is started again shortly", "AccountSid", acct.Sid, "error", err)
		return Creation{Account: acct, Run: domain.Run{WorkflowID: run.WorkflowID}}, nil
	}
	return Creation{Account: acct, Run: run}, nil
}

// opening is the account c creates, as persisted before its workflow
// starts: provisioning, with its owner's Owner role, the creator's
// Administrator role when set, and the audit events of both.
func opening(c domain.AccountCreation, now time.Time) domain.AccountOpening {
	a := domain.Account{
		Sid: c.AccountSid, OrganizationSid: c.OrganizationSid, FriendlyName: c.FriendlyName, Status: domain.AccountProvisioning,
		Kind: domain.AccountManaged, OwnerSid: c.OwnerSid, Flex: c.Flex, Require2FA: domain.NewAccountDefaults.Require2FA,
		DateCreated: c.RequestedAt, ParentSid: c.ParentSid,
	}
	o := domain.AccountOpening{
		Account: a, Creation: c,
		Owner: domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: a.OrganizationSid,
			RoleSid: domain.RoleOwner, Scope: a.Sid, Identity: a.OwnerSid},
		Events: []domain.AuditEvent{domain.AccountCreatedEvent(c.Actor, a)},
	}
	if c.CreatorSid != "" {
		ra := domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: a.OrganizationSid,
			RoleSid: domain.RoleAdministrator, Scope: a.Sid, Identity: c.CreatorSid}
		o.Creator = &ra
		o.Events = append(o.Events, domain.RoleAssignedEvent(c.Actor, ra))
	}
	return o
}

// ResumeCreations starts the workflow of every account creation persisted
// before the time given whose start was never confirmed (the process
// stopped between its commit and its start, or the workflow service was
// down), up to limit of them, and says how many it started. A creation
// whose workflow is there already (only slow) is confirmed, not run twice.
func (s *Accounts) ResumeCreations(ctx context.Context, before time.Time, limit int) (int, error) {
	pending, err := s.store.PendingCreations(ctx, before, limit)
	if err != nil {
		return 0, err
	}
	started := 0
	for _, c := range pending {
		if _, err := s.engine.StartAccountCreation(ctx, c); err != nil {
			return started, err
		}
		if err := s.store.CreationStarted(ctx, c.AccountSid); err != nil {
			return started, err
		}
		started++
	}
	return started, nil
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
	if kind := domain.ErrorKind(err); kind == domain.ENotFound || kind == domain.EUnavailable {
		// A creation persisted whose workflow has not started yet (or
		// cannot be asked) is running all the same.
		if pending, ok := s.pendingProgress(ctx, p, sid, run); ok {
			return pending, nil
		}
	}
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

// pendingProgress is the progress of a creation persisted but not (yet)
// known to the engine: running, no step reported. Organization admins and
// those with a role on the account (its owner, its creator) see it.
func (s *Accounts) pendingProgress(ctx context.Context, p domain.Principal, sid string, run domain.Run) (CreationProgress, bool) {
	a, err := s.store.FindAccount(ctx, p.OrganizationSid, sid)
	if err != nil || a.Status != domain.AccountProvisioning {
		return CreationProgress{}, false
	}
	if !p.IsOrgAdmin() {
		if roles, err := s.store.RolesOn(ctx, sid, p.UserSid); err != nil || len(roles) == 0 {
			return CreationProgress{}, false
		}
	}
	return CreationProgress{AccountSid: sid, Run: domain.Run{WorkflowID: run.WorkflowID},
		Progress: domain.Progress{OrganizationSid: p.OrganizationSid, Status: domain.StepRunning}}, true
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
