package lifecycle

import (
	"context"
	"log/slog"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// DomainEngine runs domain verifications.
type DomainEngine interface {
	// AddDomain starts the verification: the answer comes once the
	// pending domain is persisted, or is the domain error that refused it
	// (25312: verified by another organization; 25019: the organization
	// has it pending or verified already). Nothing is persisted when it
	// is refused.
	AddDomain(ctx context.Context, a domain.DomainAddition) (domain.VerifiedDomain, domain.Run, error)
	// CancelDomainVerification ends a domain's verification (no error
	// when it has ended already).
	CancelDomainVerification(ctx context.Context, domainSid string) error
}

// domainStore is what the domains service reads and writes.
type domainStore interface {
	FindDomain(ctx context.Context, orgSid, sid string) (domain.VerifiedDomain, error)
	FindLiveDomain(ctx context.Context, orgSid, name string) (domain.VerifiedDomain, error)
	ListDomains(ctx context.Context, f domain.DomainFilter) ([]domain.VerifiedDomain, error)
	DeleteDomain(ctx context.Context, orgSid, sid string, ev domain.AuditEvent) error
}

// Domains is the lifecycle of an organization's verified domains.
type Domains struct {
	access access
	store  domainStore
	engine DomainEngine
	clock  domain.Clock
	log    *slog.Logger
}

// List returns one page of the organization's domains. Reads are open to
// every user of the organization: the records are public in DNS anyway.
func (s *Domains) List(ctx context.Context, p domain.Principal, req domain.PageRequest) (domain.Page[domain.VerifiedDomain], error) {
	return page(req, func() ([]domain.VerifiedDomain, error) {
		return s.store.ListDomains(ctx, domain.DomainFilter{OrganizationSid: p.OrganizationSid, Page: req})
	})
}

// Get returns a domain of the organization (25313).
func (s *Domains) Get(ctx context.Context, p domain.Principal, sid string) (domain.VerifiedDomain, error) {
	if err := domain.CheckSID("domain", domain.PrefixDomain, sid); err != nil {
		return domain.VerifiedDomain{}, err
	}
	return s.store.FindDomain(ctx, p.OrganizationSid, sid)
}

// Added is a domain being verified; Created is false when the
// organization had it pending or verified already (the answer is then
// that one).
type Added struct {
	Domain  domain.VerifiedDomain
	Created bool
	Run     domain.Run
}

// Add starts verifying a domain, for organization admins: the answer is
// the pending domain with the record to publish. A domain the organization
// already has pending or verified answers with that one; a failed or
// removed one is added anew; one verified by another organization is
// 25312.
func (s *Domains) Add(ctx context.Context, p domain.Principal, name string) (Added, error) {
	if err := p.RequireOrgAdmin(); err != nil {
		return Added{}, err
	}
	if err := domain.CheckDomainName("domain_name", name); err != nil {
		return Added{}, err
	}
	if d, err := s.store.FindLiveDomain(ctx, p.OrganizationSid, name); err == nil {
		return Added{Domain: d}, nil
	} else if domain.ErrorCode(err) != domain.CodeDomainNotFound {
		return Added{}, err
	}
	d, run, err := s.engine.AddDomain(ctx, domain.DomainAddition{
		OrganizationSid: p.OrganizationSid, DomainSid: newSID(ctx, s.clock, domain.PrefixDomain), DomainName: name,
		VerificationToken: domain.NewSecret(32), Actor: p.Actor(),
	})
	if domain.ErrorCode(err) == domain.CodeInvalidState {
		// Added by a concurrent request: answer with that one.
		if live, ferr := s.store.FindLiveDomain(ctx, p.OrganizationSid, name); ferr == nil {
			return Added{Domain: live}, nil
		}
	}
	if err != nil {
		return Added{}, err
	}
	return Added{Domain: d, Created: true, Run: run}, nil
}

// Delete removes a domain, for organization admins, and ends its
// verification. The organization's last verified domain stays (25314):
// its managed users and imports depend on it.
func (s *Domains) Delete(ctx context.Context, p domain.Principal, sid string) error {
	if err := p.RequireOrgAdmin(); err != nil {
		return err
	}
	d, err := s.Get(ctx, p, sid)
	if err != nil {
		return err
	}
	if err := s.store.DeleteDomain(ctx, p.OrganizationSid, d.Sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventDomainDeleted, d.Sid,
		map[string]any{"domain_name": d.DomainName, "status": d.Status})); err != nil {
		return err
	}
	// The domain is gone: should the cancellation not get through, the
	// workflow ends by itself at its next check.
	if err := s.engine.CancelDomainVerification(ctx, d.Sid); err != nil {
		s.log.WarnContext(ctx, "cancelling a domain verification", "request_id", p.Actor().RequestID, "DomainSid", d.Sid, "error", err)
	}
	return nil
}
