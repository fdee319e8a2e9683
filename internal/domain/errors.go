package domain

import (
	"errors"
	"fmt"
)

// Error kinds. Each maps to one HTTP status, in one place (package api).
const (
	EInvalid         = "invalid"         // 400
	EUnauthenticated = "unauthenticated" // 401
	EForbidden       = "forbidden"       // 403
	ENotFound        = "not_found"       // 404
	EConflict        = "conflict"        // 409
	EUnprocessable   = "unprocessable"   // 422
	// EPreconditionFailed: a conditional request (If-Match) whose
	// condition does not hold (RFC 7232).
	EPreconditionFailed = "precondition_failed" // 412
	ERateLimited        = "rate_limited"        // 429
	EInternal           = "internal"            // 500
	EUnavailable        = "unavailable"         // 503
)

// Twilio error codes (see the wire contract) plus the few of our own.
const (
	CodeInvalidSCIMFilter     = 25001
	CodeUserNotFound          = 25008
	CodeInvalidEmail          = 25011
	CodeOrgOwnerImmutable     = 25016
	CodeDomainNotVerified     = 25017
	CodeNotAuthorized         = 25018
	CodeInvalidState          = 25019
	CodeVersionConflict       = 25020
	CodeRateLimited           = 25021
	CodeDuplicateUser         = 25022
	CodeInvalidPageToken      = 25023
	CodeOrganizationNotFound  = 25100
	CodeAccountNotFound       = 25101
	CodeAccountLimit          = 25102
	CodeOwnerNotManaged       = 25103
	CodeForbidden             = 25105
	CodeBadRequest            = 25106
	CodeWrongOrganization     = 25107
	CodeRoleScopeNotManaged   = 25200
	CodeIdentityNotManaged    = 25201
	CodeInvalidRole           = 25202
	CodeRoleFilterRequired    = 25203
	CodeRoleAssignmentMissing = 25204
	CodeUnauthenticated       = 20003
	// CodeAccountNotActive is Twilio's "Account not active": a call made
	// with the credentials of an account that is closing or closed.
	CodeAccountNotActive    = 20005
	CodeIdempotencyMismatch = 25108
	// CodeNumberUnavailable is Twilio's "phone number requested is not
	// available": another account holds it.
	CodeNumberUnavailable = 21422
	CodeInternal          = 20500
	CodeUnavailable       = 20503
	// People signing in (ours): a password refused by the rules; an
	// account that needs a second factor the person has not enrolled; an
	// organization that signs its managed users in with its own identity
	// provider only.
	CodeWeakPassword      = 25300
	CodeTwoFactorRequired = 25301
	CodeSSORequired       = 25302
)

// Error is the one error type of the domain: a kind (how the caller should
// react), a Twilio code and a message safe to show to the caller.
type Error struct {
	Kind    string
	Code    int
	Message string
	// RetryAfter, on a rate-limited refusal, is how many seconds to wait
	// before asking again (0: not said).
	RetryAfter int
}

// RateLimited is the refusal of one request too many (25021): wait
// retryAfter seconds.
func RateLimited(retryAfter int, format string, args ...any) *Error {
	e := Errorf(ERateLimited, CodeRateLimited, format, args...)
	e.RetryAfter = retryAfter
	return e
}

func (e *Error) Error() string {
	return fmt.Sprintf("orgaccounts: %s (%d): %s", e.Kind, e.Code, e.Message)
}

// Errorf builds a domain error.
func Errorf(kind string, code int, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err, EInternal for anything that is not a
// domain error.
func ErrorKind(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return EInternal
}

// ErrorCode returns the Twilio code of err, CodeInternal for anything that
// is not a domain error.
func ErrorCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the caller-safe message of err; internal errors get
// a generic message so nothing leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// AsError returns err as a domain error when it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
