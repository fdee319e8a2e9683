package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/url"
	"unicode/utf8"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Every string that reaches a service comes through here first: the
// path, the query and the body. Text that is not UTF-8, or holds control
// characters, is refused with a 400 in the route's own format: neither
// database takes a NUL byte, and nothing else would ever mean it.

// badText says what is wrong with s as text from a client, or "" when it
// is fine. Tabs and line breaks are allowed where allowBreaks is true
// (free text in a body); no other control character is.
func badText(s string, allowBreaks bool) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case allowBreaks && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return "contains a control character"
		}
	}
	return ""
}

// checkInput refuses a request whose path or query holds text that is not
// UTF-8 or has control characters.
func checkInput(c *gin.Context) {
	if what := badText(c.Request.URL.Path, false); what != "" {
		abortBadText(c, "the path "+what)
		return
	}
	q, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "the query string is malformed: %v", err))
		c.Abort()
		return
	}
	for k, vs := range q {
		if what := badText(k, false); what != "" {
			abortBadText(c, "a query parameter name "+what)
			return
		}
		for _, v := range vs {
			if what := badText(v, false); what != "" {
				abortBadText(c, "the query parameter "+printableName(k)+" "+what)
				return
			}
		}
	}
	c.Next()
}

// checkBodyText refuses a body whose text is not UTF-8 or whose strings
// hold control characters (JSON strings may hold tabs and line breaks).
// A body that is not well-formed is left for the handler's decoder, which
// says what is wrong with it.
func checkBodyText(c *gin.Context, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if !utf8.Valid(b) {
		abortBadText(c, "the request body is not valid UTF-8")
		return false
	}
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return true
		}
		for k, vs := range form {
			for _, v := range append(vs, k) {
				if what := badText(v, false); what != "" {
					abortBadText(c, "the form field "+printableName(k)+" "+what)
					return false
				}
			}
		}
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) || err != nil {
			return true
		}
		if s, ok := tok.(string); ok {
			if what := badText(s, true); what != "" {
				abortBadText(c, "a string in the request body "+what)
				return false
			}
		}
	}
}

func abortBadText(c *gin.Context, what string) {
	_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s", what))
	c.Abort()
}

// printableName quotes a client's parameter name for a message, without
// echoing what cannot be shown.
func printableName(s string) string {
	if badText(s, false) != "" || len(s) > 64 {
		return "(unprintable)"
	}
	return `"` + s + `"`
}
