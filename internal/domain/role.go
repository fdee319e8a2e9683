package domain

import "time"

// Built-in account role SIDs. The four below Owner are fixed by the wire
// contract; Owner follows the same numbering.
const (
	RoleOwner          = "IX00000000000000000000000000000101"
	RoleAdministrator  = "IX00000000000000000000000000000102"
	RoleDeveloper      = "IX00000000000000000000000000000103"
	RoleBillingManager = "IX00000000000000000000000000000104"
	RoleSupport        = "IX00000000000000000000000000000105"
)

// RoleNames names the built-in roles.
var RoleNames = map[string]string{
	RoleOwner:          "Owner",
	RoleAdministrator:  "Administrator",
	RoleDeveloper:      "Developer",
	RoleBillingManager: "Billing Manager",
	RoleSupport:        "Support",
}

// RoleAssignment grants a role on an account (scope) to a user (identity).
// It is never updated in place: delete and create again.
type RoleAssignment struct {
	Sid             string
	OrganizationSid string
	RoleSid         string
	Scope           string // AC…
	Identity        string // US…
	DateCreated     time.Time
}

// CheckGrantableRole returns 25202 unless role is a built-in role that may
// be granted through a role assignment (the Owner role changes only by an
// ownership transfer).
func CheckGrantableRole(role string) error {
	if err := CheckSID("role_sid", PrefixRole, role); err != nil {
		return Errorf(EInvalid, CodeInvalidRole, "%s", ErrorMessage(err))
	}
	if role == RoleOwner {
		return Errorf(EInvalid, CodeInvalidRole, "the Owner role cannot be granted through a role assignment; transfer ownership instead")
	}
	if _, ok := RoleNames[role]; !ok {
		return Errorf(EInvalid, CodeInvalidRole, "role_sid %s is not a known role", role)
	}
	return nil
}

// CheckGrant applies the combination rules before role is granted to a
// user who already holds held on the same account: Administrator
// supersedes the other roles (so granting a lesser role next to it is
// refused), and a role is held at most once.
func CheckGrant(role string, held []string) error {
	for _, h := range held {
		if h == role {
			return Errorf(EConflict, CodeInvalidState, "the identity already holds role %s on this account", role)
		}
		if (h == RoleAdministrator || h == RoleOwner) && role != RoleAdministrator {
			return Errorf(EConflict, CodeInvalidState, "the identity is %s of this account, which supersedes %s", RoleNames[h], RoleNames[role])
		}
	}
	return nil
}

// RoleAssignmentFilter selects role assignments; one of Identity and Scope
// is required (25203).
type RoleAssignmentFilter struct {
	OrganizationSid string
	Identity        string
	Scope           string
	Page            PageRequest
}

// Validate checks the filter.
func (f RoleAssignmentFilter) Validate() error {
	if f.Identity == "" && f.Scope == "" {
		return Errorf(EInvalid, CodeRoleFilterRequired, "one of Identity and Scope is required")
	}
	if f.Identity != "" {
		if err := CheckSID("Identity", PrefixUser, f.Identity); err != nil {
			return err
		}
	}
	if f.Scope != "" {
		if err := CheckSID("Scope", PrefixAccount, f.Scope); err != nil {
			return err
		}
	}
	return nil
}
