package store

import (
	"context"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ListEvents implements domain.EventStore. Event SIDs are time-ordered, so
// a time range is a SID range on the primary key.
func (s *Store) ListEvents(ctx context.Context, f domain.EventFilter) ([]domain.AuditEvent, error) {
	q := s.db.WithContext(ctx).Model(&eventRow{}).Where("organization_sid = ?", f.OrganizationSid)
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.ResourceSid != "" {
		// An account's history includes what happened to things on it
		// (role grants and removals).
		q = q.Where("(resource_sid = ? OR account_sid = ?)", f.ResourceSid, f.ResourceSid)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.Start != nil {
		q = q.Where("sid >= ?", domain.SIDLowerBound(domain.PrefixEvent, *f.Start))
	}
	if f.End != nil {
		q = q.Where("sid < ?", domain.SIDLowerBound(domain.PrefixEvent, f.End.Add(time.Millisecond)))
	}
	var rows []eventRow
	if err := keyset(q, "sid", f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
