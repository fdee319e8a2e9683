package edge

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ConsolePolicy is the Content-Security-Policy of the signed-in pages: our
// own scripts, styles and images only, no inline script, no framing, forms
// posting back to us.
const ConsolePolicy = pagePolicyHead + "form-action 'self'" + pagePolicyTail

// SSOFormPolicy is ConsolePolicy for the page whose form starts single
// sign-on: its answer redirects the browser to the organization's identity
// provider, and browsers hold a form's redirects to form-action too. An
// issuer is https, or plain http on a loopback address for trying it
// locally (domain.ValidateIssuer), and so is where its sign-in page is.
const SSOFormPolicy = pagePolicyHead + "form-action 'self' https: http://127.0.0.1:* http://localhost:*" + pagePolicyTail

// The directives every page's policy shares, around its form-action.
const (
	pagePolicyHead = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
	pagePolicyTail = "; frame-ancestors 'none'; base-uri 'none'"
)

// setPageHeaders sets the headers every page for a person carries, with
// referrer as its Referrer-Policy.
func setPageHeaders(h http.Header, referrer string) {
	h.Set("Content-Security-Policy", ConsolePolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", referrer)
	h.Set("Cache-Control", "no-store")
}

// BrowserPages sets the headers every page for a person carries (a strict
// Content-Security-Policy, no framing, no sniffing, no caching of personal
// pages) and refuses a cross-origin form POST (http.CrossOriginProtection:
// Sec-Fetch-Site, then Origin against Host) with 403 before any handler
// runs. Safe methods pass.
func BrowserPages() gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		setPageHeaders(c.Writer.Header(), "same-origin")
		if err := cop.Check(c.Request); err != nil {
			_ = c.Error(Errorf(domain.EForbidden, domain.CodeForbidden, "this form was posted from another site: open the page here and submit it again"))
			c.Abort()
			return
		}
		c.Next()
	}
}
