package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

var errOrgNotFound = domain.Errorf(domain.ENotFound, domain.CodeOrganizationNotFound, "organization not found")

// FindOrganization implements domain.OrganizationStore.
func (s *Store) FindOrganization(ctx context.Context, sid string) (domain.Organization, error) {
	var r organizationRow
	err := s.db.WithContext(ctx).Where("sid = ?", sid).Take(&r).Error
	return r.domain(), translate(err, errOrgNotFound, nil)
}

// FirstOrganization implements domain.OrganizationStore.
func (s *Store) FirstOrganization(ctx context.Context) (domain.Organization, error) {
	var r organizationRow
	err := s.db.WithContext(ctx).Order("sid ASC").Take(&r).Error
	return r.domain(), translate(err, errOrgNotFound, nil)
}

// CreateOrganization implements domain.OrganizationStore.
func (s *Store) CreateOrganization(ctx context.Context, org domain.Organization, owner domain.User, dom domain.VerifiedDomain, cred domain.Credential, ev domain.AuditEvent) error {
	now := s.now()
	org.DateCreated, org.DateUpdated = now, now
	owner.DateCreated, owner.DateUpdated, owner.Version = now, now, 1
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&organizationRow{Sid: org.Sid, FriendlyName: org.FriendlyName, OwnerSid: org.OwnerSid, DateCreated: now, DateUpdated: now}).Error; err != nil {
			return translate(err, nil, nil)
		}
		u := userRowFrom(owner)
		if err := tx.Create(&u).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeDuplicateUser, "a user with userName %s already exists", owner.UserName))
		}
		d := domainRow{Sid: dom.Sid, OrganizationSid: org.Sid, DomainName: dom.DomainName, Status: dom.Status, VerificationToken: dom.VerificationToken, DateCreated: now, DateVerified: dom.DateVerified}
		if err := tx.Create(&d).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "domain %s is already verified by another organization", dom.DomainName))
		}
		c := credentialRow{Sid: cred.Sid, OrganizationSid: org.Sid, UserSid: cred.UserSid, FriendlyName: cred.FriendlyName, SecretHash: cred.SecretHash, DateCreated: now}
		if err := tx.Create(&c).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// IsVerifiedDomain implements domain.OrganizationStore.
func (s *Store) IsVerifiedDomain(ctx context.Context, orgSid, name string) (bool, error) {
	var r domainRow
	err := s.db.WithContext(ctx).Where("organization_sid = ? AND domain_name = ? AND status = ?", orgSid, name, domain.DomainVerified).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	return err == nil, translate(err, nil, nil)
}
