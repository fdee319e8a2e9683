// Package edge is what every HTTP audience of orgaccounts shares: the
// caller and request id a request carries, strict JSON decoding, the house
// error format and the one place domain errors become HTTP statuses, and
// the page envelope.
package edge

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/wire"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// StatusOf maps a domain error kind to its HTTP status. This is the only
// place where that mapping lives.
func StatusOf(kind string) int {
	switch kind {
	case domain.EInvalid:
		return http.StatusBadRequest
	case domain.EUnauthenticated:
		return http.StatusUnauthorized
	case domain.EForbidden:
		return http.StatusForbidden
	case domain.ENotFound:
		return http.StatusNotFound
	case domain.EConflict:
		return http.StatusConflict
	case domain.EUnprocessable:
		return http.StatusUnprocessableEntity
	case domain.EPreconditionFailed:
		return http.StatusPreconditionFailed
	case domain.ERateLimited:
		return http.StatusTooManyRequests
	case domain.EUnavailable:
		return http.StatusServiceUnavailable
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// Kinds that exist only at the HTTP edge.
const (
	KindTooLarge         = "too_large"
	KindUnsupportedMedia = "unsupported_media_type"
	KindMethodNotAllowed = "method_not_allowed"
)

// ErrorWriter is the one middleware that writes errors: handlers call
// c.Error(err) and return.
func ErrorWriter(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		WriteError(c, log, c.Errors.Last().Err)
	}
}

// WriteError answers with err in the route's format (SCIM routes in the
// SCIM one); internal and unavailable errors are logged.
func WriteError(c *gin.Context, log *slog.Logger, err error) {
	kind := domain.ErrorKind(err)
	status := StatusOf(kind)
	code := domain.ErrorCode(err)
	msg := domain.ErrorMessage(err)
	if kind == domain.EInternal || kind == domain.EUnavailable {
		log.ErrorContext(c.Request.Context(), "request failed", "request_id", RequestID(c), "method", c.Request.Method,
			"path", LoggedPath(c), "error", err.Error())
	}
	if kind == domain.EUnauthenticated {
		c.Header("WWW-Authenticate", `Basic realm="orgaccounts", Bearer`)
	}
	if e, ok := domain.AsError(err); ok && e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if answersAsPage(c) {
		writeRefusalPage(c, status, code, msg)
		return
	}
	if IsSCIM(c) {
		c.Header("Content-Type", SCIMMediaType)
		scimType := SCIMTypeOf(code)
		if status == http.StatusPreconditionFailed {
			scimType = nil // RFC 7644 §3.14 gives a failed If-Match no scimType
		}
		c.AbortWithStatusJSON(status, wire.SCIMError{Schemas: []wire.SCIMErrorSchemas{wire.SCIMErrorSchemasUrnIetfParamsScimAPIMessages20Error},
			Detail: msg, SCIMType: scimType, Status: fmt.Sprint(status), Code: code, MoreInfo: MoreInfo(code), TwilioMoreInfo: MoreInfo(code)})
		return
	}
	c.AbortWithStatusJSON(status, ErrorBody(code, msg, status))
}

// ErrorBody is the house error format, the same as Twilio's.
func ErrorBody(code int, msg string, status int) wire.Error {
	return wire.Error{Code: code, Message: msg, MoreInfo: MoreInfo(code), Status: status}
}

// MoreInfo is where a code is explained.
func MoreInfo(code int) string {
	return fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)
}

// SCIMTypeOf is the SCIM scimType of a code, nil when it has none.
func SCIMTypeOf(code int) *wire.SCIMErrorScimType {
	var t wire.SCIMErrorScimType
	switch code {
	case domain.CodeInvalidSCIMFilter:
		t = wire.SCIMErrorScimTypeInvalidFilter
	case domain.CodeDuplicateUser:
		t = wire.SCIMErrorScimTypeUniqueness
	case domain.CodeVersionConflict:
		t = wire.SCIMErrorScimTypeInvalidVers
	case domain.CodeBadRequest, domain.CodeInvalidEmail, domain.CodeDomainNotVerified:
		t = wire.SCIMErrorScimTypeInvalidValue
	default:
		return nil
	}
	return &t
}

// Errorf is an error made at the edge (a malformed request).
func Errorf(kind string, code int, format string, args ...any) error {
	return domain.Errorf(kind, code, format, args...)
}
