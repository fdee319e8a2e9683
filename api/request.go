package api

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
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
	edge.SetRequestID(c, id)
	if strings.HasPrefix(c.FullPath(), "/Organizations/:org/scim/") {
		// Every answer on a SCIM route is a SCIM one, refusals made
		// before the SCIM handlers included.
		edge.MarkSCIM(c)
	}

	c.Header(RequestIDHeader, id)
	c.Request = c.Request.WithContext(telemetry.WithRequestID(c.Request.Context(), id))
	c.Next()
}

// bodyReader reads the body of requests that have one, capped at limit bytes,
// so that the idempotency check and the handler see the same bytes.
func bodyReader(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		switch c.Request.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
		default:
			c.Next()
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				_ = c.Error(edge.Errorf(edge.KindTooLarge, domain.CodeBadRequest, "the request body exceeds %d bytes", limit))
			} else {
				_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "the request body could not be read"))
			}
			c.Abort()
			return
		}
		if !checkBodyText(c, b) {
			return
		}
		edge.SetBody(c, b)
		c.Request.Body = io.NopCloser(bytes.NewReader(b))
		c.Next()
	}
}
