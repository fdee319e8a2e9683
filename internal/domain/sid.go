package domain

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"time"
)

// SID prefixes, as the Twilio wire contract spells them.
const (
	PrefixOrganization   = "OR"
	PrefixUser           = "US"
	PrefixAccount        = "AC"
	PrefixRole           = "IX"
	PrefixRoleAssignment = "IY"
	PrefixCredential     = "SK"
	PrefixEvent          = "EV"
	PrefixDomain         = "DM"
	PrefixPhoneNumber    = "PN"
	PrefixShortCode      = "SC"
	PrefixSubscription   = "SB"
)

var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9a-fA-F]{32}$`)

// NewSID returns a fresh SID with the given prefix. The 32 hex digits start
// with the creation time in milliseconds (12 digits) followed by 80 random
// bits, so SIDs of one kind sort in creation order: keyset pagination and
// time-range filters can use the primary key alone.
func NewSID(prefix string, now time.Time) string {
	return NewSIDFrom(prefix, now, rand.Reader)
}

// NewSIDFrom is NewSID with the random part read from r; a deterministic
// reader gives a deterministic SID (used to make retried requests
// idempotent).
func NewSIDFrom(prefix string, now time.Time, r io.Reader) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], ms)
	copy(b[:6], t[2:])
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		panic("domain: reading SID entropy: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}

// SIDLowerBound returns the smallest SID with the given prefix that could
// have been created at or after t.
func SIDLowerBound(prefix string, t time.Time) string {
	var b [16]byte
	var tb [8]byte
	binary.BigEndian.PutUint64(tb[:], uint64(t.UnixMilli()))
	copy(b[:6], tb[2:])
	return prefix + hex.EncodeToString(b[:])
}

// ValidSID reports whether s is a well-formed SID with the given prefix.
func ValidSID(prefix, s string) bool {
	return sidPattern.MatchString(s) && strings.HasPrefix(s, prefix)
}

// CheckSID returns an invalid-input error naming field when s is not a SID
// with the given prefix.
func CheckSID(field, prefix, s string) error {
	if !ValidSID(prefix, s) {
		return Errorf(EInvalid, CodeBadRequest, "%s must be a %s SID (%s followed by 32 hex digits), got %q", field, prefix, prefix, truncate(s, 64))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
