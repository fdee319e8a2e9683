package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// credentialListRow is a credential as an organization's list shows it.
type credentialListRow struct {
	Sid             string
	OrganizationSid string
	UserSid         string
	FriendlyName    string
	AccountSid      sql.NullString
	Personal        bool
	DateCreated     time.Time
	DateLastUsed    sql.NullTime
}

func (r credentialListRow) domain() domain.Credential {
	c := domain.Credential{Sid: r.Sid, OrganizationSid: r.OrganizationSid, UserSid: r.UserSid, FriendlyName: r.FriendlyName,
		AccountSid: r.AccountSid.String, Personal: r.Personal, DateCreated: r.DateCreated.UTC()}
	if r.DateLastUsed.Valid {
		c.DateLastUsed = r.DateLastUsed.Time.UTC()
	}
	return c
}

// CreateKey stores a person's API key and its audit event.
func (s *Store) CreateKey(ctx context.Context, c domain.Credential, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&credentialRow{Sid: c.Sid, OrganizationSid: c.OrganizationSid, UserSid: c.UserSid, FriendlyName: c.FriendlyName,
			SecretHash: c.SecretHash, Personal: true, DateCreated: s.now()}).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// ListCredentials returns one keyset page (by SID) of the organization's
// credentials of every kind, those acting as f.UserSid only when it is set.
func (s *Store) ListCredentials(ctx context.Context, f domain.CredentialFilter) ([]domain.Credential, error) {
	q := s.db.WithContext(ctx).Table("credentials").
		Select("sid, organization_sid, user_sid, friendly_name, account_sid, personal, date_created, date_last_used").
		Where("organization_sid = ?", f.OrganizationSid)
	if f.UserSid != "" {
		q = q.Where("user_sid = ?", f.UserSid)
	}
	var rows []credentialListRow
	if err := keyset(q, "sid", f.Page).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Credential, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RevokeCredential deletes one of the organization's credentials (one
// acting as userSid, when set) with its bearer tokens, so it stops working
// at once; 20404 when there is no such credential.
func (s *Store) RevokeCredential(ctx context.Context, orgSid, userSid, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&credentialRow{}).Where("sid = ? AND organization_sid = ?", sid, orgSid)
		if userSid != "" {
			q = q.Where("user_sid = ?", userSid)
		}
		var r credentialRow
		if err := q.Take(&r).Error; err != nil {
			return translate(err, domain.Errorf(domain.ENotFound, 20404, "the organization has no credential %s", sid), nil)
		}
		if err := tx.Where("credential_sid = ?", sid).Delete(&accessTokenRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := tx.Where("sid = ?", sid).Delete(&credentialRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// TouchCredential records a use of the credential at `at`, unless one
// within domain.LastUsedGranularity is recorded already.
func (s *Store) TouchCredential(ctx context.Context, sid string, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Model(&credentialRow{}).
		Where("sid = ? AND (date_last_used IS NULL OR date_last_used <= ?)", sid, at.Add(-domain.LastUsedGranularity)).
		Update("date_last_used", at).Error
	return translate(err, nil, nil)
}
