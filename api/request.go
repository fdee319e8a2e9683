package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
)

// Context keys.
const (
	ctxRequestID = "orgaccounts.request_id"
	ctxPrincipal = "orgaccounts.principal"
	ctxBody      = "orgaccounts.body"
	ctxSCIM      = "orgaccounts.scim"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-Id"

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestIDMiddleware(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !requestIDPattern.MatchString(id) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = "RQ" + hex.EncodeToString(b[:])
	}
	c.Set(ctxRequestID, id)

	c.Header(RequestIDHeader, id)
	c.Request = c.Request.WithContext(telemetry.WithRequestID(c.Request.Context(), id))
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// bodyReader reads the body of requests that have one, capped at max bytes,
// so that the idempotency check and the handler see the same bytes.
func bodyReader(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			c.Next()
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, max))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				_ = c.Error(httpError(kindTooLarge, domain.CodeBadRequest, "the request body exceeds %d bytes", max))
			} else {
				_ = c.Error(httpError(domain.EInvalid, domain.CodeBadRequest, "the request body could not be read"))
			}
			c.Abort()
			return
		}
		if !checkBodyText(c, b) {
			return
		}
		c.Set(ctxBody, b)
		c.Request.Body = io.NopCloser(bytes.NewReader(b))
		c.Next()
	}
}

func body(c *gin.Context) []byte {
	b, _ := c.Get(ctxBody)
	bb, _ := b.([]byte)
	return bb
}

// decodeJSON decodes the request body strictly into dst: one JSON object,
// no unknown fields, no trailing data.
func decodeJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != scimMediaType && !strings.HasSuffix(mt, "+json")) {
			return httpError(kindUnsupportedMedia, domain.CodeBadRequest, "Content-Type must be application/json")
		}
	}
	b := body(c)
	if len(bytes.TrimSpace(b)) == 0 {
		return httpError(domain.EInvalid, domain.CodeBadRequest, "a JSON request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return httpError(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: %s", describeJSONError(err))
	}
	if dec.More() {
		return httpError(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: unexpected data after the object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return httpError(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: unexpected data after the object")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("syntax error at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type.String(), typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", typ.Type.String(), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "invalid JSON"
}

// sidParam reads a path parameter that must be a SID with prefix.
func sidParam(c *gin.Context, name, prefix string) (string, error) {
	v := c.Param(name)
	return v, domain.CheckSID(name, prefix, v)
}
