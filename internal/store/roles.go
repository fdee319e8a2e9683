package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errRoleAssignmentNotFound = domain.Errorf(domain.ENotFound, domain.CodeRoleAssignmentMissing, "role assignment not found in this organization")

// CreateRoleAssignment implements domain.RoleAssignmentStore.
func (s *Store) CreateRoleAssignment(ctx context.Context, ra domain.RoleAssignment, ev domain.AuditEvent) (domain.RoleAssignment, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Serialize grants on one account (PostgreSQL; SQLite
		// transactions are serialized already), or two concurrent grants
		// both check against the roles held before either and both insert
		// (Administrator next to Developer), or a grant slips past a
		// closure's removal of every role.
		q := tx.Model(&accountRow{}).Where("sid = ?", ra.Scope)
		if s.dialect == Postgres {
			q = q.Clauses(forNoKeyUpdate)
		}
		var acct accountRow
		if err := q.Take(&acct).Error; err != nil && !isNotFound(err) {
			return translate(err, nil, nil)
		} else if err == nil {
			if err := domain.CheckAccessGrant(acct.domain()); err != nil {
				return err
			}
		}
		var held []string
		if err := tx.Model(&roleAssignmentRow{}).Where("scope = ? AND identity = ?", ra.Scope, ra.Identity).Pluck("role_sid", &held).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := domain.CheckGrant(ra.RoleSid, held); err != nil {
			return err
		}
		if ra.RoleSid == domain.RoleAdministrator && len(held) > 0 {
			// Administrator supersedes the lesser roles: they go.
			if err := tx.Where("scope = ? AND identity = ? AND role_sid <> ?", ra.Scope, ra.Identity, domain.RoleOwner).Delete(&roleAssignmentRow{}).Error; err != nil {
				return translate(err, nil, nil)
			}
			ev.Changes = map[string]any{"superseded_roles": held}
		}
		ev.AccountSid = ra.Scope
		ra.DateCreated = s.now()
		row := roleAssignmentRow{Sid: ra.Sid, OrganizationSid: ra.OrganizationSid, RoleSid: ra.RoleSid, Scope: ra.Scope, Identity: ra.Identity, DateCreated: ra.DateCreated}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the identity already holds role %s on this account", ra.RoleSid))
		}
		return s.audit(tx, ev)
	})
	return ra, err
}

// ListRoleAssignments implements domain.RoleAssignmentStore.
func (s *Store) ListRoleAssignments(ctx context.Context, f domain.RoleAssignmentFilter) ([]domain.RoleAssignment, error) {
	q := s.db.WithContext(ctx).Model(&roleAssignmentRow{}).Where("organization_sid = ?", f.OrganizationSid)
	if f.Identity != "" {
		q = q.Where("identity = ?", f.Identity)
	}
	if f.Scope != "" {
		q = q.Where("scope = ?", f.Scope)
	}
	var rows []roleAssignmentRow
	if err := keyset(q, "sid", f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.RoleAssignment, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// FindRoleAssignment implements domain.RoleAssignmentStore.
func (s *Store) FindRoleAssignment(ctx context.Context, orgSid, sid string) (domain.RoleAssignment, error) {
	var r roleAssignmentRow
	err := s.db.WithContext(ctx).Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&r).Error
	return r.domain(), translate(err, errRoleAssignmentNotFound, nil)
}

// DeleteRoleAssignment implements domain.RoleAssignmentStore.
func (s *Store) DeleteRoleAssignment(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var r roleAssignmentRow
		if err := tx.Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&r).Error; err != nil {
			return translate(err, errRoleAssignmentNotFound, nil)
		}
		if r.RoleSid == domain.RoleOwner {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the Owner role assignment cannot be deleted; transfer ownership instead")
		}
		if err := tx.Where("sid = ?", sid).Delete(&roleAssignmentRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if ev.Changes == nil {
			ev.Changes = map[string]any{"role_sid": r.RoleSid, "scope": r.Scope, "identity": r.Identity}
		}
		ev.AccountSid = r.Scope
		return s.audit(tx, ev)
	})
}

// RolesOn implements domain.RoleAssignmentStore.
func (s *Store) RolesOn(ctx context.Context, scope, identity string) ([]string, error) {
	var roles []string
	err := s.db.WithContext(ctx).Model(&roleAssignmentRow{}).Where("scope = ? AND identity = ?", scope, identity).Order("role_sid").Pluck("role_sid", &roles).Error
	return roles, translate(err, nil, nil)
}
