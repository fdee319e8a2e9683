package lifecycle

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// keyStore is what managing API keys and credentials reads and writes.
type keyStore interface {
	CreateKey(ctx context.Context, c domain.Credential, ev domain.AuditEvent) error
	ListCredentials(ctx context.Context, f domain.CredentialFilter) ([]domain.Credential, error)
	RevokeCredential(ctx context.Context, orgSid, userSid, sid string, ev domain.AuditEvent) error
}

// Keys are people's API keys, and the management of every credential of
// an organization: its Owners and Administrators list and revoke them all
// (the bootstrap credential and account-scoped ones included); anyone else
// only those acting as themselves.
type Keys struct {
	store keyStore
	clock domain.Clock
}

// IssuedKey is a new API key and its secret, which exists only in this
// answer (its hash is kept).
type IssuedKey struct {
	Key    domain.Credential
	Secret string
}

// Create issues an API key acting as the caller, with the caller's roles
// (25105 when the caller authenticated with a key or an account
// credential; 25106 for a bad friendly name).
func (s *Keys) Create(ctx context.Context, p domain.Principal, friendlyName string) (IssuedKey, error) {
	if err := p.CanCreateKey(); err != nil {
		return IssuedKey{}, err
	}
	if friendlyName != "" {
		if err := domain.ValidateFriendlyName("friendly_name", friendlyName); err != nil {
			return IssuedKey{}, err
		}
	}
	secret := domain.NewSecret(32)
	key := domain.Credential{Sid: newSID(ctx, s.clock, domain.PrefixCredential), OrganizationSid: p.OrganizationSid, UserSid: p.UserSid,
		FriendlyName: friendlyName, SecretHash: domain.HashSecret(secret), Personal: true, DateCreated: s.clock.Now().UTC()}
	ev := domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventKeyCreated, key.Sid,
		map[string]any{"friendly_name": friendlyName, "user_agent": p.UserAgent, "via": string(p.Via)})
	if err := s.store.CreateKey(ctx, key, ev); err != nil {
		return IssuedKey{}, err
	}
	return IssuedKey{Key: key, Secret: secret}, nil
}

// List returns a page of the credentials the caller may manage, by SID.
func (s *Keys) List(ctx context.Context, p domain.Principal, req domain.PageRequest) (domain.Page[domain.Credential], error) {
	return page(req, func() ([]domain.Credential, error) {
		return s.store.ListCredentials(ctx, domain.CredentialFilter{OrganizationSid: p.OrganizationSid, UserSid: p.CredentialScope(), Page: req})
	})
}

// Revoke deletes a credential the caller may manage: it stops working at
// once, its bearer tokens included (20404 when there is none the caller
// may manage, so another user's keys are not told apart from missing
// ones).
func (s *Keys) Revoke(ctx context.Context, p domain.Principal, sid string) error {
	if err := domain.CheckSID("key", domain.PrefixCredential, sid); err != nil {
		return err
	}
	return s.store.RevokeCredential(ctx, p.OrganizationSid, p.CredentialScope(), sid,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventKeyRevoked, sid, map[string]any{"user_agent": p.UserAgent, "via": string(p.Via)}))
}
