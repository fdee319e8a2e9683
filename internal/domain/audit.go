package domain

import "time"

// Actor says who did something and from where; it travels with a request
// into the workflows it starts, so every audit event names the person.
type Actor struct {
	UserSid       string `json:"user_sid,omitempty"`
	CredentialSid string `json:"credential_sid,omitempty"`
	SourceIP      string `json:"source_ip,omitempty"`
	RequestID     string `json:"request_id,omitempty"`
	UserAgent     string `json:"user_agent,omitempty"`
}

// SystemActor is the actor for changes the service makes on its own.
var SystemActor = Actor{UserSid: "system"}

// AuditEvent records one change.
type AuditEvent struct {
	Sid             string
	OrganizationSid string
	Actor           string // a user SID or "system"
	CredentialSid   string
	Type            string // e.g. account.created
	ResourceSid     string
	// AccountSid is the account the event concerns when its resource is
	// something on that account (a role assignment), so the account's
	// history lists it.
	AccountSid  string
	Changes     map[string]any
	SourceIP    string
	UserAgent   string
	RequestID   string
	DateCreated time.Time
}

// AccountCreatedEvent is the account.created event of a new account,
// caused by a.
func AccountCreatedEvent(a Actor, acct Account) AuditEvent {
	return NewAuditEvent(a, acct.OrganizationSid, EventAccountCreated, acct.Sid, map[string]any{
		"friendly_name": acct.FriendlyName, "owner_sid": acct.OwnerSid, "kind": acct.Kind, "flex": acct.Flex,
	})
}

// RoleAssignedEvent is the role_assignment.created event of ra, caused by
// a.
func RoleAssignedEvent(a Actor, ra RoleAssignment) AuditEvent {
	return NewAuditEvent(a, ra.OrganizationSid, EventRoleAssigned, ra.Sid,
		map[string]any{"role_sid": ra.RoleSid, "scope": ra.Scope, "identity": ra.Identity})
}

// NewAuditEvent fills the actor fields of an event.
func NewAuditEvent(a Actor, orgSid, typ, resource string, changes map[string]any) AuditEvent {
	return AuditEvent{
		OrganizationSid: orgSid,
		Actor:           a.UserSid,
		CredentialSid:   a.CredentialSid,
		Type:            typ,
		ResourceSid:     resource,
		Changes:         changes,
		SourceIP:        a.SourceIP,
		UserAgent:       a.UserAgent,
		RequestID:       a.RequestID,
	}
}

// Audit event types.
const (
	EventAccountCreated      = "account.created"
	EventAccountActivated    = "account.activated"
	EventAccountUpdated      = "account.updated"
	EventAccountDiscarded    = "account.creation_failed"
	EventAccountProvisioned  = "account.resource_provisioned"
	EventRoleAssigned        = "role_assignment.created"
	EventRoleRemoved         = "role_assignment.deleted"
	EventUserCreated         = "user.created"
	EventUserUpdated         = "user.updated"
	EventUserDeleted         = "user.deleted"
	EventOrganizationCreated = "organization.created"
	EventCredentialCreated   = "credential.created"
	EventKeyCreated          = "key.created"
	EventKeyRevoked          = "key.revoked"
	EventLockedOut           = "credential.locked_out"
)

// EventFilter selects audit events of an organization.
type EventFilter struct {
	OrganizationSid string
	Actor           string
	ResourceSid     string
	Type            string
	Start, End      *time.Time
	Page            PageRequest
}

// Validate checks an event filter: a range that ends before it starts, or
// text filters longer than any SID or event type, are refused (25106).
func (f EventFilter) Validate() error {
	if f.Start != nil && f.End != nil && f.End.Before(*f.Start) {
		return Errorf(EInvalid, CodeBadRequest, "EndDate is before StartDate")
	}
	if len(f.Actor) > 64 || len(f.ResourceSid) > 64 || len(f.Type) > 64 {
		return Errorf(EInvalid, CodeBadRequest, "Actor, Resource and Type are at most 64 characters")
	}
	return nil
}
