package domain

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
)

// Two-factor authentication: a person proves a second time who they are,
// with a code from an authenticator app (TOTP), a passkey, or one of their
// single-use recovery codes. A user is enrolled (User.TwoFactorEnrolled)
// while it has at least one confirmed factor.

// PrefixFactor starts the SID of a second factor.
const PrefixFactor = "YF"

// Kinds of second factor.
const (
	FactorTOTP    = "totp"
	FactorPasskey = "passkey"
)

// RecoveryCodeCount is how many recovery codes a user is given at a time.
const RecoveryCodeCount = 10

// Audit event types of two-factor authentication.
const (
	EventFactorAdded              = "user.factor_added"
	EventFactorRemoved            = "user.factor_removed"
	EventRecoveryCodesRegenerated = "user.recovery_codes_generated"
	EventRecoveryCodeUsed         = "user.recovery_code_used"
	EventOrganizationUpdated      = "organization.updated"
)

// Factor is one second factor of a user. A factor counts once it is
// confirmed: a TOTP factor by a first code from the app, a passkey by the
// registration ceremony it comes out of.
type Factor struct {
	Sid          string
	UserSid      string
	Kind         string
	FriendlyName string
	// Secret is a TOTP factor's shared secret (base32). It is shown to its
	// user while they enrol and never again.
	Secret string
	// CredentialID and Credential are a passkey's credential ID
	// (base64url) and its record as the WebAuthn relying party keeps it.
	CredentialID string
	Credential   []byte
	Confirmed    bool
	// LastStep is the TOTP time step of the last code accepted: a code is
	// good once.
	LastStep     int64
	DateCreated  time.Time
	DateLastUsed *time.Time
}

// TwoFactorStatus is where a user stands: its factors (confirmed ones
// only) and how many unused recovery codes it holds.
type TwoFactorStatus struct {
	User              User
	Factors           []Factor
	RecoveryCodesLeft int
}

// Enrolled reports whether the user has a confirmed second factor.
func (s TwoFactorStatus) Enrolled() bool { return len(s.Factors) > 0 }

// Has reports whether the user has a confirmed factor of this kind.
func (s TwoFactorStatus) Has(kind string) bool {
	for _, f := range s.Factors {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// ValidateFactorName checks the name a person gives a factor ("YubiKey",
// "phone"): at most 64 characters, no control characters. Empty is
// allowed (a default name is used).
func ValidateFactorName(name string) error {
	if name == "" {
		return nil
	}
	return ValidateFriendlyName("name", name)
}

// TwoFactorRequired reports whether people reaching acct must have a
// second factor: the account requires it, or its organization requires it
// for every account.
func TwoFactorRequired(org Organization, acct Account) bool {
	return acct.Require2FA || org.Require2FA
}

// Two-factor authentication before access: an invitee who accepts an
// invitation to an account that requires it must be enrolled first.
const msgTwoFactorFirst = "enrol in two-factor authentication first: the account requires it"

// CheckTwoFactor is the rule "an account that requires two-factor
// authentication (CheckTwoFactorRequired) gives no access to someone not
// enrolled" applied to an acceptance: 25019 unless the invitee (the zero
// User when it has none yet) is enrolled. The confirmation page, the
// invitation's workflow and the activity that finishes the invitation all
// apply it.
func CheckTwoFactor(org Organization, a Account, invitee User) error {
	if TwoFactorRequired(org, a) && !invitee.TwoFactorEnrolled {
		return ErrTwoFactorFirst()
	}
	return nil
}

// ErrTwoFactorFirst is CheckTwoFactor's refusal.
func ErrTwoFactorFirst() error {
	return Errorf(EConflict, CodeInvalidState, msgTwoFactorFirst)
}

// CheckTwoFactor is the same rule for a caller opening an account: a
// person (a signed-in session or a personal API key; see IsPerson) who is
// not enrolled cannot open an account that requires two-factor
// authentication (403, 25301). Credentials of the organization or of an
// account are not people and are never asked.
func (p Principal) CheckTwoFactor(org Organization, acct Account, person User) error {
	if !p.IsPerson() || !TwoFactorRequired(org, acct) || person.TwoFactorEnrolled {
		return nil
	}
	return Errorf(EForbidden, CodeTwoFactorRequired,
		"account %s requires two-factor authentication: enrol a second factor (an authenticator app or a passkey) on the console's Security page first", acct.Sid)
}

// recoveryAlphabet is what recovery codes are written in: lower-case
// letters and digits without the ones people confuse (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCode returns a fresh recovery code: two groups of five
// characters ("k7m2q-x9c4p", about 49 bits).
func NewRecoveryCode() string {
	var b [10]byte
	out := make([]byte, 0, 11)
	for i := 0; i < len(b); {
		if _, err := rand.Read(b[i : i+1]); err != nil {
			panic("domain: reading random bytes: " + err.Error())
		}
		// 256 = 8*31 + 8: reject the top 8 values to stay uniform.
		if b[i] >= 248 {
			continue
		}
		if i == 5 {
			out = append(out, '-')
		}
		out = append(out, recoveryAlphabet[int(b[i])%len(recoveryAlphabet)])
		i++
	}
	return string(out)
}

// NormalizeRecoveryCode reads a recovery code as a person typed it
// (any case, with or without the dash, spaces around) and returns it as
// issued; ok is false when it cannot be one.
func NormalizeRecoveryCode(s string) (code string, ok bool) {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	s = strings.ReplaceAll(s, "-", "")
	if len(s) != 10 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(recoveryAlphabet, s[i]) < 0 {
			return "", false
		}
	}
	return s[:5] + "-" + s[5:], true
}

// NormalizeTOTPCode reads a six-digit code as a person typed it (spaces
// allowed); ok is false when it is not six digits.
func NormalizeTOTPCode(s string) (code string, ok bool) {
	s = strings.Join(strings.Fields(s), "")
	if len(s) != 6 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// ErrBadSecondFactor is the refusal of a wrong code or passkey at the
// second step of sign-in or at a confirmation (401, 20003): it never says
// which part was wrong.
func ErrBadSecondFactor() error {
	return Errorf(EUnauthenticated, CodeUnauthenticated, "that code or passkey did not match: try again")
}

// TwoFactorStore holds second factors and recovery codes, and keeps
// User.TwoFactorEnrolled equal to "has a confirmed factor" in the same
// transactions.
type TwoFactorStore interface {
	// FindPerson returns a user by SID, in any organization or none
	// (25008).
	FindPerson(ctx context.Context, sid string) (User, error)
	// TwoFactorStatus returns the user, its confirmed factors and the
	// number of its unused recovery codes (25008).
	TwoFactorStatus(ctx context.Context, userSid string) (TwoFactorStatus, error)
	// FindFactor returns a factor of the user, confirmed or not (20404).
	FindFactor(ctx context.Context, userSid, sid string) (Factor, error)
	// FindPendingTOTP returns the user's unconfirmed TOTP factor (20404).
	FindPendingTOTP(ctx context.Context, userSid string) (Factor, error)
	// StartTOTP stores an unconfirmed TOTP factor in place of the user's
	// previous one: 25019 when it has a confirmed TOTP factor.
	StartTOTP(ctx context.Context, f Factor) error
	// ConfirmTOTP confirms the pending TOTP factor at the code's time step
	// and enrols the user; recoveryHashes become its recovery codes when
	// it holds no unused one (codesStored). 20404, 25019.
	ConfirmTOTP(ctx context.Context, userSid, sid string, step int64, recoveryHashes []string, ev AuditEvent) (codesStored bool, err error)
	// AddPasskey stores a registered passkey and enrols the user, as
	// ConfirmTOTP: 25019 when the credential is registered already.
	AddPasskey(ctx context.Context, f Factor, recoveryHashes []string, ev AuditEvent) (codesStored bool, err error)
	// ReplaceRecoveryCodes replaces every recovery code of an enrolled
	// user (25019 when not enrolled).
	ReplaceRecoveryCodes(ctx context.Context, userSid string, hashes []string, ev AuditEvent) error
	// UseRecoveryCode spends an unused code by its hash; false when none.
	UseRecoveryCode(ctx context.Context, userSid, hash string, ev AuditEvent) (bool, error)
	// UseTOTPStep records an accepted time step; false for a replay.
	UseTOTPStep(ctx context.Context, sid string, step int64) (bool, error)
	// UpdatePasskey keeps a passkey's record after an assertion.
	UpdatePasskey(ctx context.Context, sid string, credential []byte) error
	// RemoveFactor deletes a factor (20404); with none left, the user is
	// no longer enrolled and its recovery codes go.
	RemoveFactor(ctx context.Context, userSid, sid string, ev AuditEvent) error
	// UpdateOrganization sets the organization-wide Require2FA, writing
	// ev when it changes (25100).
	UpdateOrganization(ctx context.Context, sid string, require2FA bool, ev AuditEvent) (Organization, error)
}
