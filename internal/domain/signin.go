package domain

import (
	"context"
	"time"
)

// LinkPassword is the kind of the emailed link that sets a user's
// password; its subject is the user.
const LinkPassword = "password"

// PasswordPage is the path of the page a password link opens, before the
// token.
const PasswordPage = "/console/password/"

// Why a password link is sent.
const (
	PasswordForInvitation  = "invitation"  // an invitation was accepted
	PasswordForOwner       = "owner"       // an import or share was confirmed
	PasswordForProvisioned = "provisioned" // SCIM (or sign-up) created the user
	PasswordForReset       = "reset"       // "forgot password"
	PasswordForBootstrap   = "bootstrap"   // the first owner of a new installation
)

// PasswordLinkTTL is how long a password link works.
const PasswordLinkTTL = 24 * time.Hour

// Sign-in audit event types.
const (
	EventSignedIn            = "user.signed_in"
	EventSignInFailed        = "user.sign_in_failed"
	EventSignInLockedOut     = "user.sign_in_locked_out"
	EventSignedOut           = "user.signed_out"
	EventSignedOutEverywhere = "user.signed_out_everywhere"
	EventPasswordSet         = "user.password_set"
)

// Person is a user as sign-in sees them: the user, whether a password is
// set, and the time before which their sessions are void.
type Person struct {
	User          User
	PasswordHash  string
	SessionsAfter time.Time
}

// PersonStore is what signing people in reads and writes.
type PersonStore interface {
	// FindPerson returns 25008 when no user has this SID.
	FindPerson(ctx context.Context, userSid string) (User, error)
	// FindPersonByEmail returns the user with this (normalized) email in
	// any organization, or none (25008), with the password hash.
	FindPersonByEmail(ctx context.Context, email string) (Person, error)
	// PersonSignIn returns the user with the password hash and the time
	// before which sessions are void (25008: no such user).
	PersonSignIn(ctx context.Context, userSid string) (Person, error)
	// SetPassword uses the password link (single use: 20404 when it is not
	// valid any more), sets the user's password hash and voids the user's
	// sessions started before now, in one transaction.
	SetPassword(ctx context.Context, linkHash, userSid, passwordHash string, now time.Time, ev AuditEvent) error
	// EndSessions voids every session of the user started before at.
	EndSessions(ctx context.Context, userSid string, at time.Time, ev AuditEvent) error
	// RecordEvent writes an audit event on its own.
	RecordEvent(ctx context.Context, ev AuditEvent) error
	// HomeOrganization returns the organization a user acts in: a managed
	// user's own, else the organization of an account they hold a role
	// on (25100 when none).
	HomeOrganization(ctx context.Context, u User) (string, error)
}
