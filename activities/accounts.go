package activities

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ResolveOwnerInput names the organization and, optionally, the owner.
type ResolveOwnerInput struct {
	OrganizationSid string
	// Owner is a User SID, a user's email, or empty for the organization
	// owner. Runs started before it existed name OwnerSid (empty: the
	// organization owner).
	Owner    string
	OwnerSid string
}

// ResolveOwner returns the SID of the account's owner after checking it is
// a managed user of the organization (25103 otherwise): the one place
// where the managed-owner rule is applied to a new account.
func (a *Activities) ResolveOwner(ctx context.Context, in ResolveOwnerInput) (string, error) {
	ref := in.Owner
	if ref == "" {
		ref = in.OwnerSid
	}
	sid, err := domain.ResolveAccountOwner(ctx, a.Store, in.OrganizationSid, ref)
	return sid, wrap(err)
}

// CreateAccountRecordInput is the account to persist and the assignments
// to grant with it.
type CreateAccountRecordInput struct {
	Account            domain.Account
	OwnerAssignmentSid string
	// CreatorAssignmentSid, when set, grants the creator (a Standard user
	// who is not the owner) Administrator on the new account.
	CreatorSid           string
	CreatorAssignmentSid string
	Actor                domain.Actor
}

// CreateAccountRecord persists the account in status provisioning and
// grants its owner the Owner role, once.
func (a *Activities) CreateAccountRecord(ctx context.Context, in CreateAccountRecordInput) (domain.Account, error) {
	acct := in.Account
	acct.Status = domain.AccountProvisioning
	owner := domain.RoleAssignment{Sid: in.OwnerAssignmentSid, OrganizationSid: acct.OrganizationSid, RoleSid: domain.RoleOwner, Scope: acct.Sid, Identity: acct.OwnerSid}
	out, err := a.Store.CreateAccount(ctx, acct, owner, domain.AccountCreatedEvent(in.Actor, acct))
	if err != nil {
		return out, wrap(err)
	}
	logger(ctx).Info("account persisted", "AccountSid", out.Sid, "OwnerSid", out.OwnerSid)
	if in.CreatorSid != "" && in.CreatorSid != acct.OwnerSid {
		ra := domain.RoleAssignment{Sid: in.CreatorAssignmentSid, OrganizationSid: acct.OrganizationSid, RoleSid: domain.RoleAdministrator, Scope: acct.Sid, Identity: in.CreatorSid}
		_, err := a.Store.CreateRoleAssignment(ctx, ra, domain.RoleAssignedEvent(in.Actor, ra))
		if err != nil && domain.ErrorCode(err) != domain.CodeInvalidState { // already granted by an earlier attempt
			return out, wrap(err)
		}
	}
	return out, nil
}

// ProvisionInput names one provisioning step of an account.
type ProvisionInput struct {
	OrganizationSid string
	AccountSid      string
	Kind            string
	Actor           domain.Actor
}

// ProvisionFlexResource provisions one Flex resource for the account and
// records it; a second call returns the resource recorded by the first.
func (a *Activities) ProvisionFlexResource(ctx context.Context, in ProvisionInput) (domain.AccountResource, error) {
	r, err := a.Store.RecordAccountResource(ctx, domain.AccountResource{AccountSid: in.AccountSid, Kind: in.Kind},
		domain.NewAuditEvent(in.Actor, in.OrganizationSid, domain.EventAccountProvisioned, in.AccountSid, nil))
	return r, wrap(err)
}

// AccountStepInput names an account and who caused the step.
type AccountStepInput struct {
	OrganizationSid string
	AccountSid      string
	Actor           domain.Actor
}

// ActivateAccount moves the account from provisioning to active.
func (a *Activities) ActivateAccount(ctx context.Context, in AccountStepInput) (domain.Account, error) {
	acct, err := a.Store.SetAccountStatus(ctx, in.AccountSid, domain.AccountProvisioning, domain.AccountActive,
		domain.NewAuditEvent(in.Actor, in.OrganizationSid, domain.EventAccountActivated, in.AccountSid, nil))
	if err == nil {
		logger(ctx).Info("account activated", "AccountSid", acct.Sid)
	}
	return acct, wrap(err)
}

// DiscardAccount removes an account whose creation failed before it ever
// became visible.
func (a *Activities) DiscardAccount(ctx context.Context, in AccountStepInput) error {
	return wrap(a.Store.DiscardAccount(ctx, in.AccountSid,
		domain.NewAuditEvent(in.Actor, in.OrganizationSid, domain.EventAccountDiscarded, in.AccountSid, nil)))
}
