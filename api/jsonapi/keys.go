package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// registerKeys adds people's API keys and the management of the
// organization's credentials.
func (s *Handlers) registerKeys(org *gin.RouterGroup) {
	org.POST("/Keys", s.createKey)
	org.GET("/Keys", s.listKeys)
	org.DELETE("/Keys/:key", s.revokeKey)
}

func (s *Handlers) keyURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Keys/" + sid
}

// createKey issues an API key acting as the caller; the secret is shown
// once.
func (s *Handlers) createKey(c *gin.Context) {
	var req wire.KeyRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	name, err := optionalName(req.FriendlyName)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.Keys.Create(c.Request.Context(), edge.Principal(c), name)
	if err != nil {
		_ = c.Error(err)
		return
	}
	k := out.Key
	c.Header("Cache-Control", "no-store")
	c.PureJSON(http.StatusCreated, wire.NewKey{Sid: k.Sid, FriendlyName: k.FriendlyName, UserSid: k.UserSid, Secret: out.Secret,
		DateCreated: edge.RFC3339(k.DateCreated), URL: s.keyURL(k.OrganizationSid, k.Sid)})
}

// listKeys lists the credentials the caller may manage.
func (s *Handlers) listKeys(c *gin.Context) {
	req, err := edge.PageRequest(c, domain.PrefixCredential, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	page, err := s.services.Keys.List(c.Request.Context(), edge.Principal(c), req)
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, page, func(k domain.Credential) string { return k.Sid }, s.renderKey)
	c.PureJSON(http.StatusOK, wire.KeyPage{Content: content, Meta: meta})
}

// renderKey is a credential on the wire, without its secret.
func (s *Handlers) renderKey(k domain.Credential) wire.Key {
	kind := wire.KeyKindOrganization
	switch k.Via() {
	case domain.ViaPersonalKey:
		kind = wire.KeyKindPersonal
	case domain.ViaAccountCredential:
		kind = wire.KeyKindAccount
	}
	var lastUsed *string
	if !k.DateLastUsed.IsZero() {
		lastUsed = edge.OptTime(&k.DateLastUsed)
	}
	return wire.Key{Sid: k.Sid, FriendlyName: k.FriendlyName, Kind: kind, UserSid: k.UserSid, AccountSid: optString(k.AccountSid),
		DateCreated: edge.RFC3339(k.DateCreated), DateLastUsed: lastUsed, URL: s.keyURL(k.OrganizationSid, k.Sid)}
}

// revokeKey deletes a credential the caller may manage.
func (s *Handlers) revokeKey(c *gin.Context) {
	if err := s.services.Keys.Revoke(c.Request.Context(), edge.Principal(c), c.Param("key")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
