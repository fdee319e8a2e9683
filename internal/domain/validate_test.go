package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	domainPart := "@example.com"
	cases := []struct {
		name  string
		in    string
		want  string
		valid bool
	}{
		{"plain address", "alice@example.com", "alice@example.com", true},
		{"lower-cased", "Alice.Smith@Example.COM", "alice.smith@example.com", true},
		{"surrounding white space trimmed", "  bob@example.org\t", "bob@example.org", true},
		{"plus addressing", "bob+tag@mail.example.org", "bob+tag@mail.example.org", true},
		{"shortest with a dotted domain", "a@b.c", "a@b.c", true},
		{"255 characters", strings.Repeat("a", 255-len(domainPart)) + domainPart, strings.Repeat("a", 255-len(domainPart)) + domainPart, true},
		{"256 characters", strings.Repeat("a", 256-len(domainPart)) + domainPart, "", false},
		{"display-name form", "Alice <alice@example.com>", "", false},
		{"angle brackets only", "<alice@example.com>", "", false},
		{"no dot in the domain", "alice@localhost", "", false},
		{"no at sign", "alice.example.com", "", false},
		{"nothing before the at sign", "@example.com", "", false},
		{"two addresses", "a@example.com, b@example.com", "", false},
		{"empty", "", "", false},
		{"white space only", "     ", "", false},
		{"too short", "a@", "", false},
		{"space inside", "al ice@example.com", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := domain.NormalizeEmail("userName", tc.in)
			if !tc.valid {
				require.Error(t, err, "accepted %q as %q", tc.in, got)
				assert.Equal(t, domain.CodeInvalidEmail, domain.ErrorCode(err))
				assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
				assert.Contains(t, domain.ErrorMessage(err), "userName")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEmailDomain(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "example.com", domain.EmailDomain("alice@example.com"))
	assert.Equal(t, "mail.example.org", domain.EmailDomain("bob+x@mail.example.org"))
}

func TestValidateFriendlyName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		valid bool
	}{
		{"ordinary name", "Production", true},
		{"with inner spaces and punctuation", "Acme – EU (prod) #2", true},
		{"non-ASCII letters", "Café Zürich", true},
		{"exactly 64 characters", strings.Repeat("n", 64), true},
		{"65 characters", strings.Repeat("n", 65), false},
		{"empty", "", false},
		{"white space only", "   ", false},
		{"leading space", " Production", false},
		{"trailing newline", "Production\n", false},
		{"tab inside", "Prod\tuction", false},
		{"NUL inside", "Prod\x00uction", false},
		{"DEL inside", "Prod\x7fuction", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.ValidateFriendlyName("friendly_name", tc.in)
			if tc.valid {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
			assert.Contains(t, domain.ErrorMessage(err), "friendly_name")
		})
	}
}

func TestAccountUpdate_Validate(t *testing.T) {
	t.Parallel()
	name := func(s string) *string { return &s }
	yes := true
	cases := []struct {
		name string
		u    domain.AccountUpdate
		want int
	}{
		{"nothing to update", domain.AccountUpdate{}, domain.CodeBadRequest},
		{"name only", domain.AccountUpdate{FriendlyName: name("Prod")}, 0},
		{"2FA only", domain.AccountUpdate{Require2FA: &yes}, 0},
		{"both", domain.AccountUpdate{FriendlyName: name("Prod"), Require2FA: &yes}, 0},
		{"invalid name", domain.AccountUpdate{FriendlyName: name(" "), Require2FA: &yes}, domain.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assertCode(t, tc.want, tc.u.Validate())
		})
	}
}

func TestUser_Validate(t *testing.T) {
	t.Parallel()
	valid := domain.User{UserName: "alice@example.com", OrgRole: domain.OrgRoleStandard}
	cases := []struct {
		name string
		edit func(*domain.User)
		want int
	}{
		{"valid user", func(*domain.User) {}, 0},
		{"external user without org role", func(u *domain.User) { u.OrgRole = domain.OrgRoleNone }, 0},
		{"bad userName", func(u *domain.User) { u.UserName = "alice" }, domain.CodeInvalidEmail},
		{"externalId too long", func(u *domain.User) { u.ExternalID = strings.Repeat("x", 256) }, domain.CodeBadRequest},
		{"displayName too long", func(u *domain.User) { u.DisplayName = strings.Repeat("x", 256) }, domain.CodeBadRequest},
		{"255-character givenName", func(u *domain.User) { u.GivenName = strings.Repeat("x", 255) }, 0},
		{"unknown org role", func(u *domain.User) { u.OrgRole = "root" }, domain.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := valid
			tc.edit(&u)
			assertCode(t, tc.want, u.Validate())
		})
	}
}

func TestUser_IsManagedBy(t *testing.T) {
	t.Parallel()
	u := domain.User{OrganizationSid: "OR1", Managed: true, Active: true}
	assert.True(t, u.IsManagedBy("OR1"))
	assert.False(t, u.IsManagedBy("OR2"))
	u.Active = false
	assert.False(t, u.IsManagedBy("OR1"))
}
