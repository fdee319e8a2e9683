package domain

// Principal is who is calling: a credential acting as a user of one
// organization.
type Principal struct {
	OrganizationSid string
	UserSid         string
	CredentialSid   string
	OrgRole         OrgRole
	SourceIP        string
	RequestID       string
	// AccountSid is set when the call is made with a credential scoped to
	// that account.
	AccountSid string
	// Via is how the caller proved who it is.
	Via Via
	// UserAgent is the caller's User-Agent header (kept on audit events).
	UserAgent string
}

// Via is how a caller authenticated.
type Via string

// How callers authenticate.
const (
	// ViaOrgCredential: an API credential of the organization (the
	// bootstrap one, or one an administrator made), acting as its user.
	ViaOrgCredential Via = "org_credential"
	// ViaAccountCredential: a credential scoped to one account (its auth
	// token, say).
	ViaAccountCredential Via = "account_credential"
	// ViaPersonalKey: an API key a person made for themselves.
	ViaPersonalKey Via = "personal_key"
	// ViaSession: a person signed in to the browser console.
	ViaSession Via = "session"
)

// IsPerson reports whether the caller is a person acting as themselves (a
// signed-in session or their personal key), to whom rules about people
// (two-factor authentication) apply.
func (p Principal) IsPerson() bool { return p.Via == ViaSession || p.Via == ViaPersonalKey }

// Actor returns the principal as the actor of audit events.
func (p Principal) Actor() Actor {
	return Actor{UserSid: p.UserSid, CredentialSid: p.CredentialSid, SourceIP: p.SourceIP, RequestID: p.RequestID, UserAgent: p.UserAgent}
}

// IsOrgAdmin reports whether the principal has full control of its
// organization (organization Owner or Administrator).
func (p Principal) IsOrgAdmin() bool {
	return p.OrgRole == OrgRoleOwner || p.OrgRole == OrgRoleAdministrator
}

// CheckOrganization returns 25107 when the principal's credentials do not
// belong to orgSid. It is checked before anything is looked up, so nothing
// about another organization leaks, not even whether it exists.
func (p Principal) CheckOrganization(orgSid string) error {
	if p.OrganizationSid != orgSid {
		return Errorf(EForbidden, CodeWrongOrganization, "the credentials used do not belong to this organization")
	}
	return nil
}

// RequireOrgAdmin returns 25105 unless the principal is an organization
// Owner or Administrator.
func (p Principal) RequireOrgAdmin() error {
	if !p.IsOrgAdmin() {
		return Errorf(EForbidden, CodeForbidden, "this action needs the organization Owner or Administrator role")
	}
	return nil
}

// CanCreateAccounts reports whether the principal may create accounts in its
// organization: every organization role may.
func (p Principal) CanCreateAccounts() error {
	switch p.OrgRole {
	case OrgRoleOwner, OrgRoleAdministrator, OrgRoleStandard:
		return nil
	}
	return Errorf(EForbidden, CodeForbidden, "only users of the organization may create accounts")
}

// AccountAction is something done on one account.
type AccountAction int

// Account actions, after Twilio's permission matrix.
const (
	ActionReadAccount       AccountAction = iota // every role
	ActionUpdateSettings                         // Owner, Administrator
	ActionManageUsers                            // Owner, Administrator
	ActionCloseAccount                           // Owner
	ActionTransferOwnership                      // Owner
)

var actionRoles = map[AccountAction][]string{
	ActionReadAccount:       {RoleOwner, RoleAdministrator, RoleDeveloper, RoleBillingManager, RoleSupport},
	ActionUpdateSettings:    {RoleOwner, RoleAdministrator},
	ActionManageUsers:       {RoleOwner, RoleAdministrator},
	ActionCloseAccount:      {RoleOwner},
	ActionTransferOwnership: {RoleOwner},
}

// AuthorizeAccount decides whether the principal, holding roles on an
// account, may perform action there. Organization Owners and Administrators
// may do everything. A principal with no role at all gets 25101, as if the
// account did not exist; one with too small a role gets 25105.
func (p Principal) AuthorizeAccount(action AccountAction, roles []string) error {
	if p.IsOrgAdmin() {
		return nil
	}
	if len(roles) == 0 {
		return Errorf(ENotFound, CodeAccountNotFound, "account not found in this organization")
	}
	for _, have := range roles {
		for _, want := range actionRoles[action] {
			if have == want {
				return nil
			}
		}
	}
	return Errorf(EForbidden, CodeForbidden, "your roles on this account do not allow this action")
}
