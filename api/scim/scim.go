// Package scim is the SCIM 2.0 edge (RFC 7643/7644) for an organization's
// managed users, as Twilio's SCIM API serves it: decode SCIM JSON, call
// the directory service, render SCIM resources and errors.
package scim

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// Handlers serve the SCIM users of an organization.
type Handlers struct {
	services *lifecycle.Services
	baseURL  string
}

// New returns the SCIM handlers.
func New(services *lifecycle.Services, baseURL string) *Handlers {
	return &Handlers{services: services, baseURL: baseURL}
}

// Register adds the SCIM routes to g (/Organizations/:org/scim).
func (s *Handlers) Register(g *gin.RouterGroup) {
	g.GET("/Users", s.listSCIMUsers)
	g.POST("/Users", s.createSCIMUser)
	g.GET("/Users/:user", s.getSCIMUser)
	g.PUT("/Users/:user", s.replaceSCIMUser)
	g.PATCH("/Users/:user", s.patchSCIMUser)
	g.DELETE("/Users/:user", s.deleteSCIMUser)
}

func etag(version int) string { return fmt.Sprintf(`W/"%d"`, version) }

// optString is an optional attribute: absent when empty.
func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// deref is an optional attribute's value, "" (or false) when absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// renderSCIMUser is a SCIM 2.0 user: its one email is its userName.
func (s *Handlers) renderSCIMUser(u domain.User) wire.SCIMUser {
	return wire.SCIMUser{
		Schemas: []wire.SCIMUserSchemas{wire.SCIMUserSchemasUrnIetfParamsScimSchemasCore20User}, ID: u.Sid, ExternalID: optString(u.ExternalID),
		UserName: u.UserName, DisplayName: optString(u.DisplayName), Name: wire.SCIMName{GivenName: optString(u.GivenName), FamilyName: optString(u.FamilyName)},
		Emails: []wire.SCIMEmail{{Primary: wire.SCIMUserEmailsPrimaryTrue, Value: u.UserName, Type: wire.SCIMUserEmailsTypeWork}}, Active: u.Active,
		Locale: optString(u.Locale), Timezone: optString(u.Timezone),
		Meta: wire.SCIMMeta{ResourceType: wire.SCIMUserMetaResourceTypeUser, Created: edge.RFC3339(u.DateCreated), LastModified: edge.RFC3339(u.DateUpdated),
			Version: etag(u.Version), Location: s.baseURL + "/Organizations/" + u.OrganizationSid + "/scim/Users/" + u.Sid},
	}
}

func (s *Handlers) scimJSON(c *gin.Context, status int, u domain.User) {
	c.Header("ETag", etag(u.Version))
	body, _ := json.Marshal(s.renderSCIMUser(u))
	c.Data(status, edge.SCIMMediaType, body)
}

func (s *Handlers) listSCIMUsers(c *gin.Context) {
	out, err := s.services.Directory.Users(c.Request.Context(), edge.Principal(c), lifecycle.UserQuery{
		Filter: c.Query("filter"), StartIndex: c.Query("startIndex"), Count: c.Query("count"),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	list := wire.SCIMList{Schemas: []wire.SCIMListSchemas{wire.SCIMListSchemasUrnIetfParamsScimAPIMessages20ListResponse},
		TotalResults: out.TotalResults, StartIndex: out.StartIndex, ItemsPerPage: len(out.Users), Resources: []wire.SCIMUser{}}
	for _, u := range out.Users {
		list.Resources = append(list.Resources, s.renderSCIMUser(u))
	}
	body, _ := json.Marshal(list)
	c.Data(http.StatusOK, edge.SCIMMediaType, body)
}

// createCommand is the SCIM user to create as the client sent it (id and
// meta are not part of it: the body may not have them).
func createCommand(in wire.SCIMUserCreate) lifecycle.SCIMUser {
	return lifecycle.SCIMUser{
		Schemas: in.Schemas, UserName: in.UserName, ExternalID: deref(in.ExternalID), DisplayName: deref(in.DisplayName),
		Name: userName(in.Name), Emails: userEmails(in.Emails), Active: in.Active, Locale: deref(in.Locale), Timezone: deref(in.Timezone),
	}
}

// replaceCommand is the replacing SCIM user as the client sent it.
func replaceCommand(in wire.SCIMUserReplace) lifecycle.SCIMUser {
	return lifecycle.SCIMUser{
		Schemas: in.Schemas, ID: deref(in.ID), HasMeta: in.Meta != nil, UserName: in.UserName, ExternalID: deref(in.ExternalID),
		DisplayName: deref(in.DisplayName), Name: userName(in.Name), Emails: userEmails(in.Emails), Active: in.Active,
		Locale: deref(in.Locale), Timezone: deref(in.Timezone),
	}
}

func userName(n *wire.SCIMName) *lifecycle.UserName {
	if n == nil {
		return nil
	}
	return &lifecycle.UserName{GivenName: deref(n.GivenName), FamilyName: deref(n.FamilyName)}
}

func userEmails(in []wire.SCIMEmailInput) []lifecycle.UserEmail {
	var out []lifecycle.UserEmail
	for _, e := range in {
		out = append(out, lifecycle.UserEmail{Primary: deref(e.Primary), Value: deref(e.Value)})
	}
	return out
}

func (s *Handlers) createSCIMUser(c *gin.Context) {
	var in wire.SCIMUserCreate
	if err := edge.DecodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.services.Directory.Create(c.Request.Context(), edge.Principal(c), createCommand(in))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", s.baseURL+"/Organizations/"+u.OrganizationSid+"/scim/Users/"+u.Sid)
	s.scimJSON(c, http.StatusCreated, u)
}

func (s *Handlers) getSCIMUser(c *gin.Context) {
	u, err := s.services.Directory.User(c.Request.Context(), edge.Principal(c), c.Param("user"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, u)
}

func (s *Handlers) replaceSCIMUser(c *gin.Context) {
	var in wire.SCIMUserReplace
	if err := edge.DecodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.services.Directory.Replace(c.Request.Context(), edge.Principal(c), lifecycle.ReplaceUser{
		Sid: c.Param("user"), IfMatch: c.GetHeader("If-Match"), User: replaceCommand(in),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, u)
}

func (s *Handlers) patchSCIMUser(c *gin.Context) {
	var patch wire.SCIMPatchOp
	if err := edge.DecodeJSON(c, &patch); err != nil {
		_ = c.Error(err)
		return
	}
	cmd := lifecycle.PatchUser{Sid: c.Param("user"), IfMatch: c.GetHeader("If-Match"), Schemas: patch.Schemas}
	for _, op := range patch.Operations {
		cmd.Operations = append(cmd.Operations, lifecycle.PatchOp{Op: op.Op, Path: deref(op.Path), Value: op.Value})
	}
	u, err := s.services.Directory.Patch(c.Request.Context(), edge.Principal(c), cmd)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, u)
}

func (s *Handlers) deleteSCIMUser(c *gin.Context) {
	if err := s.services.Directory.Delete(c.Request.Context(), edge.Principal(c), c.Param("user")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
