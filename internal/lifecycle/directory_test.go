package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

const testOrg = "OR00000000000000000000000000000001"

// memUsers is the users of one organization, on the verified domain
// example.com.
type memUsers struct {
	users  map[string]domain.User
	events []domain.AuditEvent
}

func (m *memUsers) IsVerifiedDomain(_ context.Context, orgSid, d string) (bool, error) {
	return orgSid == testOrg && d == "example.com", nil
}

func (m *memUsers) CreateUser(_ context.Context, u domain.User, ev domain.AuditEvent) error {
	for _, o := range m.users {
		if o.UserName == u.UserName || o.Sid == u.Sid {
			return domain.Errorf(domain.EConflict, domain.CodeDuplicateUser, "taken")
		}
	}
	u.Version = 1
	m.users[u.Sid] = u
	m.events = append(m.events, ev)
	return nil
}

func (m *memUsers) FindUser(_ context.Context, orgSid, sid string) (domain.User, error) {
	u, ok := m.users[sid]
	if !ok || u.OrganizationSid != orgSid {
		return domain.User{}, domain.Errorf(domain.ENotFound, domain.CodeUserNotFound, "no such user")
	}
	return u, nil
}

func (m *memUsers) ListUsers(_ context.Context, f domain.UserFilter) ([]domain.User, int, error) {
	var out []domain.User
	for _, u := range m.users {
		if (f.UserName == "" || u.UserName == f.UserName) && (f.ExternalID == "" || u.ExternalID == f.ExternalID) {
			out = append(out, u)
		}
	}
	total := len(out)
	out = out[min(f.Offset, len(out)):]
	return out[:min(f.Limit, len(out))], total, nil
}

func (m *memUsers) UpdateUser(_ context.Context, u domain.User, expect int, ev domain.AuditEvent) (domain.User, error) {
	cur := m.users[u.Sid]
	if expect != 0 && cur.Version != expect {
		return domain.User{}, domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "stale")
	}
	u.Version = cur.Version + 1
	m.users[u.Sid] = u
	m.events = append(m.events, ev)
	return u, nil
}

func (m *memUsers) DeleteUser(_ context.Context, _, sid string, ev domain.AuditEvent) error {
	delete(m.users, sid)
	m.events = append(m.events, ev)
	return nil
}

var (
	admin    = domain.Principal{OrganizationSid: testOrg, UserSid: "US00000000000000000000000000000001", OrgRole: domain.OrgRoleAdministrator}
	standard = domain.Principal{OrganizationSid: testOrg, UserSid: "US00000000000000000000000000000002", OrgRole: domain.OrgRoleStandard}
)

func newDirectory() (*Directory, *memUsers) {
	m := &memUsers{users: map[string]domain.User{}}
	return &Directory{store: m, clock: domain.SystemClock{}}, m
}

func requireCode(t *testing.T, err error, code int) {
	t.Helper()
	if domain.ErrorCode(err) != code {
		t.Fatalf("error %v (code %d), want code %d", err, domain.ErrorCode(err), code)
	}
}

func TestDirectoryCreate(t *testing.T) {
	ctx := context.Background()
	d, m := newDirectory()

	_, err := d.Create(ctx, standard, SCIMUser{UserName: "ann@example.com"})
	requireCode(t, err, domain.CodeForbidden)
	_, err = d.Create(ctx, admin, SCIMUser{UserName: "ann@elsewhere.test"})
	requireCode(t, err, domain.CodeDomainNotVerified)
	_, err = d.Create(ctx, admin, SCIMUser{UserName: "ann@example.com", Emails: []UserEmail{{Primary: true, Value: "other@example.com"}}})
	requireCode(t, err, domain.CodeBadRequest)
	_, err = d.Create(ctx, admin, SCIMUser{Schemas: []string{"urn:other"}, UserName: "ann@example.com"})
	requireCode(t, err, domain.CodeBadRequest)
	if len(m.users) != 0 {
		t.Fatalf("refused creations stored %d users", len(m.users))
	}

	// id and meta are readOnly: sent anyway (as Twilio's client sends
	// meta), they are ignored, not refused (RFC 7644 §3.3).
	u, err := d.Create(ctx, admin, SCIMUser{UserName: "Ann@Example.com", Name: &UserName{GivenName: "Ann"}, ID: "US00000000000000000000000000000009", HasMeta: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Sid == "US00000000000000000000000000000009" {
		t.Fatal("the client's id was taken")
	}
	if u.UserName != "ann@example.com" || !u.Managed || !u.Active || u.OrgRole != domain.OrgRoleStandard || u.GivenName != "Ann" || u.Version != 1 {
		t.Fatalf("created %+v", u)
	}
	_, err = d.Create(ctx, admin, SCIMUser{UserName: "ann@example.com"})
	requireCode(t, err, domain.CodeDuplicateUser)
}

// TestDirectoryCreateSIDSeed: under an idempotency key's seed a retried
// creation mints the same SID, so it is refused as the same user rather
// than making a twin.
func TestDirectoryCreateSIDSeed(t *testing.T) {
	d, _ := newDirectory()
	hash := sha256.Sum256([]byte("org\nkey-1"))
	ctx := WithSIDSeed(context.Background(), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), hash[:])
	u, err := d.Create(ctx, admin, SCIMUser{UserName: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := newDirectory()
	again, err := d2.Create(ctx, admin, SCIMUser{UserName: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Sid != u.Sid {
		t.Fatalf("the same seed minted %s and %s", u.Sid, again.Sid)
	}
}

func TestDirectoryUsers(t *testing.T) {
	ctx := context.Background()
	d, _ := newDirectory()
	for _, n := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if _, err := d.Create(ctx, admin, SCIMUser{UserName: n, ExternalID: "ext-" + n[:1]}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := d.Users(ctx, standard, UserQuery{})
	requireCode(t, err, domain.CodeForbidden)
	for _, bad := range []string{`userName co "a"`, `displayName eq "a"`, `userName eq a`} {
		_, err = d.Users(ctx, admin, UserQuery{Filter: bad})
		requireCode(t, err, domain.CodeInvalidSCIMFilter)
	}
	for _, q := range []UserQuery{{Count: "101"}, {Count: "-1"}, {StartIndex: "0"}, {StartIndex: "x"}} {
		_, err = d.Users(ctx, admin, q)
		requireCode(t, err, domain.CodeBadRequest)
	}
	l, err := d.Users(ctx, admin, UserQuery{Filter: `USERNAME Eq "B@example.com"`})
	if err != nil || l.TotalResults != 1 || len(l.Users) != 1 || l.Users[0].UserName != "b@example.com" {
		t.Fatalf("userName filter: %+v, %v", l, err)
	}
	l, err = d.Users(ctx, admin, UserQuery{Filter: `externalId eq "ext-c"`})
	if err != nil || len(l.Users) != 1 || l.Users[0].UserName != "c@example.com" {
		t.Fatalf("externalId filter: %+v, %v", l, err)
	}
	l, err = d.Users(ctx, admin, UserQuery{Count: "0"})
	if err != nil || l.TotalResults != 3 || len(l.Users) != 0 || l.StartIndex != 1 {
		t.Fatalf("count=0: %+v, %v", l, err)
	}
	l, err = d.Users(ctx, admin, UserQuery{StartIndex: "3", Count: "5"})
	if err != nil || l.TotalResults != 3 || len(l.Users) != 1 || l.StartIndex != 3 {
		t.Fatalf("startIndex=3: %+v, %v", l, err)
	}
}

func TestDirectoryReplaceAndPatch(t *testing.T) {
	ctx := context.Background()
	d, m := newDirectory()
	u, err := d.Create(ctx, admin, SCIMUser{UserName: "ann@example.com", DisplayName: "Ann"})
	if err != nil {
		t.Fatal(err)
	}

	// The user is looked up before If-Match is read.
	_, err = d.Patch(ctx, admin, PatchUser{Sid: "US0000000000000000000000000000dead", IfMatch: "garbage"})
	requireCode(t, err, domain.CodeUserNotFound)
	// An If-Match that names no version fails as a precondition
	// (RFC 7644 §3.14): 412 on the wire.
	_, err = d.Patch(ctx, admin, PatchUser{Sid: u.Sid, IfMatch: "garbage"})
	requireCode(t, err, domain.CodeVersionConflict)
	if domain.ErrorKind(err) != domain.EPreconditionFailed {
		t.Fatalf("If-Match garbage: %v, want a failed precondition", err)
	}
	_, err = d.Replace(ctx, standard, ReplaceUser{Sid: u.Sid, User: SCIMUser{UserName: "ann@example.com"}})
	requireCode(t, err, domain.CodeForbidden)

	// An absent active means true on a replace; fields not given are
	// cleared.
	m.users[u.Sid] = func() domain.User { x := m.users[u.Sid]; x.Active = false; return x }()
	out, err := d.Replace(ctx, admin, ReplaceUser{Sid: u.Sid, IfMatch: `W/"1"`, User: SCIMUser{UserName: "ann@example.com", ExternalID: "e1"}})
	if err != nil || !out.Active || out.DisplayName != "" || out.ExternalID != "e1" || out.Version != 2 {
		t.Fatalf("replace: %+v, %v", out, err)
	}
	_, err = d.Replace(ctx, admin, ReplaceUser{Sid: u.Sid, IfMatch: `W/"1"`, User: SCIMUser{UserName: "ann@example.com"}})
	requireCode(t, err, domain.CodeVersionConflict)
	if domain.ErrorKind(err) != domain.EPreconditionFailed {
		t.Fatalf("stale If-Match: %v, want a failed precondition (412)", err)
	}
	_, err = d.Replace(ctx, admin, ReplaceUser{Sid: u.Sid, User: SCIMUser{ID: "US00000000000000000000000000000009", UserName: "ann@example.com"}})
	requireCode(t, err, domain.CodeBadRequest)

	patch := func(ops ...PatchOp) PatchUser {
		return PatchUser{Sid: u.Sid, Schemas: []string{SCIMPatchSchema}, Operations: ops}
	}
	_, err = d.Patch(ctx, admin, PatchUser{Sid: u.Sid, Operations: []PatchOp{{Op: "replace", Path: "displayName", Value: json.RawMessage(`"x"`)}}})
	requireCode(t, err, domain.CodeBadRequest)
	for _, bad := range []PatchOp{
		{Op: "remove", Path: "userName"},
		{Op: "remove", Path: "active"},
		{Op: "move", Path: "displayName", Value: json.RawMessage(`"x"`)},
		{Op: "replace", Path: "password", Value: json.RawMessage(`"x"`)},
		{Op: "replace", Path: "active", Value: json.RawMessage(`"maybe"`)},
	} {
		_, err = d.Patch(ctx, admin, patch(bad))
		requireCode(t, err, domain.CodeBadRequest)
	}
	_, err = d.Patch(ctx, admin, patch(PatchOp{Op: "replace", Path: "userName", Value: json.RawMessage(`"ann@elsewhere.test"`)}))
	requireCode(t, err, domain.CodeDomainNotVerified)

	out, err = d.Patch(ctx, admin, patch(
		PatchOp{Op: "Replace", Value: json.RawMessage(`{"active":"False","name":{"familyName":"Lee"}}`)},
		PatchOp{Op: "remove", Path: "externalId"},
	))
	if err != nil || out.Active || out.FamilyName != "Lee" || out.ExternalID != "" {
		t.Fatalf("patch: %+v, %v", out, err)
	}
	ev := m.events[len(m.events)-1]
	if ev.Type != domain.EventUserUpdated || ev.ResourceSid != u.Sid {
		t.Fatalf("event %+v", ev)
	}
}

func TestDirectoryOrganizationOwner(t *testing.T) {
	ctx := context.Background()
	d, m := newDirectory()
	owner := domain.User{Sid: "US00000000000000000000000000000003", OrganizationSid: testOrg, UserName: "boss@example.com",
		Managed: true, OrgRole: domain.OrgRoleOwner, Active: true, Version: 1}
	m.users[owner.Sid] = owner
	active := false
	_, err := d.Replace(ctx, admin, ReplaceUser{Sid: owner.Sid, User: SCIMUser{UserName: "boss@example.com", Active: &active}})
	requireCode(t, err, domain.CodeOrgOwnerImmutable)
	_, err = d.Patch(ctx, admin, PatchUser{Sid: owner.Sid, Schemas: []string{SCIMPatchSchema},
		Operations: []PatchOp{{Op: "replace", Path: "userName", Value: json.RawMessage(`"chief@example.com"`)}}})
	requireCode(t, err, domain.CodeOrgOwnerImmutable)
	out, err := d.Patch(ctx, admin, PatchUser{Sid: owner.Sid, Schemas: []string{SCIMPatchSchema},
		Operations: []PatchOp{{Op: "replace", Path: "displayName", Value: json.RawMessage(`"The Boss"`)}}})
	if err != nil || out.DisplayName != "The Boss" {
		t.Fatalf("owner display name: %+v, %v", out, err)
	}
}

func TestDirectoryDelete(t *testing.T) {
	ctx := context.Background()
	d, m := newDirectory()
	u, err := d.Create(ctx, admin, SCIMUser{UserName: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	requireCode(t, d.Delete(ctx, standard, u.Sid), domain.CodeForbidden)
	requireCode(t, d.Delete(ctx, admin, "USnope"), domain.CodeBadRequest)
	if err := d.Delete(ctx, admin, u.Sid); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.users[u.Sid]; ok {
		t.Fatal("the user is still there")
	}
	requireCode(t, d.Delete(ctx, admin, u.Sid), domain.CodeUserNotFound)
}
