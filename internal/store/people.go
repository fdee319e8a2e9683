package store

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// accountUserRow is a user joined with one of its roles on an account.
type accountUserRow struct {
	User    userRow `gorm:"embedded"`
	RoleSid string
}

// ListAccountUsers implements domain.AccountUserStore. The page of user
// SIDs and their roles come from one statement, so a user is never shown
// with roles from two moments.
func (s *Store) ListAccountUsers(ctx context.Context, f domain.AccountUserFilter) ([]domain.AccountUser, error) {
	page := s.db.WithContext(ctx).Model(&roleAssignmentRow{}).Distinct("identity").
		Where("organization_sid = ? AND scope = ?", f.OrganizationSid, f.AccountSid)
	if f.Role != "" {
		page = page.Where("role_sid = ?", f.Role)
	}
	page = keyset(page, "identity", f.Page)
	order := "users.sid ASC"
	if f.Page.Before != "" {
		order = "users.sid DESC"
	}
	var rows []accountUserRow
	err := s.db.WithContext(ctx).Table("users").Select("users.*, ra.role_sid AS role_sid").
		Joins("JOIN role_assignments ra ON ra.identity = users.sid AND ra.scope = ?", f.AccountSid).
		Where("users.sid IN (?)", page).
		Order(order + ", ra.role_sid ASC").Scan(&rows).Error
	if err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.AccountUser, 0, f.Page.Size+1)
	for _, r := range rows {
		if n := len(out); n > 0 && out[n-1].User.Sid == r.User.Sid {
			out[n-1].Roles = append(out[n-1].Roles, r.RoleSid)
			continue
		}
		out = append(out, domain.AccountUser{AccountSid: f.AccountSid, User: r.User.domain(), Roles: []string{r.RoleSid}})
	}
	return out, nil
}

// lockAccount reads an account of the organization and, on PostgreSQL,
// locks its row until the transaction ends, so that the changes to its
// roles (grants, replacements, transfers) happen one at a time. SQLite
// transactions are serialized already.
func (s *Store) lockAccount(tx *gorm.DB, orgSid, sid string) (accountRow, error) {
	q := tx.Where("sid = ? AND organization_sid = ?", sid, orgSid)
	if s.dialect == Postgres {
		q = q.Clauses(forNoKeyUpdate)
	}
	var a accountRow
	if err := q.Take(&a).Error; err != nil {
		return a, translate(err, errAccountNotFound, nil)
	}
	if a.Status == domain.AccountProvisioning {
		return a, errAccountNotFound
	}
	return a, nil
}

// heldRoles lists the role assignments a user holds on an account, in role
// SID order.
func heldRoles(tx *gorm.DB, scope, identity string) ([]roleAssignmentRow, []string, error) {
	var rows []roleAssignmentRow
	if err := tx.Where("scope = ? AND identity = ?", scope, identity).Order("role_sid ASC").Find(&rows).Error; err != nil {
		return nil, nil, translate(err, nil, nil)
	}
	roles := make([]string, len(rows))
	for i, r := range rows {
		roles[i] = r.RoleSid
	}
	return rows, roles, nil
}

// replaceRoles makes the roles identity holds on scope exactly want,
// keeping the assignments of the roles it keeps, and returns the SIDs of
// the assignments it deleted and created.
func (s *Store) replaceRoles(tx *gorm.DB, orgSid, scope, identity string, held []roleAssignmentRow, want []string) (deleted, created []string, err error) {
	for _, h := range held {
		if slices.Contains(want, h.RoleSid) {
			continue
		}
		if err := tx.Where("sid = ?", h.Sid).Delete(&roleAssignmentRow{}).Error; err != nil {
			return nil, nil, translate(err, nil, nil)
		}
		deleted = append(deleted, h.Sid)
	}
	now := s.now()
	for _, role := range want {
		if slices.ContainsFunc(held, func(h roleAssignmentRow) bool { return h.RoleSid == role }) {
			continue
		}
		row := roleAssignmentRow{Sid: domain.NewSIDFrom(domain.PrefixRoleAssignment, now, rand.Reader), OrganizationSid: orgSid,
			RoleSid: role, Scope: scope, Identity: identity, DateCreated: now}
		if err := tx.Create(&row).Error; err != nil {
			return nil, nil, translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the roles on the account changed meanwhile; try again"))
		}
		created = append(created, row.Sid)
	}
	return deleted, created, nil
}

// SetAccountUserRoles implements domain.AccountUserStore.
func (s *Store) SetAccountUserRoles(ctx context.Context, c domain.RoleChange, ev domain.AuditEvent) (domain.AccountUser, error) {
	out := domain.AccountUser{AccountSid: c.AccountSid}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		a, err := s.lockAccount(tx, c.OrganizationSid, c.AccountSid)
		if err != nil {
			return err
		}
		if err := domain.CheckRoleScope(a.domain()); err != nil {
			return err
		}
		if err := domain.CheckAccessGrant(a.domain()); err != nil {
			return err
		}
		var u userRow
		err = tx.Where("sid = ? AND organization_sid = ?", c.UserSid, c.OrganizationSid).Take(&u).Error
		if err != nil && !isNotFound(err) {
			return translate(err, nil, nil)
		}
		if err != nil || !u.domain().IsManagedBy(c.OrganizationSid) {
			return domain.Errorf(domain.EInvalid, domain.CodeIdentityNotManaged, "user %s is not an active managed user of this organization", c.UserSid)
		}
		out.User = u.domain()
		rows, held, err := heldRoles(tx, c.AccountSid, c.UserSid)
		if err != nil {
			return err
		}
		if err := domain.CheckRoleChange(held, c.Roles, c.MayManageAdministrators); err != nil {
			return err
		}
		out.Roles = held
		if slices.Equal(held, c.Roles) {
			return nil
		}
		deleted, created, err := s.replaceRoles(tx, c.OrganizationSid, c.AccountSid, c.UserSid, rows, c.Roles)
		if err != nil {
			return err
		}
		out.Roles = c.Roles
		ev.Changes = map[string]any{
			"user_sid":            c.UserSid,
			"roles":               map[string]any{"from": nonNil(held), "to": c.Roles},
			"assignments_deleted": nonNil(deleted),
			"assignments_created": nonNil(created),
		}
		return s.audit(tx, ev)
	})
	if err != nil {
		return domain.AccountUser{}, err
	}
	return out, nil
}

// RemoveAccountUser implements domain.AccountUserStore.
func (s *Store) RemoveAccountUser(ctx context.Context, c domain.RoleChange, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockAccount(tx, c.OrganizationSid, c.AccountSid); err != nil {
			return err
		}
		rows, held, err := heldRoles(tx, c.AccountSid, c.UserSid)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return domain.Errorf(domain.ENotFound, domain.CodeRoleAssignmentMissing, "user %s holds no role on this account", c.UserSid)
		}
		if err := domain.CheckRoleChange(held, nil, c.MayManageAdministrators); err != nil {
			return err
		}
		deleted, _, err := s.replaceRoles(tx, c.OrganizationSid, c.AccountSid, c.UserSid, rows, nil)
		if err != nil {
			return err
		}
		ev.Changes = map[string]any{
			"user_sid":            c.UserSid,
			"roles":               map[string]any{"from": held, "to": []string{}},
			"assignments_deleted": deleted,
		}
		return s.audit(tx, ev)
	})
}

// TransferOwnership implements domain.AccountUserStore. The account's row
// is updated before any role, guarded by its version: of two racing
// transfers the second waits for the first to commit (PostgreSQL) or runs
// after it (SQLite), then finds the version moved and fails with 25020
// before it has touched a role. The partial unique index role_assignments_one_owner
// backs this up: an account never has two Owner rows.
func (s *Store) TransferOwnership(ctx context.Context, t domain.OwnershipTransfer, ev domain.AuditEvent) (domain.TransferredOwnership, error) {
	var out domain.TransferredOwnership
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRow
		if err := tx.Where("sid = ? AND organization_sid = ?", t.AccountSid, t.OrganizationSid).Take(&cur).Error; err != nil {
			return translate(err, errAccountNotFound, nil)
		}
		if cur.Status == domain.AccountProvisioning {
			return errAccountNotFound
		}
		if t.ExpectVersion != 0 && cur.Version != t.ExpectVersion {
			return errAccountChanged
		}
		var former userRow
		if err := tx.Where("sid = ?", cur.OwnerSid).Take(&former).Error; err != nil {
			return translate(err, nil, nil)
		}
		if cur.OwnerSid == t.NewOwnerSid {
			out = domain.TransferredOwnership{Account: cur.domain(), FormerOwner: former.domain(), NewOwner: former.domain()}
			return domain.CheckOwnershipTransfer(cur.domain(), former.domain())
		}
		q := tx.Where("sid = ? AND organization_sid = ?", t.NewOwnerSid, t.OrganizationSid)
		if s.dialect == Postgres {
			// The new owner may not be deactivated or deleted until
			// this transaction ends.
			q = q.Clauses(forShare)
		}
		var owner userRow
		if err := q.Take(&owner).Error; err != nil {
			if isNotFound(err) {
				return domain.Errorf(domain.EInvalid, domain.CodeOwnerNotManaged, "the new owner %s is not a managed user of this organization", t.NewOwnerSid)
			}
			return translate(err, nil, nil)
		}
		if err := domain.CheckOwnershipTransfer(cur.domain(), owner.domain()); err != nil {
			return err
		}
		now := s.now()
		res := tx.Model(&accountRow{}).Where("sid = ? AND version = ?", cur.Sid, cur.Version).
			Updates(map[string]any{"owner_sid": owner.Sid, "date_updated": now, "version": cur.Version + 1})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			// Another transfer (or status change) committed since cur
			// was read: the checks above were made on a stale account.
			return errAccountChanged
		}
		// The account's row is ours until the transaction ends. The new
		// owner: Owner alone (Owner supersedes every other role).
		ownerRows, ownerHeld, err := heldRoles(tx, cur.Sid, owner.Sid)
		if err != nil {
			return err
		}
		for _, r := range ownerRows {
			if err := tx.Where("sid = ?", r.Sid).Delete(&roleAssignmentRow{}).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		// The former owner: Administrator alone, keeping an
		// Administrator assignment it already had.
		formerRows, formerHeld, err := heldRoles(tx, cur.Sid, former.Sid)
		if err != nil {
			return err
		}
		deleted, created, err := s.replaceRoles(tx, t.OrganizationSid, cur.Sid, former.Sid, formerRows, []string{domain.RoleAdministrator})
		if err != nil {
			return err
		}
		orgSid := cur.OrganizationSid.String
		ownerRow := roleAssignmentRow{Sid: domain.NewSIDFrom(domain.PrefixRoleAssignment, now, rand.Reader), OrganizationSid: orgSid,
			RoleSid: domain.RoleOwner, Scope: cur.Sid, Identity: owner.Sid, DateCreated: now}
		if err := tx.Create(&ownerRow).Error; err != nil {
			return translate(err, nil, errAccountChanged)
		}
		for _, r := range ownerRows {
			deleted = append(deleted, r.Sid)
		}
		cur.OwnerSid, cur.DateUpdated, cur.Version = owner.Sid, now, cur.Version+1
		out = domain.TransferredOwnership{Account: cur.domain(), FormerOwner: former.domain(), NewOwner: owner.domain()}
		ev.Changes = map[string]any{
			"owner_sid":           map[string]any{"from": former.Sid, "to": owner.Sid},
			"former_owner_roles":  map[string]any{"from": nonNil(formerHeld), "to": []string{domain.RoleAdministrator}},
			"new_owner_roles":     map[string]any{"from": nonNil(ownerHeld), "to": []string{domain.RoleOwner}},
			"assignments_deleted": nonNil(deleted),
			"assignments_created": append(created, ownerRow.Sid),
		}
		return s.audit(tx, ev)
	})
	if err != nil {
		return domain.TransferredOwnership{}, err
	}
	return out, nil
}

// Row locks, PostgreSQL only.
var (
	forNoKeyUpdate = clause.Locking{Strength: "NO KEY UPDATE"}
	forShare       = clause.Locking{Strength: clause.LockingStrengthShare}
)

func isNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

var errAccountChanged = domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the account changed while its ownership was being transferred; reload it and try again")

// nonNil makes a nil list an empty one, so that events show [] rather than
// null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
