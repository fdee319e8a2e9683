package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// tokenResponse is the OAuth2 token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// token implements POST /v1/token: OAuth2 client credentials, from the
// form or from HTTP Basic.
func (s *server) token(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(httpError(domain.EInvalid, domain.CodeBadRequest, "the body must be form-encoded (application/x-www-form-urlencoded)"))
		return
	}
	if gt := c.Request.PostForm.Get("grant_type"); gt != "client_credentials" {
		_ = c.Error(httpError(domain.EInvalid, domain.CodeBadRequest, "grant_type must be client_credentials"))
		return
	}
	id, secret := c.Request.PostForm.Get("client_id"), c.Request.PostForm.Get("client_secret")
	if bid, bsecret, ok := c.Request.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	tok, err := s.services.Auth.Token(c.Request.Context(), id, secret)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusOK, tokenResponse{AccessToken: tok.AccessToken, TokenType: "Bearer", ExpiresIn: int(tok.ExpiresIn.Seconds())})
}

// authenticate resolves the caller from the Authorization header and
// stores the principal in the context.
func (s *server) authenticate(c *gin.Context) {
	var cr lifecycle.Credentials
	switch h := c.GetHeader("Authorization"); {
	case strings.HasPrefix(h, "Bearer "):
		cr = lifecycle.Credentials{Scheme: lifecycle.SchemeBearer, Token: strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))}
	case strings.HasPrefix(h, "Basic "):
		id, secret, _ := c.Request.BasicAuth()
		cr = lifecycle.Credentials{Scheme: lifecycle.SchemeBasic, ID: id, Secret: secret}
	}
	p, err := s.services.Auth.Authenticate(c.Request.Context(), cr)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	p.SourceIP, p.RequestID = c.ClientIP(), requestID(c)
	c.Set(ctxPrincipal, p)
	c.Next()
}

func principal(c *gin.Context) domain.Principal {
	p, _ := c.Get(ctxPrincipal)
	pp, _ := p.(domain.Principal)
	return pp
}

// orgScope checks the organization in the path against the caller's before
// anything is looked up: another organization's resources answer 25107
// whether they exist or not.
func (s *server) orgScope(c *gin.Context) {
	org, err := sidParam(c, "org", domain.PrefixOrganization)
	if err == nil {
		err = principal(c).CheckOrganization(org)
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	c.Next()
}
