package edge

import (
	"html/template"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Browser pages (the console and the emailed confirmation links) are
// answered as pages when they refuse, also when the refusal comes from the
// shared edge (a malformed query, a cross-site form, an unknown path)
// before any page handler runs. A script on those pages that asks for
// JSON (Accept: application/json) gets the house JSON format instead.

// isPageRoute reports whether path is one a person opens in a browser.
func isPageRoute(path string) bool {
	return path == "/console" || strings.HasPrefix(path, "/console/") || strings.HasPrefix(path, "/confirm/")
}

// answersAsPage reports whether a refusal of c is written as a page.
func answersAsPage(c *gin.Context) bool {
	if !isPageRoute(c.Request.URL.Path) {
		return false
	}
	for _, part := range strings.Split(c.GetHeader("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(mt, "application/json") {
			return false
		}
	}
	return true
}

var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · orgaccounts</title>
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body>
<main id="main">
<h1 id="title">{{.Title}}</h1>
<p id="problem" role="alert">{{.Message}}</p>
<p class="hint">Error {{.Code}} · request {{.RequestID}}</p>
<p><a href="/console">Back to the Admin Center</a></p>
</main>
</body>
</html>
`))

// writeRefusalPage answers status as a page saying msg.
func writeRefusalPage(c *gin.Context, status, code int, msg string) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// No referrer: a confirmation page's URL holds its token.
	setPageHeaders(h, "no-referrer")
	c.Status(status)
	_ = refusalPage.Execute(c.Writer, struct {
		Title, Message, RequestID string
		Code                      int
	}{Title: http.StatusText(status), Message: Sentence(msg), RequestID: RequestID(c), Code: code})
	c.Abort()
}

// Sentence makes a domain message a sentence of a page: a capital first,
// a full stop last.
func Sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	first, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(first)) + msg[n:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
