// Package lifecycle holds orgaccounts' use cases: one service per
// lifecycle (accounts, invitations, account requests, closure, domains,
// people, sign-up, confirmation links). Each method takes the caller
// (domain.Principal) and a command, applies the rules, starts or updates
// the lifecycle's workflow through the Engine port, and returns a domain
// result or a domain error. Every edge (the JSON API, SCIM, the browser
// pages) calls these and nothing below them, so no rule lives in a
// handler.
//
// Each service depends on the narrow ports it uses; the engine ports are
// implemented by package workflows, the store ports by package store.
package lifecycle

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Engine is everything the services ask of the workflow engine: the union
// of each service's own port.
type Engine interface {
	AccountEngine
	InvitationEngine
	ConfirmationEngine
	RequestEngine
	ClosureEngine
	DomainEngine
	NoticeEngine
	PasswordLinkEngine
}

// Deps are the services' dependencies.
type Deps struct {
	Store  domain.Store
	Engine Engine
	Clock  domain.Clock
	Log    *slog.Logger
	// TokenTTL is the lifetime of bearer tokens.
	TokenTTL time.Duration
	// RequestTTL is how long an account's owner has to answer an import
	// or share request.
	RequestTTL time.Duration
	// Retention is how long a closed account is kept before its purge.
	Retention time.Duration
	// SignUpsPerHour limits sign-ups per client address.
	SignUpsPerHour int
	// BaseURL is the public base URL: passkeys are bound to its host,
	// SSO's redirect URI is under it.
	BaseURL string
	// SignInFailures failed sign-ins for an email or from an address
	// within SignInWindow lock it out for the rest of the window.
	SignInFailures int
	SignInWindow   time.Duration
}

// Services are the use cases, one service per lifecycle.
type Services struct {
	Organizations *Organizations
	Auth          *Auth
	Accounts      *Accounts
	Invitations   *Invitations
	Requests      *Requests
	Closure       *Closure
	Domains       *Domains
	People        *People
	Directory     *Directory
	SignUp        *SignUp
	Confirmations *Confirmations
	TwoFactor     *TwoFactor
	SSO           *SSO
	SignIn        *SignIn
	Keys          *Keys

	access access
}

// New builds the services.
func New(d Deps) *Services {
	if d.Clock == nil {
		d.Clock = domain.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.TokenTTL <= 0 {
		d.TokenTTL = time.Hour
	}
	if d.RequestTTL <= 0 {
		d.RequestTTL = domain.DefaultRequestTTL
	}
	if d.Retention <= 0 {
		d.Retention = domain.DefaultRetention
	}
	if d.SignUpsPerHour <= 0 {
		d.SignUpsPerHour = 20
	}
	if d.SignInFailures <= 0 {
		d.SignInFailures = 10
	}
	if d.SignInWindow <= 0 {
		d.SignInWindow = 15 * time.Minute
	}
	if d.BaseURL == "" {
		d.BaseURL = "http://localhost"
	}
	twoFactor, err := newTwoFactor(d.Store, d.Clock, d.BaseURL)
	if err != nil {
		panic(err) // the configuration checks the base URL first
	}
	acc := access{store: d.Store}
	signIn := &SignIn{store: d.Store, links: d.Engine, clock: d.Clock, log: d.Log}
	signIn.byEmail, signIn.byAddress = newSignInThrottles(d.Clock, d.SignInFailures, d.SignInWindow)
	signIn.sso = newSSO(d.Store, d.Clock, d.Log, strings.TrimRight(d.BaseURL, "/")+domain.SSOCallbackPath)
	return &Services{
		TwoFactor:     twoFactor,
		SignIn:        signIn,
		access:        acc,
		Organizations: &Organizations{store: d.Store},
		Auth:          newAuthService(d.Store, d.Clock, d.Log, d.TokenTTL),
		Keys:          &Keys{store: d.Store, clock: d.Clock},
		Accounts:      &Accounts{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock, log: d.Log},
		Invitations:   &Invitations{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock},
		Requests:      &Requests{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock, ttl: d.RequestTTL},
		Closure:       &Closure{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock, retention: d.Retention},
		Domains:       &Domains{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock, log: d.Log},
		People:        &People{access: acc, store: d.Store, engine: d.Engine, clock: d.Clock, log: d.Log},
		Directory:     &Directory{store: d.Store, clock: d.Clock, passwords: signIn, log: d.Log},
		SignUp:        &SignUp{store: d.Store, notices: d.Engine, clock: d.Clock, log: d.Log, limiter: newRateLimiter(d.SignUpsPerHour, time.Hour, d.Clock)},
		Confirmations: &Confirmations{store: d.Store, engine: d.Engine, clock: d.Clock, passwords: signIn, log: d.Log},
		SSO:           signIn.sso,
	}
}

// sidSeed lets a use case derive the SIDs it mints from the request's
// Idempotency-Key, so a retry after a crash makes the same resource, not
// a twin.
type sidSeed struct {
	created time.Time
	hash    []byte
}

type sidSeedKey struct{}

// WithSIDSeed returns a context in which new SIDs derive from the
// idempotency key's hash and the time it was first seen.
func WithSIDSeed(ctx context.Context, created time.Time, hash []byte) context.Context {
	return context.WithValue(ctx, sidSeedKey{}, sidSeed{created: created, hash: hash})
}

// newSID makes the SID of a resource a command creates: derived from the
// request's idempotency key when there is one, random otherwise.
func newSID(ctx context.Context, clock domain.Clock, prefix string) string {
	if seed, ok := ctx.Value(sidSeedKey{}).(sidSeed); ok {
		return domain.NewSIDFrom(prefix, seed.created, bytes.NewReader(seed.hash))
	}
	return domain.NewSID(prefix, clock.Now())
}

// NewSID mints a SID as the use cases do: derived from the request's
// idempotency key when the context carries one (WithSIDSeed). The edge's
// tests use it to see that the seed reaches the services.
func NewSID(ctx context.Context, clock domain.Clock, prefix string) string {
	return newSID(ctx, clock, prefix)
}

// accessStore is what deciding who may do what on an account reads.
type accessStore interface {
	FindAccount(ctx context.Context, orgSid, sid string) (domain.Account, error)
	RolesOn(ctx context.Context, scope, identity string) ([]string, error)
	FindOrganization(ctx context.Context, sid string) (domain.Organization, error)
	FindPerson(ctx context.Context, sid string) (domain.User, error)
}

// access loads accounts for a caller and applies the role rules.
type access struct{ store accessStore }

// errAccountNotFound is how an account the caller may not see answers.
func errAccountNotFound() error {
	return domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")
}

// account loads an account of the caller's organization and checks the
// caller may perform action on it. Accounts still being provisioned do
// not exist yet; a credential scoped to an account reaches only that one;
// a person without a second factor does not reach an account that
// requires two-factor authentication (Principal.CheckTwoFactor).
func (a access) account(ctx context.Context, p domain.Principal, sid string, action domain.AccountAction) (domain.Account, error) {
	if err := domain.CheckSID("account", domain.PrefixAccount, sid); err != nil {
		return domain.Account{}, err
	}
	acct, err := a.store.FindAccount(ctx, p.OrganizationSid, sid)
	if err == nil && acct.Status == domain.AccountProvisioning {
		err = errAccountNotFound()
	}
	if err != nil {
		return acct, err
	}
	if p.AccountSid != "" {
		if p.AccountSid != sid {
			return acct, errAccountNotFound()
		}
		return acct, nil
	}
	roles, err := a.rolesOf(ctx, p, sid)
	if err != nil {
		return acct, err
	}
	if err := p.AuthorizeAccount(action, roles); err != nil {
		return acct, err
	}
	return acct, a.twoFactor(ctx, p, acct)
}

// twoFactor applies Principal.CheckTwoFactor to a caller opening acct,
// loading the organization and the person only when the rule may refuse.
func (a access) twoFactor(ctx context.Context, p domain.Principal, acct domain.Account) error {
	if !p.IsPerson() {
		return nil
	}
	org, err := a.store.FindOrganization(ctx, acct.OrganizationSid)
	if err != nil || !domain.TwoFactorRequired(org, acct) {
		return err
	}
	person, err := a.store.FindPerson(ctx, p.UserSid)
	if err != nil {
		return err
	}
	return p.CheckTwoFactor(org, acct, person)
}

// rolesOf returns the caller's roles on an account (none needed for an
// organization Owner or Administrator).
func (a access) rolesOf(ctx context.Context, p domain.Principal, scope string) ([]string, error) {
	if p.IsOrgAdmin() {
		return nil, nil
	}
	return a.store.RolesOn(ctx, scope, p.UserSid)
}

// page reads one keyset page through list and tells whether there is
// more.
func page[T any](req domain.PageRequest, list func() ([]T, error)) (domain.Page[T], error) {
	items, err := list()
	if err != nil {
		return domain.Page[T]{}, err
	}
	return domain.PageFrom(req, items), nil
}

// Access loads an account for the caller under the role rules (for the
// edges that have not moved all their use cases onto a service yet).
func (s *Services) Access(ctx context.Context, p domain.Principal, sid string, action domain.AccountAction) (domain.Account, error) {
	return s.access.account(ctx, p, sid, action)
}
