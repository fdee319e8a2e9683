package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// statusOf maps a domain error kind to its HTTP status. This is the only
// place where that mapping lives.
func statusOf(kind string) int {
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
	case domain.ERateLimited:
		return http.StatusTooManyRequests
	case domain.EUnavailable:
		return http.StatusServiceUnavailable
	case kindTooLarge:
		return http.StatusRequestEntityTooLarge
	case kindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case kindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// Kinds that exist only at the HTTP edge.
const (
	kindTooLarge         = "too_large"
	kindUnsupportedMedia = "unsupported_media_type"
	kindMethodNotAllowed = "method_not_allowed"
)

// ErrorBody is the house error format, the same as Twilio's.
type ErrorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// SCIMError is the SCIM error format (RFC 7644 §3.12) with, as Twilio's
// SCIM error schema has them, Twilio's code and more_info beside it.
type SCIMError struct {
	Schemas  []string `json:"schemas"`
	Detail   string   `json:"detail"`
	SCIMType string   `json:"scimType,omitempty"`
	Status   string   `json:"status"`
	Code     int      `json:"code"`
	MoreInfo string   `json:"more_info"`
}

const scimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// errorWriter is the one middleware that writes errors: handlers call
// c.Error(err) and return.
func (s *server) errorWriter(c *gin.Context) {
	c.Next()
	if len(c.Errors) == 0 || c.Writer.Written() {
		return
	}
	s.writeError(c, c.Errors.Last().Err)
}

func (s *server) writeError(c *gin.Context, err error) {
	kind := domain.ErrorKind(err)
	status := statusOf(kind)
	code := domain.ErrorCode(err)
	msg := domain.ErrorMessage(err)
	if kind == domain.EInternal || kind == domain.EUnavailable {
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "method", c.Request.Method,
			"path", loggedPath(c), "error", err.Error())
	}
	if kind == domain.EUnauthenticated {
		c.Header("WWW-Authenticate", `Basic realm="orgaccounts", Bearer`)
	}
	if e, ok := domain.AsError(err); ok && e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if c.GetBool(ctxSCIM) {
		c.Header("Content-Type", scimMediaType)
		c.AbortWithStatusJSON(status, SCIMError{Schemas: []string{scimErrorSchema}, Detail: msg, SCIMType: scimTypeOf(code), Status: fmt.Sprint(status),
			Code: code, MoreInfo: moreInfo(code)})
		return
	}
	c.AbortWithStatusJSON(status, ErrorBody{Code: code, Message: msg, MoreInfo: moreInfo(code), Status: status})
}

func moreInfo(code int) string {
	return fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)
}

func scimTypeOf(code int) string {
	switch code {
	case domain.CodeInvalidSCIMFilter:
		return "invalidFilter"
	case domain.CodeDuplicateUser:
		return "uniqueness"
	case domain.CodeVersionConflict:
		return "invalidVers"
	case domain.CodeBadRequest, domain.CodeInvalidEmail, domain.CodeDomainNotVerified:
		return "invalidValue"
	}
	return ""
}

func httpError(kind string, code int, format string, args ...any) error {
	return domain.Errorf(kind, code, format, args...)
}
