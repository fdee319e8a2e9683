package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errDomainNotFound = domain.Errorf(domain.ENotFound, domain.CodeDomainNotFound, "domain not found in this organization")

func (r domainRow) domain() domain.VerifiedDomain {
	return domain.VerifiedDomain{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid, DomainName: r.DomainName, Status: r.Status,
		VerificationToken: r.VerificationToken, DateCreated: r.DateCreated.UTC(), DateVerified: utcPtr(r.DateVerified),
		LastCheckedAt: utcPtr(r.LastCheckedAt), MissingSince: utcPtr(r.MissingSince), RemoveAfter: utcPtr(r.RemoveAfter),
	}
}

// micro keeps a time at the precision PostgreSQL stores.
func micro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// CreateDomain implements domain.DomainStore.
func (s *Store) CreateDomain(ctx context.Context, d domain.VerifiedDomain, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r := domainRow{
			Sid: d.Sid, OrganizationSid: d.OrganizationSid, DomainName: d.DomainName, Status: domain.DomainPending,
			VerificationToken: d.VerificationToken, DateCreated: s.now(),
		}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the organization already has %s", d.DomainName))
		}
		return s.audit(tx, ev)
	})
}

// FindDomain implements domain.DomainStore.
func (s *Store) FindDomain(ctx context.Context, orgSid, sid string) (domain.VerifiedDomain, error) {
	var r domainRow
	q := s.db.WithContext(ctx).Where("sid = ?", sid)
	if orgSid != "" {
		q = q.Where("organization_sid = ?", orgSid)
	}
	err := q.Take(&r).Error
	return r.domain(), translate(err, errDomainNotFound, nil)
}

// FindLiveDomain implements domain.DomainStore.
func (s *Store) FindLiveDomain(ctx context.Context, orgSid, name string) (domain.VerifiedDomain, error) {
	var r domainRow
	err := s.db.WithContext(ctx).Where("organization_sid = ? AND domain_name = ? AND status IN ?", orgSid, name,
		[]string{domain.DomainPending, domain.DomainVerified}).Take(&r).Error
	return r.domain(), translate(err, errDomainNotFound, nil)
}

// FindVerifiedDomain implements domain.DomainStore.
func (s *Store) FindVerifiedDomain(ctx context.Context, name string) (domain.VerifiedDomain, error) {
	var r domainRow
	err := s.db.WithContext(ctx).Where("domain_name = ? AND status = ?", name, domain.DomainVerified).Take(&r).Error
	return r.domain(), translate(err, errDomainNotFound, nil)
}

// ListDomains implements domain.DomainStore.
func (s *Store) ListDomains(ctx context.Context, f domain.DomainFilter) ([]domain.VerifiedDomain, error) {
	q := s.db.WithContext(ctx).Model(&domainRow{}).Where("organization_sid = ?", f.OrganizationSid)
	var rows []domainRow
	if err := keyset(q, "sid", f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.VerifiedDomain, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RecordDomainCheck implements domain.DomainStore.
func (s *Store) RecordDomainCheck(ctx context.Context, sid string, at time.Time) error {
	res := s.db.WithContext(ctx).Model(&domainRow{}).Where("sid = ?", sid).Update("last_checked_at", micro(&at))
	if res.Error != nil {
		return translate(res.Error, nil, nil)
	}
	if res.RowsAffected == 0 {
		return errDomainNotFound
	}
	return nil
}

// TransitionDomain implements domain.DomainStore.
func (s *Store) TransitionDomain(ctx context.Context, sid string, t domain.DomainTransition, ev domain.AuditEvent) (domain.VerifiedDomain, error) {
	var out domain.VerifiedDomain
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur domainRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errDomainNotFound, nil)
		}
		t.At = t.At.UTC().Truncate(time.Microsecond)
		t.RemoveAfter = t.RemoveAfter.UTC().Truncate(time.Microsecond)
		next, changed, err := cur.domain().Apply(t)
		if err != nil || !changed {
			out = next
			return err
		}
		res := tx.Model(&domainRow{}).Where("sid = ? AND status = ?", sid, cur.Status).Updates(map[string]any{
			"status": next.Status, "date_verified": micro(next.DateVerified),
			"missing_since": micro(next.MissingSince), "remove_after": micro(next.RemoveAfter),
		})
		if res.Error != nil {
			return translate(res.Error, nil, domain.DomainTakenError(cur.DomainName))
		}
		if res.RowsAffected == 0 {
			return domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the domain changed while being updated")
		}
		out = next
		return s.audit(tx, ev)
	})
	return out, err
}

// DeleteDomain implements domain.DomainStore.
func (s *Store) DeleteDomain(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var cur domainRow
		if err := tx.Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&cur).Error; err != nil {
			return translate(err, errDomainNotFound, nil)
		}
		if cur.Status == domain.DomainVerified {
			var others int64
			if err := tx.Model(&domainRow{}).Where("organization_sid = ? AND status = ? AND sid <> ?", orgSid, domain.DomainVerified, sid).
				Count(&others).Error; err != nil {
				return translate(err, nil, nil)
			}
			if others == 0 {
				return domain.Errorf(domain.EConflict, domain.CodeLastVerifiedDomain,
					"%s is the organization's last verified domain; verify another one before deleting it", cur.DomainName)
			}
		}
		if err := tx.Where("sid = ?", sid).Delete(&domainRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// CountDomainsByStatus implements domain.DomainStore. A verified domain
// whose record has vanished counts as lapsed.
func (s *Store) CountDomainsByStatus(ctx context.Context) (map[string]int64, error) {
	return s.countByStatus(ctx, &domainRow{}, "CASE WHEN status = '"+domain.DomainVerified+"' AND missing_since IS NOT NULL THEN '"+domain.DomainLapsed+"' ELSE status END")
}
