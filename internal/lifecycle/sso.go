package lifecycle

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ssoStore is what single sign-on reads and writes.
type ssoStore interface {
	FindSSOProvider(ctx context.Context, orgSid string) (domain.SSOProvider, error)
	PutSSOProvider(ctx context.Context, orgSid string, set domain.SSOSettings, ev domain.AuditEvent) (domain.SSOProvider, error)
	DeleteSSOProvider(ctx context.Context, orgSid string, ev domain.AuditEvent) error
	RecordSSOEvent(ctx context.Context, ev domain.AuditEvent) error
	FindVerifiedDomain(ctx context.Context, name string) (domain.VerifiedDomain, error)
	IsVerifiedDomain(ctx context.Context, orgSid, name string) (bool, error)
	FindUserByEmail(ctx context.Context, orgSid, email string) (domain.User, error)
}

// SSO is single sign-on with an organization's OpenID Connect provider:
// its settings, for organization admins, and the sign-in itself
// (authorization code flow with PKCE S256, state and nonce), which ends
// with the managed user whose verified email the provider vouched for.
type SSO struct {
	store ssoStore
	clock domain.Clock
	log   *slog.Logger
	// client talks to the providers (discovery, keys, token endpoint).
	client *http.Client
	// redirectURL is where providers send the browser back.
	redirectURL string

	mu        sync.Mutex
	providers map[string]cachedProvider // by issuer
}

// providerTTL is how long a provider's discovery document is reused.
const providerTTL = 10 * time.Minute

type cachedProvider struct {
	provider *oidc.Provider
	verifier map[string]*oidc.IDTokenVerifier // by client id
	fetched  time.Time
}

func newSSO(store ssoStore, clock domain.Clock, log *slog.Logger, redirectURL string) *SSO {
	return &SSO{
		store: store, clock: clock, log: log, client: &http.Client{Timeout: 10 * time.Second}, redirectURL: redirectURL,
		providers: map[string]cachedProvider{},
	}
}

// RedirectURL is the redirect URI to register at the organization's
// provider.
func (s *SSO) RedirectURL() string { return s.redirectURL }

// Settings returns the organization's provider (25460 when it has none),
// for organization admins.
func (s *SSO) Settings(ctx context.Context, p domain.Principal) (domain.SSOProvider, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.SSOProvider{}, err
	}
	return s.store.FindSSOProvider(ctx, p.OrganizationSid)
}

// Configure sets the organization's provider, for organization admins: the
// issuer, client id and secret (write-only; empty keeps the stored one)
// and whether its managed users must sign in through it. The secret is in
// no event.
func (s *SSO) Configure(ctx context.Context, p domain.Principal, set domain.SSOSettings) (domain.SSOProvider, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.SSOProvider{}, err
	}
	if err := set.Validate(true); err != nil {
		return domain.SSOProvider{}, err
	}
	ev := domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSSOProviderUpdated, p.OrganizationSid, map[string]any{
		"issuer": set.Issuer, "client_id": set.ClientID, "required": set.Required, "client_secret_changed": set.ClientSecret != "",
	})
	return s.store.PutSSOProvider(ctx, p.OrganizationSid, set, ev)
}

// Remove deletes the organization's provider (25460 when it has none),
// for organization admins: its managed users sign in with passwords again.
func (s *SSO) Remove(ctx context.Context, p domain.Principal) error {
	if err := p.RequireOrgAdmin(); err != nil {
		return err
	}
	cur, err := s.store.FindSSOProvider(ctx, p.OrganizationSid)
	if err != nil {
		return err
	}
	return s.store.DeleteSSOProvider(ctx, p.OrganizationSid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventSSOProviderDeleted, p.OrganizationSid,
		map[string]any{"issuer": cur.Issuer, "client_id": cur.ClientID}))
}

// CheckPasswordSignIn returns 25302 when u is a managed user of an
// organization that requires SSO: the password sign-in calls it once the
// password is known to be right.
func (s *SSO) CheckPasswordSignIn(ctx context.Context, u domain.User) error {
	if !u.Managed || u.OrganizationSid == "" {
		return nil
	}
	prov, err := s.store.FindSSOProvider(ctx, u.OrganizationSid)
	if domain.ErrorCode(err) == domain.CodeSSONotConfigured {
		return nil
	}
	if err != nil {
		return err
	}
	return prov.CheckPasswordSignIn(u)
}

// SSOBegin asks to sign in through an organization's provider, named by a
// person's email (its domain is verified by the organization) or by the
// organization's SID.
type SSOBegin struct {
	Email           string
	OrganizationSid string
	// Next is where to go once signed in (kept in the flow).
	Next string
}

// SSOStarted is a sign-in sent to the provider: the browser goes to
// AuthURL; Flow stays in the browser's session for the callback.
type SSOStarted struct {
	AuthURL string
	Flow    domain.SSOFlow
}

// errNoSSO is the answer for an email or organization without a provider.
func errNoSSO(what string) error {
	return domain.Errorf(domain.ENotFound, domain.CodeSSONotConfigured, "%s does not sign in with single sign-on: sign in with your password", what)
}

// Begin starts a sign-in: it finds the organization and its provider,
// makes a fresh state, nonce and PKCE verifier, and returns the provider's
// authorization URL (25460 when there is no provider, 25011 for a
// malformed email, 20503 when the provider cannot be reached).
func (s *SSO) Begin(ctx context.Context, b SSOBegin) (SSOStarted, error) {
	orgSid := b.OrganizationSid
	switch {
	case strings.TrimSpace(b.Email) != "":
		email, err := domain.NormalizeEmail("email", b.Email)
		if err != nil {
			return SSOStarted{}, err
		}
		d, err := s.store.FindVerifiedDomain(ctx, domain.EmailDomain(email))
		if domain.ErrorCode(err) == domain.CodeDomainNotFound {
			return SSOStarted{}, errNoSSO(domain.EmailDomain(email))
		}
		if err != nil {
			return SSOStarted{}, err
		}
		orgSid = d.OrganizationSid
	case orgSid != "":
		if err := domain.CheckSID("organization", domain.PrefixOrganization, orgSid); err != nil {
			return SSOStarted{}, err
		}
	default:
		return SSOStarted{}, domain.Errorf(domain.EInvalid, domain.CodeInvalidEmail, "email is required: the address you sign in with")
	}
	prov, err := s.store.FindSSOProvider(ctx, orgSid)
	if domain.ErrorCode(err) == domain.CodeSSONotConfigured {
		what := "this organization"
		if b.Email != "" {
			what = domain.EmailDomain(strings.ToLower(strings.TrimSpace(b.Email)))
		}
		return SSOStarted{}, errNoSSO(what)
	}
	if err != nil {
		return SSOStarted{}, err
	}
	op, err := s.provider(ctx, prov.Issuer)
	if err != nil {
		return SSOStarted{}, err
	}
	flow := domain.SSOFlow{
		OrganizationSid: orgSid, State: domain.NewSecret(32), Nonce: domain.NewSecret(32), Verifier: oauth2.GenerateVerifier(),
		ExpiresAt: s.clock.Now().Add(domain.SSOFlowTTL), Next: b.Next,
	}
	url := oauthConfig(op.provider, prov, s.redirectURL).AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	return SSOStarted{AuthURL: url, Flow: flow}, nil
}

func oauthConfig(op *oidc.Provider, prov domain.SSOProvider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: prov.ClientID, ClientSecret: prov.ClientSecret.Reveal(), Endpoint: op.Endpoint(),
		RedirectURL: redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// provider returns the issuer's discovered provider, fetched again after
// providerTTL.
func (s *SSO) provider(ctx context.Context, issuer string) (cachedProvider, error) {
	s.mu.Lock()
	c, ok := s.providers[issuer]
	s.mu.Unlock()
	if ok && s.clock.Now().Sub(c.fetched) < providerTTL {
		return c, nil
	}
	op, err := oidc.NewProvider(oidc.ClientContext(ctx, s.client), issuer)
	if err != nil {
		s.log.WarnContext(ctx, "discovering an identity provider", "issuer", issuer, "error", err)
		return cachedProvider{}, domain.Errorf(domain.EUnavailable, domain.CodeUnavailable, "the organization's identity provider %s cannot be reached: try again later", issuer)
	}
	c = cachedProvider{provider: op, verifier: map[string]*oidc.IDTokenVerifier{}, fetched: s.clock.Now()}
	s.mu.Lock()
	s.providers[issuer] = c
	s.mu.Unlock()
	return c, nil
}

// idTokenVerifier checks ID tokens of the provider for one client:
// signature (the provider's published keys), issuer, audience and expiry.
func (s *SSO) idTokenVerifier(c cachedProvider, clientID string) *oidc.IDTokenVerifier {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := c.verifier[clientID]
	if !ok {
		v = c.provider.VerifierContext(oidc.ClientContext(context.Background(), s.client), &oidc.Config{ClientID: clientID, Now: s.clock.Now})
		c.verifier[clientID] = v
	}
	return v
}

// SSOCallback is the provider sending the browser back.
type SSOCallback struct {
	// Flow is the sign-in the browser's session held, taken out of it
	// (single use); nil when it held none.
	Flow *domain.SSOFlow
	// State, Code and Error are the callback's query.
	State, Code, Error string
	// Client is who called, for the audit trail (no user yet).
	Client domain.Actor
}

// Complete finishes a sign-in: the state must be the flow's and the flow
// current; the code is exchanged with the PKCE verifier; the ID token must
// verify (signature, issuer, audience, expiry) and carry the flow's nonce;
// its email must be verified by the provider, on a verified domain of the
// organization, and belong to an active managed user, who is returned.
// Every refusal (25463, 25464) is an sso.sign_in_failed event.
func (s *SSO) Complete(ctx context.Context, cb SSOCallback) (domain.User, error) {
	if cb.Flow == nil {
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonNoFlow, "", domain.User{})
	}
	f := *cb.Flow
	if reason := f.CheckState(cb.State, s.clock.Now()); reason != "" {
		return domain.User{}, s.fail(ctx, cb, reason, "", domain.User{})
	}
	if cb.Error != "" || cb.Code == "" {
		s.log.InfoContext(ctx, "the identity provider refused a sign-in", "request_id", cb.Client.RequestID, "OrganizationSid", f.OrganizationSid,
			"provider_error", truncateText(cb.Error, 64))
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonProviderError, "", domain.User{})
	}
	prov, err := s.store.FindSSOProvider(ctx, f.OrganizationSid)
	if err != nil {
		return domain.User{}, err
	}
	op, err := s.provider(ctx, prov.Issuer)
	if err != nil {
		return domain.User{}, err
	}
	hc := oidc.ClientContext(ctx, s.client)
	tok, err := oauthConfig(op.provider, prov, s.redirectURL).Exchange(hc, cb.Code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		// The error may quote the provider's answer: log its kind only.
		code := "transport"
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			code = truncateText(re.ErrorCode, 64)
		}
		s.log.WarnContext(ctx, "exchanging an SSO code", "request_id", cb.Client.RequestID, "OrganizationSid", f.OrganizationSid, "provider_error", code)
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonExchange, "", domain.User{})
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonToken, "", domain.User{})
	}
	idt, err := s.idTokenVerifier(op, prov.ClientID).Verify(hc, raw)
	if err != nil {
		s.log.InfoContext(ctx, "refusing an ID token", "request_id", cb.Client.RequestID, "OrganizationSid", f.OrganizationSid, "error", err)
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonToken, "", domain.User{})
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonNonce, "", domain.User{})
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonToken, "", domain.User{})
	}
	id := domain.SSOIdentity{Subject: idt.Subject, EmailVerified: claims.EmailVerified == true || claims.EmailVerified == "true"}
	email, err := domain.NormalizeEmail("email", claims.Email)
	if err != nil {
		return domain.User{}, s.fail(ctx, cb, domain.SSOReasonUnknownUser, "", domain.User{})
	}
	id.Email = email
	verified, err := s.store.IsVerifiedDomain(ctx, f.OrganizationSid, domain.EmailDomain(email))
	if err != nil {
		return domain.User{}, err
	}
	u, err := s.store.FindUserByEmail(ctx, f.OrganizationSid, email)
	found := err == nil
	if err != nil && domain.ErrorCode(err) != domain.CodeUserNotFound {
		return domain.User{}, err
	}
	if reason := domain.SSOUser(f.OrganizationSid, id, verified, u, found); reason != "" {
		if !found {
			u = domain.User{}
		}
		return domain.User{}, s.fail(ctx, cb, reason, email, u)
	}
	return u, nil
}

// fail records an sso.sign_in_failed event (when the organization is
// known) and returns the refusal for reason.
func (s *SSO) fail(ctx context.Context, cb SSOCallback, reason, email string, u domain.User) error {
	refusal := domain.SSOFailure(reason)
	if cb.Flow == nil {
		s.log.InfoContext(ctx, "an SSO callback without a sign-in under way", "request_id", cb.Client.RequestID)
		return refusal
	}
	actor := cb.Client
	actor.UserSid = u.Sid
	resource := cb.Flow.OrganizationSid
	if u.Sid != "" {
		resource = u.Sid
	}
	changes := map[string]any{"reason": reason}
	if email != "" {
		changes["email"] = email
	}
	if err := s.store.RecordSSOEvent(ctx, domain.NewAuditEvent(actor, cb.Flow.OrganizationSid, domain.EventSSOSignInFailed, resource, changes)); err != nil {
		return err
	}
	return refusal
}

// truncateText cuts a value from outside (a provider's error code) to n
// bytes for a log line.
func truncateText(v string, n int) string {
	if len(v) <= n {
		return v
	}
	return v[:n]
}
