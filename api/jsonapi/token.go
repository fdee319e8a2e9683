package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// token implements POST /v1/token: OAuth2 client credentials, from the
// form or from HTTP Basic.
func (s *Handlers) token(c *gin.Context) {
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "the body must be form-encoded (application/x-www-form-urlencoded)"))
		return
	}
	if gt := c.Request.PostForm.Get("grant_type"); gt != "client_credentials" {
		_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "grant_type must be client_credentials"))
		return
	}
	id, secret := c.Request.PostForm.Get("client_id"), c.Request.PostForm.Get("client_secret")
	if bid, bsecret, ok := c.Request.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	from := domain.Actor{SourceIP: c.ClientIP(), RequestID: edge.RequestID(c), UserAgent: edge.UserAgent(c)}
	tok, err := s.services.Auth.Token(c.Request.Context(), from, id, secret)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusOK, wire.Token{AccessToken: tok.AccessToken, TokenType: wire.TokenTokenTypeBearer, ExpiresIn: int(tok.ExpiresIn.Seconds())})
}
