package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errAuth = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "authentication failed: give a bearer token from POST /v1/token or HTTP Basic credentials")

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
	if id == "" || secret == "" {
		_ = c.Error(httpError(domain.EInvalid, domain.CodeBadRequest, "client_id and client_secret are required"))
		return
	}
	cred, err := s.verifySecret(c, id, secret)
	if err == nil && cred.AccountSid != "" {
		// No token for the credential of an account that is closing.
		_, _, err = s.store.CredentialPrincipal(c.Request.Context(), cred.Sid)
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	tok := domain.NewSecret(48)
	now := s.clock.Now()
	if err := s.store.CreateAccessToken(c.Request.Context(), domain.AccessToken{
		TokenHash: domain.HashSecret(tok), CredentialSid: cred.Sid, ExpiresAt: now.Add(s.tokenTTL),
	}); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusOK, tokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(s.tokenTTL.Seconds())})
}

// clientID maps the client id a caller gives to a credential SID: an
// Account SID names that account's auth token (Twilio's own Basic scheme).
func clientID(id string) string {
	if domain.ValidSID(domain.PrefixAccount, id) {
		return domain.AuthTokenCredentialSid(id)
	}
	return id
}

func (s *server) verifySecret(c *gin.Context, id, secret string) (domain.Credential, error) {
	id = clientID(id)
	if !domain.ValidSID(domain.PrefixCredential, id) || !domain.ValidSecret(secret) {
		return domain.Credential{}, errAuth
	}
	cred, err := s.store.FindCredential(c.Request.Context(), id)
	if domain.ErrorKind(err) == domain.EUnauthenticated || (err == nil && !domain.SecretMatches(secret, cred.SecretHash)) {
		return domain.Credential{}, errAuth
	}
	return cred, err
}

// authenticate resolves the caller from a bearer token or Basic
// credentials (one query either way) and stores the principal in the
// context.
func (s *server) authenticate(c *gin.Context) {
	cred, u, err := s.principalOf(c)
	if err == nil && !u.Active {
		err = errAuth
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	c.Set(ctxPrincipal, domain.Principal{
		OrganizationSid: cred.OrganizationSid, UserSid: u.Sid, CredentialSid: cred.Sid, OrgRole: u.OrgRole,
		SourceIP: c.ClientIP(), RequestID: requestID(c), AccountSid: cred.AccountSid,
	})
	c.Next()
}

func (s *server) principalOf(c *gin.Context) (domain.Credential, domain.User, error) {
	h := c.GetHeader("Authorization")
	switch {
	case strings.HasPrefix(h, "Bearer "):
		tok := strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
		if tok == "" || len(tok) > 256 {
			return domain.Credential{}, domain.User{}, errAuth
		}
		return s.store.TokenPrincipal(c.Request.Context(), domain.HashSecret(tok), s.clock.Now())
	case strings.HasPrefix(h, "Basic "):
		id, secret, ok := c.Request.BasicAuth()
		id = clientID(id)
		if !ok || !domain.ValidSID(domain.PrefixCredential, id) || !domain.ValidSecret(secret) {
			return domain.Credential{}, domain.User{}, errAuth
		}
		cred, u, err := s.store.CredentialPrincipal(c.Request.Context(), id)
		// The secret is checked before anything else is said (a closed
		// account's 20005 included).
		if domain.ErrorKind(err) == domain.EUnauthenticated || (cred.SecretHash != "" && !domain.SecretMatches(secret, cred.SecretHash)) ||
			(err == nil && cred.SecretHash == "") {
			return domain.Credential{}, domain.User{}, errAuth
		}
		return cred, u, err
	}
	return domain.Credential{}, domain.User{}, errAuth
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
