package workflows

import (
	"context"
	"errors"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// AddDomain starts the verification of a domain (lifecycle.DomainEngine)
// by Update-with-Start, findable in the Web UI by OrganizationSid:
// StartUpdate persists the pending domain and the answer is that domain,
// or the domain error that refused it (25312: verified by another
// organization; 25019: the organization has it pending or verified
// already). Nothing is persisted when it is refused.
func (c Client) AddDomain(ctx context.Context, a domain.DomainAddition) (domain.VerifiedDomain, domain.Run, error) {
	opts := summarized(c.options(DomainVerificationWorkflowID(a.DomainSid), a.OrganizationSid, "", a.Actor.RequestID),
		"Verify domain %s of organization %s, then recheck it", a.DomainSid, a.OrganizationSid)
	opts.TypedSearchAttributes = temporal.NewSearchAttributes(OrganizationSidKey.ValueSet(a.OrganizationSid))
	ended := func(context.Context, domain.Run) (domain.VerifiedDomain, error) {
		return domain.VerifiedDomain{}, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the verification of domain %s has ended", a.DomainSid)
	}
	return startWith(ctx, c, opts, ended, DomainVerificationWorkflow, DomainVerificationInput{
		OrganizationSid: a.OrganizationSid, DomainSid: a.DomainSid, DomainName: a.DomainName, VerificationToken: a.VerificationToken,
		Timings: c.DomainTimings, Actor: a.Actor,
	})
}

// CancelDomainVerification cancels the verification workflow of a domain
// (its current run); one that has ended already is no error.
func (c Client) CancelDomainVerification(ctx context.Context, domainSid string) error {
	err := c.Temporal.CancelWorkflow(ctx, DomainVerificationWorkflowID(domainSid), "")
	var nf *serviceerror.NotFound
	if err == nil || errors.As(err, &nf) {
		return nil
	}
	return unavailable(err)
}
