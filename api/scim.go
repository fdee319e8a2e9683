package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

const (
	scimMediaType    = "application/scim+json"
	scimUserSchema   = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimListSchema   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimPatchSchema  = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	scimMaxPageCount = 100
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

func (s *server) renderSCIMUser(u domain.User) scimUser {
	active := u.Active
	return scimUser{
		Schemas: []string{scimUserSchema}, ID: u.Sid, ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, Name: &scimName{GivenName: u.GivenName, FamilyName: u.FamilyName},
		Emails: []scimEmail{{Primary: true, Value: u.UserName, Type: "work"}}, Active: &active,
		Locale: u.Locale, Timezone: u.Timezone,
		Meta: &scimMeta{ResourceType: "User", Created: rfc3339(u.DateCreated), LastModified: rfc3339(u.DateUpdated),
			Version: etag(u.Version), Location: s.baseURL + "/Organizations/" + u.OrganizationSid + "/scim/Users/" + u.Sid},
	}
}

func (s *server) scimJSON(c *gin.Context, status int, u domain.User) {
	c.Header("ETag", etag(u.Version))
	body, _ := json.Marshal(s.renderSCIMUser(u))
	c.Data(status, scimMediaType, body)
}

var scimFilterPattern = regexp.MustCompile(`^\s*(?i:(userName|externalId))\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"\s*$`)

func (s *server) listSCIMUsers(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	f := domain.UserFilter{OrganizationSid: p.OrganizationSid, Limit: scimMaxPageCount}
	if raw := c.Query("filter"); raw != "" {
		m := scimFilterPattern.FindStringSubmatch(raw)
		if m == nil {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeInvalidSCIMFilter, `unsupported filter: only userName eq "…" and externalId eq "…" are supported`))
			return
		}
		val, err := strconv.Unquote(`"` + m[2] + `"`)
		if err != nil {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeInvalidSCIMFilter, "the filter value is not a valid string"))
			return
		}
		if strings.EqualFold(m[1], "userName") {
			f.UserName = strings.ToLower(val)
		} else {
			f.ExternalID = val
		}
	}
	start, count := 1, scimMaxPageCount
	for _, q := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"startIndex", &start, 1, 1 << 30}, {"count", &count, 0, scimMaxPageCount}} {
		if raw := c.Query(q.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < q.min || n > q.max {
				_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s must be an integer from %d to %d", q.name, q.min, q.max))
				return
			}
			*q.dst = n
		}
	}
	f.Offset, f.Limit = start-1, count
	users, total, err := s.store.ListUsers(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if count == 0 {
		users = nil
	}
	out := scimList{Schemas: []string{scimListSchema}, TotalResults: total, StartIndex: start, ItemsPerPage: len(users), Resources: []scimUser{}}
	for _, u := range users {
		out.Resources = append(out.Resources, s.renderSCIMUser(u))
	}
	body, _ := json.Marshal(out)
	c.Data(http.StatusOK, scimMediaType, body)
}

// applySCIMUser copies the fields of a SCIM user onto u and checks them.
func (s *server) applySCIMUser(c *gin.Context, in scimUser, u *domain.User) error {
	if len(in.Schemas) > 0 && !contains(in.Schemas, scimUserSchema) {
		return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "schemas must include %s", scimUserSchema)
	}
	email, err := domain.NormalizeEmail("userName", in.UserName)
	if err != nil {
		return err
	}
	for _, e := range in.Emails {
		if e.Primary && !strings.EqualFold(strings.TrimSpace(e.Value), email) {
			return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "the primary email must equal userName")
		}
	}
	u.UserName, u.ExternalID, u.DisplayName, u.Locale, u.Timezone = email, in.ExternalID, in.DisplayName, in.Locale, in.Timezone
	u.GivenName, u.FamilyName = "", ""
	if in.Name != nil {
		u.GivenName, u.FamilyName = in.Name.GivenName, in.Name.FamilyName
	}
	if in.Active != nil {
		u.Active = *in.Active
	}
	return s.checkUser(c, *u)
}

// checkUser validates a managed user: fields, and its email on one of the
// organization's verified domains (25017).
func (s *server) checkUser(c *gin.Context, u domain.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	ok, err := s.store.IsVerifiedDomain(c.Request.Context(), u.OrganizationSid, domain.EmailDomain(u.UserName))
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.EInvalid, domain.CodeDomainNotVerified, "%s is not a verified domain of this organization", domain.EmailDomain(u.UserName))
	}
	return nil
}

func (s *server) createSCIMUser(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	var in scimUser
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	if in.ID != "" || in.Meta != nil {
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "id and meta are set by the service"))
		return
	}
	u := domain.User{Sid: s.newSID(c, domain.PrefixUser), OrganizationSid: p.OrganizationSid, Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
	if err := s.applySCIMUser(c, in, &u); err != nil {
		_ = c.Error(err)
		return
	}
	err := s.store.CreateUser(c.Request.Context(), u, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserCreated, u.Sid,
		map[string]any{"userName": u.UserName, "externalId": u.ExternalID}))
	if err != nil {
		_ = c.Error(err)
		return
	}
	u, err = s.store.FindUser(c.Request.Context(), p.OrganizationSid, u.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Location", s.baseURL+"/Organizations/"+u.OrganizationSid+"/scim/Users/"+u.Sid)
	s.scimJSON(c, http.StatusCreated, u)
}

// scimTarget loads the user in the path for an organization admin.
func (s *server) scimTarget(c *gin.Context) (domain.User, error) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.User{}, err
	}
	sid, err := sidParam(c, "user", domain.PrefixUser)
	if err != nil {
		return domain.User{}, err
	}
	return s.store.FindUser(c.Request.Context(), p.OrganizationSid, sid)
}

func (s *server) getSCIMUser(c *gin.Context) {
	u, err := s.scimTarget(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, u)
}

// ifMatch reads If-Match: "*" or absent means any version (0).
func ifMatch(c *gin.Context) (int, error) {
	raw := strings.TrimSpace(c.GetHeader("If-Match"))
	if raw == "" || raw == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(raw, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, `If-Match must be an ETag such as W/"3"`)
	}
	return n, nil
}

func (s *server) saveSCIMUser(c *gin.Context, cur, next domain.User, expect int) {
	p := principal(c)
	if cur.OrgRole == domain.OrgRoleOwner && (!next.Active || next.UserName != cur.UserName) {
		_ = c.Error(domain.Errorf(domain.EForbidden, domain.CodeOrgOwnerImmutable, "the organization owner cannot be deactivated or renamed through the API"))
		return
	}
	out, err := s.store.UpdateUser(c.Request.Context(), next, expect, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserUpdated, cur.Sid, userChanges(cur, next)))
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.scimJSON(c, http.StatusOK, out)
}

func userChanges(a, b domain.User) map[string]any {
	ch := map[string]any{}
	add := func(k string, x, y any) {
		if x != y {
			ch[k] = map[string]any{"from": x, "to": y}
		}
	}
	add("userName", a.UserName, b.UserName)
	add("externalId", a.ExternalID, b.ExternalID)
	add("displayName", a.DisplayName, b.DisplayName)
	add("name.givenName", a.GivenName, b.GivenName)
	add("name.familyName", a.FamilyName, b.FamilyName)
	add("active", a.Active, b.Active)
	add("locale", a.Locale, b.Locale)
	add("timezone", a.Timezone, b.Timezone)
	return ch
}

func (s *server) replaceSCIMUser(c *gin.Context) {
	cur, err := s.scimTarget(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	expect, err := ifMatch(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var in scimUser
	if err := decodeJSON(c, &in); err != nil {
		_ = c.Error(err)
		return
	}
	if in.ID != "" && in.ID != cur.Sid {
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "id does not match the path"))
		return
	}
	next := cur
	if in.Active == nil {
		t := true
		in.Active = &t
	}
	if err := s.applySCIMUser(c, in, &next); err != nil {
		_ = c.Error(err)
		return
	}
	s.saveSCIMUser(c, cur, next, expect)
}

type scimPatch struct {
	Schemas    []string `json:"schemas"`
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"Operations"`
}

func (s *server) patchSCIMUser(c *gin.Context) {
	cur, err := s.scimTarget(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	expect, err := ifMatch(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var patch scimPatch
	if err := decodeJSON(c, &patch); err != nil {
		_ = c.Error(err)
		return
	}
	if !contains(patch.Schemas, scimPatchSchema) || len(patch.Operations) == 0 {
		_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "a SCIM PatchOp with schemas [%s] and at least one operation is required", scimPatchSchema))
		return
	}
	next := cur
	for i, op := range patch.Operations {
		if err := applyPatchOp(&next, strings.ToLower(op.Op), op.Path, op.Value); err != nil {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Operations[%d]: %s", i, domain.ErrorMessage(err)))
			return
		}
	}
	if err := s.checkUser(c, next); err != nil {
		_ = c.Error(err)
		return
	}
	s.saveSCIMUser(c, cur, next, expect)
}

// applyPatchOp applies one SCIM patch operation to u.
func applyPatchOp(u *domain.User, op, path string, value json.RawMessage) error {
	switch op {
	case "add", "replace", "remove":
	default:
		return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "op must be add, replace or remove")
	}
	if path == "" {
		if op == "remove" {
			return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "remove needs a path")
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(value, &obj); err != nil {
			return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "value must be an object when no path is given")
		}
		for k, v := range obj {
			if k == "name" {
				var n map[string]json.RawMessage
				if err := json.Unmarshal(v, &n); err != nil {
					return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "name must be an object")
				}
				for nk, nv := range n {
					if err := setUserField(u, "name."+nk, nv); err != nil {
						return err
					}
				}
				continue
			}
			if err := setUserField(u, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	if op == "remove" {
		switch strings.ToLower(path) {
		case "externalid", "displayname", "name.givenname", "name.familyname", "locale", "timezone":
			return setUserField(u, path, json.RawMessage(`""`))
		}
		return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s cannot be removed", path)
	}
	return setUserField(u, path, value)
}

func setUserField(u *domain.User, path string, v json.RawMessage) error {
	str := func(dst *string) error {
		if err := json.Unmarshal(v, dst); err != nil {
			return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s must be a string", path)
		}
		return nil
	}
	switch strings.ToLower(path) {
	case "username":
		var s string
		if err := str(&s); err != nil {
			return err
		}
		email, err := domain.NormalizeEmail("userName", s)
		u.UserName = email
		return err
	case "externalid":
		return str(&u.ExternalID)
	case "displayname":
		return str(&u.DisplayName)
	case "name.givenname":
		return str(&u.GivenName)
	case "name.familyname":
		return str(&u.FamilyName)
	case "locale":
		return str(&u.Locale)
	case "timezone":
		return str(&u.Timezone)
	case "active":
		// Some identity providers send booleans as strings.
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			var s string
			if json.Unmarshal(v, &s) != nil || (s != "true" && s != "false" && s != "True" && s != "False") {
				return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "active must be a boolean")
			}
			b = strings.EqualFold(s, "true")
		}
		u.Active = b
		return nil
	}
	return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "unsupported path %q", path)
}

func (s *server) deleteSCIMUser(c *gin.Context) {
	u, err := s.scimTarget(c)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	if err := s.store.DeleteUser(c.Request.Context(), p.OrganizationSid, u.Sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserDeleted, u.Sid, map[string]any{"userName": u.UserName})); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
