package api

import (
	"strings"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

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
	p.SourceIP, p.RequestID, p.UserAgent = c.ClientIP(), edge.RequestID(c), edge.UserAgent(c)
	edge.SetPrincipal(c, p)
	c.Next()
}

// orgScope checks the organization in the path against the caller's before
// anything is looked up: another organization's resources answer 25107
// whether they exist or not.
func (s *server) orgScope(c *gin.Context) {
	org, err := edge.SIDParam(c, "org", domain.PrefixOrganization)
	if err == nil {
		err = edge.Principal(c).CheckOrganization(org)
	}
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	c.Next()
}
