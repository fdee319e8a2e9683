package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errSSONotConfigured = domain.Errorf(domain.ENotFound, domain.CodeSSONotConfigured, "the organization has no single sign-on provider")

type ssoProviderRow struct {
	OrganizationSid string `gorm:"primaryKey"`
	Issuer          string
	ClientID        string `gorm:"column:client_id"`
	ClientSecret    string
	Required        bool
	DateCreated     time.Time
	DateUpdated     time.Time
}

func (ssoProviderRow) TableName() string { return "sso_providers" }

func (r ssoProviderRow) domain() domain.SSOProvider {
	return domain.SSOProvider{
		OrganizationSid: r.OrganizationSid, Issuer: r.Issuer, ClientID: r.ClientID, ClientSecret: domain.Secret(r.ClientSecret),
		Required: r.Required, DateCreated: r.DateCreated.UTC(), DateUpdated: r.DateUpdated.UTC(),
	}
}

// FindSSOProvider implements domain.SSOStore.
func (s *Store) FindSSOProvider(ctx context.Context, orgSid string) (domain.SSOProvider, error) {
	var r ssoProviderRow
	err := s.db.WithContext(ctx).Where("organization_sid = ?", orgSid).Take(&r).Error
	return r.domain(), translate(err, errSSONotConfigured, nil)
}

// PutSSOProvider implements domain.SSOStore.
func (s *Store) PutSSOProvider(ctx context.Context, orgSid string, set domain.SSOSettings, ev domain.AuditEvent) (domain.SSOProvider, error) {
	var out domain.SSOProvider
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur ssoProviderRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.Where("organization_sid = ?", orgSid).Take(&cur).Error
		exists := err == nil
		if err != nil && !isNotFound(err) {
			return translate(err, nil, nil)
		}
		if err := set.Validate(exists && cur.ClientSecret != ""); err != nil {
			return err
		}
		now := s.now()
		r := ssoProviderRow{
			OrganizationSid: orgSid, Issuer: set.Issuer, ClientID: set.ClientID, ClientSecret: set.ClientSecret.Reveal(),
			Required: set.Required, DateCreated: now, DateUpdated: now,
		}
		if exists {
			r.DateCreated = cur.DateCreated
			if r.ClientSecret == "" {
				r.ClientSecret = cur.ClientSecret
			}
			err = tx.Model(&ssoProviderRow{}).Where("organization_sid = ?", orgSid).Updates(map[string]any{
				"issuer": r.Issuer, "client_id": r.ClientID, "client_secret": r.ClientSecret, "required": r.Required, "date_updated": now,
			}).Error
		} else {
			err = tx.Create(&r).Error
		}
		if err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the single sign-on settings changed meanwhile"))
		}
		out = r.domain()
		return s.audit(tx, ev)
	})
	return out, err
}

// DeleteSSOProvider implements domain.SSOStore.
func (s *Store) DeleteSSOProvider(ctx context.Context, orgSid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("organization_sid = ?", orgSid).Delete(&ssoProviderRow{})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected == 0 {
			return errSSONotConfigured
		}
		return s.audit(tx, ev)
	})
}

// RecordSSOEvent implements domain.SSOStore.
func (s *Store) RecordSSOEvent(ctx context.Context, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return s.audit(tx, ev) })
}
