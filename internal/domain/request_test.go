package domain

import (
	"strings"
	"testing"
)

func TestCheckImportAndShare(t *testing.T) {
	standalone := Account{Sid: "AC" + strings.Repeat("a", 32), Kind: AccountStandalone, Status: AccountActive}
	inOrg := standalone
	inOrg.OrganizationSid, inOrg.Kind = "OR"+strings.Repeat("b", 32), AccountManaged
	closing := standalone
	closing.Status = AccountPendingClosure
	outsider := User{UserName: "solo@outside.test", Active: true}
	managedElsewhere := User{UserName: "solo@acme.test", Active: true, Managed: true, OrganizationSid: "OR" + strings.Repeat("c", 32)}

	tests := []struct {
		name     string
		check    func(Account, User, bool) error
		a        Account
		owner    User
		verified bool
		want     int // 0: allowed
	}{
		{"ImportOK", CheckImport, standalone, outsider, true, 0},
		{"ImportErrDomainNotVerified", CheckImport, standalone, outsider, false, CodeDomainNotVerified},
		{"ImportErrInOrganization", CheckImport, inOrg, outsider, true, CodeInvalidState},
		{"ImportErrNotActive", CheckImport, closing, outsider, true, CodeInvalidState},
		{"ImportErrOwnerManagedElsewhere", CheckImport, standalone, managedElsewhere, true, CodeInvalidState},
		{"ShareOK", CheckShare, standalone, outsider, false, 0},
		{"ShareErrOwnerOnVerifiedDomain", CheckShare, standalone, outsider, true, CodeInvalidState},
		{"ShareErrOwnerManaged", CheckShare, standalone, managedElsewhere, false, CodeInvalidState},
		{"ShareErrInOrganization", CheckShare, inOrg, outsider, false, CodeInvalidState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.a, tt.owner, tt.verified)
			if got := ErrorCode(err); (tt.want == 0 && err != nil) || (tt.want != 0 && got != tt.want) {
				t.Fatalf("got %v (code %d), want code %d", err, got, tt.want)
			}
		})
	}
}

func TestNormalizeGrants(t *testing.T) {
	u1, u2 := "US"+strings.Repeat("1", 32), "US"+strings.Repeat("2", 32)
	got, err := NormalizeGrants([]Grant{{Identity: u1, Roles: []string{RoleDeveloper, RoleAdministrator}}, {Identity: u2, Roles: []string{RoleSupport}}})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Roles[0] != RoleAdministrator || len(got[0].Roles) != 1 {
		t.Fatalf("Administrator supersedes the rest: got %v", got[0].Roles)
	}
	for name, grants := range map[string][]Grant{
		"ErrDuplicateIdentity": {{Identity: u1, Roles: []string{RoleDeveloper}}, {Identity: u1, Roles: []string{RoleSupport}}},
		"ErrBadSID":            {{Identity: "nope", Roles: []string{RoleDeveloper}}},
		"ErrNoRoles":           {{Identity: u1}},
		"ErrOwnerRole":         {{Identity: u1, Roles: []string{RoleOwner}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NormalizeGrants(grants); ErrorKind(err) != EInvalid {
				t.Fatalf("got %v, want an invalid-input error", err)
			}
		})
	}
}
