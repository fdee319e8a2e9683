package lifecycle_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// movingClock is a clock a test moves forward.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// twoFactorFixture is the lifecycle fixture with services on a clock the
// test moves, and the standard user signed in.
func twoFactorFixture(t *testing.T) (*fixture, *movingClock, domain.Principal) {
	t.Helper()
	f := newFixture(t)
	clock := &movingClock{t: time.Now().UTC()}
	f.svc = lifecycle.New(lifecycle.Deps{Store: f.st, Engine: f.engine, Clock: clock, BaseURL: "https://console.acme.test"})
	p := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.standard.Sid, OrgRole: domain.OrgRoleStandard, Via: domain.ViaSession,
		SourceIP: "203.0.113.7", RequestID: "RQ-2fa"}
	return f, clock, p
}

// enrolTOTP adds an authenticator app for p the way a person does, and
// returns its secret and the recovery codes that came with it.
func enrolTOTP(t *testing.T, svc *lifecycle.Services, clock domain.Clock, p domain.Principal) (string, []string) {
	t.Helper()
	ctx := context.Background()
	e, err := svc.TwoFactor.BeginTOTP(ctx, p)
	require.NoError(t, err)
	require.NotEmpty(t, e.QRCodePNG)
	require.Contains(t, e.URL, "otpauth://totp/")
	code, err := totp.GenerateCode(e.Secret, clock.Now())
	require.NoError(t, err)
	got, err := svc.TwoFactor.ConfirmTOTP(ctx, p, code)
	require.NoError(t, err)
	require.Equal(t, domain.FactorTOTP, got.Factor.Kind)
	return e.Secret, got.RecoveryCodes
}

func TestTwoFactorTOTPEnrolment(t *testing.T) {
	t.Parallel()
	f, clock, p := twoFactorFixture(t)
	ctx := context.Background()

	e, err := f.svc.TwoFactor.BeginTOTP(ctx, p)
	require.NoError(t, err)
	again, err := f.svc.TwoFactor.PendingTOTP(ctx, p)
	require.NoError(t, err)
	require.Equal(t, e.Secret, again.Secret, "the page can be shown again before the first code")

	t.Run("ErrCodeNotSixDigits", func(t *testing.T) {
		_, err := f.svc.TwoFactor.ConfirmTOTP(ctx, p, "12a456")
		require.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
	})
	t.Run("ErrWrongCode", func(t *testing.T) {
		code, err := totp.GenerateCode(e.Secret, clock.Now().Add(-10*time.Minute))
		require.NoError(t, err)
		_, err = f.svc.TwoFactor.ConfirmTOTP(ctx, p, code)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err))
		st, err := f.svc.TwoFactor.Status(ctx, p)
		require.NoError(t, err)
		require.False(t, st.Enrolled(), "a wrong code enrols nothing")
		require.False(t, st.User.TwoFactorEnrolled)
	})

	code, err := totp.GenerateCode(e.Secret, clock.Now())
	require.NoError(t, err)
	got, err := f.svc.TwoFactor.ConfirmTOTP(ctx, p, code[:3]+" "+code[3:])
	require.NoError(t, err)
	require.Len(t, got.RecoveryCodes, domain.RecoveryCodeCount, "the first factor comes with recovery codes")
	require.Empty(t, got.Factor.Secret, "the secret is not handed out again")

	st, err := f.svc.TwoFactor.Status(ctx, p)
	require.NoError(t, err)
	require.True(t, st.User.TwoFactorEnrolled)
	require.Len(t, st.Factors, 1)
	require.Equal(t, domain.RecoveryCodeCount, st.RecoveryCodesLeft)

	_, err = f.svc.TwoFactor.BeginTOTP(ctx, p)
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err), "one authenticator app at a time")

	evs, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventFactorAdded, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, f.standard.Sid, evs[0].Actor)
	require.Equal(t, "203.0.113.7", evs[0].SourceIP)
	require.Equal(t, map[string]any{"factor_sid": got.Factor.Sid, "kind": domain.FactorTOTP}, evs[0].Changes)
}

func TestTwoFactorSecondStep(t *testing.T) {
	t.Parallel()
	f, clock, p := twoFactorFixture(t)
	ctx := context.Background()
	secret, codes := enrolTOTP(t, f.svc, clock, p)
	actor := domain.Actor{SourceIP: "203.0.113.7"}

	t.Run("ErrTOTPReplayed", func(t *testing.T) {
		code, err := totp.GenerateCode(secret, clock.Now())
		require.NoError(t, err)
		_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, code, actor)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err), "the enrolment's code was used already")
	})
	t.Run("TOTP", func(t *testing.T) {
		clock.add(time.Minute)
		code, err := totp.GenerateCode(secret, clock.Now())
		require.NoError(t, err)
		u, method, err := f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, code, actor)
		require.NoError(t, err)
		require.Equal(t, f.standard.Sid, u.Sid)
		require.Equal(t, lifecycle.MethodTOTP, method)
		_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, code, actor)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err), "a code is good once")
	})
	t.Run("RecoveryCodeOnce", func(t *testing.T) {
		u, method, err := f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, "  "+codes[3]+" ", actor)
		require.NoError(t, err)
		require.Equal(t, f.standard.Sid, u.Sid)
		require.Equal(t, lifecycle.MethodRecoveryCode, method)
		_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, codes[3], actor)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err), "a recovery code is good once")
		st, err := f.svc.TwoFactor.Status(ctx, p)
		require.NoError(t, err)
		require.Equal(t, domain.RecoveryCodeCount-1, st.RecoveryCodesLeft)
	})
	t.Run("RegeneratedCodesReplaceTheOld", func(t *testing.T) {
		fresh, err := f.svc.TwoFactor.RegenerateRecoveryCodes(ctx, p)
		require.NoError(t, err)
		require.Len(t, fresh, domain.RecoveryCodeCount)
		_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, codes[4], actor)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err))
		_, method, err := f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, fresh[0], actor)
		require.NoError(t, err)
		require.Equal(t, lifecycle.MethodRecoveryCode, method)
	})
	t.Run("ErrNotEnrolled", func(t *testing.T) {
		_, _, err := f.svc.TwoFactor.VerifyCode(ctx, f.owner.Sid, "123456", actor)
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err))
	})
	t.Run("ErrTooManyTries", func(t *testing.T) {
		var err error
		for range 12 {
			_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, "000000", actor)
		}
		require.Equal(t, domain.CodeRateLimited, domain.ErrorCode(err))
		de, _ := domain.AsError(err)
		require.Positive(t, de.RetryAfter)
	})
}

func TestTwoFactorRemoveFactor(t *testing.T) {
	t.Parallel()
	f, clock, p := twoFactorFixture(t)
	ctx := context.Background()
	_, codes := enrolTOTP(t, f.svc, clock, p)
	st, err := f.svc.TwoFactor.Status(ctx, p)
	require.NoError(t, err)

	t.Run("ErrSomeoneElsesFactor", func(t *testing.T) {
		other := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.owner.Sid, OrgRole: domain.OrgRoleOwner, Via: domain.ViaSession}
		err := f.svc.TwoFactor.RemoveFactor(ctx, other, st.Factors[0].Sid)
		require.Equal(t, 20404, domain.ErrorCode(err))
	})
	t.Run("ErrNotAFactorSID", func(t *testing.T) {
		err := f.svc.TwoFactor.RemoveFactor(ctx, p, "nope")
		require.Equal(t, domain.EInvalid, domain.ErrorKind(err))
	})

	require.NoError(t, f.svc.TwoFactor.RemoveFactor(ctx, p, st.Factors[0].Sid))
	st, err = f.svc.TwoFactor.Status(ctx, p)
	require.NoError(t, err)
	require.False(t, st.Enrolled())
	require.False(t, st.User.TwoFactorEnrolled, "no factor left: not enrolled")
	require.Zero(t, st.RecoveryCodesLeft, "the recovery codes go with the last factor")
	_, _, err = f.svc.TwoFactor.VerifyCode(ctx, f.standard.Sid, codes[0], domain.Actor{})
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(err))
	_, err = f.svc.TwoFactor.RegenerateRecoveryCodes(ctx, p)
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))

	evs, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventFactorRemoved, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, f.standard.Sid, evs[0].ResourceSid)
}

func TestTwoFactorIsForPeople(t *testing.T) {
	t.Parallel()
	f, _, _ := twoFactorFixture(t)
	ctx := context.Background()
	for _, via := range []domain.Via{domain.ViaOrgCredential, domain.ViaAccountCredential} {
		p := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.owner.Sid, OrgRole: domain.OrgRoleOwner, Via: via}
		_, err := f.svc.TwoFactor.BeginTOTP(ctx, p)
		require.Equal(t, domain.CodeForbidden, domain.ErrorCode(err), "via %s", via)
		_, err = f.svc.TwoFactor.BeginPasskey(ctx, p)
		require.Equal(t, domain.CodeForbidden, domain.ErrorCode(err), "via %s", via)
	}
}

func TestTwoFactorPasskeyCeremonies(t *testing.T) {
	t.Parallel()
	f, _, p := twoFactorFixture(t)
	ctx := context.Background()
	c, err := f.svc.TwoFactor.BeginPasskey(ctx, p)
	require.NoError(t, err)
	require.Contains(t, string(c.Options), `"rp":{"name":"orgaccounts","id":"console.acme.test"}`)

	t.Run("ErrGarbageAnswer", func(t *testing.T) {
		_, err := f.svc.TwoFactor.FinishPasskey(ctx, p, c.State, []byte(`{"id":"x"}`), "")
		require.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
	})
	t.Run("ErrAnotherPersonsCeremony", func(t *testing.T) {
		other := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.owner.Sid, OrgRole: domain.OrgRoleOwner, Via: domain.ViaSession}
		_, err := f.svc.TwoFactor.FinishPasskey(ctx, other, c.State, []byte(`{}`), "")
		require.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
	})
	t.Run("ErrNoPasskeyToSignInWith", func(t *testing.T) {
		_, err := f.svc.TwoFactor.BeginPasskeyLogin(ctx, f.standard.Sid)
		require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	})
	st, err := f.svc.TwoFactor.Status(ctx, p)
	require.NoError(t, err)
	require.False(t, st.Enrolled())
}

// A person without a second factor does not open an account that
// requires two-factor authentication, by the account's setting or the
// organization's; the organization's credentials are not people.
func TestTwoFactorRequiredToOpenAnAccount(t *testing.T) {
	t.Parallel()
	f, clock, p := twoFactorFixture(t)
	ctx := context.Background()
	_, err := f.st.CreateRoleAssignment(ctx, domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, time.Now()),
		OrganizationSid: f.org.Sid, RoleSid: domain.RoleDeveloper, Scope: f.acct.Sid, Identity: f.standard.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	orgCred := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.owner.Sid, OrgRole: domain.OrgRoleOwner, Via: domain.ViaOrgCredential}
	ownerSession := orgCred
	ownerSession.Via = domain.ViaSession
	open := func(p domain.Principal) error {
		_, err := f.svc.Access(ctx, p, f.acct.Sid, domain.ActionReadAccount)
		return err
	}
	require.NoError(t, open(p), "no requirement yet")

	yes, no := true, false
	_, err = f.svc.Accounts.Update(ctx, orgCred, f.acct.Sid, domain.AccountUpdate{Require2FA: &yes})
	require.NoError(t, err)
	err = open(p)
	require.Equal(t, domain.EForbidden, domain.ErrorKind(err))
	require.Equal(t, domain.CodeTwoFactorRequired, domain.ErrorCode(err))
	require.Contains(t, domain.ErrorMessage(err), "enrol")
	key := p
	key.Via = domain.ViaPersonalKey
	require.Equal(t, domain.CodeTwoFactorRequired, domain.ErrorCode(open(key)), "a personal key is the person")
	require.Equal(t, domain.CodeTwoFactorRequired, domain.ErrorCode(open(ownerSession)), "the organization's Owner signed in too")
	require.NoError(t, open(orgCred), "the organization's credential is not a person")

	enrolTOTP(t, f.svc, clock, p)
	require.NoError(t, open(p))

	// The organization-wide setting, on an account that does not ask.
	_, err = f.svc.Accounts.Update(ctx, orgCred, f.acct.Sid, domain.AccountUpdate{Require2FA: &no})
	require.NoError(t, err)
	require.NoError(t, open(ownerSession))
	_, err = f.svc.Organizations.Update(ctx, p, &yes)
	require.Equal(t, domain.CodeForbidden, domain.ErrorCode(err), "a Standard user may not")
	_, err = f.svc.Organizations.Update(ctx, orgCred, nil)
	require.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
	org, err := f.svc.Organizations.Update(ctx, orgCred, &yes)
	require.NoError(t, err)
	require.True(t, org.Require2FA)
	require.Equal(t, domain.CodeTwoFactorRequired, domain.ErrorCode(open(ownerSession)))
	require.NoError(t, open(p), "enrolled")
	require.NoError(t, open(orgCred))

	evs, err := f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventOrganizationUpdated, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, map[string]any{"require_2fa": map[string]any{"from": false, "to": true}}, evs[0].Changes)
	_, err = f.svc.Organizations.Update(ctx, orgCred, &yes)
	require.NoError(t, err)
	evs, err = f.st.ListEvents(ctx, domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventOrganizationUpdated, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, evs, 1, "no change, no event")
}

// On a base URL that is an IP address, passkeys say why they are not
// available and everything else works.
func TestTwoFactorPasskeysNeedADomainName(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc := lifecycle.New(lifecycle.Deps{Store: f.st, Engine: f.engine, BaseURL: "http://127.0.0.1:8080"})
	p := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.standard.Sid, OrgRole: domain.OrgRoleStandard, Via: domain.ViaSession}
	_, err := svc.TwoFactor.BeginPasskey(context.Background(), p)
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	require.Contains(t, domain.ErrorMessage(err), "IP address")
	enrolTOTP(t, svc, domain.SystemClock{}, p)
}
