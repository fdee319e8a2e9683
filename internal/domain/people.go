package domain

// The people of an account: who has access to it, with which roles, and
// who owns it.

// Audit event types of the people on an account. Their resource is the
// account; the user concerned is in the changes.
const (
	EventAccountUserRolesSet  = "account.user_roles_set"
	EventAccountUserRemoved   = "account.user_removed"
	EventOwnershipTransferred = "account.ownership_transferred"
)

// AccountUser is a user with access to an account and the roles it holds
// there, in role SID order (Owner first).
type AccountUser struct {
	AccountSid string
	User       User
	Roles      []string
}

// AccountUserFilter selects the users of one account for a page, keyset
// over their user SIDs.
type AccountUserFilter struct {
	OrganizationSid string
	AccountSid      string
	// Role, when set, keeps only the users holding this role (they are
	// still listed with all their roles).
	Role string
	Page PageRequest
}

// Validate checks the filter: Role, when given, must be a built-in role,
// Owner included (25202).
func (f AccountUserFilter) Validate() error {
	if f.Role == "" {
		return nil
	}
	if _, ok := RoleNames[f.Role]; !ok || !ValidSID(PrefixRole, f.Role) {
		return Errorf(EInvalid, CodeInvalidRole, "Role must be the SID of a built-in role (IX…101 to IX…105), got %q", truncate(f.Role, 64))
	}
	return nil
}

// CheckRoleScope is the rule "roles are granted only on an open managed
// account of the organization": 25200 otherwise (an independent account,
// one still being provisioned, a closed one).
func CheckRoleScope(a Account) error {
	if a.Kind != AccountManaged || a.Status == AccountProvisioning || a.Status == AccountClosed {
		return Errorf(EInvalid, CodeRoleScopeNotManaged, "scope %s is not an open managed account of this organization", a.Sid)
	}
	return nil
}

// MayManageAdministrators reports whether the principal, holding roles on
// an account, may grant or remove that account's Administrator role: the
// account Owner and the organization's Owner and Administrators may, an
// account Administrator may not.
func (p Principal) MayManageAdministrators(roles []string) bool {
	if p.IsOrgAdmin() {
		return true
	}
	for _, r := range roles {
		if r == RoleOwner {
			return true
		}
	}
	return false
}

// RoleChange replaces the roles a user holds on an account.
type RoleChange struct {
	OrganizationSid string
	AccountSid      string
	UserSid         string
	// Roles is the new set, as NormalizeRoles returns it; empty removes
	// every role the user holds on the account.
	Roles []string
	// MayManageAdministrators says whether the caller may grant or remove
	// Administrator (Principal.MayManageAdministrators).
	MayManageAdministrators bool
}

// CheckRoleChange applies the rules for replacing the roles held by a user
// on an account with want (empty: removing them all): the Owner's roles
// change only through an ownership transfer (25019), and Administrator is
// granted or removed only by a caller that may manage Administrators
// (25105). Keeping an Administrator an Administrator changes nothing and is
// allowed.
func CheckRoleChange(held, want []string, mayManageAdministrators bool) error {
	if hasRole(held, RoleOwner) {
		return Errorf(EConflict, CodeInvalidState, "the user is the Owner of this account; transfer ownership first")
	}
	if hasRole(want, RoleOwner) {
		return Errorf(EInvalid, CodeInvalidRole, "the Owner role cannot be granted this way; transfer ownership instead")
	}
	if hasRole(held, RoleAdministrator) != hasRole(want, RoleAdministrator) && !mayManageAdministrators {
		return Errorf(EForbidden, CodeForbidden, "only the account Owner or an organization Owner/Administrator may grant or remove Administrator")
	}
	return nil
}

// OwnershipTransfer moves an account to a new owner.
type OwnershipTransfer struct {
	OrganizationSid string
	AccountSid      string
	NewOwnerSid     string
	// ExpectVersion is the version of the account the caller was
	// authorized against; the transfer fails with 25020 when the account
	// has changed since (0: any version).
	ExpectVersion int
}

// TransferredOwnership is the outcome of a transfer. FormerOwner and
// NewOwner are the same user when the account already belonged to it (the
// transfer then changed nothing).
type TransferredOwnership struct {
	Account     Account
	FormerOwner User
	NewOwner    User
}

// Changed reports whether the transfer moved the account to someone else.
func (t TransferredOwnership) Changed() bool { return t.FormerOwner.Sid != t.NewOwner.Sid }

// CheckOwnershipTransfer is the rule "ownership changes only on an active
// managed account, and only to a managed user of its organization": an
// independent account is 25104 (400), an account that is not active 25019,
// a new owner that is not an active managed user of the organization 25103.
func CheckOwnershipTransfer(a Account, newOwner User) error {
	if a.Kind != AccountManaged {
		return Errorf(EInvalid, CodeAccountNotManaged, "account %s is not a managed account: its ownership cannot be transferred", a.Sid)
	}
	if err := CheckAcceptsNewRequests(a); err != nil {
		return err
	}
	return CheckManagedOwner(a.OrganizationSid, newOwner)
}

func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}
