package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// Bootstrapped is what the first start creates, with the credential
// secret in clear (it is stored only as a hash: shown once).
type Bootstrapped struct {
	Organization domain.Organization
	Owner        domain.User
	ClientID     string
	ClientSecret string
	// PasswordLink, when set, sets the owner's password (shown once).
	PasswordLink string
	Created      bool // false: the organization existed, a new credential was issued
}

// Bootstrap creates the first organization, its owner, its verified domain
// and an API credential, unless an organization exists already. With
// newCredential, an existing organization's owner gets a fresh credential.
func Bootstrap(ctx context.Context, st domain.Store, clock domain.Clock, orgName, ownerEmail string, newCredential bool) (Bootstrapped, bool, error) {
	var out Bootstrapped
	if err := domain.ValidateFriendlyName("BOOTSTRAP_ORG_NAME", orgName); err != nil {
		return out, false, err
	}
	email, err := domain.NormalizeEmail("BOOTSTRAP_OWNER_EMAIL", ownerEmail)
	if err != nil {
		return out, false, err
	}
	now := clock.Now()
	org, err := st.FirstOrganization(ctx)
	switch {
	case err == nil:
		if !newCredential {
			return out, false, nil
		}
		owner, err := st.FindUser(ctx, org.Sid, org.OwnerSid)
		if err != nil {
			return out, false, err
		}
		cred, secret := newCredentialFor(org.Sid, owner.Sid, now)
		if err := st.CreateCredential(ctx, cred, domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventCredentialCreated, cred.Sid, nil)); err != nil {
			return out, false, err
		}
		return Bootstrapped{Organization: org, Owner: owner, ClientID: cred.Sid, ClientSecret: secret}, true, nil
	case domain.ErrorCode(err) != domain.CodeOrganizationNotFound:
		return out, false, err
	}

	org = domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: orgName}
	owner := domain.User{
		Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: org.Sid, UserName: email,
		DisplayName: "Organization Owner", Managed: true, OrgRole: domain.OrgRoleOwner, Active: true,
	}
	org.OwnerSid = owner.Sid
	verifiedAt := now
	dom := domain.VerifiedDomain{
		Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: org.Sid, DomainName: domain.EmailDomain(email),
		Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &verifiedAt,
	}
	cred, secret := newCredentialFor(org.Sid, owner.Sid, now)
	err = st.CreateOrganization(ctx, org, owner, dom, cred,
		domain.NewAuditEvent(domain.SystemActor, org.Sid, domain.EventOrganizationCreated, org.Sid, map[string]any{"friendly_name": orgName, "owner": email}))
	if domain.ErrorCode(err) == domain.CodeDuplicateUser {
		// Another process bootstrapped at the same moment.
		return out, false, nil
	}
	if err != nil {
		return out, false, err
	}
	return Bootstrapped{Organization: org, Owner: owner, ClientID: cred.Sid, ClientSecret: secret, Created: true}, true, nil
}

func newCredentialFor(orgSid, userSid string, now time.Time) (domain.Credential, string) {
	secret := domain.NewSecret(32)
	return domain.Credential{
		Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: orgSid, UserSid: userSid,
		FriendlyName: "bootstrap", SecretHash: domain.HashSecret(secret),
	}, secret
}

// Print writes the bootstrap result with a copy-paste curl.
func (b Bootstrapped) Print(w io.Writer, baseURL string) {
	what := "bootstrapped organization"
	if !b.Created {
		what = "issued a new credential for organization"
	}
	_, _ = fmt.Fprintf(w, `
orgaccounts: %s %s (%s)
  owner:          %s <%s>
  client id:      %s
  client secret:  %s
  (the secret is shown once and stored only as a hash; "orgaccounts bootstrap" issues another)

List the organization's accounts:
  curl -s -u %s:%s %s/Organizations/%s/Accounts

The README walkthrough's first line, to paste into a shell:
  %s

The Admin Center, in a browser: %s/console (sign in as %s)

`, what, b.Organization.Sid, b.Organization.FriendlyName, b.Owner.Sid, b.Owner.UserName, b.ClientID, b.ClientSecret,
		b.ClientID, b.ClientSecret, baseURL, b.Organization.Sid, b.ShellLine(), baseURL, b.Owner.UserName)
	if b.PasswordLink != "" {
		_, _ = fmt.Fprintf(w, `Sign in to the console as %s: choose the owner's password at
  %s
  (the link works once, for a day; "orgaccounts bootstrap" prints another), then sign in at
  %s/console

`, b.Owner.UserName, b.PasswordLink, baseURL)
	}
}

// ShellLine sets the shell variables README's walkthrough starts from:
// the credential's client id and secret and the organization's SID.
func (b Bootstrapped) ShellLine() string {
	return fmt.Sprintf("ID=%s; SECRET=%s; ORG=%s", b.ClientID, b.ClientSecret, b.Organization.Sid)
}

// WithPasswordLink adds a single-use link to set the owner's password to
// what Print shows: how the first person signs in to the console.
func (b Bootstrapped) WithPasswordLink(ctx context.Context, st domain.Store, clock domain.Clock, baseURL string) (Bootstrapped, error) {
	link, err := lifecycle.New(lifecycle.Deps{Store: st, Clock: clock}).SignIn.IssuePasswordLink(ctx, b.Owner.Sid, baseURL)
	b.PasswordLink = link
	return b, err
}
