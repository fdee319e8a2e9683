package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// CreateDomainRecord persists a pending domain for the StartUpdate of its
// verification: 25312 when another organization has verified the name,
// 25019 when the organization has it pending or verified already. A retry
// of a call that went through answers with the domain it stored.
func (a *Activities) CreateDomainRecord(ctx context.Context, in domain.DomainAddition) (domain.VerifiedDomain, error) {
	if d, err := a.Store.FindDomain(ctx, in.OrganizationSid, in.DomainSid); err == nil {
		return d, nil // stored by an earlier attempt
	} else if domain.ErrorCode(err) != domain.CodeDomainNotFound {
		return d, wrap(err)
	}
	if v, err := a.Store.FindVerifiedDomain(ctx, in.DomainName); err == nil && v.OrganizationSid != in.OrganizationSid {
		return domain.VerifiedDomain{}, wrap(domain.DomainTakenError(in.DomainName))
	} else if err != nil && domain.ErrorCode(err) != domain.CodeDomainNotFound {
		return domain.VerifiedDomain{}, wrap(err)
	}
	d := domain.VerifiedDomain{Sid: in.DomainSid, OrganizationSid: in.OrganizationSid, DomainName: in.DomainName, VerificationToken: in.VerificationToken}
	if err := a.Store.CreateDomain(ctx, d, domain.NewAuditEvent(in.Actor, in.OrganizationSid, domain.EventDomainCreated, d.Sid,
		map[string]any{"domain_name": d.DomainName})); err != nil {
		return domain.VerifiedDomain{}, wrap(err)
	}
	logger(ctx).Info("domain added", "DomainSid", d.Sid, "domain", d.DomainName)
	d, err := a.Store.FindDomain(ctx, in.OrganizationSid, in.DomainSid)
	return d, wrap(err)
}

// CheckDomainInput names the domain whose TXT record to look up.
type CheckDomainInput struct {
	DomainSid string
	At        time.Time // the workflow's time of the check
}

// DomainCheck is what a look-up found.
type DomainCheck struct {
	Found  bool   // the exact verification record is published
	Status string // the domain's stored status
}

// CheckDomainRecord looks up _orgaccounts.<domain> and reports whether
// one of its TXT values is exactly the domain's verification value. A
// domain that no longer exists (deleted through the API) is 25313, which
// ends its workflow; a look-up that fails is retried, then left to the
// workflow.
func (a *Activities) CheckDomainRecord(ctx context.Context, in CheckDomainInput) (DomainCheck, error) {
	d, err := a.Store.FindDomain(ctx, "", in.DomainSid)
	if err != nil {
		return DomainCheck{}, wrap(err)
	}
	if a.Resolver == nil {
		return DomainCheck{}, fmt.Errorf("activities: no DNS resolver configured")
	}
	values, err := a.Resolver.LookupTXT(ctx, d.RecordName())
	if err != nil {
		logger(ctx).Warn("DNS look-up failed", "DomainSid", d.Sid, "name", d.RecordName(), "Error", err)
		return DomainCheck{}, err
	}
	found := false
	for _, v := range values {
		if v == d.RecordValue() {
			found = true
		}
	}
	if err := a.Store.RecordDomainCheck(ctx, d.Sid, in.At); err != nil {
		return DomainCheck{}, wrap(err)
	}
	logger(ctx).Info("domain record checked", "DomainSid", d.Sid, "domain", d.DomainName, "found", found)
	return DomainCheck{Found: found, Status: d.Status}, nil
}

// DomainTransitionInput is one change of a domain's verification state.
type DomainTransitionInput struct {
	DomainSid  string
	Transition domain.DomainTransition
	Reason     string // recorded on the audit event
	Actor      domain.Actor
}

// domainTemplates are the notices the organization owner gets.
var domainTemplates = map[string]string{
	domain.DomainVerify: email.TemplateDomainVerified,
	domain.DomainFail:   email.TemplateDomainFailed,
	domain.DomainLapse:  email.TemplateDomainLapsed,
	domain.DomainRemove: email.TemplateDomainRemoved,
}

// TransitionDomain applies a transition (once: a retry changes nothing
// and records no second event) and emails the organization owner about
// it, once per transition.
func (a *Activities) TransitionDomain(ctx context.Context, in DomainTransitionInput) (domain.VerifiedDomain, error) {
	d, err := a.Store.FindDomain(ctx, "", in.DomainSid)
	if err != nil {
		return d, wrap(err)
	}
	changes := map[string]any{"domain_name": d.DomainName}
	if in.Reason != "" {
		changes["reason"] = in.Reason
	}
	if in.Transition.Kind == domain.DomainLapse {
		changes["remove_after"] = in.Transition.RemoveAfter.UTC().Format(time.RFC3339)
	}
	ev := domain.NewAuditEvent(in.Actor, d.OrganizationSid, in.Transition.EventType(), d.Sid, changes)
	d, err = a.Store.TransitionDomain(ctx, in.DomainSid, in.Transition, ev)
	if err != nil {
		return d, wrap(err)
	}
	logger(ctx).Info("domain "+in.Transition.Kind, "DomainSid", d.Sid, "domain", d.DomainName, "status", d.Status)
	tmpl, ok := domainTemplates[in.Transition.Kind]
	if !ok || a.Mailer == nil {
		return d, nil
	}
	org, err := a.Store.FindOrganization(ctx, d.OrganizationSid)
	if err != nil {
		return d, wrap(err)
	}
	owner, err := a.Store.FindUser(ctx, d.OrganizationSid, org.OwnerSid)
	if err != nil {
		return d, wrap(err)
	}
	data := map[string]any{
		"OrganizationName": org.FriendlyName, "DomainName": d.DomainName,
		"RecordName": d.RecordName(), "RecordValue": d.RecordValue(),
	}
	if d.RemoveAfter != nil {
		data["RemoveAfter"] = d.RemoveAfter.Format("2 Jan 2006 15:04 MST")
	}
	return d, a.SendEmail(ctx, EmailInput{
		Key:             fmt.Sprintf("domain/%s/%s/%d", d.Sid, in.Transition.Kind, in.Transition.At.UnixMilli()),
		OrganizationSid: d.OrganizationSid, To: owner.UserName, Template: tmpl, Data: data, RelatedSid: d.Sid,
	})
}
