package domain

import (
	"crypto/subtle"
	"net"
	"net/url"
	"strings"
	"time"
)

// SSOProvider is an organization's OpenID Connect identity provider: its
// managed users may sign in through it (authorization code flow with PKCE),
// and, when Required, only through it.
type SSOProvider struct {
	OrganizationSid string
	// Issuer is the provider's issuer URL: its discovery document is at
	// Issuer + "/.well-known/openid-configuration", and ID tokens must
	// name it exactly.
	Issuer   string
	ClientID string
	// ClientSecret is write-only: stored, sent to the provider's token
	// endpoint, never rendered, logged or put in an audit event.
	ClientSecret Secret
	// Required refuses password sign-in to the organization's managed
	// users: they sign in by SSO. Outside users keep their passwords.
	Required    bool
	DateCreated time.Time
	DateUpdated time.Time
}

// Secret is a value that must not leak: printed, logged or marshalled it
// shows as "[redacted]". Reveal gives the value to the one place that
// needs it.
type Secret string

const redacted = "[redacted]"

// String hides the secret from fmt.
func (Secret) String() string { return redacted }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return redacted }

// MarshalText hides the secret from encoders (JSON, slog's text and JSON
// handlers).
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// SSOSettings is what an organization administrator sets: the provider,
// and whether its managed users must use it. An empty ClientSecret keeps
// the stored one (the secret is write-only, so a client that read the
// settings cannot send it back).
type SSOSettings struct {
	Issuer       string
	ClientID     string
	ClientSecret Secret
	Required     bool
}

// Codes of single sign-on (ours).
const (
	// CodeSSONotConfigured: the organization has no identity provider.
	CodeSSONotConfigured = 25460
	// CodeInvalidSSOSettings: the issuer, client id or client secret is
	// not acceptable.
	CodeInvalidSSOSettings = 25461
	// CodeSSOFailed: the sign-in through the provider did not complete
	// (state, code exchange, ID token).
	CodeSSOFailed = 25463
	// CodeSSORefused: the provider vouched for someone who may not sign
	// in this way (email not verified, not on a verified domain, no such
	// managed user, inactive).
	CodeSSORefused = 25464
)

// Audit event types of single sign-on. A completed SSO sign-in is
// recorded as user.signed_in with method "sso".
const (
	EventSSOProviderUpdated = "sso.provider_updated"
	EventSSOProviderDeleted = "sso.provider_deleted"
	EventSSOSignInFailed    = "sso.sign_in_failed"
)

// SSOCallbackPath is where providers send the browser back: the redirect
// URI to register at a provider is the public base URL followed by it.
const SSOCallbackPath = "/console/sso/callback"

// SSOMethod names SSO as a sign-in method (in user.signed_in events).
const SSOMethod = "sso"

// SSOFlowTTL is how long a sign-in may stay at the provider: the state,
// nonce and PKCE verifier are void afterwards.
const SSOFlowTTL = 10 * time.Minute

// Validate checks settings an administrator sends; hadSecret says whether a
// client secret is stored already (otherwise one is required).
func (s SSOSettings) Validate(hadSecret bool) error {
	if err := ValidateIssuer("issuer", s.Issuer); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return Errorf(EInvalid, CodeInvalidSSOSettings, format, args...)
	}
	switch {
	case s.ClientID == "":
		return bad("client_id is required")
	case len(s.ClientID) > 255:
		return bad("client_id must be at most 255 characters")
	case !printableASCII(s.ClientID):
		return bad("client_id must be printable ASCII without spaces")
	case s.ClientSecret == "" && !hadSecret:
		return bad("client_secret is required")
	case len(s.ClientSecret) > 1024:
		return bad("client_secret must be at most 1024 characters")
	case s.ClientSecret != "" && !printableASCII(string(s.ClientSecret)):
		return bad("client_secret must be printable ASCII without spaces")
	}
	return nil
}

func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] <= 0x20 || v[i] >= 0x7f {
			return false
		}
	}
	return true
}

// ValidateIssuer checks an issuer URL: absolute, https (plain http only on
// a loopback host, for trying it locally), without user info, query or
// fragment, at most 255 characters. It is compared with the ID tokens' iss
// exactly, so it is kept as written (a trailing slash matters).
func ValidateIssuer(field, issuer string) error {
	bad := func(why string) error {
		return Errorf(EInvalid, CodeInvalidSSOSettings, "%s %q is not an issuer URL: %s", field, truncate(issuer, 64), why)
	}
	if issuer == "" {
		return Errorf(EInvalid, CodeInvalidSSOSettings, "%s is required", field)
	}
	if len(issuer) > 255 {
		return bad("at most 255 characters")
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("it must be an absolute URL like https://idp.example.com")
	}
	switch {
	case u.User != nil:
		return bad("no user name or password in it")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(issuer, "#"):
		return bad("no query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return bad("it must use https (plain http only on a loopback address)")
	default:
		return bad("it must use https")
	}
	return nil
}

// IsLoopbackHost reports whether host (without port) is localhost or a
// loopback IP address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckPasswordSignIn returns 25302 when the organization of p requires
// SSO and u is one of its managed users: they sign in through the
// organization's provider. Outside users keep their passwords.
func (p SSOProvider) CheckPasswordSignIn(u User) error {
	if p.Required && u.Managed && u.OrganizationSid == p.OrganizationSid {
		return Errorf(EForbidden, CodeSSORequired, "your organization signs you in with single sign-on: use \"Sign in with SSO\"")
	}
	return nil
}

// SSOFlow is a sign-in under way at the provider, kept server-side in the
// browser's session until the provider sends the browser back: each value
// is single use and void after ExpiresAt.
type SSOFlow struct {
	OrganizationSid string    `json:"organization_sid"`
	State           string    `json:"state"`
	Nonce           string    `json:"nonce"`
	Verifier        string    `json:"verifier"` // the PKCE code verifier
	ExpiresAt       time.Time `json:"expires_at"`
	Next            string    `json:"next,omitempty"` // where to go once signed in
}

// CheckState returns why the callback's state does not complete this flow
// at now (SSOReasonState, SSOReasonExpired), "" when it does.
func (f SSOFlow) CheckState(state string, now time.Time) string {
	if f.State == "" || subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 {
		return SSOReasonState
	}
	if !now.Before(f.ExpiresAt) {
		return SSOReasonExpired
	}
	return ""
}

// SSOIdentity is who the provider's verified ID token says signed in.
type SSOIdentity struct {
	Subject       string
	Email         string
	EmailVerified bool
}

// Why an SSO sign-in did not complete (kept in sso.sign_in_failed events).
const (
	SSOReasonNoFlow            = "no_flow"             // the callback came without a sign-in under way
	SSOReasonState             = "state_mismatch"      // state is not the one sent
	SSOReasonExpired           = "flow_expired"        // the sign-in took longer than SSOFlowTTL
	SSOReasonProviderError     = "provider_error"      // the provider answered with an error
	SSOReasonExchange          = "code_exchange"       // the code could not be exchanged
	SSOReasonToken             = "invalid_id_token"    // the ID token is missing, forged, expired or for another client
	SSOReasonNonce             = "nonce_mismatch"      // the ID token is not for this sign-in
	SSOReasonEmailNotVerified  = "email_not_verified"  // the provider has not verified the email
	SSOReasonDomainNotVerified = "domain_not_verified" // the email is not on a verified domain of the organization
	SSOReasonUnknownUser       = "unknown_user"        // no managed user of the organization has the email
	SSOReasonInactiveUser      = "inactive_user"       // the managed user is deactivated
)

var ssoMessages = map[string]string{
	SSOReasonNoFlow:            "there is no single sign-on under way in this browser: start again from the sign-in page",
	SSOReasonState:             "the answer from your identity provider does not belong to this sign-in (state mismatch): start again from the sign-in page",
	SSOReasonExpired:           "the single sign-on took too long: start again from the sign-in page",
	SSOReasonProviderError:     "your identity provider did not sign you in",
	SSOReasonExchange:          "your identity provider did not confirm the sign-in (code exchange failed)",
	SSOReasonToken:             "your identity provider's ID token could not be verified",
	SSOReasonNonce:             "your identity provider's ID token is not for this sign-in (nonce mismatch)",
	SSOReasonEmailNotVerified:  "your identity provider has not verified your email address",
	SSOReasonDomainNotVerified: "your email address is not on a verified domain of the organization",
	SSOReasonUnknownUser:       "no managed user of the organization has your email address",
	SSOReasonInactiveUser:      "your user is deactivated in the organization",
}

// SSOFailure is the refusal for reason: 25464 (403) when the provider
// vouched for someone who may not sign in, 25463 (401) when the sign-in
// itself failed.
func SSOFailure(reason string) *Error {
	msg, ok := ssoMessages[reason]
	if !ok {
		msg = "single sign-on failed"
	}
	switch reason {
	case SSOReasonEmailNotVerified, SSOReasonDomainNotVerified, SSOReasonUnknownUser, SSOReasonInactiveUser:
		return Errorf(EForbidden, CodeSSORefused, "%s", msg)
	}
	return Errorf(EUnauthenticated, CodeSSOFailed, "%s", msg)
}

// SSOUser decides whether the identity the provider vouched for signs in
// as u, the user found by its email (found false: none), for the
// organization orgSid; domainVerified says whether the email's domain is
// verified for it. The email must be verified by the provider, on a
// verified domain, and belong to an active managed user of the
// organization. It returns why not (a reason for SSOFailure), "" when it
// does.
func SSOUser(orgSid string, id SSOIdentity, domainVerified bool, u User, found bool) string {
	switch {
	case !id.EmailVerified:
		return SSOReasonEmailNotVerified
	case !domainVerified:
		return SSOReasonDomainNotVerified
	case !found || !u.Managed || u.OrganizationSid != orgSid:
		return SSOReasonUnknownUser
	case !u.Active:
		return SSOReasonInactiveUser
	}
	return ""
}
