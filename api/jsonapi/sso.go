package jsonapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// registerSSO adds the routes of the organization's single sign-on
// settings.
func (s *Handlers) registerSSO(org *gin.RouterGroup) {
	org.GET("/SSO", s.getSSO)
	org.PUT("/SSO", s.putSSO)
	org.DELETE("/SSO", s.deleteSSO)
}

// renderSSO is the settings on the wire: the secret only as "set".
func (s *Handlers) renderSSO(p domain.SSOProvider) wire.SSOSettings {
	return wire.SSOSettings{
		OrganizationSid: p.OrganizationSid, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecretSet: p.ClientSecret != "",
		Required: p.Required, RedirectURI: s.services.SSO.RedirectURL(),
		DateCreated: edge.RFC3339(p.DateCreated), DateUpdated: edge.RFC3339(p.DateUpdated),
		URL: s.baseURL + "/Organizations/" + p.OrganizationSid + "/SSO",
	}
}

func (s *Handlers) getSSO(c *gin.Context) {
	p, err := s.services.SSO.Settings(c.Request.Context(), edge.Principal(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderSSO(p))
}

// putSSO registers or replaces the provider.
func (s *Handlers) putSSO(c *gin.Context) {
	var req wire.SSOSettingsRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	p, err := s.services.SSO.Configure(c.Request.Context(), edge.Principal(c), domain.SSOSettings{
		Issuer: req.Issuer, ClientID: req.ClientID, ClientSecret: domain.Secret(deref(req.ClientSecret)), Required: deref(req.Required),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderSSO(p))
}

func (s *Handlers) deleteSSO(c *gin.Context) {
	if err := s.services.SSO.Remove(c.Request.Context(), edge.Principal(c)); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
