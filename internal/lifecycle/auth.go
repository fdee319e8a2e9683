package lifecycle

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// authStore is what authentication reads and writes.
type authStore interface {
	FindCredential(ctx context.Context, sid string) (domain.Credential, error)
	CredentialPrincipal(ctx context.Context, sid string) (domain.Credential, domain.User, error)
	TokenPrincipal(ctx context.Context, hash string, now time.Time) (domain.Credential, domain.User, error)
	CreateAccessToken(ctx context.Context, t domain.AccessToken) error
	TouchCredential(ctx context.Context, sid string, at time.Time) error
	RecordEvent(ctx context.Context, ev domain.AuditEvent) error
}

// Auth turns credentials into callers and issues bearer tokens. Failed
// attempts are throttled per client id and per client address: past the
// limit, every attempt (a right secret included) is refused with 25021
// until the lockout ends.
type Auth struct {
	store    authStore
	clock    domain.Clock
	log      *slog.Logger
	tokenTTL time.Duration
	// byClient and byAddress count failed authentications.
	byClient, byAddress *Throttle
}

// Authentication failures allowed before a lockout, within
// authFailureWindow: per client id, and per client address (which many
// clients may share).
const (
	authFailuresPerClient  = 10
	authFailuresPerAddress = 100
	authFailureWindow      = 15 * time.Minute
)

func newAuthService(store authStore, clock domain.Clock, log *slog.Logger, tokenTTL time.Duration) *Auth {
	return &Auth{store: store, clock: clock, log: log, tokenTTL: tokenTTL,
		byClient:  NewThrottle(clock, authFailuresPerClient, authFailureWindow),
		byAddress: NewThrottle(clock, authFailuresPerAddress, authFailureWindow)}
}

// ErrUnauthenticated is every failed authentication's answer (20003): it
// says nothing of which part was wrong.
var ErrUnauthenticated = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "authentication failed: give a bearer token from POST /v1/token or HTTP Basic credentials")

// Scheme names how a caller authenticates.
type Scheme string

// Authentication schemes.
const (
	SchemeNone   Scheme = ""
	SchemeBearer Scheme = "Bearer"
	SchemeBasic  Scheme = "Basic"
)

// Credentials are what a caller presents: a bearer token, or a client id
// (a credential SID, or an Account SID for its auth token) and secret;
// and where from (for the throttle and the audit log).
type Credentials struct {
	Scheme Scheme
	Token  string
	ID     string
	Secret string
	From   domain.Actor
}

// IssuedToken is a bearer token, shown only in this answer (its hash is
// kept), and how long it lives.
type IssuedToken struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// clientID maps the client id a caller gives to a credential SID: an
// Account SID names that account's auth token (Twilio's own Basic scheme).
func clientID(id string) string {
	if domain.ValidSID(domain.PrefixAccount, id) {
		return domain.AuthTokenCredentialSid(id)
	}
	return id
}

// Token issues a bearer token for a credential's client id and secret
// (OAuth2 client credentials). The secret is checked before anything else
// is said; a credential of an account that is closing gets none (20005).
// After too many failures for the client id or from the address: 25021.
func (s *Auth) Token(ctx context.Context, from domain.Actor, id, secret string) (IssuedToken, error) {
	if id == "" || secret == "" {
		return IssuedToken{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "client_id and client_secret are required")
	}
	client, addr := clientKey(id), addressKey(from.SourceIP)
	if err := s.throttled(client, addr); err != nil {
		return IssuedToken{}, err
	}
	cred, err := s.verifySecret(ctx, id, secret)
	if err == nil && cred.AccountSid != "" {
		_, _, err = s.store.CredentialPrincipal(ctx, cred.Sid)
	}
	if err != nil {
		s.failed(ctx, err, from, id, client, addr)
		return IssuedToken{}, err
	}
	s.succeeded(ctx, cred, client)
	tok := domain.NewSecret(48)
	if err := s.store.CreateAccessToken(ctx, domain.AccessToken{
		TokenHash: domain.HashSecret(tok), CredentialSid: cred.Sid, ExpiresAt: s.clock.Now().Add(s.tokenTTL),
	}); err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{AccessToken: tok, ExpiresIn: s.tokenTTL}, nil
}

func (s *Auth) verifySecret(ctx context.Context, id, secret string) (domain.Credential, error) {
	id = clientID(id)
	if !domain.ValidSID(domain.PrefixCredential, id) || !domain.ValidSecret(secret) {
		return domain.Credential{}, ErrUnauthenticated
	}
	cred, err := s.store.FindCredential(ctx, id)
	if domain.ErrorKind(err) == domain.EUnauthenticated || (err == nil && !domain.SecretMatches(secret, cred.SecretHash)) {
		return domain.Credential{}, ErrUnauthenticated
	}
	return cred, err
}

// Authenticate resolves the caller from a bearer token or Basic
// credentials (one query either way). The principal has no SourceIP or
// RequestID: the edge adds them. After too many failures for the client
// id or from the address: 25021, whatever is presented.
func (s *Auth) Authenticate(ctx context.Context, cr Credentials) (domain.Principal, error) {
	if cr.Scheme != SchemeBearer && cr.Scheme != SchemeBasic {
		return domain.Principal{}, ErrUnauthenticated
	}
	var client string
	if cr.Scheme == SchemeBasic {
		client = clientKey(cr.ID)
	}
	addr := addressKey(cr.From.SourceIP)
	if err := s.throttled(client, addr); err != nil {
		return domain.Principal{}, err
	}
	cred, u, err := s.principalOf(ctx, cr)
	if err == nil && !u.Active {
		err = ErrUnauthenticated
	}
	if err != nil {
		s.failed(ctx, err, cr.From, cr.ID, client, addr)
		return domain.Principal{}, err
	}
	s.succeeded(ctx, cred, client)
	return domain.Principal{
		OrganizationSid: cred.OrganizationSid, UserSid: u.Sid, CredentialSid: cred.Sid, OrgRole: u.OrgRole, AccountSid: cred.AccountSid,
		Via: cred.Via(),
	}, nil
}

// clientKey and addressKey are the throttle's keys for a client id and a
// client address ("" when there is none, which the throttle ignores).
func clientKey(id string) string {
	if id = clientID(id); !domain.ValidSID(domain.PrefixCredential, id) {
		return ""
	}
	return "client:" + id
}

func addressKey(ip string) string {
	if ip == "" {
		return ""
	}
	return "address:" + ip
}

// throttled refuses (25021) while the client id or the address is locked
// out.
func (s *Auth) throttled(client, addr string) error {
	if err := s.byClient.Check(client); err != nil {
		return err
	}
	return s.byAddress.Check(addr)
}

// failed counts a failed authentication (a wrong or unknown secret or
// token, not a refusal for another reason) and records each lockout it
// causes in the audit log: in the organization of the credential named,
// when it exists, else in no organization's.
func (s *Auth) failed(ctx context.Context, err error, from domain.Actor, id, client, addr string) {
	if domain.ErrorKind(err) != domain.EUnauthenticated {
		return
	}
	locked := append(s.byClient.Fail(client), s.byAddress.Fail(addr)...)
	if len(locked) == 0 {
		return
	}
	// The credential named, when it exists, says whose log records it.
	var cred domain.Credential
	if client != "" {
		if c, err := s.store.FindCredential(ctx, clientID(id)); err == nil {
			cred = c
		}
	}
	resource := cred.Sid
	if resource == "" {
		resource = cred.OrganizationSid
	}
	for _, key := range locked {
		kind, value, _ := strings.Cut(key, ":")
		wait := 0
		if e, ok := domain.AsError(s.throttled(client, addr)); ok {
			wait = e.RetryAfter
		}
		s.log.WarnContext(ctx, "authentication locked out", "key", kind, "value", value, "organization_sid", cred.OrganizationSid,
			"source_ip", from.SourceIP, "request_id", from.RequestID, "retry_after", wait)
		ev := domain.NewAuditEvent(domain.Actor{UserSid: domain.SystemActor.UserSid, SourceIP: from.SourceIP, RequestID: from.RequestID},
			cred.OrganizationSid, domain.EventLockedOut, resource,
			map[string]any{"locked": kind, kind: value, "user_agent": from.UserAgent, "retry_after": wait})
		if err := s.store.RecordEvent(ctx, ev); err != nil {
			s.log.ErrorContext(ctx, "recording a lockout", "error", err, "request_id", from.RequestID)
		}
	}
}

// succeeded clears the client id's failures and records the use.
func (s *Auth) succeeded(ctx context.Context, cred domain.Credential, client string) {
	if client != "" {
		s.byClient.Succeed(client)
	}
	if now := s.clock.Now(); cred.NeedsTouch(now) {
		if err := s.store.TouchCredential(ctx, cred.Sid, now); err != nil {
			s.log.WarnContext(ctx, "recording a credential's last use", "credential_sid", cred.Sid, "error", err)
		}
	}
}

func (s *Auth) principalOf(ctx context.Context, cr Credentials) (domain.Credential, domain.User, error) {
	switch cr.Scheme {
	case SchemeBearer:
		if cr.Token == "" || len(cr.Token) > 256 {
			return domain.Credential{}, domain.User{}, ErrUnauthenticated
		}
		return s.store.TokenPrincipal(ctx, domain.HashSecret(cr.Token), s.clock.Now())
	case SchemeBasic:
		id := clientID(cr.ID)
		if !domain.ValidSID(domain.PrefixCredential, id) || !domain.ValidSecret(cr.Secret) {
			return domain.Credential{}, domain.User{}, ErrUnauthenticated
		}
		cred, u, err := s.store.CredentialPrincipal(ctx, id)
		// The secret is checked before anything else is said (a closed
		// account's 20005 included).
		if domain.ErrorKind(err) == domain.EUnauthenticated || (cred.SecretHash != "" && !domain.SecretMatches(cr.Secret, cred.SecretHash)) ||
			(err == nil && cred.SecretHash == "") {
			return domain.Credential{}, domain.User{}, ErrUnauthenticated
		}
		return cred, u, err
	}
	return domain.Credential{}, domain.User{}, ErrUnauthenticated
}
