package lifecycle

import (
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// SCIM schemas the directory accepts.
const (
	SCIMUserSchema  = "urn:ietf:params:scim:schemas:core:2.0:User"
	SCIMPatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	// SCIMMaxPageCount is the most users one list answers.
	SCIMMaxPageCount = 100
)

// directoryStore is what the directory reads and writes.
type directoryStore interface {
	IsVerifiedDomain(ctx context.Context, orgSid, domain string) (bool, error)
	CreateUser(ctx context.Context, u domain.User, ev domain.AuditEvent) error
	FindUser(ctx context.Context, orgSid, sid string) (domain.User, error)
	ListUsers(ctx context.Context, f domain.UserFilter) ([]domain.User, int, error)
	UpdateUser(ctx context.Context, u domain.User, expectVersion int, ev domain.AuditEvent) (domain.User, error)
	DeleteUser(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error
}

// Directory is the organization's managed users as SCIM provisions them,
// for the organization's Owner and Administrators.
type Directory struct {
	store directoryStore
	clock domain.Clock
	// passwords, when set, emails each new user a link to set a password.
	passwords *SignIn
	log       *slog.Logger
}

// UserQuery is a SCIM list request, its parameters as the client gave
// them (empty when absent).
type UserQuery struct {
	// Filter is `userName eq "…"` or `externalId eq "…"`.
	Filter string
	// StartIndex is 1-based; Count is at most SCIMMaxPageCount, and 0
	// asks only for the total.
	StartIndex, Count string
}

// UserList is one page of users and how many match in all.
type UserList struct {
	Users        []domain.User
	TotalResults int
	StartIndex   int
}

var scimFilterPattern = regexp.MustCompile(`^\s*(?i:(userName|externalId))\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"\s*$`)

// Users lists the organization's users matching the query, oldest first.
func (s *Directory) Users(ctx context.Context, p domain.Principal, q UserQuery) (UserList, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return UserList{}, err
	}
	f := domain.UserFilter{OrganizationSid: p.OrganizationSid}
	if q.Filter != "" {
		m := scimFilterPattern.FindStringSubmatch(q.Filter)
		if m == nil {
			return UserList{}, domain.Errorf(domain.EInvalid, domain.CodeInvalidSCIMFilter, `unsupported filter: only userName eq "…" and externalId eq "…" are supported`)
		}
		val, err := strconv.Unquote(`"` + m[2] + `"`)
		if err != nil {
			return UserList{}, domain.Errorf(domain.EInvalid, domain.CodeInvalidSCIMFilter, "the filter value is not a valid string")
		}
		if strings.EqualFold(m[1], "userName") {
			f.UserName = strings.ToLower(val)
		} else {
			f.ExternalID = val
		}
	}
	start, count := 1, SCIMMaxPageCount
	for _, pr := range []struct {
		name, raw string
		dst       *int
		min, max  int
	}{{"startIndex", q.StartIndex, &start, 1, 1 << 30}, {"count", q.Count, &count, 0, SCIMMaxPageCount}} {
		if pr.raw == "" {
			continue
		}
		n, err := strconv.Atoi(pr.raw)
		if err != nil || n < pr.min || n > pr.max {
			return UserList{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s must be an integer from %d to %d", pr.name, pr.min, pr.max)
		}
		*pr.dst = n
	}
	f.Offset, f.Limit = start-1, count
	users, total, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return UserList{}, err
	}
	if count == 0 {
		users = nil
	}
	return UserList{Users: users, TotalResults: total, StartIndex: start}, nil
}

// UserEmail is one of the emails a SCIM user carries.
type UserEmail struct {
	Primary bool
	Value   string
}

// SCIMUser is a user as a SCIM client sends it (create and replace).
type SCIMUser struct {
	Schemas []string
	// ID and HasMeta are what the client sent of what the service sets.
	ID      string
	HasMeta bool

	UserName    string
	ExternalID  string
	DisplayName string
	// Name is nil when the client sent no name.
	Name     *UserName
	Emails   []UserEmail
	Active   *bool
	Locale   string
	Timezone string
}

// UserName is a user's name parts.
type UserName struct {
	GivenName, FamilyName string
}

// Create provisions a managed user of the organization, active and
// Standard, on one of its verified domains (25017); a taken userName or
// externalId answers 25022.
func (s *Directory) Create(ctx context.Context, p domain.Principal, in SCIMUser) (domain.User, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.User{}, err
	}
	// id and meta are readOnly: a client that sends them (Twilio's own
	// sends meta with zero times) has them ignored (RFC 7644 §3.3).
	u := domain.User{Sid: newSID(ctx, s.clock, domain.PrefixUser), OrganizationSid: p.OrganizationSid, Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
	if err := s.apply(ctx, in, &u); err != nil {
		return domain.User{}, err
	}
	if err := s.store.CreateUser(ctx, u, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserCreated, u.Sid,
		map[string]any{"userName": u.UserName, "externalId": u.ExternalID})); err != nil {
		return domain.User{}, err
	}
	// The new user can sign in to the console once they set a password.
	if s.passwords == nil {
		return s.store.FindUser(ctx, p.OrganizationSid, u.Sid)
	}
	if err := s.passwords.OfferPassword(ctx, u, domain.PasswordForProvisioned, "provisioned", p.Actor()); err != nil {
		s.log.ErrorContext(ctx, "password link not started", "user_sid", u.Sid, "request_id", p.RequestID, "error", err.Error())
	}
	return s.store.FindUser(ctx, p.OrganizationSid, u.Sid)
}

// User returns a user of the organization.
func (s *Directory) User(ctx context.Context, p domain.Principal, sid string) (domain.User, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.User{}, err
	}
	if err := domain.CheckSID("user", domain.PrefixUser, sid); err != nil {
		return domain.User{}, err
	}
	return s.store.FindUser(ctx, p.OrganizationSid, sid)
}

// ReplaceUser is a PUT of a user: its new fields, and the ETag the client
// holds (If-Match; empty or "*" for any version).
type ReplaceUser struct {
	Sid     string
	IfMatch string
	User    SCIMUser
}

// Replace sets every field of a user; an absent active means true. The
// version must still be the one in IfMatch (25020).
func (s *Directory) Replace(ctx context.Context, p domain.Principal, cmd ReplaceUser) (domain.User, error) {
	cur, expect, err := s.target(ctx, p, cmd.Sid, cmd.IfMatch)
	if err != nil {
		return domain.User{}, err
	}
	in := cmd.User
	if in.ID != "" && in.ID != cur.Sid {
		return domain.User{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "id does not match the path")
	}
	if in.Active == nil {
		t := true
		in.Active = &t
	}
	next := cur
	if err := s.apply(ctx, in, &next); err != nil {
		return domain.User{}, err
	}
	return s.save(ctx, p, cur, next, expect)
}

// PatchOp is one operation of a SCIM PatchOp.
type PatchOp struct {
	Op    string
	Path  string
	Value json.RawMessage
}

// PatchUser is a PATCH of a user: a SCIM PatchOp and the ETag the client
// holds.
type PatchUser struct {
	Sid        string
	IfMatch    string
	Schemas    []string
	Operations []PatchOp
}

// Patch applies add, replace and remove operations to a user's fields
// (userName, externalId, displayName, name.givenName, name.familyName,
// active, locale, timezone; only the optional ones may be removed).
func (s *Directory) Patch(ctx context.Context, p domain.Principal, cmd PatchUser) (domain.User, error) {
	cur, expect, err := s.target(ctx, p, cmd.Sid, cmd.IfMatch)
	if err != nil {
		return domain.User{}, err
	}
	if !slices.Contains(cmd.Schemas, SCIMPatchSchema) || len(cmd.Operations) == 0 {
		return domain.User{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "a SCIM PatchOp with schemas [%s] and at least one operation is required", SCIMPatchSchema)
	}
	next := cur
	for i, op := range cmd.Operations {
		if err := applyPatchOp(&next, strings.ToLower(op.Op), op.Path, op.Value); err != nil {
			return domain.User{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Operations[%d]: %s", i, domain.ErrorMessage(err))
		}
	}
	if err := s.check(ctx, next); err != nil {
		return domain.User{}, err
	}
	return s.save(ctx, p, cur, next, expect)
}

// Delete removes a user and its role assignments; the organization's
// owner (25016) and the owner of an account (25019) stay.
func (s *Directory) Delete(ctx context.Context, p domain.Principal, sid string) error {
	u, err := s.User(ctx, p, sid)
	if err != nil {
		return err
	}
	return s.store.DeleteUser(ctx, p.OrganizationSid, u.Sid,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserDeleted, u.Sid, map[string]any{"userName": u.UserName}))
}

// target loads the user a change is about and reads the version the
// client expects.
func (s *Directory) target(ctx context.Context, p domain.Principal, sid, ifMatch string) (domain.User, int, error) {
	cur, err := s.User(ctx, p, sid)
	if err != nil {
		return cur, 0, err
	}
	expect, err := domain.ParseIfMatch(ifMatch)
	return cur, expect, err
}

// apply copies the fields of a SCIM user onto u and checks them.
func (s *Directory) apply(ctx context.Context, in SCIMUser, u *domain.User) error {
	if len(in.Schemas) > 0 && !slices.Contains(in.Schemas, SCIMUserSchema) {
		return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "schemas must include %s", SCIMUserSchema)
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
	return s.check(ctx, *u)
}

// check validates a managed user: fields, and its email on one of the
// organization's verified domains (25017).
func (s *Directory) check(ctx context.Context, u domain.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	ok, err := s.store.IsVerifiedDomain(ctx, u.OrganizationSid, domain.EmailDomain(u.UserName))
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.EInvalid, domain.CodeDomainNotVerified, "%s is not a verified domain of this organization", domain.EmailDomain(u.UserName))
	}
	return nil
}

// save stores next over cur when its version is still expect; the
// organization owner is neither deactivated nor renamed (25016).
func (s *Directory) save(ctx context.Context, p domain.Principal, cur, next domain.User, expect int) (domain.User, error) {
	if cur.OrgRole == domain.OrgRoleOwner && (!next.Active || next.UserName != cur.UserName) {
		return domain.User{}, domain.Errorf(domain.EForbidden, domain.CodeOrgOwnerImmutable, "the organization owner cannot be deactivated or renamed through the API")
	}
	out, err := s.store.UpdateUser(ctx, next, expect,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventUserUpdated, cur.Sid, userChanges(cur, next)))
	if expect > 0 && domain.ErrorCode(err) == domain.CodeVersionConflict {
		// The client's If-Match no longer holds (RFC 7644 §3.14).
		return out, domain.Errorf(domain.EPreconditionFailed, domain.CodeVersionConflict, "If-Match W/\"%d\" is stale: the user changed since; fetch it again", expect)
	}
	return out, err
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
