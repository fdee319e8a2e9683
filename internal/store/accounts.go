package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errAccountNotFound = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")

// CreateAccount implements domain.AccountStore.
func (s *Store) CreateAccount(ctx context.Context, a domain.Account, owner domain.RoleAssignment, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var created bool
		var err error
		if out, created, err = s.createAccount(tx, a, owner); err != nil || !created {
			return err
		}
		return s.audit(tx, ev)
	})
	return out, err
}

// OpenAccount implements domain.AccountStore.
func (s *Store) OpenAccount(ctx context.Context, o domain.AccountOpening) (domain.Account, error) {
	input, err := json.Marshal(o.Creation)
	if err != nil {
		return domain.Account{}, err
	}
	var out domain.Account
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var created bool
		var err error
		if out, created, err = s.createAccount(tx, o.Account, o.Owner); err != nil || !created {
			if err == nil && out.OrganizationSid != o.Account.OrganizationSid {
				err = errAccountNotFound
			}
			return err
		}
		now := s.now()
		if c := o.Creator; c != nil {
			ra := roleAssignmentRow{Sid: c.Sid, OrganizationSid: out.OrganizationSid, RoleSid: c.RoleSid, Scope: out.Sid, Identity: c.Identity, DateCreated: now}
			if err := tx.Create(&ra).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		start := pendingStartRow{SubjectSid: out.Sid, Kind: pendingCreation, OrganizationSid: out.OrganizationSid, Input: string(input), DateCreated: now.UTC()}
		if err := tx.Create(&start).Error; err != nil {
			return translate(err, nil, nil)
		}
		for _, ev := range o.Events {
			if err := s.audit(tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// createAccount inserts the account and its Owner role in tx, unless an
// account with its SID is there already: then it returns that one, with
// created false.
func (s *Store) createAccount(tx *gorm.DB, a domain.Account, owner domain.RoleAssignment) (domain.Account, bool, error) {
	var cur accountRow
	err := tx.Where("sid = ?", a.Sid).Take(&cur).Error
	if err == nil {
		return cur.domain(), false, nil
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Account{}, false, translate(err, nil, nil)
	}
	if a.ParentSid != "" {
		// The parent may have started closing since the caller looked:
		// the rule is applied again under its lock.
		parent, err := s.lockAccount(tx, a.OrganizationSid, a.ParentSid)
		if err != nil {
			return domain.Account{}, false, err
		}
		if err := domain.CheckSubaccountParent(parent.domain()); err != nil {
			return domain.Account{}, false, err
		}
	}
	now := s.now()
	if a.DateCreated.IsZero() {
		a.DateCreated = now
	}
	a.DateUpdated, a.Version = now, 1
	r := accountRowFrom(a)
	if err := tx.Create(&r).Error; err != nil {
		return domain.Account{}, false, translate(err, nil, nil)
	}
	ra := roleAssignmentRow{Sid: owner.Sid, OrganizationSid: owner.OrganizationSid, RoleSid: domain.RoleOwner, Scope: a.Sid, Identity: a.OwnerSid, DateCreated: now}
	if err := tx.Create(&ra).Error; err != nil {
		return domain.Account{}, false, translate(err, nil, nil)
	}
	return r.domain(), true, nil
}

// pendingCreation is the kind of an account creation's pending start.
const pendingCreation = "create_account"

// PendingCreations implements domain.AccountStore.
func (s *Store) PendingCreations(ctx context.Context, before time.Time, limit int) ([]domain.AccountCreation, error) {
	var rows []pendingStartRow
	err := s.db.WithContext(ctx).Where("kind = ? AND date_started IS NULL AND date_created < ?", pendingCreation, before.UTC()).
		Order("date_created").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.AccountCreation, 0, len(rows))
	for _, r := range rows {
		var c domain.AccountCreation
		if err := json.Unmarshal([]byte(r.Input), &c); err != nil {
			return nil, fmt.Errorf("store: the pending creation of %s: %w", r.SubjectSid, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CreationStarted implements domain.AccountStore.
func (s *Store) CreationStarted(ctx context.Context, accountSid string) error {
	err := s.db.WithContext(ctx).Model(&pendingStartRow{}).Where("subject_sid = ? AND date_started IS NULL", accountSid).
		Update("date_started", s.now().UTC()).Error
	return translate(err, nil, nil)
}

// dropPendingStart removes the pending start of subject, in tx.
func dropPendingStart(tx *gorm.DB, subject string) error {
	return translate(tx.Where("subject_sid = ?", subject).Delete(&pendingStartRow{}).Error, nil, nil)
}

// FindAccount implements domain.AccountStore. It returns accounts in any
// status, including provisioning ones; callers decide what to show.
func (s *Store) FindAccount(ctx context.Context, orgSid, sid string) (domain.Account, error) {
	var r accountRow
	err := s.db.WithContext(ctx).Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&r).Error
	return r.domain(), translate(err, errAccountNotFound, nil)
}

// accountColumns are accountRow's columns, in the order ListAccounts scans
// them.
const accountColumns = "accounts.sid, accounts.organization_sid, accounts.friendly_name, accounts.status, accounts.kind, " +
	"accounts.owner_sid, accounts.parent_sid, accounts.flex, accounts.require_2fa, accounts.date_created, " +
	"accounts.date_updated, accounts.version, accounts.date_closure_requested, accounts.date_closed, accounts.purge_after"

// ListAccounts implements domain.AccountStore: accounts past provisioning,
// oldest first, one keyset page. It is the hottest read of the API, so its
// rows are scanned by hand rather than through GORM's reflection, which
// costs more than the query itself (see docs/BENCHMARKS.md).
func (s *Store) ListAccounts(ctx context.Context, f domain.AccountFilter) (_ []domain.Account, err error) {
	q := s.db.WithContext(ctx).Model(&accountRow{}).Select(accountColumns).
		Where("organization_sid = ? AND status <> ?", f.OrganizationSid, domain.AccountProvisioning)
	if f.VisibleTo != "" {
		q = q.Where("EXISTS (SELECT 1 FROM role_assignments ra WHERE ra.scope = accounts.sid AND ra.identity = ?)", f.VisibleTo)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if search := strings.TrimSpace(f.Search); search != "" {
		q = q.Where("(accounts.sid = ? OR LOWER(accounts.friendly_name) LIKE ? ESCAPE '\\')", search, "%"+likeEscape(strings.ToLower(search))+"%")
	}
	rows, err := keyset(q, "accounts.sid", f.Page).Rows()
	if err != nil {
		return nil, translate(err, nil, nil)
	}
	defer func() {
		if cerr := rows.Close(); cerr != nil && err == nil {
			err = translate(cerr, nil, nil)
		}
	}()
	out := make([]domain.Account, 0, f.Page.Size+1)
	for rows.Next() {
		var r accountRow
		if err := rows.Scan(&r.Sid, &r.OrganizationSid, &r.FriendlyName, &r.Status, &r.Kind, &r.OwnerSid, &r.ParentSid,
			&r.Flex, &r.Require2FA, &r.DateCreated, &r.DateUpdated, &r.Version, &r.DateClosureRequested, &r.DateClosed, &r.PurgeAfter); err != nil {
			return nil, translate(err, nil, nil)
		}
		out = append(out, r.domain())
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, nil, nil)
	}
	return out, nil
}

// likeEscape escapes LIKE's wildcards (and the escape character) in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UpdateAccount implements domain.AccountStore.
func (s *Store) UpdateAccount(ctx context.Context, orgSid, sid string, u domain.AccountUpdate, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		if err := tx.Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&cur).Error; err != nil {
			return translate(err, errAccountNotFound, nil)
		}
		if cur.Status == domain.AccountProvisioning {
			return errAccountNotFound
		}
		if cur.Status != domain.AccountActive {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account is %s; only active accounts can change settings", cur.Status)
		}
		changes := map[string]any{}
		set := map[string]any{}
		if u.FriendlyName != nil && *u.FriendlyName != cur.FriendlyName {
			changes["friendly_name"] = map[string]any{"from": cur.FriendlyName, "to": *u.FriendlyName}
			set["friendly_name"] = *u.FriendlyName
			cur.FriendlyName = *u.FriendlyName
		}
		if u.Require2FA != nil && *u.Require2FA != cur.Require2FA {
			changes["require_2fa"] = map[string]any{"from": cur.Require2FA, "to": *u.Require2FA}
			set["require_2fa"] = *u.Require2FA
			cur.Require2FA = *u.Require2FA
		}
		if len(set) == 0 {
			out = cur.domain()
			return nil
		}
		now := s.now()
		set["date_updated"], set["version"] = now, cur.Version+1
		res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", sid, cur.Version).Updates(set)
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the account changed while being updated; try again")
		}
		cur.DateUpdated, cur.Version = now, cur.Version+1
		out = cur.domain()
		ev.Changes = changes
		return s.audit(tx, ev)
	})
	return out, err
}

// SetAccountStatus implements domain.AccountStore.
func (s *Store) SetAccountStatus(ctx context.Context, sid, from, to string, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errAccountNotFound, nil)
		}
		if cur.Status == to {
			out = cur.domain()
			return nil
		}
		if cur.Status != from {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the account is %s, not %s", cur.Status, from)
		}
		now := s.now()
		res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", sid, cur.Version).
			Updates(map[string]any{"status": to, "date_updated": now, "version": cur.Version + 1})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the account changed while its status was being set")
		}
		if from == domain.AccountProvisioning {
			if err := dropPendingStart(tx, sid); err != nil {
				return err
			}
		}
		cur.Status, cur.DateUpdated, cur.Version = to, now, cur.Version+1
		out = cur.domain()
		if ev.Changes == nil {
			ev.Changes = map[string]any{"status": map[string]any{"from": from, "to": to}}
		}
		return s.audit(tx, ev)
	})
	return out, err
}

// DiscardAccount implements domain.AccountStore.
func (s *Store) DiscardAccount(ctx context.Context, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		err := tx.Where("sid = ?", sid).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return translate(err, nil, nil)
		}
		if cur.Status != domain.AccountProvisioning {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "only an account still being provisioned can be discarded (it is %s)", cur.Status)
		}
		for _, m := range []any{&accountResourceRow{}, &roleAssignmentRow{}} {
			col := "account_sid"
			if _, ok := m.(*roleAssignmentRow); ok {
				col = "scope"
			}
			if err := tx.Where(col+" = ?", sid).Delete(m).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		if err := tx.Where("sid = ?", sid).Delete(&accountRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := dropPendingStart(tx, sid); err != nil {
			return err
		}
		return s.audit(tx, ev)
	})
}

// RecordAccountResource implements domain.AccountStore.
func (s *Store) RecordAccountResource(ctx context.Context, r domain.AccountResource, ev domain.AuditEvent) (domain.AccountResource, error) {
	var out domain.AccountResource
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountResourceRow
		err := tx.Where("account_sid = ? AND kind = ?", r.AccountSid, r.Kind).Take(&cur).Error
		if err == nil {
			out = domain.AccountResource{AccountSid: cur.AccountSid, Kind: cur.Kind, ResourceSid: cur.ResourceSid, DateCreated: cur.DateCreated.UTC()}
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return translate(err, nil, nil)
		}
		if r.ResourceSid == "" {
			r.ResourceSid = domain.NewSIDFrom("RS", s.now(), rand.Reader)
		}
		row := accountResourceRow{AccountSid: r.AccountSid, Kind: r.Kind, ResourceSid: r.ResourceSid, DateCreated: s.now()}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, nil, nil)
		}
		out = domain.AccountResource{AccountSid: row.AccountSid, Kind: row.Kind, ResourceSid: row.ResourceSid, DateCreated: row.DateCreated}
		if ev.Changes == nil {
			ev.Changes = map[string]any{"kind": r.Kind, "resource_sid": r.ResourceSid}
		}
		return s.audit(tx, ev)
	})
	return out, err
}

// ListAccountResources implements domain.AccountStore.
func (s *Store) ListAccountResources(ctx context.Context, accountSid string) ([]domain.AccountResource, error) {
	var rows []accountResourceRow
	if err := s.db.WithContext(ctx).Where("account_sid = ?", accountSid).Order("date_created ASC, kind ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.AccountResource, len(rows))
	for i, r := range rows {
		out[i] = domain.AccountResource{AccountSid: r.AccountSid, Kind: r.Kind, ResourceSid: r.ResourceSid, DateCreated: r.DateCreated.UTC()}
	}
	return out, nil
}

// CountAccountsByStatus implements domain.AccountStore.
func (s *Store) CountAccountsByStatus(ctx context.Context) (map[string]int64, error) {
	return s.countByStatus(ctx, &accountRow{})
}

// countByStatus counts the rows of model's table by their status column
// (or by the expression statusExpr, when given).
func (s *Store) countByStatus(ctx context.Context, model any, statusExpr ...string) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	expr := "status"
	if len(statusExpr) > 0 {
		expr = statusExpr[0]
	}
	if err := s.db.WithContext(ctx).Model(model).Select(expr + " AS status, COUNT(*) AS n").Group(expr).Scan(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}
