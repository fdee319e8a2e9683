package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Context keys.
const (
	ctxRequestID = "orgaccounts.request_id"
	ctxPrincipal = "orgaccounts.principal"
	ctxBody      = "orgaccounts.body"
	ctxSCIM      = "orgaccounts.scim"
)

// SCIMMediaType is the media type of SCIM bodies.
const SCIMMediaType = "application/scim+json"

// SetRequestID records the request's id.
func SetRequestID(c *gin.Context, id string) { c.Set(ctxRequestID, id) }

// RequestID is the request's id (X-Request-Id).
func RequestID(c *gin.Context) string { return c.GetString(ctxRequestID) }

// SetPrincipal records who is calling.
func SetPrincipal(c *gin.Context, p domain.Principal) { c.Set(ctxPrincipal, p) }

// Principal is who is calling (zero before authentication).
func Principal(c *gin.Context) domain.Principal {
	p, _ := c.Get(ctxPrincipal)
	pp, _ := p.(domain.Principal)
	return pp
}

// MarkSCIM makes the request's errors SCIM ones.
func MarkSCIM(c *gin.Context) { c.Set(ctxSCIM, true) }

// IsSCIM reports whether the request is answered in SCIM's format.
func IsSCIM(c *gin.Context) bool { return c.GetBool(ctxSCIM) }

// SetBody records the request body, read once.
func SetBody(c *gin.Context, b []byte) { c.Set(ctxBody, b) }

// Body is the request body as read by the body reader.
func Body(c *gin.Context) []byte {
	b, _ := c.Get(ctxBody)
	bb, _ := b.([]byte)
	return bb
}

// DecodeJSON decodes the request body strictly into dst: one JSON object,
// no unknown fields, no trailing data.
func DecodeJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != SCIMMediaType && !strings.HasSuffix(mt, "+json")) {
			return Errorf(KindUnsupportedMedia, domain.CodeBadRequest, "Content-Type must be application/json")
		}
	}
	b := Body(c)
	if len(bytes.TrimSpace(b)) == 0 {
		return Errorf(domain.EInvalid, domain.CodeBadRequest, "a JSON request body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return Errorf(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: %s", describeJSONError(err))
	}
	if dec.More() {
		return Errorf(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: unexpected data after the object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return Errorf(domain.EInvalid, domain.CodeBadRequest, "malformed JSON body: unexpected data after the object")
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

// SIDParam reads a path parameter that must be a SID with prefix.
func SIDParam(c *gin.Context, name, prefix string) (string, error) {
	v := c.Param(name)
	return v, domain.CheckSID(name, prefix, v)
}

// RFC3339 is how times go on the wire.
func RFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// OptTime is an optional time on the wire.
func OptTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := RFC3339(*t)
	return &s
}

// UserAgent is the request's User-Agent header as kept on audit events: at
// most 256 bytes, cut at a character boundary.
func UserAgent(c *gin.Context) string {
	ua := c.GetHeader("User-Agent")
	if len(ua) <= 256 {
		return ua
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(ua[cut]) {
		cut--
	}
	return ua[:cut]
}
