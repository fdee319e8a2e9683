package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestCheckDomainName(t *testing.T) {
	t.Parallel()
	label63 := strings.Repeat("a", 63)
	cases := []struct {
		name string
		in   string
		code int // 0: valid
	}{
		{"two labels", "example.com", 0},
		{"subdomain", "mail.corp.example.co.uk", 0},
		{"digits and hyphens", "a-1.example9.com", 0},
		{"IDNA form", "xn--bcher-kva.example", 0},
		{"63-character label", label63 + ".com", 0},
		{"253 characters", strings.Repeat(label63+".", 3) + strings.Repeat("a", 61), 0},
		{"empty", "", domain.CodeInvalidDomainName},
		{"one label", "localhost", domain.CodeInvalidDomainName},
		{"trailing dot", "example.com.", domain.CodeInvalidDomainName},
		{"leading dot", ".example.com", domain.CodeInvalidDomainName},
		{"empty label", "example..com", domain.CodeInvalidDomainName},
		{"uppercase", "Example.com", domain.CodeInvalidDomainName},
		{"unicode", "bücher.example", domain.CodeInvalidDomainName},
		{"bad IDNA", "xn--zz-.example", domain.CodeInvalidDomainName},
		{"undecodable IDNA", "xn--a.example", domain.CodeInvalidDomainName},
		{"reserved hyphens", "ab--cd.example", domain.CodeInvalidDomainName},
		{"leading hyphen", "-a.example.com", domain.CodeInvalidDomainName},
		{"trailing hyphen", "a-.example.com", domain.CodeInvalidDomainName},
		{"64-character label", label63 + "a.com", domain.CodeInvalidDomainName},
		{"254 characters", strings.Repeat(label63+".", 3) + strings.Repeat("a", 62), domain.CodeInvalidDomainName},
		{"underscore", "my_host.example.com", domain.CodeInvalidDomainName},
		{"space", "example .com", domain.CodeInvalidDomainName},
		{"IP address", "192.168.0.1", domain.CodeInvalidDomainName},
		{"email", "owner@example.com", domain.CodeInvalidDomainName},
		{"URL", "https://example.com", domain.CodeInvalidDomainName},
		{"gmail", "gmail.com", domain.CodePublicMailDomain},
		{"googlemail", "googlemail.com", domain.CodePublicMailDomain},
		{"under gmail", "corp.gmail.com", domain.CodePublicMailDomain},
		{"yahoo.com", "yahoo.com", domain.CodePublicMailDomain},
		{"yahoo.co.uk", "yahoo.co.uk", domain.CodePublicMailDomain},
		{"gmx.de", "gmx.de", domain.CodePublicMailDomain},
		{"yandex.com.tr", "yandex.com.tr", domain.CodePublicMailDomain},
		{"outlook", "outlook.com", domain.CodePublicMailDomain},
		{"hotmail.fr", "hotmail.fr", domain.CodePublicMailDomain},
		{"icloud", "icloud.com", domain.CodePublicMailDomain},
		{"proton.me", "proton.me", domain.CodePublicMailDomain},
		{"zoho", "zoho.com", domain.CodePublicMailDomain},
		{"mail.com", "mail.com", domain.CodePublicMailDomain},
		{"a company named yahoo under its own domain", "yahoo.acme-corp.example", 0},
		{"a company whose name ends like one", "notgmail.com", 0},
		{"a company under mail.com's name", "mymail.com", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := domain.CheckDomainName("domain_name", tc.in)
			if tc.code == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.code, domain.ErrorCode(err), "%v", err)
			assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
		})
	}
}

func TestVerifiedDomain_Record(t *testing.T) {
	t.Parallel()
	d := domain.VerifiedDomain{DomainName: "example.com", VerificationToken: "tok123"}
	assert.Equal(t, "_orgaccounts.example.com", d.RecordName())
	assert.Equal(t, "orgaccounts-domain-verification=tok123", d.RecordValue())
}

func TestVerifiedDomain_Apply(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	later := at.Add(720 * time.Hour)
	pending := domain.VerifiedDomain{DomainName: "example.com", Status: domain.DomainPending}
	verified := domain.VerifiedDomain{DomainName: "example.com", Status: domain.DomainVerified, DateVerified: &at}
	lapsed := verified
	lapsed.MissingSince, lapsed.RemoveAfter = &at, &later
	failed := domain.VerifiedDomain{DomainName: "example.com", Status: domain.DomainFailed}
	removed := lapsed
	removed.Status = domain.DomainRemoved

	cases := []struct {
		name    string
		from    domain.VerifiedDomain
		kind    string
		want    domain.VerifiedDomain
		changed bool
		code    int
	}{
		{"verify pending", pending, domain.DomainVerify, verified, true, 0},
		{"verify again", verified, domain.DomainVerify, verified, false, 0},
		{"verify failed", failed, domain.DomainVerify, failed, false, domain.CodeInvalidState},
		{"fail pending", pending, domain.DomainFail, failed, true, 0},
		{"fail again", failed, domain.DomainFail, failed, false, 0},
		{"fail verified", verified, domain.DomainFail, verified, false, domain.CodeInvalidState},
		{"lapse verified", verified, domain.DomainLapse, lapsed, true, 0},
		{"lapse again keeps the first dates", lapsed, domain.DomainLapse, lapsed, false, 0},
		{"lapse pending", pending, domain.DomainLapse, pending, false, domain.CodeInvalidState},
		{"restore lapsed", lapsed, domain.DomainRestore, verified, true, 0},
		{"restore again", verified, domain.DomainRestore, verified, false, 0},
		{"restore removed", removed, domain.DomainRestore, removed, false, domain.CodeInvalidState},
		{"remove lapsed", lapsed, domain.DomainRemove, removed, true, 0},
		{"remove again", removed, domain.DomainRemove, removed, false, 0},
		{"remove a verified domain whose record is there", verified, domain.DomainRemove, verified, false, domain.CodeInvalidState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := domain.DomainTransition{Kind: tc.kind, At: at, RemoveAfter: later}
			if tc.kind == domain.DomainLapse && tc.from.MissingSince != nil {
				tr.At, tr.RemoveAfter = later, later.Add(time.Hour)
			}
			got, changed, err := tc.from.Apply(tr)
			if tc.code != 0 {
				require.Error(t, err)
				assert.Equal(t, tc.code, domain.ErrorCode(err))
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.changed, changed)
			assert.Equal(t, tc.want, got)
		})
	}
}
