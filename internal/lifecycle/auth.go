package lifecycle

import (
	"context"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// authStore is what authentication reads and writes.
type authStore interface {
	FindCredential(ctx context.Context, sid string) (domain.Credential, error)
	CredentialPrincipal(ctx context.Context, sid string) (domain.Credential, domain.User, error)
	TokenPrincipal(ctx context.Context, hash string, now time.Time) (domain.Credential, domain.User, error)
	CreateAccessToken(ctx context.Context, t domain.AccessToken) error
}

// Auth turns credentials into callers and issues bearer tokens.
type Auth struct {
	store    authStore
	clock    domain.Clock
	tokenTTL time.Duration
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
// (a credential SID, or an Account SID for its auth token) and secret.
type Credentials struct {
	Scheme Scheme
	Token  string
	ID     string
	Secret string
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
func (s *Auth) Token(ctx context.Context, id, secret string) (IssuedToken, error) {
	if id == "" || secret == "" {
		return IssuedToken{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "client_id and client_secret are required")
	}
	cred, err := s.verifySecret(ctx, id, secret)
	if err == nil && cred.AccountSid != "" {
		_, _, err = s.store.CredentialPrincipal(ctx, cred.Sid)
	}
	if err != nil {
		return IssuedToken{}, err
	}
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
// RequestID: the edge adds them.
func (s *Auth) Authenticate(ctx context.Context, cr Credentials) (domain.Principal, error) {
	cred, u, err := s.principalOf(ctx, cr)
	if err == nil && !u.Active {
		err = ErrUnauthenticated
	}
	if err != nil {
		return domain.Principal{}, err
	}
	via := domain.ViaOrgCredential
	if cred.AccountSid != "" {
		via = domain.ViaAccountCredential
	}
	return domain.Principal{
		OrganizationSid: cred.OrganizationSid, UserSid: u.Sid, CredentialSid: cred.Sid, OrgRole: u.OrgRole, AccountSid: cred.AccountSid, Via: via,
	}, nil
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
