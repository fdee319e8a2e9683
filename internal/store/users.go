package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errUserNotFound = domain.Errorf(domain.ENotFound, domain.CodeUserNotFound, "user not found in this organization")

func errDuplicateUser(u domain.User) *domain.Error {
	return domain.Errorf(domain.EConflict, domain.CodeDuplicateUser, "a user with userName %q or externalId %q already exists", u.UserName, u.ExternalID)
}

// CreateUser implements domain.UserStore.
func (s *Store) CreateUser(ctx context.Context, u domain.User, ev domain.AuditEvent) error {
	now := s.now()
	u.DateCreated, u.DateUpdated, u.Version = now, now, 1
	return s.tx(ctx, func(tx *gorm.DB) error {
		r := userRowFrom(u)
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, errDuplicateUser(u))
		}
		return s.audit(tx, ev)
	})
}

// FindUser implements domain.UserStore.
func (s *Store) FindUser(ctx context.Context, orgSid, sid string) (domain.User, error) {
	var r userRow
	err := s.db.WithContext(ctx).Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&r).Error
	return r.domain(), translate(err, errUserNotFound, nil)
}

// FindUserByEmail implements domain.UserStore.
func (s *Store) FindUserByEmail(ctx context.Context, orgSid, email string) (domain.User, error) {
	var r userRow
	err := s.db.WithContext(ctx).Where("user_name = ? AND organization_sid = ?", email, orgSid).Take(&r).Error
	return r.domain(), translate(err, errUserNotFound, nil)
}

// ListUsers implements domain.UserStore.
func (s *Store) ListUsers(ctx context.Context, f domain.UserFilter) ([]domain.User, int, error) {
	q := s.db.WithContext(ctx).Model(&userRow{}).Where("organization_sid = ?", f.OrganizationSid)
	if f.UserName != "" {
		q = q.Where("user_name = ?", f.UserName)
	}
	if f.ExternalID != "" {
		q = q.Where("external_id = ?", f.ExternalID)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, nil, nil)
	}
	var rows []userRow
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if f.Offset > 0 {
		q = q.Offset(f.Offset)
	}
	if err := q.Order("sid ASC").Find(&rows).Error; err != nil {
		return nil, 0, translate(err, nil, nil)
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, int(total), nil
}

// UpdateUser implements domain.UserStore.
func (s *Store) UpdateUser(ctx context.Context, u domain.User, expectVersion int, ev domain.AuditEvent) (domain.User, error) {
	var out domain.User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur userRow
		if err := tx.Where("sid = ? AND organization_sid = ?", u.Sid, u.OrganizationSid).Take(&cur).Error; err != nil {
			return translate(err, errUserNotFound, nil)
		}
		if expectVersion != 0 && cur.Version != expectVersion {
			return domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the user has changed (version %d, If-Match gave %d)", cur.Version, expectVersion)
		}
		next := userRowFrom(u)
		next.DateCreated, next.DateUpdated, next.Version = cur.DateCreated, s.now(), cur.Version+1
		res := tx.Model(&userRow{}).Where("sid = ? AND version = ?", u.Sid, cur.Version).Select("*").Updates(&next)
		if res.Error != nil {
			return translate(res.Error, nil, errDuplicateUser(u))
		}
		if res.RowsAffected != 1 {
			return domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "the user changed while being updated")
		}
		out = next.domain()
		return s.audit(tx, ev)
	})
	return out, err
}

// DeleteUser implements domain.UserStore.
func (s *Store) DeleteUser(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var cur userRow
		if err := tx.Where("sid = ? AND organization_sid = ?", sid, orgSid).Take(&cur).Error; err != nil {
			return translate(err, errUserNotFound, nil)
		}
		if domain.OrgRole(cur.OrgRole) == domain.OrgRoleOwner {
			return domain.Errorf(domain.EForbidden, domain.CodeOrgOwnerImmutable, "the organization owner cannot be removed through the API")
		}
		var owned int64
		// Every account counts, closed ones too: accounts.owner_sid
		// references the user, so deleting it would break that key.
		if err := tx.Model(&accountRow{}).Where("owner_sid = ?", sid).Count(&owned).Error; err != nil {
			return translate(err, nil, nil)
		}
		if owned > 0 {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the user owns %d account(s); transfer their ownership first", owned)
		}
		for _, del := range []struct {
			model any
			where string
		}{
			{&roleAssignmentRow{}, "identity = ?"},
			{&accessTokenRow{}, "credential_sid IN (SELECT sid FROM credentials WHERE user_sid = ?)"},
			{&credentialRow{}, "user_sid = ?"},
			{&userRow{}, "sid = ?"},
		} {
			if err := tx.Where(del.where, sid).Delete(del.model).Error; err != nil {
				return translate(err, nil, nil)
			}
		}
		return s.audit(tx, ev)
	})
}
