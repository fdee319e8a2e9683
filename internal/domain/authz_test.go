package domain_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// assertCode checks err against an expected Twilio code; 0 means no error.
func assertCode(t *testing.T, want int, err error) {
	t.Helper()
	if want == 0 {
		assert.NoError(t, err)
		return
	}
	if assert.Error(t, err) {
		assert.Equal(t, want, domain.ErrorCode(err), "error: %v", err)
	}
}

func TestCheckGrantableRole(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		role string
		want int
	}{
		{"Administrator", domain.RoleAdministrator, 0},
		{"Developer", domain.RoleDeveloper, 0},
		{"Billing Manager", domain.RoleBillingManager, 0},
		{"Support", domain.RoleSupport, 0},
		{"Owner is refused", domain.RoleOwner, domain.CodeInvalidRole},
		{"unknown IX SID", "IX00000000000000000000000000000199", domain.CodeInvalidRole},
		{"SID of another kind", "US00000000000000000000000000000102", domain.CodeInvalidRole},
		{"role name instead of SID", "Administrator", domain.CodeInvalidRole},
		{"empty", "", domain.CodeInvalidRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckGrantableRole(tc.role)
			assertCode(t, tc.want, err)
			if err != nil {
				assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
			}
		})
	}
}

func TestCheckGrantableRole_OwnerMessageSaysToTransferOwnership(t *testing.T) {
	t.Parallel()
	err := domain.CheckGrantableRole(domain.RoleOwner)
	require.Error(t, err)
	assert.Contains(t, domain.ErrorMessage(err), "transfer ownership")
}

func TestCheckGrant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		role string
		held []string
		want int
	}{
		{"first role on the account", domain.RoleDeveloper, nil, 0},
		{"second, different lesser role", domain.RoleSupport, []string{domain.RoleDeveloper}, 0},
		{"duplicate role", domain.RoleDeveloper, []string{domain.RoleDeveloper}, domain.CodeInvalidState},
		{"duplicate among several", domain.RoleSupport, []string{domain.RoleDeveloper, domain.RoleSupport}, domain.CodeInvalidState},
		{"duplicate Administrator", domain.RoleAdministrator, []string{domain.RoleAdministrator}, domain.CodeInvalidState},
		{"Developer next to Administrator", domain.RoleDeveloper, []string{domain.RoleAdministrator}, domain.CodeInvalidState},
		{"Billing Manager next to Administrator", domain.RoleBillingManager, []string{domain.RoleAdministrator}, domain.CodeInvalidState},
		{"Support next to Owner", domain.RoleSupport, []string{domain.RoleOwner}, domain.CodeInvalidState},
		{"Administrator over Developer", domain.RoleAdministrator, []string{domain.RoleDeveloper}, 0},
		{"Administrator next to Owner", domain.RoleAdministrator, []string{domain.RoleOwner}, 0},
		{"Administrator over several lesser roles", domain.RoleAdministrator, []string{domain.RoleDeveloper, domain.RoleSupport, domain.RoleBillingManager}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckGrant(tc.role, tc.held)
			assertCode(t, tc.want, err)
			if err != nil {
				assert.Equal(t, domain.EConflict, domain.ErrorKind(err))
			}
		})
	}
}

func TestPrincipal_AuthorizeAccount(t *testing.T) {
	t.Parallel()
	actions := map[domain.AccountAction]string{
		domain.ActionReadAccount:    "read",
		domain.ActionUpdateSettings: "update settings",
		domain.ActionManageUsers:    "manage users",
		domain.ActionCloseAccount:   "close",
	}
	// want maps an action to the expected code (0: allowed).
	allowAll := map[domain.AccountAction]int{}
	readOnly := map[domain.AccountAction]int{
		domain.ActionUpdateSettings: domain.CodeForbidden,
		domain.ActionManageUsers:    domain.CodeForbidden,
		domain.ActionCloseAccount:   domain.CodeForbidden,
	}
	notFound := map[domain.AccountAction]int{
		domain.ActionReadAccount:    domain.CodeAccountNotFound,
		domain.ActionUpdateSettings: domain.CodeAccountNotFound,
		domain.ActionManageUsers:    domain.CodeAccountNotFound,
		domain.ActionCloseAccount:   domain.CodeAccountNotFound,
	}
	cases := []struct {
		name    string
		orgRole domain.OrgRole
		roles   []string
		want    map[domain.AccountAction]int
	}{
		{"org Owner without account roles", domain.OrgRoleOwner, nil, allowAll},
		{"org Administrator without account roles", domain.OrgRoleAdministrator, nil, allowAll},
		{"org Administrator holding only Support", domain.OrgRoleAdministrator, []string{domain.RoleSupport}, allowAll},
		{"Standard user without roles", domain.OrgRoleStandard, nil, notFound},
		{"Standard user with an empty role list", domain.OrgRoleStandard, []string{}, notFound},
		{"external user without roles", domain.OrgRoleNone, nil, notFound},
		{"Standard account Owner", domain.OrgRoleStandard, []string{domain.RoleOwner}, allowAll},
		{"Standard account Administrator", domain.OrgRoleStandard, []string{domain.RoleAdministrator},
			map[domain.AccountAction]int{domain.ActionCloseAccount: domain.CodeForbidden}},
		{"Standard Developer", domain.OrgRoleStandard, []string{domain.RoleDeveloper}, readOnly},
		{"Standard Billing Manager", domain.OrgRoleStandard, []string{domain.RoleBillingManager}, readOnly},
		{"Standard Support", domain.OrgRoleStandard, []string{domain.RoleSupport}, readOnly},
		{"external Developer", domain.OrgRoleNone, []string{domain.RoleDeveloper}, readOnly},
		{"Standard Developer and Administrator", domain.OrgRoleStandard, []string{domain.RoleDeveloper, domain.RoleAdministrator},
			map[domain.AccountAction]int{domain.ActionCloseAccount: domain.CodeForbidden}},
		{"Standard user with an unknown role", domain.OrgRoleStandard, []string{"IX00000000000000000000000000000199"},
			map[domain.AccountAction]int{
				domain.ActionReadAccount: domain.CodeForbidden, domain.ActionUpdateSettings: domain.CodeForbidden,
				domain.ActionManageUsers: domain.CodeForbidden, domain.ActionCloseAccount: domain.CodeForbidden,
			}},
	}
	for _, tc := range cases {
		for action, actionName := range actions {
			t.Run(fmt.Sprintf("%s may %s", tc.name, actionName), func(t *testing.T) {
				t.Parallel()
				p := domain.Principal{OrganizationSid: "OR00000000000000000000000000000001", UserSid: "US00000000000000000000000000000001", OrgRole: tc.orgRole}
				err := p.AuthorizeAccount(action, tc.roles)
				want := tc.want[action]
				assertCode(t, want, err)
				switch want {
				case domain.CodeAccountNotFound:
					assert.Equal(t, domain.ENotFound, domain.ErrorKind(err), "no role must look like a missing account")
				case domain.CodeForbidden:
					assert.Equal(t, domain.EForbidden, domain.ErrorKind(err))
				}
			})
		}
	}
}

func TestPrincipal_CheckOrganization(t *testing.T) {
	t.Parallel()
	p := domain.Principal{OrganizationSid: "OR00000000000000000000000000000001", OrgRole: domain.OrgRoleOwner}
	assert.NoError(t, p.CheckOrganization("OR00000000000000000000000000000001"))

	err := p.CheckOrganization("OR00000000000000000000000000000002")
	assertCode(t, domain.CodeWrongOrganization, err)
	assert.Equal(t, domain.EForbidden, domain.ErrorKind(err))
	assert.NotContains(t, domain.ErrorMessage(err), "OR00000000000000000000000000000002",
		"the message must not confirm anything about the other organization")
}

func TestPrincipal_RequireOrgAdminAndCanCreateAccounts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		role        domain.OrgRole
		wantAdmin   int
		wantCreate  int
		wantIsAdmin bool
	}{
		{domain.OrgRoleOwner, 0, 0, true},
		{domain.OrgRoleAdministrator, 0, 0, true},
		{domain.OrgRoleStandard, domain.CodeForbidden, 0, false},
		{domain.OrgRoleNone, domain.CodeForbidden, domain.CodeForbidden, false},
		{domain.OrgRole("superuser"), domain.CodeForbidden, domain.CodeForbidden, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("org role %q", tc.role), func(t *testing.T) {
			t.Parallel()
			p := domain.Principal{OrgRole: tc.role}
			assert.Equal(t, tc.wantIsAdmin, p.IsOrgAdmin())
			assertCode(t, tc.wantAdmin, p.RequireOrgAdmin())
			assertCode(t, tc.wantCreate, p.CanCreateAccounts())
		})
	}
}

func TestPrincipal_ActorCarriesTheCaller(t *testing.T) {
	t.Parallel()
	p := domain.Principal{OrganizationSid: "OR1", UserSid: "US1", CredentialSid: "SK1", SourceIP: "192.0.2.1", RequestID: "RQ1"}
	assert.Equal(t, domain.Actor{UserSid: "US1", CredentialSid: "SK1", SourceIP: "192.0.2.1", RequestID: "RQ1"}, p.Actor())

	ev := domain.NewAuditEvent(p.Actor(), "OR1", domain.EventAccountUpdated, "AC1", map[string]any{"k": 1})
	assert.Equal(t, domain.AuditEvent{
		OrganizationSid: "OR1", Actor: "US1", CredentialSid: "SK1", Type: domain.EventAccountUpdated,
		ResourceSid: "AC1", Changes: map[string]any{"k": 1}, SourceIP: "192.0.2.1", RequestID: "RQ1",
	}, ev)
}

func TestCheckManagedOwner(t *testing.T) {
	t.Parallel()
	const org = "OR00000000000000000000000000000001"
	managed := domain.User{Sid: "US00000000000000000000000000000001", OrganizationSid: org, Managed: true, Active: true, OrgRole: domain.OrgRoleStandard}
	cases := []struct {
		name string
		edit func(u *domain.User)
		want int
	}{
		{"active managed user of the organization", func(*domain.User) {}, 0},
		{"external user", func(u *domain.User) { u.Managed, u.OrganizationSid, u.OrgRole = false, "", domain.OrgRoleNone }, domain.CodeOwnerNotManaged},
		{"managed user of another organization", func(u *domain.User) { u.OrganizationSid = "OR00000000000000000000000000000002" }, domain.CodeOwnerNotManaged},
		{"inactive managed user", func(u *domain.User) { u.Active = false }, domain.CodeOwnerNotManaged},
		{"unmanaged user that claims the organization", func(u *domain.User) { u.Managed = false }, domain.CodeOwnerNotManaged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := managed
			tc.edit(&u)
			err := domain.CheckManagedOwner(org, u)
			assertCode(t, tc.want, err)
			if err != nil {
				assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
			}
		})
	}
}

func TestRoleAssignmentFilter_Validate(t *testing.T) {
	t.Parallel()
	const us = "US00000000000000000000000000000001"
	const ac = "AC00000000000000000000000000000001"
	cases := []struct {
		name string
		f    domain.RoleAssignmentFilter
		want int
	}{
		{"identity only", domain.RoleAssignmentFilter{Identity: us}, 0},
		{"scope only", domain.RoleAssignmentFilter{Scope: ac}, 0},
		{"both", domain.RoleAssignmentFilter{Identity: us, Scope: ac}, 0},
		{"neither", domain.RoleAssignmentFilter{}, domain.CodeRoleFilterRequired},
		{"identity of the wrong kind", domain.RoleAssignmentFilter{Identity: ac}, domain.CodeBadRequest},
		{"scope of the wrong kind", domain.RoleAssignmentFilter{Scope: us}, domain.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertCode(t, tc.want, tc.f.Validate())
		})
	}
}
