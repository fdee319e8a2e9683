// Package scim is the SCIM 2.0 edge (RFC 7643/7644) for an organization's
// managed users, as Twilio's SCIM API serves it: decode SCIM JSON, call
// the directory service, render SCIM resources and errors.
package scim

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

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

const (
	scimUserSchema = lifecycle.SCIMUserSchema
	scimListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
)

type scimName struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type scimEmail struct {
	Primary bool   `json:"primary"`
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created"`
	LastModified string `json:"lastModified"`
	Version      string `json:"version"`
	Location     string `json:"location,omitempty"`
}

// scimUser is a SCIM 2.0 user, in and out.
type scimUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName,omitempty"`
	Name        *scimName   `json:"name,omitempty"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Active      *bool       `json:"active,omitempty"`
	Locale      string      `json:"locale,omitempty"`
	Timezone    string      `json:"timezone,omitempty"`
	Meta        *scimMeta   `json:"meta,omitempty"`
}

type scimList struct {
	Schemas      []string   `json:"schemas"`
	TotalResults int        `json:"totalResults"`
	StartIndex   int        `json:"startIndex"`
	ItemsPerPage int        `json:"itemsPerPage"`
	Resources    []scimUser `json:"Resources"`
}

func etag(version int) string { return fmt.Sprintf(`W/"%d"`, version) }

func (s *Handlers) renderSCIMUser(u domain.User) scimUser {
	active := u.Active
	return scimUser{
		Schemas: []string{scimUserSchema}, ID: u.Sid, ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, Name: &scimName{GivenName: u.GivenName, FamilyName: u.FamilyName},
		Emails: []scimEmail{{Primary: true, Value: u.UserName, Type: "work"}}, Active: &active,
		Locale: u.Locale, Timezone: u.Timezone,
		Meta: &scimMeta{ResourceType: "User", Created: edge.RFC3339(u.DateCreated), LastModified: edge.RFC3339(u.DateUpdated),
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
	list := scimList{Schemas: []string{scimListSchema}, TotalResults: out.TotalResults, StartIndex: out.StartIndex, ItemsPerPage: len(out.Users), Resources: []scimUser{}}
	for _, u := range out.Users {
		list.Resources = append(list.Resources, s.renderSCIMUser(u))
	}
	body, _ := json.Marshal(list)
	c.Data(http.StatusOK, edge.SCIMMediaType, body)
}

// command is the SCIM user as the client sent it.
func (in scimUser) command() lifecycle.SCIMUser {
	out := lifecycle.SCIMUser{
		Schemas: in.Schemas, ID: in.ID, HasMeta: in.Meta != nil, UserName: in.UserName, ExternalID: in.ExternalID,
		DisplayName: in.DisplayName, Active: in.Active, Locale: in.Locale, Timezone: in.Timezone,
	}
	if in.Name != nil {
		out.Name = &lifecycle.UserName{GivenName: in.Name.GivenName, FamilyName: in.Name.FamilyName}
	}
	for _, e := range in.Emails {
		out.Emails = append(out.Emails, lifecycle.UserEmail{Primary: e.Primary, Value: e.Value})
	}
	return out
}

func (s *Handlers) createSCIMUser(c *gin.Context) {
	var in scimUser
	if err := edge.DecodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.services.Directory.Create(c.Request.Context(), edge.Principal(c), in.command())
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
	var in scimUser
	if err := edge.DecodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	u, err := s.services.Directory.Replace(c.Request.Context(), edge.Principal(c), lifecycle.ReplaceUser{
		Sid: c.Param("user"), IfMatch: c.GetHeader("If-Match"), User: in.command(),
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, u)
}

type scimPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

func (s *Handlers) patchSCIMUser(c *gin.Context) {
	var patch scimPatch
	if err := edge.DecodeJSON(c, &patch); err != nil {
		_ = c.Error(err)
		return
	}
	cmd := lifecycle.PatchUser{Sid: c.Param("user"), IfMatch: c.GetHeader("If-Match"), Schemas: patch.Schemas}
	for _, op := range patch.Operations {
		cmd.Operations = append(cmd.Operations, lifecycle.PatchOp{Op: op.Op, Path: op.Path, Value: op.Value})
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
