package domain

import (
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// VerifiedDomain is an email domain an organization has proven it controls
// by publishing a DNS TXT record. Users whose email is on it can become
// managed users of that organization, and standalone accounts whose owner's
// email is on it can be imported.
//
// A verified domain whose record vanished stays verified (and counts as
// verified for IsVerifiedDomain) during its grace period: MissingSince and
// RemoveAfter are set then, and cleared when the record comes back.
type VerifiedDomain struct {
	Sid               string
	OrganizationSid   string
	DomainName        string
	Status            string // pending | verified | failed | removed
	VerificationToken string
	DateCreated       time.Time
	DateVerified      *time.Time
	LastCheckedAt     *time.Time // the latest DNS look-up, found or not
	MissingSince      *time.Time // verified, but the record was not found since then
	RemoveAfter       *time.Time // when a missing record removes the domain
}

// Domain statuses.
const (
	DomainPending  = "pending"  // waiting for the TXT record
	DomainVerified = "verified" // the record was found (it may be missing now, within the grace period)
	DomainFailed   = "failed"   // the record was not found within the verification window
	DomainRemoved  = "removed"  // the record stayed missing past the grace period
	// DomainLapsed is not stored: it is how gauges show a verified domain
	// whose record vanished (within its grace period).
	DomainLapsed = "lapsed"
)

// Audit event types of verified domains.
const (
	EventDomainCreated  = "domain.created"
	EventDomainVerified = "domain.verified"
	EventDomainFailed   = "domain.failed"
	EventDomainLapsed   = "domain.lapsed" // the record vanished: the grace period starts
	EventDomainRestored = "domain.restored"
	EventDomainRemoved  = "domain.removed" // still missing when the grace period ended
	EventDomainDeleted  = "domain.deleted" // deleted through the API
)

// Codes of verified domains (ours).
const (
	CodeInvalidDomainName  = 25310
	CodePublicMailDomain   = 25311
	CodeDomainTaken        = 25312
	CodeDomainNotFound     = 25313
	CodeLastVerifiedDomain = 25314
)

// DomainRecordPrefix is the label under which the TXT record is published.
const DomainRecordPrefix = "_orgaccounts."

// DomainRecordValuePrefix starts the TXT record's value.
const DomainRecordValuePrefix = "orgaccounts-domain-verification="

// RecordName is the DNS name of the domain's verification record.
func (d VerifiedDomain) RecordName() string { return DomainRecordPrefix + d.DomainName }

// RecordValue is the exact TXT value to publish.
func (d VerifiedDomain) RecordValue() string { return DomainRecordValuePrefix + d.VerificationToken }

// Live reports whether the domain still counts for its organization
// (pending or verified): an organization has at most one live row per name.
func (d VerifiedDomain) Live() bool { return d.Status == DomainPending || d.Status == DomainVerified }

// ValidateDomainName checks a domain name strictly: lowercase ASCII labels
// of letters, digits and hyphens (internationalized names in their IDNA
// "xn--" form), at least two labels, no trailing dot, at most 253
// characters. It returns 25310 otherwise.
func ValidateDomainName(field, name string) error {
	bad := func(format string, args ...any) error {
		return Errorf(EInvalid, CodeInvalidDomainName, "%s %q is not a valid domain name: "+format, append([]any{field, truncate(name, 64)}, args...)...)
	}
	switch {
	case name == "":
		return Errorf(EInvalid, CodeInvalidDomainName, "%s is required", field)
	case len(name) > 253:
		return bad("at most 253 characters")
	case strings.HasSuffix(name, "."):
		return bad("leave out the trailing dot")
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return bad("it needs at least two labels, like example.com")
	}
	for _, l := range labels {
		if l == "" {
			return bad("empty label")
		}
		if len(l) > 63 {
			return bad("a label has at most 63 characters")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			case c >= 'A' && c <= 'Z':
				return bad("use lowercase letters")
			case c >= 0x80:
				return bad("write internationalized names in their IDNA form (xn--…)")
			default:
				return bad("only letters, digits and hyphens are allowed in a label")
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return bad("a label must not start or end with a hyphen")
		}
		if len(l) >= 4 && l[2:4] == "--" && !strings.HasPrefix(l, "xn--") {
			return bad("hyphens in the third and fourth places are reserved for IDNA (xn--)")
		}
	}
	tld := labels[len(labels)-1]
	if strings.Trim(tld, "0123456789") == "" {
		return bad("the last label must not be numeric (IP addresses are not domains)")
	}
	if strings.Contains(name, "xn--") {
		u, err := idna.Lookup.ToUnicode(name)
		if err != nil {
			return bad("an xn-- label is not valid IDNA")
		}
		if a, err := idna.Lookup.ToASCII(u); err != nil || a != name {
			return bad("an xn-- label is not valid IDNA")
		}
	}
	return nil
}

// publicMailDomains are domains where anyone can get an address: verifying
// one would make strangers managed users.
var publicMailDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "outlook.com": true, "hotmail.com": true,
	"live.com": true, "msn.com": true, "icloud.com": true, "me.com": true, "mac.com": true,
	"aol.com": true, "proton.me": true, "protonmail.com": true, "protonmail.ch": true,
	"pm.me": true, "mail.com": true, "zoho.com": true, "zohomail.com": true, "ymail.com": true,
	"rocketmail.com": true, "fastmail.com": true, "tutanota.com": true, "tuta.io": true,
	"hey.com": true, "qq.com": true, "163.com": true, "126.com": true, "mail.ru": true,
	"web.de": true, "inbox.com": true,
}

// publicMailFamilies are providers present under many country suffixes
// (yahoo.co.uk, gmx.de, yandex.com.tr …).
var publicMailFamilies = map[string]bool{"yahoo": true, "gmx": true, "yandex": true, "hotmail": true, "outlook": true, "live": true}

// secondLevels may sit between a family name and a country code.
var secondLevels = map[string]bool{"co": true, "com": true, "net": true, "org": true, "ne": true, "or": true}

// IsPublicMailDomain reports whether name is, or is under, a public mail
// provider's domain (gmail.com, yahoo.*, gmx.* …).
func IsPublicMailDomain(name string) bool {
	labels := strings.Split(name, ".")
	for i := range labels {
		if publicMailDomains[strings.Join(labels[i:], ".")] {
			return true
		}
		if publicMailFamilies[labels[i]] {
			rest := labels[i+1:]
			if len(rest) == 1 || (len(rest) == 2 && secondLevels[rest[0]] && len(rest[1]) == 2) {
				return true
			}
		}
	}
	return false
}

// CheckDomainName validates a domain an organization wants to verify:
// 25310 for a malformed name, 25311 for a public mail domain.
func CheckDomainName(field, name string) error {
	if err := ValidateDomainName(field, name); err != nil {
		return err
	}
	if IsPublicMailDomain(name) {
		return Errorf(EInvalid, CodePublicMailDomain, "%s is a public email domain: anyone can have an address there, so no organization can verify it", name)
	}
	return nil
}

// DomainTakenError is 25312: another organization has verified name.
func DomainTakenError(name string) *Error {
	return Errorf(EConflict, CodeDomainTaken, "%s is verified by another organization", name)
}

// Transitions the verification workflow applies to a domain.
const (
	DomainVerify  = "verify"  // the record was found while pending
	DomainFail    = "fail"    // the verification window ended
	DomainLapse   = "lapse"   // the record of a verified domain is missing
	DomainRestore = "restore" // the missing record is back
	DomainRemove  = "remove"  // still missing at the end of the grace period
)

// DomainTransition is one change of a domain's verification state.
type DomainTransition struct {
	Kind        string
	At          time.Time
	RemoveAfter time.Time // for DomainLapse: the end of the grace period
}

// EventType is the audit event recording the transition.
func (t DomainTransition) EventType() string {
	switch t.Kind {
	case DomainVerify:
		return EventDomainVerified
	case DomainFail:
		return EventDomainFailed
	case DomainLapse:
		return EventDomainLapsed
	case DomainRestore:
		return EventDomainRestored
	case DomainRemove:
		return EventDomainRemoved
	}
	return ""
}

// Apply returns the domain after t and whether anything changed. Applying
// a transition that already happened changes nothing (the workflow's
// activities are retried); one the state does not allow is 25019.
func (d VerifiedDomain) Apply(t DomainTransition) (VerifiedDomain, bool, error) {
	at := t.At.UTC()
	refuse := func() (VerifiedDomain, bool, error) {
		return d, false, Errorf(EConflict, CodeInvalidState, "domain %s is %s; it cannot %s", d.DomainName, d.Status, t.Kind)
	}
	missing := d.MissingSince != nil
	switch t.Kind {
	case DomainVerify:
		switch d.Status {
		case DomainVerified:
			return d, false, nil
		case DomainPending:
			d.Status, d.DateVerified = DomainVerified, &at
			return d, true, nil
		}
	case DomainFail:
		switch d.Status {
		case DomainFailed:
			return d, false, nil
		case DomainPending:
			d.Status = DomainFailed
			return d, true, nil
		}
	case DomainLapse:
		if d.Status == DomainVerified {
			if missing {
				return d, false, nil
			}
			until := t.RemoveAfter.UTC()
			d.MissingSince, d.RemoveAfter = &at, &until
			return d, true, nil
		}
	case DomainRestore:
		if d.Status == DomainVerified {
			if !missing {
				return d, false, nil
			}
			d.MissingSince, d.RemoveAfter = nil, nil
			return d, true, nil
		}
	case DomainRemove:
		switch {
		case d.Status == DomainRemoved:
			return d, false, nil
		case d.Status == DomainVerified && missing:
			d.Status = DomainRemoved
			return d, true, nil
		}
	default:
		return d, false, Errorf(EInvalid, CodeBadRequest, "unknown domain transition %q", t.Kind)
	}
	return refuse()
}

// DomainFilter selects the domains of an organization.
type DomainFilter struct {
	OrganizationSid string
	Page            PageRequest
}

// DomainAddition is a domain the domains service hands the engine: the
// pending domain to persist, then verify.
type DomainAddition struct {
	OrganizationSid   string
	DomainSid         string
	DomainName        string
	VerificationToken string
	Actor             Actor
}
