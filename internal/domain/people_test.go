package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestAccountUserFilter_Validate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		role string
		want int
	}{
		{"no role", "", 0},
		{"Owner", domain.RoleOwner, 0},
		{"Administrator", domain.RoleAdministrator, 0},
		{"Support", domain.RoleSupport, 0},
		{"unknown IX SID", "IX00000000000000000000000000000199", domain.CodeInvalidRole},
		{"role name instead of SID", "Administrator", domain.CodeInvalidRole},
		{"lower-cased prefix", "ix00000000000000000000000000000102", domain.CodeInvalidRole},
		{"SID of another kind", "US00000000000000000000000000000102", domain.CodeInvalidRole},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.AccountUserFilter{Role: tc.role}.Validate()
			assertCode(t, tc.want, err)
			if err != nil {
				assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
			}
		})
	}
}

func TestCheckRoleScope(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind, status string
		want         int
	}{
		{domain.AccountManaged, domain.AccountActive, 0},
		{domain.AccountManaged, domain.AccountSuspended, 0},
		{domain.AccountManaged, domain.AccountPendingClosure, 0},
		{domain.AccountManaged, domain.AccountClosed, domain.CodeRoleScopeNotManaged},
		{domain.AccountManaged, domain.AccountProvisioning, domain.CodeRoleScopeNotManaged},
		{domain.AccountIndependent, domain.AccountActive, domain.CodeRoleScopeNotManaged},
		{"", "", domain.CodeRoleScopeNotManaged},
	}
	for _, tc := range cases {
		t.Run(tc.kind+" "+tc.status, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckRoleScope(domain.Account{Sid: "AC00000000000000000000000000000001", Kind: tc.kind, Status: tc.status})
			assertCode(t, tc.want, err)
			if err != nil {
				assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
			}
		})
	}
}

func TestPrincipal_MayManageAdministrators(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		orgRole domain.OrgRole
		roles   []string
		want    bool
	}{
		{"org Owner without account roles", domain.OrgRoleOwner, nil, true},
		{"org Administrator without account roles", domain.OrgRoleAdministrator, nil, true},
		{"account Owner", domain.OrgRoleStandard, []string{domain.RoleOwner}, true},
		{"account Owner and Administrator", domain.OrgRoleStandard, []string{domain.RoleOwner, domain.RoleAdministrator}, true},
		{"account Administrator", domain.OrgRoleStandard, []string{domain.RoleAdministrator}, false},
		{"Developer", domain.OrgRoleStandard, []string{domain.RoleDeveloper}, false},
		{"no role", domain.OrgRoleStandard, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, domain.Principal{OrgRole: tc.orgRole}.MayManageAdministrators(tc.roles))
		})
	}
}

func TestCheckRoleChange(t *testing.T) {
	t.Parallel()
	admin := []string{domain.RoleAdministrator}
	dev := []string{domain.RoleDeveloper}
	cases := []struct {
		name       string
		held, want []string
		mayAdmins  bool
		code       int
		kind       string
	}{
		{"grant a lesser role to someone new", nil, dev, false, 0, ""},
		{"replace lesser roles", dev, []string{domain.RoleBillingManager, domain.RoleSupport}, false, 0, ""},
		{"remove lesser roles", dev, nil, false, 0, ""},
		{"keep an Administrator an Administrator", admin, admin, false, 0, ""},
		{"grant Administrator as account Administrator", dev, admin, false, domain.CodeForbidden, domain.EForbidden},
		{"grant Administrator to someone new as account Administrator", nil, admin, false, domain.CodeForbidden, domain.EForbidden},
		{"demote an Administrator as account Administrator", admin, dev, false, domain.CodeForbidden, domain.EForbidden},
		{"remove an Administrator as account Administrator", admin, nil, false, domain.CodeForbidden, domain.EForbidden},
		{"grant Administrator as Owner", dev, admin, true, 0, ""},
		{"demote an Administrator as Owner", admin, dev, true, 0, ""},
		{"remove an Administrator as Owner", admin, nil, true, 0, ""},
		{"change the Owner's roles", []string{domain.RoleOwner}, admin, true, domain.CodeInvalidState, domain.EConflict},
		{"remove the Owner", []string{domain.RoleOwner}, nil, true, domain.CodeInvalidState, domain.EConflict},
		{"remove an Owner who is Administrator too", []string{domain.RoleOwner, domain.RoleAdministrator}, nil, true, domain.CodeInvalidState, domain.EConflict},
		{"grant Owner", dev, []string{domain.RoleOwner}, true, domain.CodeInvalidRole, domain.EInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckRoleChange(tc.held, tc.want, tc.mayAdmins)
			assertCode(t, tc.code, err)
			if err != nil {
				assert.Equal(t, tc.kind, domain.ErrorKind(err))
			}
		})
	}
	t.Run("the Owner is told to transfer ownership", func(t *testing.T) {
		t.Parallel()
		assert.Contains(t, domain.ErrorMessage(domain.CheckRoleChange([]string{domain.RoleOwner}, nil, true)), "transfer ownership")
	})
}

func TestCheckOwnershipTransfer(t *testing.T) {
	t.Parallel()
	const org = "OR00000000000000000000000000000001"
	acct := domain.Account{Sid: "AC00000000000000000000000000000001", OrganizationSid: org, Kind: domain.AccountManaged, Status: domain.AccountActive}
	owner := domain.User{Sid: "US00000000000000000000000000000001", OrganizationSid: org, Managed: true, Active: true, OrgRole: domain.OrgRoleStandard}
	cases := []struct {
		name string
		edit func(a *domain.Account, u *domain.User)
		code int
		kind string
	}{
		{"active managed account to a managed user", func(*domain.Account, *domain.User) {}, 0, ""},
		{"independent account", func(a *domain.Account, _ *domain.User) { a.Kind = domain.AccountIndependent }, domain.CodeAccountNotManaged, domain.EInvalid},
		{"suspended account", func(a *domain.Account, _ *domain.User) { a.Status = domain.AccountSuspended }, domain.CodeInvalidState, domain.EConflict},
		{"account pending closure", func(a *domain.Account, _ *domain.User) { a.Status = domain.AccountPendingClosure }, domain.CodeInvalidState, domain.EConflict},
		{"closed account", func(a *domain.Account, _ *domain.User) { a.Status = domain.AccountClosed }, domain.CodeInvalidState, domain.EConflict},
		{"external user", func(_ *domain.Account, u *domain.User) { u.Managed, u.OrganizationSid = false, "" }, domain.CodeOwnerNotManaged, domain.EInvalid},
		{"managed user of another organization", func(_ *domain.Account, u *domain.User) { u.OrganizationSid = "OR00000000000000000000000000000002" }, domain.CodeOwnerNotManaged, domain.EInvalid},
		{"inactive managed user", func(_ *domain.Account, u *domain.User) { u.Active = false }, domain.CodeOwnerNotManaged, domain.EInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, u := acct, owner
			tc.edit(&a, &u)
			err := domain.CheckOwnershipTransfer(a, u)
			assertCode(t, tc.code, err)
			if err != nil {
				assert.Equal(t, tc.kind, domain.ErrorKind(err))
			}
		})
	}
}

func TestTransferredOwnership_Changed(t *testing.T) {
	t.Parallel()
	a := domain.User{Sid: "US00000000000000000000000000000001"}
	b := domain.User{Sid: "US00000000000000000000000000000002"}
	assert.True(t, domain.TransferredOwnership{FormerOwner: a, NewOwner: b}.Changed())
	assert.False(t, domain.TransferredOwnership{FormerOwner: a, NewOwner: a}.Changed())
}

func TestPrincipal_AuthorizeOwnershipTransfer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		orgRole domain.OrgRole
		roles   []string
		want    int
	}{
		{"org Owner", domain.OrgRoleOwner, nil, 0},
		{"org Administrator", domain.OrgRoleAdministrator, nil, 0},
		{"account Owner", domain.OrgRoleStandard, []string{domain.RoleOwner}, 0},
		{"account Administrator", domain.OrgRoleStandard, []string{domain.RoleAdministrator}, domain.CodeForbidden},
		{"Developer", domain.OrgRoleStandard, []string{domain.RoleDeveloper}, domain.CodeForbidden},
		{"no role", domain.OrgRoleStandard, nil, domain.CodeAccountNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertCode(t, tc.want, domain.Principal{OrgRole: tc.orgRole}.AuthorizeAccount(domain.ActionTransferOwnership, tc.roles))
		})
	}
}
