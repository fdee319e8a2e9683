package store

import (
	"context"
	"encoding/json"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// BeginIdempotent implements domain.IdempotencyStore.
func (s *Store) BeginIdempotent(ctx context.Context, rec domain.IdempotencyRecord) (domain.IdempotencyRecord, bool, error) {
	rec.DateCreated = s.now()
	row := idempotencyRow{OrganizationSid: rec.OrganizationSid, IdemKey: rec.Key, RequestHash: rec.RequestHash, DateCreated: rec.DateCreated}
	err := s.db.WithContext(ctx).Create(&row).Error
	if err == nil {
		return rec, true, nil
	}
	if !isDuplicate(err) {
		return rec, false, translate(err, nil, nil)
	}
	var cur idempotencyRow
	if err := s.db.WithContext(ctx).Where("organization_sid = ? AND idem_key = ?", rec.OrganizationSid, rec.Key).Take(&cur).Error; err != nil {
		return rec, false, translate(err, nil, nil)
	}
	var headers map[string]string
	_ = json.Unmarshal([]byte(cur.Headers), &headers)
	return domain.IdempotencyRecord{
		OrganizationSid: cur.OrganizationSid, Key: cur.IdemKey, RequestHash: cur.RequestHash,
		StatusCode: cur.StatusCode, Body: []byte(cur.Body), Headers: headers, DateCreated: cur.DateCreated.UTC(),
	}, false, nil
}

// CompleteIdempotent implements domain.IdempotencyStore.
func (s *Store) CompleteIdempotent(ctx context.Context, orgSid, key string, status int, body []byte, headers map[string]string) error {
	h, err := json.Marshal(headers)
	if err != nil || headers == nil {
		h = []byte("{}")
	}
	return translate(s.db.WithContext(ctx).Model(&idempotencyRow{}).
		Where("organization_sid = ? AND idem_key = ?", orgSid, key).
		Updates(map[string]any{"status_code": status, "body": string(body), "headers": string(h)}).Error, nil, nil)
}

// ReleaseIdempotent implements domain.IdempotencyStore.
func (s *Store) ReleaseIdempotent(ctx context.Context, orgSid, key string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		return translate(tx.Where("organization_sid = ? AND idem_key = ? AND status_code = 0", orgSid, key).Delete(&idempotencyRow{}).Error, nil, nil)
	})
}
