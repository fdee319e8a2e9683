package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errBadCredentials = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "authentication failed: unknown or expired credentials")

// CreateCredential implements domain.AuthStore.
func (s *Store) CreateCredential(ctx context.Context, c domain.Credential, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r := credentialRow{Sid: c.Sid, OrganizationSid: c.OrganizationSid, UserSid: c.UserSid, FriendlyName: c.FriendlyName, SecretHash: c.SecretHash, DateCreated: s.now()}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// FindCredential implements domain.AuthStore.
func (s *Store) FindCredential(ctx context.Context, sid string) (domain.Credential, error) {
	var r credentialRow
	err := s.db.WithContext(ctx).Where("sid = ?", sid).Take(&r).Error
	return domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, FriendlyName: r.FriendlyName, SecretHash: r.SecretHash, DateCreated: r.DateCreated.UTC()},
		translate(err, errBadCredentials, nil)
}

// CreateAccessToken implements domain.AuthStore. Expired tokens are swept
// on the way.
func (s *Store) CreateAccessToken(ctx context.Context, t domain.AccessToken) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", s.now().Add(-time.Hour)).Delete(&accessTokenRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		r := accessTokenRow{TokenHash: t.TokenHash, CredentialSid: t.CredentialSid, ExpiresAt: t.ExpiresAt.UTC(), DateCreated: s.now()}
		return translate(tx.Create(&r).Error, nil, nil)
	})
}

// FindAccessToken implements domain.AuthStore.
func (s *Store) FindAccessToken(ctx context.Context, hash string, now time.Time) (domain.AccessToken, error) {
	var r accessTokenRow
	if err := s.db.WithContext(ctx).Where("token_hash = ?", hash).Take(&r).Error; err != nil {
		return domain.AccessToken{}, translate(err, errBadCredentials, nil)
	}
	if !now.Before(r.ExpiresAt) {
		return domain.AccessToken{}, errBadCredentials
	}
	return domain.AccessToken{TokenHash: r.TokenHash, CredentialSid: r.CredentialSid, ExpiresAt: r.ExpiresAt.UTC(), DateCreated: r.DateCreated.UTC()}, nil
}

type principalRow struct {
	Sid             string
	OrganizationSid string
	UserSid         string
	SecretHash      string
	OrgRole         string
	Active          bool
	ExpiresAt       *time.Time
}

func (r principalRow) split() (domain.Credential, domain.User) {
	return domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, SecretHash: r.SecretHash},
		domain.User{Sid: r.UserSid, OrganizationSid: r.OrganizationSid, OrgRole: domain.OrgRole(r.OrgRole), Active: r.Active, Managed: true}
}

const principalColumns = "c.sid, c.organization_sid, c.user_sid, c.secret_hash, u.org_role, u.active"

// CredentialPrincipal implements domain.AuthStore: the credential and the
// user it acts as, in one query (this runs on every request).
func (s *Store) CredentialPrincipal(ctx context.Context, sid string) (domain.Credential, domain.User, error) {
	var r principalRow
	err := s.db.WithContext(ctx).Raw("SELECT "+principalColumns+
		" FROM credentials c JOIN users u ON u.sid = c.user_sid AND u.organization_sid = c.organization_sid WHERE c.sid = ?", sid).Scan(&r).Error
	if err == nil && r.Sid == "" {
		err = errBadCredentials
	}
	cred, u := r.split()
	return cred, u, translate(err, errBadCredentials, nil)
}

// TokenPrincipal implements domain.AuthStore: the credential behind an
// unexpired bearer token and its user, in one query.
func (s *Store) TokenPrincipal(ctx context.Context, hash string, now time.Time) (domain.Credential, domain.User, error) {
	var r principalRow
	err := s.db.WithContext(ctx).Raw("SELECT "+principalColumns+", t.expires_at FROM access_tokens t"+
		" JOIN credentials c ON c.sid = t.credential_sid JOIN users u ON u.sid = c.user_sid AND u.organization_sid = c.organization_sid"+
		" WHERE t.token_hash = ?", hash).Scan(&r).Error
	if err == nil && (r.Sid == "" || r.ExpiresAt == nil || !now.Before(*r.ExpiresAt)) {
		err = errBadCredentials
	}
	cred, u := r.split()
	return cred, u, translate(err, errBadCredentials, nil)
}
