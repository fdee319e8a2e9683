package lifecycle

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// organizationStore is what the organization service reads.
type organizationStore interface {
	FindOrganization(ctx context.Context, sid string) (domain.Organization, error)
	ListEvents(ctx context.Context, f domain.EventFilter) ([]domain.AuditEvent, error)
	UpdateOrganization(ctx context.Context, sid string, require2FA bool, ev domain.AuditEvent) (domain.Organization, error)
}

// Organizations answers for the organization itself and its audit trail.
type Organizations struct {
	store organizationStore
}

// Get returns the caller's organization.
func (s *Organizations) Get(ctx context.Context, p domain.Principal) (domain.Organization, error) {
	return s.store.FindOrganization(ctx, p.OrganizationSid)
}

// Update applies the organization's settings, for organization Owners
// and Administrators: Require2FA makes every account of the organization
// require two-factor authentication (25106 when nothing is given). The
// change is an organization.updated event.
func (s *Organizations) Update(ctx context.Context, p domain.Principal, require2FA *bool) (domain.Organization, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.Organization{}, err
	}
	if require2FA == nil {
		return domain.Organization{}, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "nothing to update: give require_2fa")
	}
	return s.store.UpdateOrganization(ctx, p.OrganizationSid, *require2FA,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventOrganizationUpdated, p.OrganizationSid, nil))
}

// Events returns one page of the organization's audit events matching the
// filter (its OrganizationSid is the caller's), for organization admins.
func (s *Organizations) Events(ctx context.Context, p domain.Principal, f domain.EventFilter) (domain.Page[domain.AuditEvent], error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.Page[domain.AuditEvent]{}, err
	}
	f.OrganizationSid = p.OrganizationSid
	if err := f.Validate(); err != nil {
		return domain.Page[domain.AuditEvent]{}, err
	}
	return page(f.Page, func() ([]domain.AuditEvent, error) { return s.store.ListEvents(ctx, f) })
}
