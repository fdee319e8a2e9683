package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

type numberRow struct {
	Sid             string `gorm:"primaryKey"`
	Kind            string
	Value           string
	OrganizationSid sql.NullString
	AccountSid      sql.NullString
	DateCreated     time.Time
	DateUpdated     time.Time
}

func (numberRow) TableName() string { return "numbers" }

func (r numberRow) domain() domain.Number {
	return domain.Number{Sid: r.Sid, Kind: r.Kind, Value: r.Value, OrganizationSid: r.OrganizationSid.String, AccountSid: r.AccountSid.String,
		DateCreated: r.DateCreated.UTC(), DateUpdated: r.DateUpdated.UTC()}
}

type subscriptionRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	AccountSid      string
	Description     string
	MonthlyPrice    string
	Currency        string
	Status          string
	DateCreated     time.Time
	DateStopped     *time.Time
}

func (subscriptionRow) TableName() string { return "subscriptions" }

func (r subscriptionRow) domain() domain.Subscription {
	return domain.Subscription{Sid: r.Sid, OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, Description: r.Description,
		MonthlyPrice: r.MonthlyPrice, Currency: r.Currency, Status: r.Status, DateCreated: r.DateCreated.UTC(), DateStopped: utcPtr(r.DateStopped)}
}

type releaseRow struct {
	IdemKey         string `gorm:"primaryKey"`
	Kind            string
	ResourceSid     string
	AccountSid      string
	OrganizationSid string
	DateCreated     time.Time
}

func (releaseRow) TableName() string { return "resource_releases" }

// openAccountTx locks an account of the organization and applies
// CheckAcceptsNewRequests.
func (s *Store) openAccountTx(tx *gorm.DB, orgSid, sid string) (accountRow, error) {
	a, err := s.lockAccount(tx, orgSid, sid)
	if err != nil {
		return a, err
	}
	return a, domain.CheckAcceptsNewRequests(a.domain())
}

// AcquireNumber implements domain.ClosureStore.
func (s *Store) AcquireNumber(ctx context.Context, n domain.Number, ev domain.AuditEvent) (domain.Number, error) {
	var out domain.Number
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.openAccountTx(tx, n.OrganizationSid, n.AccountSid); err != nil {
			return err
		}
		now := s.now()
		var cur numberRow
		err := tx.Where("kind = ? AND value = ?", n.Kind, n.Value).Take(&cur).Error
		switch {
		case err == nil && cur.AccountSid.Valid:
			return domain.Errorf(domain.EConflict, domain.CodeNumberUnavailable, "%s is not available: another account holds it", n.Value)
		case err == nil:
			// Back from the inventory, under its SID.
			res := tx.Model(&numberRow{}).Where("sid = ? AND account_sid IS NULL", cur.Sid).
				Updates(map[string]any{"account_sid": n.AccountSid, "organization_sid": n.OrganizationSid, "date_updated": now})
			if res.Error != nil {
				return translate(res.Error, nil, nil)
			}
			if res.RowsAffected != 1 {
				return domain.Errorf(domain.EConflict, domain.CodeNumberUnavailable, "%s is not available: another account holds it", n.Value)
			}
			cur.AccountSid, cur.OrganizationSid, cur.DateUpdated = nullable(n.AccountSid), nullable(n.OrganizationSid), now
		case errors.Is(err, gorm.ErrRecordNotFound):
			cur = numberRow{Sid: n.Sid, Kind: n.Kind, Value: n.Value, OrganizationSid: nullable(n.OrganizationSid), AccountSid: nullable(n.AccountSid),
				DateCreated: now, DateUpdated: now}
			if err := tx.Create(&cur).Error; err != nil {
				return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeNumberUnavailable, "%s is not available: another account holds it", n.Value))
			}
		default:
			return translate(err, nil, nil)
		}
		out = cur.domain()
		ev.ResourceSid = n.AccountSid
		ev.Changes = map[string]any{"number_sid": out.Sid, "kind": out.Kind, "value": out.Value}
		return s.audit(tx, ev)
	})
	return out, err
}

// ListNumbers implements domain.ClosureStore.
func (s *Store) ListNumbers(ctx context.Context, accountSid, kind string) ([]domain.Number, error) {
	q := s.db.WithContext(ctx).Where("account_sid = ?", accountSid)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	var rows []numberRow
	if err := q.Order("sid ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Number, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PageNumbers implements domain.ClosureStore.
func (s *Store) PageNumbers(ctx context.Context, accountSid, kind string, p domain.PageRequest) ([]domain.Number, error) {
	var rows []numberRow
	q := s.db.WithContext(ctx).Model(&numberRow{}).Where("account_sid = ? AND kind = ?", accountSid, kind)
	if err := keyset(q, "sid", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Number, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CreateSubscription implements domain.ClosureStore.
func (s *Store) CreateSubscription(ctx context.Context, sub domain.Subscription, ev domain.AuditEvent) (domain.Subscription, error) {
	var out domain.Subscription
	// The price is kept at its currency's fixed scale.
	sub, err := sub.Normalized()
	if err != nil {
		return out, err
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.openAccountTx(tx, sub.OrganizationSid, sub.AccountSid); err != nil {
			return err
		}
		r := subscriptionRow{Sid: sub.Sid, OrganizationSid: sub.OrganizationSid, AccountSid: sub.AccountSid, Description: sub.Description,
			MonthlyPrice: sub.MonthlyPrice, Currency: sub.Currency, Status: domain.SubscriptionActive, DateCreated: s.now()}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, nil)
		}
		out = r.domain()
		ev.Changes = map[string]any{"subscription_sid": r.Sid, "monthly_price": r.MonthlyPrice, "currency": r.Currency}
		return s.audit(tx, ev)
	})
	return out, err
}

// ListSubscriptions implements domain.ClosureStore.
func (s *Store) ListSubscriptions(ctx context.Context, accountSid string) ([]domain.Subscription, error) {
	var rows []subscriptionRow
	if err := s.db.WithContext(ctx).Where("account_sid = ?", accountSid).Order("sid ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Subscription, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PageSubscriptions implements domain.ClosureStore.
func (s *Store) PageSubscriptions(ctx context.Context, accountSid string, p domain.PageRequest) ([]domain.Subscription, error) {
	var rows []subscriptionRow
	q := s.db.WithContext(ctx).Model(&subscriptionRow{}).Where("account_sid = ?", accountSid)
	if err := keyset(q, "sid", p).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Subscription, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ListReleases implements domain.ClosureStore.
func (s *Store) ListReleases(ctx context.Context, accountSid string) ([]domain.ResourceRelease, error) {
	var rows []releaseRow
	if err := s.db.WithContext(ctx).Where("account_sid = ?", accountSid).Order("idem_key ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.ResourceRelease, len(rows))
	for i, r := range rows {
		out[i] = domain.ResourceRelease{Key: r.IdemKey, Kind: r.Kind, ResourceSid: r.ResourceSid, AccountSid: r.AccountSid,
			OrganizationSid: r.OrganizationSid, DateCreated: r.DateCreated.UTC()}
	}
	return out, nil
}

// recordRelease claims key for one release; it reports false when the key
// was used before (the release happened already).
func (s *Store) recordRelease(tx *gorm.DB, r releaseRow) (bool, error) {
	var n int64
	if err := tx.Model(&releaseRow{}).Where("idem_key = ?", r.IdemKey).Count(&n).Error; err != nil {
		return false, translate(err, nil, nil)
	}
	if n > 0 {
		return false, nil
	}
	r.DateCreated = s.now()
	if err := tx.Create(&r).Error; err != nil {
		if isDuplicate(err) {
			return false, nil
		}
		return false, translate(err, nil, nil)
	}
	return true, nil
}

// ReleaseNumber implements domain.Carrier on the database: the number goes
// back to the inventory and the release is recorded under key, in one
// transaction, so it happens exactly once.
func (s *Store) ReleaseNumber(ctx context.Context, n domain.Number, key string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		fresh, err := s.recordRelease(tx, releaseRow{IdemKey: key, Kind: n.Kind, ResourceSid: n.Sid, AccountSid: n.AccountSid, OrganizationSid: n.OrganizationSid})
		if err != nil || !fresh {
			return err
		}
		if err := tx.Model(&numberRow{}).Where("sid = ? AND account_sid = ?", n.Sid, n.AccountSid).
			Updates(map[string]any{"account_sid": nil, "organization_sid": nil, "date_updated": s.now()}).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, domain.AuditEvent{OrganizationSid: n.OrganizationSid, Type: domain.EventNumberReleased, ResourceSid: n.AccountSid,
			Changes: map[string]any{"number_sid": n.Sid, "kind": n.Kind, "value": n.Value, "idempotency_key": key}})
	})
}

// StopCharge implements domain.Billing on the database: the subscription
// stops and the stop is recorded under key, in one transaction.
func (s *Store) StopCharge(ctx context.Context, sub domain.Subscription, key string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		fresh, err := s.recordRelease(tx, releaseRow{IdemKey: key, Kind: domain.ReleaseCharge, ResourceSid: sub.Sid, AccountSid: sub.AccountSid, OrganizationSid: sub.OrganizationSid})
		if err != nil || !fresh {
			return err
		}
		now := s.now()
		if err := tx.Model(&subscriptionRow{}).Where("sid = ? AND status = ?", sub.Sid, domain.SubscriptionActive).
			Updates(map[string]any{"status": domain.SubscriptionStopped, "date_stopped": now}).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, domain.AuditEvent{OrganizationSid: sub.OrganizationSid, Type: domain.EventChargeStopped, ResourceSid: sub.AccountSid,
			Changes: map[string]any{"subscription_sid": sub.Sid, "monthly_price": sub.MonthlyPrice, "currency": sub.Currency, "idempotency_key": key}})
	})
}

// BeginClosure implements domain.ClosureStore. The account's row is locked
// and its version moves, so a transfer or an invitation racing with the
// closure either commits before it or sees the account closing.
func (s *Store) BeginClosure(ctx context.Context, orgSid, sid string, purgeAfter time.Time, ev domain.AuditEvent) (domain.Account, bool, error) {
	var out domain.Account
	started := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		cur, err := s.lockAccount(tx, orgSid, sid)
		if err != nil {
			return err
		}
		if cur.Status == domain.AccountPendingClosure || cur.Status == domain.AccountClosed {
			out = cur.domain()
			return nil
		}
		var others int64
		if !cur.ParentSid.Valid {
			if err := tx.Model(&accountRow{}).Where("organization_sid = ? AND sid <> ? AND parent_sid IS NULL AND status = ?",
				orgSid, sid, domain.AccountActive).Count(&others).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		if err := domain.CheckClosable(cur.domain(), int(others)); err != nil {
			return err
		}
		now := s.now()
		purgeAfter = purgeAfter.UTC().Truncate(time.Microsecond)
		res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", sid, cur.Version).Updates(map[string]any{
			"status": domain.AccountPendingClosure, "date_closure_requested": now, "purge_after": purgeAfter,
			"date_updated": now, "version": cur.Version + 1,
		})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return errAccountChanged
		}
		cur.Status, cur.DateClosureRequested, cur.PurgeAfter, cur.DateUpdated, cur.Version = domain.AccountPendingClosure, &now, &purgeAfter, now, cur.Version+1
		out, started = cur.domain(), true
		ev.Changes = map[string]any{"status": map[string]any{"from": domain.AccountActive, "to": domain.AccountPendingClosure}, "purge_after": purgeAfter}
		return s.audit(tx, ev)
	})
	return out, started, err
}

// ListSubaccounts implements domain.ClosureStore.
func (s *Store) ListSubaccounts(ctx context.Context, parentSid string) ([]domain.Account, error) {
	var rows []accountRow
	if err := s.db.WithContext(ctx).Where("parent_sid = ? AND status <> ?", parentSid, domain.AccountProvisioning).Order("sid ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Account, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// ListPendingRequests implements domain.ClosureStore. Each kind of pending
// request adds its query here.
func (s *Store) ListPendingRequests(ctx context.Context, accountSid string) ([]domain.PendingRequest, error) {
	var sids []string
	if err := s.db.WithContext(ctx).Model(&invitationRow{}).Where("account_sid = ? AND status = ?", accountSid, domain.InvitationPending).
		Order("sid ASC").Pluck("sid", &sids).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.PendingRequest, 0, len(sids))
	for _, sid := range sids {
		out = append(out, domain.PendingRequest{Kind: domain.RequestInvitation, Sid: sid, WorkflowID: "invitation/" + sid})
	}
	return out, nil
}

// RemoveAccountAccess implements domain.ClosureStore.
func (s *Store) RemoveAccountAccess(ctx context.Context, sid string, ev domain.AuditEvent) ([]domain.RoleAssignment, error) {
	var out []domain.RoleAssignment
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []roleAssignmentRow
		if err := tx.Where("scope = ?", sid).Order("sid ASC").Find(&rows).Error; err != nil {
			return translate(err, nil, nil)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Where("scope = ?", sid).Delete(&roleAssignmentRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		had := make([]map[string]any, len(rows))
		for i, r := range rows {
			out = append(out, r.domain())
			had[i] = map[string]any{"identity": r.Identity, "role_sid": r.RoleSid, "assignment_sid": r.Sid}
		}
		ev.Changes = map[string]any{"removed": had}
		return s.audit(tx, ev)
	})
	return out, err
}

// MarkClosed implements domain.ClosureStore.
func (s *Store) MarkClosed(ctx context.Context, sid string, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errAccountNotFound, nil)
		}
		if cur.Status == domain.AccountClosed {
			out = cur.domain()
			return nil
		}
		if cur.Status != domain.AccountPendingClosure {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account is %s, not %s", cur.Status, domain.AccountPendingClosure)
		}
		now := s.now()
		res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", sid, cur.Version).
			Updates(map[string]any{"status": domain.AccountClosed, "date_closed": now, "date_updated": now, "version": cur.Version + 1})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return errAccountChanged
		}
		cur.Status, cur.DateClosed, cur.DateUpdated, cur.Version = domain.AccountClosed, &now, now, cur.Version+1
		out = cur.domain()
		ev.Changes = map[string]any{"status": map[string]any{"from": domain.AccountPendingClosure, "to": domain.AccountClosed}}
		return s.audit(tx, ev)
	})
	return out, err
}

// ReopenAccount implements domain.ClosureStore.
func (s *Store) ReopenAccount(ctx context.Context, sid string, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errAccountNotFound, nil)
		}
		if cur.Status == domain.AccountActive {
			out = cur.domain()
			return nil
		}
		if err := domain.CheckReopenable(cur.domain()); err != nil {
			return err
		}
		// The subaccounts closed with it (not those closed on their own
		// before it).
		var subs []accountRow
		q := tx.Where("parent_sid = ? AND status IN ?", sid, []string{domain.AccountPendingClosure, domain.AccountClosed})
		if cur.DateClosureRequested != nil {
			q = q.Where("date_closure_requested >= ?", *cur.DateClosureRequested)
		}
		if err := q.Find(&subs).Error; err != nil {
			return translate(err, nil, nil)
		}
		now := s.now()
		var reopened []string
		var revoked int64
		for _, a := range append([]accountRow{cur}, subs...) {
			res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", a.Sid, a.Version).Updates(map[string]any{
				"status": domain.AccountActive, "date_closure_requested": nil, "date_closed": nil, "purge_after": nil,
				"date_updated": now, "version": a.Version + 1,
			})
			if res.Error != nil {
				return translate(res.Error, nil, nil)
			}
			if res.RowsAffected != 1 {
				return errAccountChanged
			}
			var n int64
			if err := tx.Model(&roleAssignmentRow{}).Where("scope = ? AND role_sid = ?", a.Sid, domain.RoleOwner).Count(&n).Error; err != nil {
				return translate(err, nil, nil)
			}
			if n == 0 {
				ra := roleAssignmentRow{Sid: domain.NewSIDFrom(domain.PrefixRoleAssignment, now, rand.Reader), OrganizationSid: a.OrganizationSid.String,
					RoleSid: domain.RoleOwner, Scope: a.Sid, Identity: a.OwnerSid, DateCreated: now}
				if err := tx.Create(&ra).Error; err != nil {
					return translate(err, nil, nil)
				}
			}
			// Closing revoked the account's credentials for good: they
			// and their bearer tokens do not come back with it.
			if err := tx.Where("credential_sid IN (SELECT sid FROM credentials WHERE account_sid = ?)", a.Sid).Delete(&accessTokenRow{}).Error; err != nil {
				return translate(err, nil, nil)
			}
			res = tx.Where("account_sid = ?", a.Sid).Delete(&credentialRow{})
			if res.Error != nil {
				return translate(res.Error, nil, nil)
			}
			revoked += res.RowsAffected
			reopened = append(reopened, a.Sid)
		}
		cur.Status, cur.DateClosureRequested, cur.DateClosed, cur.PurgeAfter = domain.AccountActive, nil, nil, nil
		cur.DateUpdated, cur.Version = now, cur.Version+1
		out = cur.domain()
		if ev.Changes == nil {
			ev.Changes = map[string]any{}
		}
		ev.Changes["reopened"] = reopened
		ev.Changes["owner_sid"] = cur.OwnerSid
		ev.Changes["credentials_revoked"] = revoked
		return s.audit(tx, ev)
	})
	return out, err
}

// PurgeAccount implements domain.ClosureStore.
func (s *Store) PurgeAccount(ctx context.Context, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		err := tx.Where("sid = ?", sid).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return translate(err, nil, nil)
		}
		if cur.Status != domain.AccountClosed {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account is %s; only a closed account is purged", cur.Status)
		}
		var subs []string
		if err := tx.Model(&accountRow{}).Where("parent_sid = ?", sid).Pluck("sid", &subs).Error; err != nil {
			return translate(err, nil, nil)
		}
		all := append([]string{sid}, subs...)
		for _, q := range []struct {
			model any
			col   string
		}{
			{&accessTokenRow{}, "credential_sid IN (SELECT sid FROM credentials WHERE account_sid IN ?)"},
			{&credentialRow{}, "account_sid IN ?"},
			{&invitationRow{}, "account_sid IN ?"},
			{&roleAssignmentRow{}, "scope IN ?"},
			{&accountResourceRow{}, "account_sid IN ?"},
			{&subscriptionRow{}, "account_sid IN ?"},
		} {
			if err := tx.Where(q.col, all).Delete(q.model).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		// Numbers still assigned (none after a closure) go back to the
		// inventory rather than being lost.
		if err := tx.Model(&numberRow{}).Where("account_sid IN ?", all).
			Updates(map[string]any{"account_sid": nil, "organization_sid": nil, "date_updated": s.now()}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if len(subs) > 0 {
			if err := tx.Where("sid IN ?", subs).Delete(&accountRow{}).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		if err := tx.Where("sid = ?", sid).Delete(&accountRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		ev.OrganizationSid = cur.OrganizationSid.String
		ev.ResourceSid = sid
		if ev.Changes == nil {
			ev.Changes = map[string]any{}
		}
		ev.Changes["account_sid"] = sid
		ev.Changes["organization_sid"] = cur.OrganizationSid.String
		ev.Changes["friendly_name"] = cur.FriendlyName
		ev.Changes["date_closed"] = cur.DateClosed
		ev.Changes["date_purged"] = s.now()
		ev.Changes["subaccounts"] = subs
		return s.audit(tx, ev)
	})
}
