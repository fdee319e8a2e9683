package lifecycle

import (
	"context"
	"log/slog"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// PasswordLinkEngine sends, with retries, the emails that carry a link to
// set a password. The link's token is made where the email is sent, never
// here, so it appears in no workflow history.
type PasswordLinkEngine interface {
	// SendPasswordLink emails user a single-use link to set their
	// password, for purpose (domain.PasswordFor…), once per key.
	SendPasswordLink(ctx context.Context, u domain.User, purpose, key string, expires time.Time, actor domain.Actor) error
}

// signInStore is what signing people in reads and writes.
type signInStore interface {
	domain.PersonStore
	FindLink(ctx context.Context, tokenHash string) (domain.ConfirmationLink, error)
	IssueLink(ctx context.Context, l domain.ConfirmationLink) error
}

// SignIn lets people sign in to the console with their email and a
// password they set through an emailed link, and turns a console session
// into a caller of the same services an API credential reaches.
type SignIn struct {
	store signInStore
	links PasswordLinkEngine
	clock domain.Clock
	log   *slog.Logger
	// byEmail and byAddress count failed sign-ins and asks for a reset
	// link: a client address may fail five times as often as one email
	// before it is locked out, as many people may share it.
	byEmail, byAddress *Throttle
	// sso refuses passwords to managed users of an organization that
	// requires single sign-on.
	sso *SSO
}

// ErrSignInFailed is the answer to every failed password sign-in: an
// unknown email and a wrong password read the same.
var ErrSignInFailed = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "the email or the password is wrong")

// PasswordSignIn is a sign-in attempt with email and password.
type PasswordSignIn struct {
	Email    string
	Password string
}

// SignedIn is a person whose password was right: who they are, the
// organization they act in, and whether a second factor must follow
// before the session starts.
type SignedIn struct {
	User              domain.User
	OrganizationSid   string
	NeedsSecondFactor bool
}

// Password checks an email and password. Too many failures for the email
// or from the address lock both out for a while (25021 with Retry-After),
// each lockout an audit event. A person with a second factor gets
// NeedsSecondFactor: the session starts only once it is proven.
func (s *SignIn) Password(ctx context.Context, cmd PasswordSignIn, source domain.Actor) (SignedIn, error) {
	email, err := domain.NormalizeEmail("email", cmd.Email)
	if err != nil {
		return SignedIn{}, err
	}
	if len(cmd.Password) > domain.MaxPasswordBytes {
		return SignedIn{}, ErrSignInFailed
	}
	keys := signInKeys{email: "email:" + email, addr: "ip:" + source.SourceIP}
	if err := s.throttled(keys); err != nil {
		return SignedIn{}, err
	}
	person, err := s.store.FindPersonByEmail(ctx, email)
	if err != nil && domain.ErrorKind(err) != domain.ENotFound {
		return SignedIn{}, err
	}
	// The hash is checked whether the user exists or not (an empty hash
	// burns the same time), so that the answer's timing says nothing.
	match := domain.PasswordMatches(cmd.Password, person.PasswordHash)
	u := person.User
	if err != nil || !match || !u.Active {
		s.failed(ctx, keys, u, source)
		return SignedIn{}, ErrSignInFailed
	}
	if err := s.sso.CheckPasswordSignIn(ctx, u); err != nil {
		return SignedIn{}, err
	}
	org, err := s.store.HomeOrganization(ctx, u)
	if err != nil {
		if domain.ErrorKind(err) == domain.ENotFound {
			return SignedIn{}, domain.Errorf(domain.EForbidden, domain.CodeForbidden, "you hold no role in any organization yet: ask an administrator to invite you to an account")
		}
		return SignedIn{}, err
	}
	s.byEmail.Succeed(keys.email)
	return SignedIn{User: u, OrganizationSid: org, NeedsSecondFactor: u.TwoFactorEnrolled}, nil
}

// signInKeys are what the throttles count a sign-in or a reset link
// against: the email and the client address.
type signInKeys struct{ email, addr string }

// newSignInThrottles returns the throttles of SignIn: limit failures per
// email within window, five times as many per client address.
func newSignInThrottles(clock domain.Clock, limit int, window time.Duration) (byEmail, byAddress *Throttle) {
	return NewThrottle(clock, limit, window), NewThrottle(clock, 5*limit, window)
}

// throttled refuses (25021, with the seconds to wait for both keys) while
// the email or the address is locked out.
func (s *SignIn) throttled(k signInKeys) error {
	wait := 0
	for _, err := range []error{s.byEmail.Check(k.email), s.byAddress.Check(k.addr)} {
		if de, ok := domain.AsError(err); ok {
			wait = max(wait, de.RetryAfter)
		}
	}
	if wait == 0 {
		return nil
	}
	return domain.RateLimited(wait, "too many attempts; try again in %s", (time.Duration(wait) * time.Second).String())
}

// fail counts a failure against both keys and returns those it has just
// locked out.
func (s *SignIn) fail(k signInKeys) []string {
	return append(s.byEmail.Fail(k.email), s.byAddress.Fail(k.addr)...)
}

// failed records a failed sign-in: a count towards the lockouts, and an
// audit event when the email is a user's.
func (s *SignIn) failed(ctx context.Context, keys signInKeys, u domain.User, source domain.Actor) {
	locked := s.fail(keys)
	if u.Sid == "" {
		if len(locked) > 0 {
			s.log.WarnContext(ctx, "sign-in locked out", "keys", len(locked), "client_ip", source.SourceIP, "request_id", source.RequestID)
		}
		return
	}
	org, err := s.store.HomeOrganization(ctx, u)
	if err != nil {
		return
	}
	actor := source
	actor.UserSid = u.Sid
	events := []domain.AuditEvent{domain.NewAuditEvent(actor, org, domain.EventSignInFailed, u.Sid, nil)}
	for _, k := range locked {
		events = append(events, domain.NewAuditEvent(actor, org, domain.EventSignInLockedOut, u.Sid, map[string]any{"locked": k}))
	}
	for _, ev := range events {
		if err := s.store.RecordEvent(ctx, ev); err != nil {
			s.log.ErrorContext(ctx, "sign-in event not recorded", "type", ev.Type, "error", err.Error())
		}
	}
}

// Started records that a session started for the principal (method:
// "password", "passkey", "totp", "recovery_code", "sso").
func (s *SignIn) Started(ctx context.Context, p domain.Principal, method string) error {
	return s.store.RecordEvent(ctx, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSignedIn, p.UserSid, map[string]any{"method": method}))
}

// Session is the caller a console session stands for: the user, in the
// organization the session was started in, with their roles as they are
// now. A session started before the user's sessions were ended (sign out
// everywhere, a new password), or of a user since deactivated or removed,
// is refused (20003).
func (s *SignIn) Session(ctx context.Context, userSid, orgSid string, authTime time.Time) (domain.Principal, error) {
	person, err := s.store.PersonSignIn(ctx, userSid)
	if domain.ErrorKind(err) == domain.ENotFound {
		return domain.Principal{}, errSessionEnded
	}
	if err != nil {
		return domain.Principal{}, err
	}
	u := person.User
	if !u.Active || !authTime.After(person.SessionsAfter) {
		return domain.Principal{}, errSessionEnded
	}
	if u.OrganizationSid != "" && u.OrganizationSid != orgSid {
		return domain.Principal{}, errSessionEnded
	}
	return domain.Principal{OrganizationSid: orgSid, UserSid: u.Sid, OrgRole: u.OrgRole, Via: domain.ViaSession}, nil
}

var errSessionEnded = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "your session has ended: sign in again")

// SignOut records that the principal's session ended.
func (s *SignIn) SignOut(ctx context.Context, p domain.Principal) error {
	return s.store.RecordEvent(ctx, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSignedOut, p.UserSid, nil))
}

// SignOutEverywhere ends every session of the principal's user at once,
// this one included.
func (s *SignIn) SignOutEverywhere(ctx context.Context, p domain.Principal) error {
	return s.store.EndSessions(ctx, p.UserSid, s.clock.Now(),
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSignedOutEverywhere, p.UserSid, nil))
}

// ForgotPassword emails a reset link to the user with the email, if there
// is one and it is active. It answers the same whether there is or not;
// too many asks from an address or for an email are refused (25021).
func (s *SignIn) ForgotPassword(ctx context.Context, email string, source domain.Actor) error {
	email, err := domain.NormalizeEmail("email", email)
	if err != nil {
		return err
	}
	keys := signInKeys{email: "reset:" + email, addr: "reset-ip:" + source.SourceIP}
	if err := s.throttled(keys); err != nil {
		return err
	}
	// Every ask counts: a reset sends an email, which is worth limiting
	// whether or not the address is known.
	s.fail(keys)
	person, err := s.store.FindPersonByEmail(ctx, email)
	if domain.ErrorKind(err) == domain.ENotFound || (err == nil && !person.User.Active) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.sendLink(ctx, person.User, domain.PasswordForReset, "reset/"+source.RequestID, source)
}

// OfferPassword emails a link to set a password to a user who has none
// yet (after an invitation is accepted, an import or share confirmed, or
// a user provisioned). Users who have a password get nothing.
func (s *SignIn) OfferPassword(ctx context.Context, u domain.User, purpose, key string, actor domain.Actor) error {
	person, err := s.store.PersonSignIn(ctx, u.Sid)
	if err != nil || person.PasswordHash != "" || !person.User.Active {
		return err
	}
	return s.sendLink(ctx, person.User, purpose, key, actor)
}

func (s *SignIn) sendLink(ctx context.Context, u domain.User, purpose, key string, actor domain.Actor) error {
	return s.links.SendPasswordLink(ctx, u, purpose, "password/"+u.Sid+"/"+key, s.clock.Now().Add(domain.PasswordLinkTTL), actor)
}

// IssuePasswordLink makes a password link for the user and returns its
// token, for an operator's terminal (the first owner of a new
// installation): it is never emailed or logged.
func (s *SignIn) IssuePasswordLink(ctx context.Context, userSid, baseURL string) (string, error) {
	token := domain.NewSecret(32)
	now := s.clock.Now()
	err := s.store.IssueLink(ctx, domain.ConfirmationLink{
		TokenHash: domain.HashSecret(token), Kind: domain.LinkPassword, SubjectSid: userSid,
		ExpiresAt: now.Add(domain.PasswordLinkTTL), // Version 0: the next one, superseding the others
	})
	return baseURL + domain.PasswordPage + token, err
}

// PasswordLink is what a password link's page shows: whose password it
// sets. A token that names no valid password link answers 20404.
func (s *SignIn) PasswordLink(ctx context.Context, token string) (domain.User, error) {
	link, err := s.passwordLink(ctx, token)
	if err != nil {
		return domain.User{}, err
	}
	u, err := s.store.FindPerson(ctx, link.SubjectSid)
	if err != nil || !u.Active {
		return domain.User{}, errInvalidLink()
	}
	return u, nil
}

func (s *SignIn) passwordLink(ctx context.Context, token string) (domain.ConfirmationLink, error) {
	if !domain.ValidSecret(token) {
		return domain.ConfirmationLink{}, errInvalidLink()
	}
	link, err := s.store.FindLink(ctx, domain.HashSecret(token))
	if err != nil || link.Kind != domain.LinkPassword || link.State(s.clock.Now()) != domain.LinkValid {
		return domain.ConfirmationLink{}, errInvalidLink()
	}
	return link, nil
}

// SetPassword sets the password of the link's user, if it passes the
// rules (25300), using the link up and ending the user's sessions.
func (s *SignIn) SetPassword(ctx context.Context, token, password string, source domain.Actor) (domain.User, error) {
	u, err := s.PasswordLink(ctx, token)
	if err != nil {
		return u, err
	}
	if err := domain.ValidatePassword(password, u.UserName); err != nil {
		return u, err
	}
	org, err := s.store.HomeOrganization(ctx, u)
	if err != nil && domain.ErrorKind(err) != domain.ENotFound {
		return u, err
	}
	actor := source
	actor.UserSid = u.Sid
	ev := domain.NewAuditEvent(actor, org, domain.EventPasswordSet, u.Sid, nil)
	if org == "" {
		ev.Type = "" // no organization to record it in yet
	}
	return u, s.store.SetPassword(ctx, domain.HashSecret(token), u.Sid, domain.HashPassword(password), s.clock.Now(), ev)
}

// Start is the caller a new session stands for, once the user's identity
// is proven by method: the user, in the organization they act in. It
// records the sign-in.
func (s *SignIn) Start(ctx context.Context, u domain.User, method string, source domain.Actor) (domain.Principal, error) {
	person, err := s.store.PersonSignIn(ctx, u.Sid)
	if err != nil {
		return domain.Principal{}, err
	}
	u = person.User
	if !u.Active {
		return domain.Principal{}, ErrSignInFailed
	}
	org, err := s.store.HomeOrganization(ctx, u)
	if err != nil {
		return domain.Principal{}, err
	}
	p := domain.Principal{OrganizationSid: org, UserSid: u.Sid, OrgRole: u.OrgRole, Via: domain.ViaSession,
		SourceIP: source.SourceIP, RequestID: source.RequestID, UserAgent: source.UserAgent}
	return p, s.Started(ctx, p, method)
}

// Me is the signed-in user.
func (s *SignIn) Me(ctx context.Context, p domain.Principal) (domain.User, error) {
	return s.store.FindPerson(ctx, p.UserSid)
}
