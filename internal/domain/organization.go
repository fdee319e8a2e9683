package domain

import (
	"strings"
	"time"
)

// Organization groups managed users, verified domains and accounts.
type Organization struct {
	Sid          string
	FriendlyName string
	OwnerSid     string // the organization's Owner user; changed only outside the API
	// Require2FA: every account of the organization requires two-factor
	// authentication, whatever its own setting (TwoFactorRequired).
	Require2FA  bool
	DateCreated time.Time
	DateUpdated time.Time
}

// ValidateFriendlyName checks a human-readable name given for an
// organization or account.
func ValidateFriendlyName(field, name string) error {
	n := strings.TrimSpace(name)
	switch {
	case n == "":
		return Errorf(EInvalid, CodeBadRequest, "%s is required", field)
	case len(n) > 64:
		return Errorf(EInvalid, CodeBadRequest, "%s must be at most 64 characters", field)
	case n != name:
		return Errorf(EInvalid, CodeBadRequest, "%s must not start or end with white space", field)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return Errorf(EInvalid, CodeBadRequest, "%s must not contain control characters", field)
		}
	}
	return nil
}
