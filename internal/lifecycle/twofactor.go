package lifecycle

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"net"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// twoFactorStore is what two-factor authentication reads and writes.
type twoFactorStore = domain.TwoFactorStore

// Ways of passing the second step of sign-in, as Establish records them.
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
	MethodPasskey      = "passkey"
)

// TOTP parameters: what every authenticator app understands.
const (
	totpPeriod = 30
	totpSkew   = 1 // a code of the step before or after is accepted too
)

// TwoFactor is two-factor authentication: a person enrols an
// authenticator app (TOTP) or passkeys, holds recovery codes, removes
// factors, and passes the second step of sign-in with one of them.
// Enrolment is for the person themselves (a session or their own key),
// never for a credential acting for the organization.
type TwoFactor struct {
	store    twoFactorStore
	clock    domain.Clock
	issuer   string
	relying  *webauthn.WebAuthn
	attempts *rateLimiter // second-factor attempts, per user
	// noPasskeys, when set, is why passkeys are unavailable.
	noPasskeys error
}

// newTwoFactor builds the service for the public base URL: the relying
// party ID of passkeys is its host, their origin the URL itself. On a
// base URL whose host is an IP address (which browsers refuse as a
// relying party) passkeys are unavailable and the rest works.
func newTwoFactor(st twoFactorStore, clock domain.Clock, baseURL string) (*TwoFactor, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("two-factor: the public base URL %q has no host", baseURL)
	}
	s := &TwoFactor{
		store: st, clock: clock, issuer: "orgaccounts (" + u.Host + ")",
		attempts: newRateLimiter(10, 15*time.Minute, clock),
	}
	if net.ParseIP(u.Hostname()) != nil {
		s.noPasskeys = domain.Errorf(domain.EConflict, domain.CodeInvalidState,
			"passkeys are not available here: the console's address %s is an IP address, and browsers accept passkeys only on a domain name (such as localhost)", u.Host)
		return s, nil
	}
	s.relying, err = webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "orgaccounts",
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("two-factor: passkeys for %s: %w", baseURL, err)
	}
	return s, nil
}

// TOTPEnrolment is what a person needs to add an authenticator app: the
// secret for manual entry, the otpauth:// URL and the same as a QR code
// (a PNG image).
type TOTPEnrolment struct {
	FactorSid string
	Secret    string
	URL       string
	QRCodePNG []byte
}

// Enrolled is a factor just confirmed, with the recovery codes issued
// with the first factor (shown this once; none when the user had some).
type Enrolled struct {
	Factor        domain.Factor
	RecoveryCodes []string
}

// PasskeyCeremony is one half of a WebAuthn ceremony: Options go to the
// browser's navigator.credentials (JSON), State stays on the server (in
// the person's session) until the browser answers.
type PasskeyCeremony struct {
	Options []byte
	State   []byte
}

// person returns the user a principal is, when it is a person acting as
// themselves: 25105 for any other caller.
func (s *TwoFactor) person(ctx context.Context, p domain.Principal) (domain.User, error) {
	if !p.IsPerson() || p.UserSid == "" {
		return domain.User{}, domain.Errorf(domain.EForbidden, domain.CodeForbidden, "second factors belong to a person: sign in as yourself")
	}
	return s.store.FindPerson(ctx, p.UserSid)
}

// event is an audit event about the person's factors, with the caller's
// IP and user agent.
func event(p domain.Principal, u domain.User, typ string, changes map[string]any) domain.AuditEvent {
	org := p.OrganizationSid
	if org == "" {
		org = u.OrganizationSid
	}
	return domain.NewAuditEvent(p.Actor(), org, typ, u.Sid, changes)
}

// Status returns the caller's factors and recovery codes left.
func (s *TwoFactor) Status(ctx context.Context, p domain.Principal) (domain.TwoFactorStatus, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return domain.TwoFactorStatus{}, err
	}
	return s.store.TwoFactorStatus(ctx, u.Sid)
}

// BeginTOTP starts adding an authenticator app: a new secret, kept
// unconfirmed until ConfirmTOTP (a previous unconfirmed one is dropped).
// 25019 when the caller already has one.
func (s *TwoFactor) BeginTOTP(ctx context.Context, p domain.Principal) (TOTPEnrolment, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: u.UserName, Period: totpPeriod, SecretSize: 20})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	f := domain.Factor{
		Sid: domain.NewSID(domain.PrefixFactor, s.clock.Now()), UserSid: u.Sid, Kind: domain.FactorTOTP,
		FriendlyName: "Authenticator app", Secret: key.Secret(),
	}
	if err := s.store.StartTOTP(ctx, f); err != nil {
		return TOTPEnrolment{}, err
	}
	return s.enrolment(f, key)
}

// PendingTOTP shows again the authenticator app being added (20404 when
// none is), so a page can be reloaded before the first code.
func (s *TwoFactor) PendingTOTP(ctx context.Context, p domain.Principal) (TOTPEnrolment, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	f, err := s.store.FindPendingTOTP(ctx, u.Sid)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.issuer, AccountName: u.UserName, Period: totpPeriod, Secret: mustBase32(f.Secret)})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return s.enrolment(f, key)
}

func (s *TwoFactor) enrolment(f domain.Factor, key *otp.Key) (TOTPEnrolment, error) {
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{FactorSid: f.Sid, Secret: key.Secret(), URL: key.URL(), QRCodePNG: buf.Bytes()}, nil
}

// ConfirmTOTP confirms the authenticator app being added with a first
// code from it, and enrols the caller (recovery codes come with the
// first factor). 400 for a code that is not six digits, 20003 for a wrong
// one, 20404 when no app is being added, 25021 after too many tries.
func (s *TwoFactor) ConfirmTOTP(ctx context.Context, p domain.Principal, code string) (Enrolled, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return Enrolled{}, err
	}
	code, ok := domain.NormalizeTOTPCode(code)
	if !ok {
		return Enrolled{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "the code is the six digits your authenticator app shows")
	}
	if err := s.attempt(u.Sid); err != nil {
		return Enrolled{}, err
	}
	f, err := s.store.FindPendingTOTP(ctx, u.Sid)
	if err != nil {
		return Enrolled{}, err
	}
	step, ok := s.matchTOTP(f.Secret, code)
	if !ok {
		return Enrolled{}, domain.ErrBadSecondFactor()
	}
	codes, hashes := newRecoveryCodes()
	stored, err := s.store.ConfirmTOTP(ctx, u.Sid, f.Sid, step, hashes,
		event(p, u, domain.EventFactorAdded, map[string]any{"factor_sid": f.Sid, "kind": domain.FactorTOTP}))
	if err != nil {
		return Enrolled{}, err
	}
	f.Confirmed, f.LastStep, f.Secret = true, step, ""
	out := Enrolled{Factor: f}
	if stored {
		out.RecoveryCodes = codes
	}
	return out, nil
}

// RegenerateRecoveryCodes gives the caller ten new recovery codes (shown
// this once); the old ones stop working. 25019 when not enrolled.
func (s *TwoFactor) RegenerateRecoveryCodes(ctx context.Context, p domain.Principal) ([]string, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return nil, err
	}
	codes, hashes := newRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, u.Sid, hashes, event(p, u, domain.EventRecoveryCodesRegenerated, nil)); err != nil {
		return nil, err
	}
	return codes, nil
}

// RemoveFactor removes one of the caller's factors (20404 when it has no
// such factor). Without a factor left the caller is no longer enrolled,
// and its recovery codes go.
func (s *TwoFactor) RemoveFactor(ctx context.Context, p domain.Principal, sid string) error {
	u, err := s.person(ctx, p)
	if err != nil {
		return err
	}
	if err := domain.CheckSID("factor", domain.PrefixFactor, sid); err != nil {
		return err
	}
	f, err := s.store.FindFactor(ctx, u.Sid, sid)
	if err != nil {
		return err
	}
	return s.store.RemoveFactor(ctx, u.Sid, sid,
		event(p, u, domain.EventFactorRemoved, map[string]any{"factor_sid": f.Sid, "kind": f.Kind}))
}

// BeginPasskey starts registering a passkey for the caller.
func (s *TwoFactor) BeginPasskey(ctx context.Context, p domain.Principal) (PasskeyCeremony, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	if s.noPasskeys != nil {
		return PasskeyCeremony{}, s.noPasskeys
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	creation, session, err := s.relying.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		}))
	if err != nil {
		return PasskeyCeremony{}, err
	}
	return ceremony(creation, session)
}

// FinishPasskey completes a registration begun by BeginPasskey with the
// browser's answer, adds the passkey (named name, or "Passkey") and enrols
// the caller. 400 when the answer does not verify or the ceremony is not
// this caller's.
func (s *TwoFactor) FinishPasskey(ctx context.Context, p domain.Principal, state, response []byte, name string) (Enrolled, error) {
	u, err := s.person(ctx, p)
	if err != nil {
		return Enrolled{}, err
	}
	if s.noPasskeys != nil {
		return Enrolled{}, s.noPasskeys
	}
	if err := domain.ValidateFactorName(name); err != nil {
		return Enrolled{}, err
	}
	if name == "" {
		name = "Passkey"
	}
	session, err := sessionFrom(state, u.Sid)
	if err != nil {
		return Enrolled{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return Enrolled{}, errPasskeyAnswer()
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return Enrolled{}, err
	}
	cred, err := s.relying.CreateCredential(pu, session, parsed)
	if err != nil {
		return Enrolled{}, errPasskeyAnswer()
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return Enrolled{}, err
	}
	f := domain.Factor{
		Sid: domain.NewSID(domain.PrefixFactor, s.clock.Now()), UserSid: u.Sid, Kind: domain.FactorPasskey, FriendlyName: name,
		CredentialID: base64.RawURLEncoding.EncodeToString(cred.ID), Credential: record,
	}
	codes, hashes := newRecoveryCodes()
	stored, err := s.store.AddPasskey(ctx, f, hashes,
		event(p, u, domain.EventFactorAdded, map[string]any{"factor_sid": f.Sid, "kind": domain.FactorPasskey}))
	if err != nil {
		return Enrolled{}, err
	}
	f.Confirmed = true
	out := Enrolled{Factor: f}
	if stored {
		out.RecoveryCodes = codes
	}
	return out, nil
}

// The second step of sign-in. The person has given a correct password
// and is not signed in yet: these take the pending user's SID, which the
// sign-in pages keep in the session, and the actor (IP, user agent).

// SecondFactors returns what the pending user may pass the second step
// with.
func (s *TwoFactor) SecondFactors(ctx context.Context, userSid string) (domain.TwoFactorStatus, error) {
	return s.store.TwoFactorStatus(ctx, userSid)
}

// VerifyCode passes the second step with a code: six digits from the
// authenticator app, or a recovery code (spent by its use). It returns
// the user and the method. 20003 for a wrong or spent code (the same
// answer for both), 25021 after too many tries.
func (s *TwoFactor) VerifyCode(ctx context.Context, userSid, code string, actor domain.Actor) (domain.User, string, error) {
	st, err := s.store.TwoFactorStatus(ctx, userSid)
	if err != nil {
		return domain.User{}, "", err
	}
	if !st.Enrolled() {
		return domain.User{}, "", domain.ErrBadSecondFactor()
	}
	if err := s.attempt(userSid); err != nil {
		return domain.User{}, "", err
	}
	if c, ok := domain.NormalizeTOTPCode(code); ok {
		for _, f := range st.Factors {
			if f.Kind != domain.FactorTOTP {
				continue
			}
			if step, ok := s.matchTOTP(f.Secret, c); ok {
				fresh, err := s.store.UseTOTPStep(ctx, f.Sid, step)
				if err != nil {
					return domain.User{}, "", err
				}
				if fresh {
					return st.User, MethodTOTP, nil
				}
			}
		}
		return domain.User{}, "", domain.ErrBadSecondFactor()
	}
	if c, ok := domain.NormalizeRecoveryCode(code); ok {
		ev := domain.NewAuditEvent(actorAs(actor, userSid), st.User.OrganizationSid, domain.EventRecoveryCodeUsed, userSid,
			map[string]any{"recovery_codes_left": st.RecoveryCodesLeft - 1})
		used, err := s.store.UseRecoveryCode(ctx, userSid, domain.HashSecret(c), ev)
		if err != nil {
			return domain.User{}, "", err
		}
		if used {
			return st.User, MethodRecoveryCode, nil
		}
	}
	return domain.User{}, "", domain.ErrBadSecondFactor()
}

// BeginPasskeyLogin starts the assertion ceremony for the pending user's
// passkeys (25019 when it has none).
func (s *TwoFactor) BeginPasskeyLogin(ctx context.Context, userSid string) (PasskeyCeremony, error) {
	u, err := s.store.FindPerson(ctx, userSid)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	if len(pu.creds) == 0 {
		return PasskeyCeremony{}, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "you have no passkey: use a code")
	}
	if s.noPasskeys != nil {
		return PasskeyCeremony{}, s.noPasskeys
	}
	assertion, session, err := s.relying.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return PasskeyCeremony{}, err
	}
	return ceremony(assertion, session)
}

// FinishPasskeyLogin passes the second step with the browser's answer to
// BeginPasskeyLogin's challenge: 20003 when it does not verify, 25021
// after too many tries.
func (s *TwoFactor) FinishPasskeyLogin(ctx context.Context, userSid string, state, response []byte) (domain.User, error) {
	u, err := s.store.FindPerson(ctx, userSid)
	if err != nil {
		return domain.User{}, err
	}
	if s.noPasskeys != nil {
		return domain.User{}, s.noPasskeys
	}
	if err := s.attempt(userSid); err != nil {
		return domain.User{}, err
	}
	session, err := sessionFrom(state, userSid)
	if err != nil {
		return domain.User{}, domain.ErrBadSecondFactor()
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return domain.User{}, domain.ErrBadSecondFactor()
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return domain.User{}, err
	}
	cred, err := s.relying.ValidateLogin(pu, session, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return domain.User{}, domain.ErrBadSecondFactor()
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return domain.User{}, err
	}
	if err := s.store.UpdatePasskey(ctx, pu.sids[string(cred.ID)], record); err != nil {
		return domain.User{}, err
	}
	return u, nil
}

// attempt takes one of the user's second-factor tries (25021 when they
// are spent: ten per quarter of an hour).
func (s *TwoFactor) attempt(userSid string) error {
	if ok, wait := s.attempts.allow(userSid); !ok {
		secs := int(wait/time.Second) + 1
		return domain.RateLimited(secs, "too many tries: wait %d seconds", secs)
	}
	return nil
}

// matchTOTP returns the time step whose code is code, within the skew
// around now.
func (s *TwoFactor) matchTOTP(secret, code string) (int64, bool) {
	now := s.clock.Now()
	for d := -totpSkew; d <= totpSkew; d++ {
		at := now.Add(time.Duration(d*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// passkeyUser is a user as the WebAuthn relying party sees it: its user
// handle is its SID, its credentials its passkeys.
type passkeyUser struct {
	u     domain.User
	creds []webauthn.Credential
	sids  map[string]string // credential ID → factor SID
}

func (u passkeyUser) WebAuthnID() []byte                         { return []byte(u.u.Sid) }
func (u passkeyUser) WebAuthnName() string                       { return u.u.UserName }
func (u passkeyUser) WebAuthnDisplayName() string                { return domain.DisplayName(u.u) }
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *TwoFactor) passkeyUser(ctx context.Context, u domain.User) (passkeyUser, error) {
	st, err := s.store.TwoFactorStatus(ctx, u.Sid)
	if err != nil {
		return passkeyUser{}, err
	}
	pu := passkeyUser{u: st.User, sids: map[string]string{}}
	for _, f := range st.Factors {
		if f.Kind != domain.FactorPasskey {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(f.Credential, &c); err != nil {
			return passkeyUser{}, fmt.Errorf("two-factor: passkey %s: %w", f.Sid, err)
		}
		pu.creds = append(pu.creds, c)
		pu.sids[string(c.ID)] = f.Sid
	}
	return pu, nil
}

func ceremony(options any, session *webauthn.SessionData) (PasskeyCeremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	state, err := json.Marshal(session)
	if err != nil {
		return PasskeyCeremony{}, err
	}
	return PasskeyCeremony{Options: opts, State: state}, nil
}

// sessionFrom reads a ceremony's state back, refusing one begun for
// another user.
func sessionFrom(state []byte, userSid string) (webauthn.SessionData, error) {
	var session webauthn.SessionData
	if len(state) == 0 || json.Unmarshal(state, &session) != nil || string(session.UserID) != userSid {
		return session, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "no passkey ceremony is under way: start again")
	}
	return session, nil
}

func errPasskeyAnswer() error {
	return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "the browser's answer did not verify: start again")
}

// newRecoveryCodes returns RecoveryCodeCount fresh codes and their hashes.
func newRecoveryCodes() (codes, hashes []string) {
	for range domain.RecoveryCodeCount {
		c := domain.NewRecoveryCode()
		codes = append(codes, c)
		hashes = append(hashes, domain.HashSecret(c))
	}
	return codes, hashes
}

// actorAs is actor acting as the user (an audit event's actor at sign-in,
// before there is a principal).
func actorAs(a domain.Actor, userSid string) domain.Actor {
	a.UserSid = userSid
	return a
}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// mustBase32 decodes a stored TOTP secret (unpadded base32).
func mustBase32(secret string) []byte {
	b, err := base32NoPad.DecodeString(secret)
	if err != nil {
		return nil
	}
	return b
}
