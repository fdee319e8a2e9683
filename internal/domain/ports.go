package domain

import (
	"context"
	"time"
)

// The ports below are implemented by package store (PostgreSQL and SQLite
// through GORM). Each method is its own transaction; an audit event passed
// in is written in the same transaction as the change it records.

// OrganizationStore holds organizations and their verified domains.
type OrganizationStore interface {
	// FindOrganization returns 25100 when there is no such organization.
	FindOrganization(ctx context.Context, sid string) (Organization, error)
	// FirstOrganization returns the oldest organization, 25100 when none.
	FirstOrganization(ctx context.Context) (Organization, error)
	// CreateOrganization creates an organization, its owner (a managed
	// user), its verified domain and a credential for the owner.
	CreateOrganization(ctx context.Context, org Organization, owner User, dom VerifiedDomain, cred Credential, ev AuditEvent) error
	// IsVerifiedDomain reports whether domain is verified for the org. A
	// verified domain whose TXT record vanished still counts during its
	// grace period, until its verification workflow removes it.
	IsVerifiedDomain(ctx context.Context, orgSid, domain string) (bool, error)
}

// UserStore holds users.
type UserStore interface {
	// CreateUser returns 25022 when userName or externalId is taken.
	CreateUser(ctx context.Context, u User, ev AuditEvent) error
	// FindUser returns 25008 when the user is not in the organization.
	FindUser(ctx context.Context, orgSid, sid string) (User, error)
	// FindUserByEmail returns 25008 when no user of the organization has it.
	FindUserByEmail(ctx context.Context, orgSid, email string) (User, error)
	// ListUsers lists users matching the filter, oldest first.
	ListUsers(ctx context.Context, f UserFilter) ([]User, int, error)
	// UpdateUser replaces a user's fields when its version is still
	// expectVersion (25020 otherwise; 25022 on a taken userName).
	UpdateUser(ctx context.Context, u User, expectVersion int, ev AuditEvent) (User, error)
	// DeleteUser removes a user and its role assignments (25008, 25016 for
	// the organization owner, 25019 for an owner of an account).
	DeleteUser(ctx context.Context, orgSid, sid string, ev AuditEvent) error
}

// AccountStore holds accounts.
type AccountStore interface {
	// CreateAccount inserts the account and grants its owner the Owner
	// role. Calling it again with the same SID changes nothing and returns
	// the stored account (activities are retried).
	CreateAccount(ctx context.Context, a Account, owner RoleAssignment, ev AuditEvent) (Account, error)
	// OpenAccount persists a new account with its roles and its pending
	// creation in one transaction, applying a subaccount's rules to its
	// parent under the parent's lock. Calling it again with the same
	// account SID changes nothing and returns the stored account.
	OpenAccount(ctx context.Context, o AccountOpening) (Account, error)
	// PendingCreations returns up to limit creations of accounts still
	// provisioning, persisted before the time given, whose workflow start
	// was never confirmed (CreationStarted), oldest first.
	PendingCreations(ctx context.Context, before time.Time, limit int) ([]AccountCreation, error)
	// CreationStarted notes that the creation of the account has its
	// workflow. An account that leaves provisioning (activated or
	// discarded) drops its pending creation anyway.
	CreationStarted(ctx context.Context, accountSid string) error
	// FindAccount returns 25101 when the account is not in the
	// organization (or is still being provisioned and visible is true).
	FindAccount(ctx context.Context, orgSid, sid string) (Account, error)
	// ListAccounts returns one keyset page (Size+1 rows to tell if more).
	ListAccounts(ctx context.Context, f AccountFilter) ([]Account, error)
	// UpdateAccount applies an update (25101; 25019 unless active).
	UpdateAccount(ctx context.Context, orgSid, sid string, u AccountUpdate, ev AuditEvent) (Account, error)
	// SetAccountStatus moves an account from one status to another; it is
	// a no-op returning the account when it is already in status to.
	SetAccountStatus(ctx context.Context, sid, from, to string, ev AuditEvent) (Account, error)
	// DiscardAccount removes an account that never became visible.
	DiscardAccount(ctx context.Context, sid string, ev AuditEvent) error
	// RecordAccountResource records a provisioned resource once per kind
	// and returns the one stored.
	RecordAccountResource(ctx context.Context, r AccountResource, ev AuditEvent) (AccountResource, error)
	// ListAccountResources lists what was provisioned for an account.
	ListAccountResources(ctx context.Context, accountSid string) ([]AccountResource, error)
	// CountAccountsByStatus counts every account by status (for gauges).
	CountAccountsByStatus(ctx context.Context) (map[string]int64, error)
}

// RoleAssignmentStore holds role assignments.
type RoleAssignmentStore interface {
	// CreateRoleAssignment applies CheckGrant and CheckAccessGrant
	// atomically (25019) and, for Administrator, removes the roles it
	// supersedes.
	CreateRoleAssignment(ctx context.Context, ra RoleAssignment, ev AuditEvent) (RoleAssignment, error)
	// ListRoleAssignments returns one keyset page.
	ListRoleAssignments(ctx context.Context, f RoleAssignmentFilter) ([]RoleAssignment, error)
	// FindRoleAssignment returns 25204 when not found in the organization.
	FindRoleAssignment(ctx context.Context, orgSid, sid string) (RoleAssignment, error)
	// DeleteRoleAssignment returns 25204 when not found, 25019 for an
	// Owner assignment.
	DeleteRoleAssignment(ctx context.Context, orgSid, sid string, ev AuditEvent) error
	// RolesOn lists the role SIDs identity holds on scope.
	RolesOn(ctx context.Context, scope, identity string) ([]string, error)
}

// AuthStore holds credentials and access tokens.
type AuthStore interface {
	CreateCredential(ctx context.Context, c Credential, ev AuditEvent) error
	// FindCredential returns 20003 when unknown.
	FindCredential(ctx context.Context, sid string) (Credential, error)
	CreateAccessToken(ctx context.Context, t AccessToken) error
	// FindAccessToken returns 20003 when unknown or expired at now.
	FindAccessToken(ctx context.Context, hash string, now time.Time) (AccessToken, error)
	// CredentialPrincipal returns a credential and the user it acts as
	// (only Sid, OrgRole and Active are set) in one query; 20003 when
	// unknown.
	CredentialPrincipal(ctx context.Context, sid string) (Credential, User, error)
	// TokenPrincipal does the same for an unexpired bearer token's hash.
	TokenPrincipal(ctx context.Context, hash string, now time.Time) (Credential, User, error)
	// ListAccountCredentials lists the organization's credentials scoped
	// to the account, oldest first (no secrets: only their hashes exist).
	ListAccountCredentials(ctx context.Context, orgSid, accountSid string) ([]Credential, error)
	// RevokeAccountCredential deletes one of them and its bearer tokens:
	// it stops working at once (20404 when the account has no such
	// credential).
	RevokeAccountCredential(ctx context.Context, orgSid, accountSid, sid string, ev AuditEvent) error
	// CreateKey stores a person's API key (Personal).
	CreateKey(ctx context.Context, c Credential, ev AuditEvent) error
	// ListCredentials returns a keyset page (by SID) of an organization's
	// credentials of every kind, without secrets.
	ListCredentials(ctx context.Context, f CredentialFilter) ([]Credential, error)
	// RevokeCredential deletes a credential of the organization (acting as
	// userSid, when set) and its bearer tokens; 20404 when there is none.
	RevokeCredential(ctx context.Context, orgSid, userSid, sid string, ev AuditEvent) error
	// TouchCredential records a use at `at`, at most once per
	// LastUsedGranularity.
	TouchCredential(ctx context.Context, sid string, at time.Time) error
	// RecordEvent writes an audit event on its own.
	RecordEvent(ctx context.Context, ev AuditEvent) error
}

// EventStore holds audit events.
type EventStore interface {
	ListEvents(ctx context.Context, f EventFilter) ([]AuditEvent, error)
}

// IdempotencyRecord is the stored outcome of a POST made with an
// Idempotency-Key.
type IdempotencyRecord struct {
	OrganizationSid string
	Key             string
	RequestHash     string
	StatusCode      int // 0 while the first request is in flight
	Body            []byte
	Headers         map[string]string // those a replay repeats
	DateCreated     time.Time
}

// IdempotencyStore keeps outcomes of keyed requests.
type IdempotencyStore interface {
	// BeginIdempotent claims (org, key) for a request; it returns the
	// existing record and false when the key was claimed before.
	BeginIdempotent(ctx context.Context, rec IdempotencyRecord) (IdempotencyRecord, bool, error)
	CompleteIdempotent(ctx context.Context, orgSid, key string, status int, body []byte, headers map[string]string) error
	ReleaseIdempotent(ctx context.Context, orgSid, key string) error
}

// Store is everything the service keeps.
type Store interface {
	OrganizationStore
	UserStore
	AccountStore
	RoleAssignmentStore
	AuthStore
	EventStore
	IdempotencyStore
	InvitationStore
	AccountUserStore
	AccountRequestStore
	ClosureStore
	Carrier
	Billing
	DomainStore
	TwoFactorStore
	SSOStore
	PersonStore
	Ping(ctx context.Context) error
	Close() error
}

// InvitationStore holds invitations, confirmation links and sent emails.
type InvitationStore interface {
	// CreateInvitation returns 25019 when a pending invitation exists for
	// the same account and email, or the account accepts no new requests
	// (CheckAcceptsNewRequests; 25101 when it is not in the organization).
	CreateInvitation(ctx context.Context, inv Invitation, ev AuditEvent) error
	// FindInvitation returns 20404 when the account has no such invitation.
	FindInvitation(ctx context.Context, accountSid, sid string) (Invitation, error)
	ListInvitations(ctx context.Context, f InvitationFilter) ([]Invitation, error)
	// MarkInvitationSent records a send and the new expiry.
	MarkInvitationSent(ctx context.Context, sid string, sentCount int, at, expires time.Time) error
	// FinishInvitation moves a pending invitation to status (idempotent
	// when it is already there) and retires its links.
	FinishInvitation(ctx context.Context, sid, status, userSid string, ev AuditEvent) (Invitation, error)

	// IssueLink stores a new link version and supersedes the older ones.
	IssueLink(ctx context.Context, l ConfirmationLink) error
	// FindLink returns 20404 when no link has this hash.
	FindLink(ctx context.Context, tokenHash string) (ConfirmationLink, error)

	// EmailSent reports whether an email with this key was recorded.
	EmailSent(ctx context.Context, key string) (bool, error)
	RecordEmail(ctx context.Context, e SentEmail) error
	ListEmails(ctx context.Context, relatedSid string) ([]SentEmail, error)

	// FindUserByEmailAnywhere finds a user by email in any organization or
	// none (20404 code 25008 when there is none).
	FindUserByEmailAnywhere(ctx context.Context, email string) (User, error)
	// CountInvitationsByStatus counts every invitation by status (gauges).
	CountInvitationsByStatus(ctx context.Context) (map[string]int64, error)
}

// AccountUserStore holds the people of an account: who has access, with
// which roles, and who owns it.
type AccountUserStore interface {
	// ListAccountUsers returns one keyset page (Size+1 to tell if more) of
	// the users holding a role on the account, by user SID, each once with
	// all its roles there.
	ListAccountUsers(ctx context.Context, f AccountUserFilter) ([]AccountUser, error)
	// SetAccountUserRoles replaces the roles a user holds on an account and
	// returns them (unchanged, without an event, when they were the same):
	// 25101 when the account is not in the organization, 25200 unless it is
	// an open managed account, 25019 while it closes (CheckAccessGrant), 25201 unless the user is an active managed
	// user of the organization, 25019 for the account Owner, 25105 when
	// Administrator would change and the caller may not do that, 25020
	// should the roles change meanwhile.
	SetAccountUserRoles(ctx context.Context, c RoleChange, ev AuditEvent) (AccountUser, error)
	// RemoveAccountUser removes every role a user holds on an account
	// (c.Roles is ignored): 25101, 25204 when it holds none, 25019 for
	// the account Owner, 25105 for an Administrator the caller may not
	// remove.
	RemoveAccountUser(ctx context.Context, c RoleChange, ev AuditEvent) error
	// TransferOwnership makes t.NewOwnerSid the Owner of the account (its
	// other roles there go) and the former owner an Administrator, and
	// moves accounts.owner_sid, bumping the account's version: 25101 when
	// the account is not in the organization (400 when it is not managed),
	// 25020 when its version is not t.ExpectVersion or it changes
	// meanwhile, 25019 unless it is active, 25103 unless the new owner is
	// an active managed user of the organization. Transferring to the
	// current owner changes nothing.
	TransferOwnership(ctx context.Context, t OwnershipTransfer, ev AuditEvent) (TransferredOwnership, error)
}

// ClosureStore holds what an account owns (numbers, subscriptions) and the
// steps of closing it.
type ClosureStore interface {
	// AcquireNumber assigns a number to an account, taking it from the
	// inventory when it is there: 25101, 25019 unless the account accepts
	// new requests, 21422 (409) when another account holds it.
	AcquireNumber(ctx context.Context, n Number, ev AuditEvent) (Number, error)
	// ListNumbers lists an account's numbers of a kind (all kinds when
	// kind is empty), oldest first.
	ListNumbers(ctx context.Context, accountSid, kind string) ([]Number, error)
	// PageNumbers returns one keyset page of them (Size+1 to tell if more).
	PageNumbers(ctx context.Context, accountSid, kind string, p PageRequest) ([]Number, error)
	// CreateSubscription adds a recurring charge: 25101, 25019 unless the
	// account accepts new requests.
	CreateSubscription(ctx context.Context, sub Subscription, ev AuditEvent) (Subscription, error)
	// ListSubscriptions lists an account's subscriptions, oldest first.
	ListSubscriptions(ctx context.Context, accountSid string) ([]Subscription, error)
	// PageSubscriptions returns one keyset page of them (Size+1 to tell if
	// more).
	PageSubscriptions(ctx context.Context, accountSid string, p PageRequest) ([]Subscription, error)
	// ListReleases lists the release and charge-stop records of an account.
	ListReleases(ctx context.Context, accountSid string) ([]ResourceRelease, error)

	// BeginClosure moves an active account to pending_closure, with the
	// purge time, applying CheckClosable under a lock (25101, 25019). An
	// account already closing or closed is returned unchanged with
	// started false.
	BeginClosure(ctx context.Context, orgSid, sid string, purgeAfter time.Time, ev AuditEvent) (acct Account, started bool, err error)
	// ListSubaccounts lists the accounts whose parent is parentSid.
	ListSubaccounts(ctx context.Context, parentSid string) ([]Account, error)
	// ListPendingRequests lists the account's requests that wait for an
	// answer in a workflow (pending invitations; imports and shares join
	// here).
	ListPendingRequests(ctx context.Context, accountSid string) ([]PendingRequest, error)
	// RemoveAccountAccess deletes every role assignment on the account and
	// returns them; the event records who had which role. Nothing left to
	// remove: no event.
	RemoveAccountAccess(ctx context.Context, sid string, ev AuditEvent) ([]RoleAssignment, error)
	// MarkClosed moves a closing account to closed (no-op when closed;
	// 25019 otherwise).
	MarkClosed(ctx context.Context, sid string, ev AuditEvent) (Account, error)
	// ReopenAccount makes a closing or closed account, and its subaccounts
	// closed with it, active again with their owners' Owner role (no-op
	// when active; 25101; 25019 otherwise).
	ReopenAccount(ctx context.Context, sid string, ev AuditEvent) (Account, error)
	// PurgeAccount deletes a closed account, its subaccounts and
	// everything they hold, leaving the audit event ev as the tombstone.
	// Purging an account that is gone changes nothing.
	PurgeAccount(ctx context.Context, sid string, ev AuditEvent) error
}

// DomainStore holds an organization's verified domains (the first one,
// created with the organization, is OrganizationStore's).
type DomainStore interface {
	// CreateDomain stores a pending domain: 25019 when the organization
	// already has it pending or verified (find that one instead).
	CreateDomain(ctx context.Context, d VerifiedDomain, ev AuditEvent) error
	// FindDomain returns 25313 when the organization (any, when orgSid is
	// empty) has no domain with this SID.
	FindDomain(ctx context.Context, orgSid, sid string) (VerifiedDomain, error)
	// FindLiveDomain returns the organization's pending or verified domain
	// of this name (25313 when there is none).
	FindLiveDomain(ctx context.Context, orgSid, name string) (VerifiedDomain, error)
	// FindVerifiedDomain returns the domain of this name verified by any
	// organization (25313 when none has).
	FindVerifiedDomain(ctx context.Context, name string) (VerifiedDomain, error)
	// ListDomains returns one keyset page (Size+1 rows to tell if more).
	ListDomains(ctx context.Context, f DomainFilter) ([]VerifiedDomain, error)
	// RecordDomainCheck notes the time of a DNS look-up (25313).
	RecordDomainCheck(ctx context.Context, sid string, at time.Time) error
	// TransitionDomain applies VerifiedDomain.Apply in one transaction and
	// writes ev only when something changed: 25313, 25019 when the state
	// does not allow it, 25312 when verifying a domain another organization
	// verified meanwhile.
	TransitionDomain(ctx context.Context, sid string, t DomainTransition, ev AuditEvent) (VerifiedDomain, error)
	// DeleteDomain removes a domain of the organization: 25313, 25314 for
	// its last verified domain.
	DeleteDomain(ctx context.Context, orgSid, sid string, ev AuditEvent) error
	// CountDomainsByStatus counts every domain by status, a verified one
	// whose record vanished as DomainLapsed (for gauges).
	CountDomainsByStatus(ctx context.Context) (map[string]int64, error)
}

// SSOStore holds organizations' single sign-on providers.
type SSOStore interface {
	// FindSSOProvider returns 25460 when the organization has none.
	FindSSOProvider(ctx context.Context, orgSid string) (SSOProvider, error)
	// PutSSOProvider creates or replaces the organization's provider after
	// set.Validate (25461); an empty client secret keeps the stored one.
	PutSSOProvider(ctx context.Context, orgSid string, set SSOSettings, ev AuditEvent) (SSOProvider, error)
	// DeleteSSOProvider removes it (25460 when there is none).
	DeleteSSOProvider(ctx context.Context, orgSid string, ev AuditEvent) error
	// RecordSSOEvent writes an event that goes with no change (a refused
	// sign-in).
	RecordSSOEvent(ctx context.Context, ev AuditEvent) error
}

// TXTResolver looks up DNS TXT records.
type TXTResolver interface {
	// LookupTXT returns the TXT values at name (each record's strings
	// joined), none when the name does not exist; an error only when the
	// answer could not be had (timeout, server failure).
	LookupTXT(ctx context.Context, name string) ([]string, error)
}
