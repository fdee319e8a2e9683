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
	cr := lifecycle.Credentials{From: domain.Actor{SourceIP: c.ClientIP(), RequestID: edge.RequestID(c), UserAgent: edge.UserAgent(c)}}
	switch h := c.GetHeader("Authorization"); {
	case strings.HasPrefix(h, "Bearer "):
		cr.Scheme, cr.Token = lifecycle.SchemeBearer, strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	case strings.HasPrefix(h, "Basic "):
		id, secret, _ := c.Request.BasicAuth()
		cr.Scheme, cr.ID, cr.Secret = lifecycle.SchemeBasic, id, secret
	}
	p, err := s.services.Auth.Authenticate(c.Request.Context(), cr)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	p.SourceIP, p.RequestID, p.UserAgent = cr.From.SourceIP, cr.From.RequestID, cr.From.UserAgent
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
