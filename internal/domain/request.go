package domain

import (
	"context"
	"time"
)

// PrefixAccountRequest is the SID prefix of import and share requests
// (ours; Twilio does not expose them on the wire).
const PrefixAccountRequest = "AR"

// AccountStandalone is the kind of an account that belongs to no
// organization: it was signed up for directly. No organization sees it.
const AccountStandalone = "standalone"

// Kinds of account requests: an organization asks an account's owner to
// let it import the account (it becomes managed) or to share it (it stays
// independent, owned by the outsider).
const (
	RequestImport = "import"
	RequestShare  = "share"
)

// Account request statuses. A request ends accepted (the owner confirmed
// an import or accepted a share), declined, cancelled (by the
// organization) or expired.
const (
	RequestPending   = "pending"
	RequestAccepted  = "accepted"
	RequestDeclined  = "declined"
	RequestCancelled = "cancelled"
	RequestExpired   = "expired"
)

// Link kinds of account requests.
const (
	LinkImport = "import"
	LinkShare  = "share"
)

// Defaults of account requests: an owner has 15 days to answer, and an
// ended request stays listed for 30 days.
const (
	DefaultRequestTTL = 15 * 24 * time.Hour
	RequestListedFor  = 30 * 24 * time.Hour
	MaxShareGrants    = 50
)

// Grant gives a managed user roles on a shared account.
type Grant struct {
	Identity string   `json:"identity"`
	Roles    []string `json:"roles"`
}

// AccountRequest asks an account's owner to let an organization import or
// share the account.
type AccountRequest struct {
	Sid             string
	OrganizationSid string
	AccountSid      string
	Kind            string
	RequesterSid    string
	OwnerSid        string
	OwnerEmail      string
	AccountName     string
	Grants          []Grant // share only
	Status          string
	ExpiresAt       time.Time
	SentCount       int
	RemindedAt      *time.Time
	DateCreated     time.Time
	DateEnded       *time.Time
}

// AccountRequestFilter selects an organization's requests for a page:
// the pending ones and those that ended after EndedAfter.
type AccountRequestFilter struct {
	OrganizationSid string
	Status          string // empty: every status
	Kind            string // empty: both kinds
	EndedAfter      time.Time
	Page            PageRequest
}

// AuthTokenCredentialSid is the client id under which an account's auth
// token (given at sign-up) is kept once the account is in an organization:
// an account-scoped credential acting as the owner. Clients authenticate
// Twilio's way, with the Account SID and the auth token, and the Account
// SID names this credential.
func AuthTokenCredentialSid(accountSid string) string {
	return PrefixCredential + accountSid[len(PrefixAccount):]
}

// LinkKind is the kind of confirmation link of a request kind.
func LinkKind(requestKind string) string {
	if requestKind == RequestShare {
		return LinkShare
	}
	return LinkImport
}

// checkOutside is what import and share share: the account exists outside
// any organization, is open, and is asked for by no one else.
func checkOutside(a Account) error {
	if a.OrganizationSid != "" || a.Kind != AccountStandalone {
		return Errorf(EConflict, CodeInvalidState, "account %s already belongs to an organization", a.Sid)
	}
	if a.Status != AccountActive {
		return Errorf(EConflict, CodeInvalidState, "account %s is %s; only an active account can join an organization", a.Sid, a.Status)
	}
	return nil
}

// CheckImport is the rule for importing an account: it exists outside any
// organization, is active, and its owner signed up with an email on one of
// the organization's verified domains (25017 otherwise).
func CheckImport(a Account, owner User, ownerDomainVerified bool) error {
	if err := checkOutside(a); err != nil {
		return err
	}
	if owner.Managed && owner.OrganizationSid != "" {
		return Errorf(EConflict, CodeInvalidState, "the owner of account %s is a managed user of another organization", a.Sid)
	}
	if !ownerDomainVerified {
		return Errorf(EInvalid, CodeDomainNotVerified, "the owner of account %s signed up with %s, which is not on a verified domain of this organization; verify that domain first", a.Sid, EmailDomain(owner.UserName))
	}
	return nil
}

// CheckShare is the rule for sharing an account: it exists outside any
// organization, is active, and its owner is not (and could not be) a
// managed user: managed users cannot own independent accounts, so an
// account whose owner is on one of the organization's verified domains
// must be imported instead.
func CheckShare(a Account, owner User, ownerDomainVerified bool) error {
	if err := checkOutside(a); err != nil {
		return err
	}
	if owner.Managed || ownerDomainVerified {
		return Errorf(EConflict, CodeInvalidState, "the owner of account %s is a managed user (or on a verified domain of this organization): managed users cannot own independent accounts; import the account instead", a.Sid)
	}
	return nil
}

// CheckRelinquish is the rule for relinquishing: only an independent
// (shared) account is given up; a managed one is the organization's own
// (25019).
func CheckRelinquish(a Account) error {
	if a.Kind != AccountIndependent {
		return Errorf(EConflict, CodeInvalidState, "account %s is %s; only an independent (shared) account can be relinquished", a.Sid, a.Kind)
	}
	return nil
}

// NormalizeGrants checks the grants of a share: each names a user SID once
// with grantable roles (see NormalizeRoles); Owner is never granted, the
// outsider keeps it.
func NormalizeGrants(grants []Grant) ([]Grant, error) {
	if len(grants) > MaxShareGrants {
		return nil, Errorf(EInvalid, CodeBadRequest, "grants may name at most %d users", MaxShareGrants)
	}
	seen := map[string]bool{}
	out := make([]Grant, 0, len(grants))
	for i, g := range grants {
		if err := CheckSID("grants.identity", PrefixUser, g.Identity); err != nil {
			return nil, err
		}
		if seen[g.Identity] {
			return nil, Errorf(EInvalid, CodeBadRequest, "grants names %s twice (grant %d)", g.Identity, i+1)
		}
		seen[g.Identity] = true
		roles, err := NormalizeRoles(g.Roles)
		if err != nil {
			return nil, err
		}
		out = append(out, Grant{Identity: g.Identity, Roles: roles})
	}
	return out, nil
}

// Ended reports whether the request has its final status.
func (r AccountRequest) Ended() bool { return r.Status != RequestPending }

// Audit event types of account requests and of what they change.
const (
	EventRequestCreated      = "account_request.created"
	EventAccountImported     = "account.imported"
	EventAccountShared       = "account.shared"
	EventAccountRelinquished = "account.relinquished"
	EventAccountSignedUp     = "account.signed_up"
)

// AccountRequestStore holds standalone accounts and the requests that
// bring them into an organization.
type AccountRequestStore interface {
	// SignUp creates a standalone account, with the hash of its auth
	// token, and its owner (an external user): 25022 when a user already
	// has the email.
	SignUp(ctx context.Context, a Account, owner User, authTokenHash string, ev AuditEvent) error
	// FindAnyAccount finds an account by SID in or outside any
	// organization, with its owner (25101 when there is none).
	FindAnyAccount(ctx context.Context, sid string) (Account, User, error)
	// CreateAccountRequest records a pending request: 25019 when the
	// account has joined an organization or is pending for one already.
	CreateAccountRequest(ctx context.Context, r AccountRequest, ev AuditEvent) error
	// FindAccountRequest returns 20404 when the organization (any when
	// orgSid is empty) has no such request.
	FindAccountRequest(ctx context.Context, orgSid, sid string) (AccountRequest, error)
	// ListAccountRequests returns one keyset page (Size+1 to tell if more).
	ListAccountRequests(ctx context.Context, f AccountRequestFilter) ([]AccountRequest, error)
	// MarkRequestSent records an email of a request: the first one, or
	// the reminder.
	MarkRequestSent(ctx context.Context, sid string, sentCount int, at time.Time, reminder bool) error
	// FinishAccountRequest ends a pending request as declined, cancelled
	// or expired (idempotent when it already has that status; 25019 when
	// it ended otherwise) and retires its links.
	FinishAccountRequest(ctx context.Context, sid, status string, ev AuditEvent) (AccountRequest, error)
	// AcceptAccountRequest carries out an accepted request in one
	// transaction: an import makes the account managed by the
	// organization and its owner a managed user; a share makes it an
	// independent account of the organization and grants the roles to
	// those grantees who are still active managed users. The owner keeps
	// the Owner role. Idempotent once accepted; 25019 when the request
	// ended otherwise or the account joined an organization meanwhile.
	AcceptAccountRequest(ctx context.Context, sid string, ev AuditEvent) (AccountRequest, error)
	// Relinquish ends an organization's access to an independent account
	// at once: every role assignment on it goes and the account is
	// standalone again (25101; 25019 unless it is independent).
	Relinquish(ctx context.Context, orgSid, accountSid string, ev AuditEvent) (Account, error)
	// CountAccountRequests counts every request by kind and status.
	CountAccountRequests(ctx context.Context) (map[[2]string]int64, error)
}

// AccountRequestWorkflowID is the workflow ID of an import or share
// request (import-account/AR… or share-account/AR…), derived from its SID
// so a retried request cannot start a twin; operators find it in the Web
// UI under it.
func AccountRequestWorkflowID(kind, requestSid string) string {
	if kind == RequestShare {
		return "share-account/" + requestSid
	}
	return "import-account/" + requestSid
}

// RequestState is an import or share request as its workflow sees it:
// its progress query and its updates answer with it.
type RequestState struct {
	Kind        string    `json:"kind"`
	Status      string    `json:"status"`
	SentCount   int       `json:"sent_count"`
	Reminded    bool      `json:"reminded"`
	ExpiresAt   time.Time `json:"expires_at"`
	LinkVersion int       `json:"link_version"`
}

// Relinquishment is an organization giving up its access to an
// independent account, as the requests service hands it to the engine.
// Version is the account's version when it was asked: one relinquish per
// version.
type Relinquishment struct {
	OrganizationSid string
	AccountSid      string
	Version         int
	Actor           Actor
}
