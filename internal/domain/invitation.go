package domain

import (
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
// all, so the endpoint cannot be used to spam someone.
const (
	MaxResends            = 5
	DefaultResendInterval = time.Minute
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

// Link kinds.
const (
	LinkInvitation = "invitation"
)

// ConfirmationLink is a single-use link emailed to a person. Only the hash
// of its token is stored; a newer link for the same subject supersedes it.
type ConfirmationLink struct {
	TokenHash   string
	Kind        string
	SubjectSid  string
	Version     int
	ExpiresAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
	DateCreated time.Time
}

// Link states as a confirmation page shows them.
const (
	LinkValid      = "valid"
	LinkUsed       = "used"
	LinkSuperseded = "superseded"
	LinkExpired    = "expired"
)

// State tells what a link is worth at now.
func (l ConfirmationLink) State(now time.Time) string {
	switch {
	case l.UsedAt != nil:
		return LinkUsed
	case l.RevokedAt != nil:
		return LinkSuperseded
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	}
	return LinkValid
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
