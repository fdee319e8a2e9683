package domain

import (
	"context"
	"sort"
	"time"
)

// PrefixInvitation is the SID prefix of invitations (ours; Twilio does not
// expose them on the wire).
const PrefixInvitation = "IN"

// Invitation statuses. An invitation ends accepted, declined, revoked or
// expired, like AWS handshakes and GitHub invitations.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationDeclined = "declined"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// Resend limits: at most one resend a minute (by default) and five in
// all, so the endpoint cannot be used to spam someone. An emailed link
// lives a week unless configured otherwise.
const (
	MaxResends            = 5
	DefaultResendInterval = time.Minute
	DefaultInvitationTTL  = 7 * 24 * time.Hour
)

// Invitation asks someone outside the organization's managed users to join
// an account with some roles.
type Invitation struct {
	Sid             string
	OrganizationSid string
	AccountSid      string
	Email           string
	Roles           []string
	InviterSid      string
	Status          string
	SentCount       int
	LastSentAt      *time.Time
	ExpiresAt       *time.Time
	UserSid         string // the user who accepted
	DateCreated     time.Time
	DateAnswered    *time.Time
}

// NormalizeRoles checks a set of roles to grant on an account: at least
// one, each a grantable built-in role, no repeats; Administrator supersedes
// the others, so a set holding it becomes just Administrator.
func NormalizeRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, Errorf(EInvalid, CodeInvalidRole, "roles must name at least one role")
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range roles {
		if err := CheckGrantableRole(r); err != nil {
			return nil, err
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	if seen[RoleAdministrator] {
		return []string{RoleAdministrator}, nil
	}
	sort.Strings(out)
	return out, nil
}

// CheckResend applies the resend limits to an invitation that was sent
// sentCount times, last at lastSent, allowing one resend per interval.
func CheckResend(status string, sentCount int, lastSent, now time.Time, interval time.Duration) error {
	if status != InvitationPending {
		return Errorf(EConflict, CodeInvalidState, "the invitation is %s; only a pending invitation can be resent", status)
	}
	if sentCount-1 >= MaxResends {
		return Errorf(ERateLimited, CodeRateLimited, "the invitation was resent %d times already, the most allowed", MaxResends)
	}
	if wait := lastSent.Add(interval).Sub(now); wait > 0 {
		secs := int(wait.Seconds()) + 1
		return RateLimited(secs, "the invitation was sent less than %s ago; retry in %d s", interval, secs)
	}
	return nil
}

// SentEmail records one email sent (or put in the outbox).
type SentEmail struct {
	Sid             string
	Key             string // idempotency key: one email per key
	OrganizationSid string
	To              string
	Template        string
	Subject         string
	BodyText        string
	Transport       string // smtp | outbox
	WorkflowID      string
	RelatedSid      string
	DateCreated     time.Time
}

// InvitationFilter selects invitations of an account.
type InvitationFilter struct {
	AccountSid string
	Status     string // empty: pending
	Page       PageRequest
}

// NewInvitee is the user made for someone who answers an invitation and
// has none: managed by the organization when the email is on one of its
// verified domains, external otherwise.
func NewInvitee(sid, orgSid, email string, managed bool) User {
	u := User{Sid: sid, UserName: email, Active: true}
	if managed {
		u.OrganizationSid, u.Managed, u.OrgRole = orgSid, true, OrgRoleStandard
	}
	return u
}

// InvitationState is an invitation as its workflow sees it: its progress
// query and its updates answer with it.
type InvitationState struct {
	Status      string    `json:"status"`
	SentCount   int       `json:"sent_count"`
	LastSentAt  time.Time `json:"last_sent_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	LinkVersion int       `json:"link_version"`
}

// Audit event types of invitations (invitation.accepted, …declined,
// …revoked and …expired are "invitation." and the status).
const (
	EventInvitationCreated = "invitation.created"
)

// InviteeGrant is an invitation's roles given to the person it is for:
// at once to a managed user of the organization, or when someone else
// accepts.
type InviteeGrant struct {
	OrganizationSid string
	AccountSid      string
	UserSid         string
	Roles           []string
	// InvitationSid is the accepted invitation (empty for a grant at once,
	// which no invitation records).
	InvitationSid string
	Actor         Actor
}

// RoleGranter is what an invitee's grant writes through.
type RoleGranter interface {
	CreateRoleAssignment(ctx context.Context, ra RoleAssignment, ev AuditEvent) (RoleAssignment, error)
}

// GrantInvitee is the one way an invitee gets an invitation's roles,
// whether at once or on acceptance: per role, one role assignment and its
// role_assignment.created event, written together. A role the user holds
// already, or one a held role supersedes (CheckGrant, applied by the store
// under the account's lock), is left as it is, so running it again grants
// nothing twice. It returns the roles it granted.
func GrantInvitee(ctx context.Context, st RoleGranter, now time.Time, g InviteeGrant) ([]string, error) {
	var granted []string
	for _, role := range g.Roles {
		ra := RoleAssignment{Sid: NewSID(PrefixRoleAssignment, now), OrganizationSid: g.OrganizationSid, RoleSid: role, Scope: g.AccountSid, Identity: g.UserSid}
		ev := RoleAssignedEvent(g.Actor, ra)
		if g.InvitationSid != "" {
			ev.Changes["invitation_sid"] = g.InvitationSid
		}
		_, err := st.CreateRoleAssignment(ctx, ra, ev)
		switch {
		case err == nil:
			granted = append(granted, role)
		case ErrorCode(err) != CodeInvalidState:
			return granted, err
		}
	}
	return granted, nil
}

// InviteeStore is what finding or making an invitee's user reads and
// writes.
type InviteeStore interface {
	FindUserByEmailAnywhere(ctx context.Context, email string) (User, error)
	IsVerifiedDomain(ctx context.Context, orgSid, domain string) (bool, error)
	CreateUser(ctx context.Context, u User, ev AuditEvent) error
}

// EnsureInvitee finds the user with the invitee's email or makes it (see
// NewInvitee): managed by the organization when the email is on one of its
// verified domains, external otherwise. Running it again finds the user
// the first run made.
func EnsureInvitee(ctx context.Context, st InviteeStore, now time.Time, orgSid, email string, actor Actor) (User, error) {
	u, err := st.FindUserByEmailAnywhere(ctx, email)
	if err == nil || ErrorCode(err) != CodeUserNotFound {
		return u, err
	}
	managed, err := st.IsVerifiedDomain(ctx, orgSid, EmailDomain(email))
	if err != nil {
		return u, err
	}
	u = NewInvitee(NewSID(PrefixUser, now), orgSid, email, managed)
	if actor.UserSid == "" {
		actor.UserSid = u.Sid
	}
	err = st.CreateUser(ctx, u, NewAuditEvent(actor, orgSid, EventUserCreated, u.Sid, map[string]any{"userName": email, "managed": managed}))
	if ErrorCode(err) == CodeDuplicateUser { // made meanwhile, or by an earlier run
		return st.FindUserByEmailAnywhere(ctx, email)
	}
	return u, err
}

// CheckInvitationStatus checks a Status filter of invitations (25106).
func CheckInvitationStatus(status string) error {
	switch status {
	case InvitationPending, InvitationAccepted, InvitationDeclined, InvitationRevoked, InvitationExpired:
		return nil
	}
	return Errorf(EInvalid, CodeBadRequest, "Status must be pending, accepted, declined, revoked or expired")
}
