package domain

import "time"

// One concept serves every emailed single-use link: an invitation's, and
// an import or share request's. The link names its subject (Kind and
// SubjectSid); a Confirmation is the link with what it is about and what
// its page may offer; a LinkAnswer carries the holder's answer to the
// subject's workflow.

// Link kinds: what a confirmation link is about (LinkImport and LinkShare
// are a request's, see LinkKind).
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

// ConfirmPage is the path of the page an emailed confirmation link
// (invitation, import, share) opens, before the token.
const ConfirmPage = "/confirm/"

// Link states: what a link itself is worth, whatever its subject.
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

// Confirmation states: what the page of a link may offer. Only an askable
// link takes an answer; every other state is a page saying why not.
const (
	// ConfirmAskable: the subject waits for this link's answer.
	ConfirmAskable = "askable"
	// ConfirmUsed: this link answered already (or its subject ended
	// through it).
	ConfirmUsed = "used"
	// ConfirmSuperseded: a newer email about the subject was sent; only
	// its link works.
	ConfirmSuperseded = "superseded"
	// ConfirmExpired: the link, or its subject, expired.
	ConfirmExpired = "expired"
	// ConfirmRevoked: whoever sent it withdrew it (an invitation revoked,
	// a request cancelled).
	ConfirmRevoked = "revoked"
	// ConfirmAccepted and ConfirmDeclined: the subject was answered.
	ConfirmAccepted = "accepted"
	ConfirmDeclined = "declined"
)

// ConfirmationState is the one rule that tells what a link's page may
// offer at now, from the link and its subject's status (an invitation's or
// a request's): how the subject ended wins, then what the link itself is
// worth.
func ConfirmationState(l ConfirmationLink, subjectStatus string, now time.Time) string {
	// Invitations and requests name their ends alike (accepted, declined,
	// expired), but for the withdrawal.
	switch subjectStatus {
	case InvitationRevoked, RequestCancelled:
		return ConfirmRevoked
	case InvitationAccepted: // = RequestAccepted
		return ConfirmAccepted
	case InvitationDeclined: // = RequestDeclined
		return ConfirmDeclined
	case InvitationExpired: // = RequestExpired
		return ConfirmExpired
	}
	switch l.State(now) {
	case LinkUsed:
		return ConfirmUsed
	case LinkSuperseded:
		return ConfirmSuperseded
	case LinkExpired:
		return ConfirmExpired
	}
	return ConfirmAskable
}

// NamedGrant is a share's grant as people read it: the user by email.
type NamedGrant struct {
	Who   string
	Roles []string
}

// Confirmation is an emailed link with what it is about, as its page shows
// it: the same for an invitation, an import and a share.
type Confirmation struct {
	Link ConfirmationLink
	// Kind is the link's: LinkInvitation, LinkImport or LinkShare.
	Kind       string
	SubjectSid string
	// State is what the page may offer (Confirm…).
	State string
	// Need2FA, on an askable invitation: the account requires two-factor
	// authentication and the invitee is not enrolled, so accepting needs
	// enrolment first (CheckTwoFactor).
	Need2FA bool

	OrganizationSid  string
	OrganizationName string
	AccountSid       string
	AccountName      string
	// Asker is who asks, as people read it: the inviter or the requester
	// ("Ada Lovelace (ada@example.com)"), empty when they are gone.
	Asker string
	// Recipient is the email the link went to: the invitee's, or the
	// account owner's.
	Recipient string
	// RecipientSid is the user who answers: the invitee's user once it
	// has one, the account's owner for a request.
	RecipientSid string
	// Roles are an invitation's roles (SIDs).
	Roles []string
	// Grants are a share's grants.
	Grants []NamedGrant
	// AccountLeft, on an invitation: the organization gave the account
	// up (relinquished a shared account), which withdrew the invitation.
	AccountLeft bool
	// ExpiresAt is when a request expires.
	ExpiresAt time.Time
}

// Askable reports whether the link takes an answer.
func (c Confirmation) Askable() bool { return c.State == ConfirmAskable }

// ErrNotAskable is the refusal of an answer to a link in state (25019).
func ErrNotAskable(c Confirmation) error {
	return Errorf(EConflict, CodeInvalidState, "this link can no longer be answered: it is %s", c.State)
}

// DisplayName is how a user is named to people: "Ada Lovelace
// (ada@example.com)", or the email alone.
func DisplayName(u User) string {
	if u.DisplayName != "" {
		return u.DisplayName + " (" + u.UserName + ")"
	}
	return u.UserName
}

// RoleName names a role SID for people (the SID itself when unknown).
func RoleName(r string) string {
	if n, ok := RoleNames[r]; ok {
		return n
	}
	return r
}
