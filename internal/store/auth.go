package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errBadCredentials = domain.Errorf(domain.EUnauthenticated, domain.CodeUnauthenticated, "authentication failed: unknown or expired credentials")

// CreateCredential implements domain.AuthStore.
func (s *Store) CreateCredential(ctx context.Context, c domain.Credential, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r := credentialRow{Sid: c.Sid, OrganizationSid: c.OrganizationSid, UserSid: c.UserSid, FriendlyName: c.FriendlyName, SecretHash: c.SecretHash,
			AccountSid: nullable(c.AccountSid), DateCreated: s.now()}
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
	c := domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, FriendlyName: r.FriendlyName, SecretHash: r.SecretHash,
		AccountSid: r.AccountSid.String, DateCreated: r.DateCreated.UTC(), Personal: r.Personal}
	if r.DateLastUsed.Valid {
		c.DateLastUsed = r.DateLastUsed.Time.UTC()
	}
	return c, translate(err, errBadCredentials, nil)
}

// CreateAccessToken implements domain.AuthStore. Expired tokens are swept
// on the way, and the credential's oldest live tokens beyond
// domain.MaxLiveTokensPerCredential are deleted: a client asking for a
// token per call does not grow the table.
func (s *Store) CreateAccessToken(ctx context.Context, t domain.AccessToken) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ?", s.now()).Delete(&accessTokenRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		r := accessTokenRow{TokenHash: t.TokenHash, CredentialSid: t.CredentialSid, ExpiresAt: t.ExpiresAt.UTC(), DateCreated: s.now()}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, nil)
		}
		var keep []string
		if err := tx.Model(&accessTokenRow{}).Where("credential_sid = ?", t.CredentialSid).
			Order("expires_at DESC, token_hash DESC").Limit(domain.MaxLiveTokensPerCredential).Pluck("token_hash", &keep).Error; err != nil {
			return translate(err, nil, nil)
		}
		err := tx.Where("credential_sid = ? AND token_hash NOT IN ?", t.CredentialSid, keep).Delete(&accessTokenRow{}).Error
		return translate(err, nil, nil)
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
	AccountSid      sql.NullString
	Personal        bool
	DateLastUsed    *time.Time
	AccountStatus   sql.NullString
	ParentStatus    sql.NullString
}

// split returns the credential and its user. A credential scoped to an
// account that is not active (or whose parent is not) is refused with
// 20005: the cut-off of a closing account, seen on the very next call.
func (r principalRow) split() (domain.Credential, domain.User, error) {
	var err error
	if r.AccountSid.Valid {
		err = domain.CheckCredentialAccount(r.AccountStatus.String, r.ParentStatus.String)
	}
	c := domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, SecretHash: r.SecretHash, AccountSid: r.AccountSid.String,
		Personal: r.Personal}
	if r.DateLastUsed != nil {
		c.DateLastUsed = r.DateLastUsed.UTC()
	}
	return c,
		domain.User{Sid: r.UserSid, OrganizationSid: r.OrganizationSid, OrgRole: domain.OrgRole(r.OrgRole), Active: r.Active, Managed: true}, err
}

const principalColumns = "c.sid, c.organization_sid, c.user_sid, c.secret_hash, u.org_role, u.active, c.account_sid, c.personal, c.date_last_used, a.status AS account_status, p.status AS parent_status"

// principalJoins adds the user, the credential's account and its parent, if
// any. An organization credential acts as one of its users; an account
// credential may act as the account's outside owner (the auth token of a
// shared account); a personal key acts as its person, who may be an
// outside user (of no organization) acting in the organization the key
// was made in.
const principalJoins = " JOIN users u ON u.sid = c.user_sid AND (u.organization_sid = c.organization_sid OR c.account_sid IS NOT NULL" +
	" OR (c.personal AND u.organization_sid IS NULL))" +
	" LEFT JOIN accounts a ON a.sid = c.account_sid LEFT JOIN accounts p ON p.sid = a.parent_sid"

// CredentialPrincipal implements domain.AuthStore: the credential and the
// user it acts as, in one query (this runs on every request).
func (s *Store) CredentialPrincipal(ctx context.Context, sid string) (domain.Credential, domain.User, error) {
	var r principalRow
	err := s.db.WithContext(ctx).Raw("SELECT "+principalColumns+" FROM credentials c"+principalJoins+" WHERE c.sid = ?", sid).Scan(&r).Error
	if err == nil && r.Sid == "" {
		err = errBadCredentials
	}
	if err != nil {
		return domain.Credential{}, domain.User{}, translate(err, errBadCredentials, nil)
	}
	return r.split()
}

// TokenPrincipal implements domain.AuthStore: the credential behind an
// unexpired bearer token and its user, in one query.
func (s *Store) TokenPrincipal(ctx context.Context, hash string, now time.Time) (domain.Credential, domain.User, error) {
	var r principalRow
	err := s.db.WithContext(ctx).Raw("SELECT "+principalColumns+", t.expires_at FROM access_tokens t"+
		" JOIN credentials c ON c.sid = t.credential_sid"+principalJoins+" WHERE t.token_hash = ?", hash).Scan(&r).Error
	if err == nil && (r.Sid == "" || r.ExpiresAt == nil || !now.Before(*r.ExpiresAt)) {
		err = errBadCredentials
	}
	if err != nil {
		return domain.Credential{}, domain.User{}, translate(err, errBadCredentials, nil)
	}
	return r.split()
}

// ListAccountCredentials implements domain.AuthStore.
func (s *Store) ListAccountCredentials(ctx context.Context, orgSid, accountSid string) ([]domain.Credential, error) {
	var rows []credentialRow
	if err := s.db.WithContext(ctx).Where("organization_sid = ? AND account_sid = ?", orgSid, accountSid).Order("date_created ASC, sid ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Credential, len(rows))
	for i, r := range rows {
		out[i] = domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, FriendlyName: r.FriendlyName,
			AccountSid: r.AccountSid.String, DateCreated: r.DateCreated.UTC()}
	}
	return out, nil
}

// RevokeAccountCredential implements domain.AuthStore.
func (s *Store) RevokeAccountCredential(ctx context.Context, orgSid, accountSid, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("credential_sid IN (SELECT sid FROM credentials WHERE sid = ? AND organization_sid = ? AND account_sid = ?)", sid, orgSid, accountSid).
			Delete(&accessTokenRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		res := tx.Where("sid = ? AND organization_sid = ? AND account_sid = ?", sid, orgSid, accountSid).Delete(&credentialRow{})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			return domain.Errorf(domain.ENotFound, 20404, "the account has no credential %s", sid)
		}
		return s.audit(tx, ev)
	})
}
