package domain_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestValidateIssuer(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{
		"https://login.example.com", "https://login.example.com/", "https://idp.example.com/tenant/v2.0",
		"http://127.0.0.1:5556", "http://localhost:9000/dex", "http://[::1]:8080",
	} {
		assert.NoError(t, domain.ValidateIssuer("issuer", ok), ok)
	}
	for _, bad := range []string{
		"", "login.example.com", "http://login.example.com", "ftp://login.example.com", "https://",
		"https://user:pw@login.example.com", "https://login.example.com/?x=1", "https://login.example.com/#f",
		"https://login.example.com/?", "http://10.0.0.1", "mailto:a@example.com",
	} {
		err := domain.ValidateIssuer("issuer", bad)
		assert.Equal(t, domain.CodeInvalidSSOSettings, domain.ErrorCode(err), "%q: %v", bad, err)
		assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
	}
}

func TestSSOSettingsValidate(t *testing.T) {
	t.Parallel()
	good := domain.SSOSettings{Issuer: "https://login.example.com", ClientID: "orgaccounts", ClientSecret: "s3cret"}
	assert.NoError(t, good.Validate(false))
	noSecret := good
	noSecret.ClientSecret = ""
	assert.Equal(t, domain.CodeInvalidSSOSettings, domain.ErrorCode(noSecret.Validate(false)), "a first secret is required")
	assert.NoError(t, noSecret.Validate(true), "the stored secret stays")
	for name, edit := range map[string]func(*domain.SSOSettings){
		"no client id":     func(s *domain.SSOSettings) { s.ClientID = "" },
		"long client id":   func(s *domain.SSOSettings) { s.ClientID = string(make([]byte, 256)) },
		"control in id":    func(s *domain.SSOSettings) { s.ClientID = "a\nb" },
		"space in secret":  func(s *domain.SSOSettings) { s.ClientSecret = "a b" },
		"long secret":      func(s *domain.SSOSettings) { s.ClientSecret = domain.Secret(fmt.Sprintf("%01025d", 0)) },
		"issuer not https": func(s *domain.SSOSettings) { s.Issuer = "http://login.example.com" },
	} {
		s := good
		edit(&s)
		assert.Equal(t, domain.CodeInvalidSSOSettings, domain.ErrorCode(s.Validate(true)), name)
	}
}

func TestSecretHidesItself(t *testing.T) {
	t.Parallel()
	p := domain.SSOProvider{Issuer: "https://login.example.com", ClientSecret: "do-not-show-me"}
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s", p, p, p, p.ClientSecret)} {
		assert.NotContains(t, s, "do-not-show-me")
	}
	b, err := json.Marshal(p)
	assert.NoError(t, err)
	assert.NotContains(t, string(b), "do-not-show-me")
	assert.Equal(t, "do-not-show-me", p.ClientSecret.Reveal())
}

func TestCheckPasswordSignIn(t *testing.T) {
	t.Parallel()
	org := "OR00000000000000000000000000000001"
	managed := domain.User{Sid: "US1", OrganizationSid: org, Managed: true, Active: true}
	outsider := domain.User{Sid: "US2", Active: true}
	otherOrg := domain.User{Sid: "US3", OrganizationSid: "OR00000000000000000000000000000002", Managed: true, Active: true}
	offered := domain.SSOProvider{OrganizationSid: org}
	required := domain.SSOProvider{OrganizationSid: org, Required: true}

	assert.NoError(t, offered.CheckPasswordSignIn(managed))
	err := required.CheckPasswordSignIn(managed)
	assert.Equal(t, domain.CodeSSORequired, domain.ErrorCode(err))
	assert.Equal(t, domain.EForbidden, domain.ErrorKind(err))
	assert.NoError(t, required.CheckPasswordSignIn(outsider))
	assert.NoError(t, required.CheckPasswordSignIn(otherOrg))
}

func TestSSOFlowCheckState(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f := domain.SSOFlow{State: "abc", ExpiresAt: now.Add(time.Minute)}
	assert.Empty(t, f.CheckState("abc", now))
	assert.Equal(t, domain.SSOReasonState, f.CheckState("abd", now))
	assert.Equal(t, domain.SSOReasonState, f.CheckState("", now))
	assert.Equal(t, domain.SSOReasonState, domain.SSOFlow{}.CheckState("", now), "a flow without state completes nothing")
	assert.Equal(t, domain.SSOReasonExpired, f.CheckState("abc", now.Add(time.Minute)))
}

func TestSSOUser(t *testing.T) {
	t.Parallel()
	org := "OR00000000000000000000000000000001"
	u := domain.User{Sid: "US1", OrganizationSid: org, Managed: true, Active: true}
	id := domain.SSOIdentity{Email: "a@acme.example.com", EmailVerified: true}
	assert.Empty(t, domain.SSOUser(org, id, true, u, true))

	inactive := u
	inactive.Active = false
	outside := domain.User{Sid: "US2", Active: true}
	unverified := id
	unverified.EmailVerified = false
	for _, tc := range []struct {
		name   string
		id     domain.SSOIdentity
		dom    bool
		u      domain.User
		found  bool
		reason string
		code   int
	}{
		{"email not verified", unverified, true, u, true, domain.SSOReasonEmailNotVerified, domain.CodeSSORefused},
		{"domain not verified", id, false, u, true, domain.SSOReasonDomainNotVerified, domain.CodeSSORefused},
		{"no user", id, true, domain.User{}, false, domain.SSOReasonUnknownUser, domain.CodeSSORefused},
		{"an outside user", id, true, outside, true, domain.SSOReasonUnknownUser, domain.CodeSSORefused},
		{"inactive", id, true, inactive, true, domain.SSOReasonInactiveUser, domain.CodeSSORefused},
	} {
		got := domain.SSOUser(org, tc.id, tc.dom, tc.u, tc.found)
		assert.Equal(t, tc.reason, got, tc.name)
		err := domain.SSOFailure(got)
		assert.Equal(t, tc.code, err.Code, tc.name)
		assert.NotEmpty(t, err.Message)
	}
	assert.Equal(t, domain.CodeSSOFailed, domain.SSOFailure(domain.SSOReasonState).Code)
	assert.Equal(t, domain.EUnauthenticated, domain.SSOFailure(domain.SSOReasonToken).Kind)
}
