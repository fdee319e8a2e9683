package domain

import (
	"strings"
	"testing"
)

func TestCheckTwoFactor(t *testing.T) {
	strict, lax := Account{Require2FA: true}, Account{}
	strictOrg := Organization{Require2FA: true}
	enrolled := User{Sid: "US1", TwoFactorEnrolled: true}
	for _, tt := range []struct {
		name    string
		org     Organization
		a       Account
		invitee User
		refused bool
	}{
		{"NoUserYet", Organization{}, strict, User{}, true},
		{"NotEnrolled", Organization{}, strict, User{Sid: "US1"}, true},
		{"Enrolled", Organization{}, strict, enrolled, false},
		{"NotRequired", Organization{}, lax, User{}, false},
		{"RequiredByTheOrganization", strictOrg, lax, User{Sid: "US1"}, true},
		{"EnrolledForTheOrganization", strictOrg, lax, enrolled, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTwoFactor(tt.org, tt.a, tt.invitee)
			if (err != nil) != tt.refused || (err != nil && ErrorCode(err) != CodeInvalidState) {
				t.Errorf("CheckTwoFactor(%+v, %+v, %+v) = %v", tt.org, tt.a, tt.invitee, err)
			}
		})
	}
}

func TestPrincipalCheckTwoFactor(t *testing.T) {
	strict := Account{Sid: "AC1", Require2FA: true}
	bare, enrolled := User{Sid: "US1"}, User{Sid: "US1", TwoFactorEnrolled: true}
	for _, tt := range []struct {
		name   string
		via    Via
		org    Organization
		acct   Account
		person User
		want   int
	}{
		{"SessionNotEnrolled", ViaSession, Organization{}, strict, bare, CodeTwoFactorRequired},
		{"PersonalKeyNotEnrolled", ViaPersonalKey, Organization{}, strict, bare, CodeTwoFactorRequired},
		{"OrganizationWide", ViaSession, Organization{Require2FA: true}, Account{Sid: "AC1"}, bare, CodeTwoFactorRequired},
		{"SessionEnrolled", ViaSession, Organization{}, strict, enrolled, 0},
		{"NotRequired", ViaSession, Organization{}, Account{Sid: "AC1"}, bare, 0},
		{"OrgCredentialIsNotAPerson", ViaOrgCredential, Organization{Require2FA: true}, strict, bare, 0},
		{"AccountCredentialIsNotAPerson", ViaAccountCredential, Organization{}, strict, bare, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Principal{Via: tt.via}.CheckTwoFactor(tt.org, tt.acct, tt.person)
			got := 0
			if err != nil {
				got = ErrorCode(err)
				if ErrorKind(err) != EForbidden {
					t.Errorf("kind = %s, want %s", ErrorKind(err), EForbidden)
				}
			}
			if got != tt.want {
				t.Errorf("CheckTwoFactor = %v, want code %d", err, tt.want)
			}
		})
	}
}

func TestRecoveryCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := NewRecoveryCode()
		if len(c) != 11 || c[5] != '-' {
			t.Fatalf("NewRecoveryCode() = %q, want xxxxx-xxxxx", c)
		}
		if seen[c] {
			t.Fatalf("NewRecoveryCode() repeated %q", c)
		}
		seen[c] = true
		for _, typed := range []string{c, strings.ToUpper(c), " " + strings.ReplaceAll(c, "-", "") + " ", c[:5] + " - " + c[6:]} {
			if got, ok := NormalizeRecoveryCode(typed); !ok || got != c {
				t.Fatalf("NormalizeRecoveryCode(%q) = %q, %v; want %q", typed, got, ok, c)
			}
		}
	}
	for _, bad := range []string{"", "abcde-fghij-k", "abcde-fgh1j", "abcde_fghjk", "123456"} {
		if got, ok := NormalizeRecoveryCode(bad); ok {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want refused", bad, got)
		}
	}
}

func TestNormalizeTOTPCode(t *testing.T) {
	spaced := " 123 456 "
	for in, want := range map[string]string{"123456": "123456", spaced: "123456"} {
		if got, ok := NormalizeTOTPCode(in); !ok || got != want {
			t.Errorf("NormalizeTOTPCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", "１２３４５６"} {
		if _, ok := NormalizeTOTPCode(bad); ok {
			t.Errorf("NormalizeTOTPCode(%q) accepted", bad)
		}
	}
}
