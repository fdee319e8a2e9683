package domain

import (
	"strings"
	"time"
)

// Account statuses. "provisioning" is internal: such an account is still
// being created by its workflow and is not shown by the wire read API.
const (
	AccountProvisioning   = "provisioning"
	AccountActive         = "active"
	AccountSuspended      = "suspended"
	AccountPendingClosure = "pending_closure"
	AccountClosed         = "closed"
)

// Account kinds.
const (
	AccountManaged     = "managed"
	AccountIndependent = "independent"
)

// Account is a Twilio-style account. A managed account belongs to its
// organization; an independent one is owned by an outsider who shared it.
type Account struct {
	Sid             string
	OrganizationSid string
	FriendlyName    string
	Status          string
	Kind            string
	OwnerSid        string
	ParentSid       string // set for subaccounts
	Flex            bool
	Require2FA      bool
	DateCreated     time.Time
	DateUpdated     time.Time
	Version         int
	// Set while the account closes: when the closure was asked for, when
	// it finished, and from when its data may be purged.
	DateClosureRequested *time.Time
	DateClosed           *time.Time
	PurgeAfter           *time.Time
}

// NewAccountDefaults are the settings every new account starts from. They
// are never inherited from the organization or from another account.
var NewAccountDefaults = struct {
	Require2FA bool
}{Require2FA: false}

// CheckManagedOwner is the rule "a managed account's owner must be a managed
// user of its organization". It returns 25103 otherwise.
func CheckManagedOwner(orgSid string, owner User) error {
	if !owner.IsManagedBy(orgSid) {
		return Errorf(EInvalid, CodeOwnerNotManaged, "the account owner %s is not a managed user of organization %s", owner.Sid, orgSid)
	}
	return nil
}

// ParseUserRef reads a reference to a user, as callers name an account's
// owner: a User SID (US…), an email address, or empty. Exactly one of sid
// and email is set unless ref is empty.
func ParseUserRef(field, ref string) (sid, email string, err error) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "":
		return "", "", nil
	case strings.HasPrefix(ref, PrefixUser) && !strings.Contains(ref, "@"):
		return ref, "", CheckSID(field, PrefixUser, ref)
	}
	email, err = NormalizeEmail(field, ref)
	if err != nil {
		return "", "", Errorf(EInvalid, CodeBadRequest, "%s must be a User SID (US…) or an email address", field)
	}
	return "", email, nil
}

// AccountUpdate holds the settings a caller may change. Nil fields are left
// as they are.
type AccountUpdate struct {
	FriendlyName *string
	Require2FA   *bool
}

// Validate checks an update.
func (u AccountUpdate) Validate() error {
	if u.FriendlyName == nil && u.Require2FA == nil {
		return Errorf(EInvalid, CodeBadRequest, "nothing to update: give friendly_name and/or require_2fa")
	}
	if u.FriendlyName != nil {
		return ValidateFriendlyName("friendly_name", *u.FriendlyName)
	}
	return nil
}

// AccountFilter selects accounts of an organization for a page.
type AccountFilter struct {
	OrganizationSid string
	// VisibleTo, when set, keeps only accounts on which this user holds a
	// role (a Standard user sees only those).
	VisibleTo string
	// Status and Kind, when set, keep only accounts in that status (one
	// of the wire statuses) or of that kind.
	Status string
	Kind   string
	// Search, when set, keeps accounts whose SID is Search or whose
	// friendly name contains it, ignoring case.
	Search string
	Page   PageRequest
}

// MaxAccountSearch is the longest search text an account list takes.
const MaxAccountSearch = 64

// Validate checks the filter's status, kind and search text (25106).
func (f AccountFilter) Validate() error {
	switch f.Status {
	case "", AccountActive, AccountSuspended, AccountPendingClosure, AccountClosed:
	default:
		return Errorf(EInvalid, CodeBadRequest, "Status must be one of active, suspended, pending_closure, closed")
	}
	switch f.Kind {
	case "", AccountManaged, AccountIndependent:
	default:
		return Errorf(EInvalid, CodeBadRequest, "Kind must be managed or independent")
	}
	if len([]rune(f.Search)) > MaxAccountSearch {
		return Errorf(EInvalid, CodeBadRequest, "Search must be at most %d characters", MaxAccountSearch)
	}
	return nil
}

// Flex provisioning steps, run by the create-account workflow in order.
var FlexProvisioningSteps = []string{
	"flex_taskrouter_workspace",
	"flex_conversations_service",
	"flex_studio_flow",
	"flex_ui_configuration",
}

// AccountResource is something provisioned for an account (a Flex
// workspace, say), recorded once per kind.
type AccountResource struct {
	AccountSid  string
	Kind        string
	ResourceSid string
	DateCreated time.Time
}
