package lifecycle_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

// fakeEngine stands in for the workflows: it records what the services
// ask. Any other engine call panics (the embedded Engine is nil).
type fakeEngine struct {
	lifecycle.Engine
	invited   []domain.Invitation
	answers   []linkAnswer
	answerErr error
	// passwordLinks are the users sent a link to set a password, and why.
	passwordLinks []string
}

func (e *fakeEngine) SendPasswordLink(_ context.Context, u domain.User, purpose, _ string, _ time.Time, _ domain.Actor) error {
	e.passwordLinks = append(e.passwordLinks, u.Sid+" "+purpose)
	return nil
}

type linkAnswer struct {
	kind, subject string
	answer        domain.LinkAnswer
}

func (e *fakeEngine) Invite(_ context.Context, inv domain.Invitation, _ domain.Actor) (domain.Invitation, domain.Run, error) {
	e.invited = append(e.invited, inv)
	inv.Status = domain.InvitationPending
	return inv, domain.Run{WorkflowID: "invitation/" + inv.Sid, RunID: "run"}, nil
}

func (e *fakeEngine) AnswerLink(_ context.Context, kind, subjectSid string, a domain.LinkAnswer) error {
	e.answers = append(e.answers, linkAnswer{kind, subjectSid, a})
	return e.answerErr
}

// fixture is an organization (owner, a managed Standard user, the
// verified domain acme.example.com) with an active account, in a real
// SQLite store, and the services on it.
type fixture struct {
	st       *store.Store
	engine   *fakeEngine
	svc      *lifecycle.Services
	org      domain.Organization
	owner    domain.User
	standard domain.User
	acct     domain.Account
	admin    domain.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "orgaccounts.db")})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	_, err = st.Migrate(ctx)
	require.NoError(t, err)
	now := time.Now()
	f := &fixture{st: st, engine: &fakeEngine{}}
	f.org = domain.Organization{Sid: domain.NewSID(domain.PrefixOrganization, now), FriendlyName: "Acme"}
	f.owner = domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: f.org.Sid, UserName: "owner@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleOwner, Active: true}
	f.org.OwnerSid = f.owner.Sid
	verified := now
	require.NoError(t, st.CreateOrganization(ctx, f.org, f.owner,
		domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, now), OrganizationSid: f.org.Sid, DomainName: "acme.example.com",
			Status: domain.DomainVerified, VerificationToken: domain.NewSecret(32), DateVerified: &verified},
		domain.Credential{Sid: domain.NewSID(domain.PrefixCredential, now), OrganizationSid: f.org.Sid, UserSid: f.owner.Sid,
			FriendlyName: "test", SecretHash: domain.HashSecret(domain.NewSecret(32))},
		domain.AuditEvent{}))
	f.standard = domain.User{Sid: domain.NewSID(domain.PrefixUser, now), OrganizationSid: f.org.Sid, UserName: "standard@acme.example.com",
		Managed: true, OrgRole: domain.OrgRoleStandard, Active: true}
	require.NoError(t, st.CreateUser(ctx, f.standard, domain.AuditEvent{}))
	f.acct, err = st.CreateAccount(ctx, domain.Account{Sid: domain.NewSID(domain.PrefixAccount, now), OrganizationSid: f.org.Sid, FriendlyName: "Desk",
		Status: domain.AccountActive, Kind: domain.AccountManaged, OwnerSid: f.owner.Sid},
		domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, now), OrganizationSid: f.org.Sid, RoleSid: domain.RoleOwner}, domain.AuditEvent{})
	require.NoError(t, err)
	f.svc = lifecycle.New(lifecycle.Deps{Store: st, Engine: f.engine})
	f.admin = domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.owner.Sid, OrgRole: domain.OrgRoleOwner, RequestID: "RQ-test"}
	return f
}

func (f *fixture) roleEvents(t *testing.T, identity string) []domain.AuditEvent {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, Type: domain.EventRoleAssigned, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	var out []domain.AuditEvent
	for _, ev := range evs {
		if ev.Changes["identity"] == identity {
			out = append(out, ev)
		}
	}
	return out
}

// A managed user of the organization gets the roles at once, through the
// one grant: one assignment and one event per role; inviting again grants
// nothing twice. No workflow is involved.
func TestInviteGrantsAManagedUserAtOnceAndOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		out, err := f.svc.Invitations.Invite(ctx, f.admin, f.acct.Sid, lifecycle.Invite{Email: "Standard@Acme.example.com", Roles: []string{domain.RoleDeveloper}})
		require.NoError(t, err)
		require.Nil(t, out.Invitation)
		require.NotNil(t, out.Granted)
		require.Equal(t, f.standard.Sid, out.Granted.UserSid)
		require.Equal(t, []string{domain.RoleDeveloper}, out.Granted.Roles)
	}
	ras, err := f.st.ListRoleAssignments(ctx, domain.RoleAssignmentFilter{OrganizationSid: f.org.Sid, Identity: f.standard.Sid, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	require.Len(t, ras, 1, "exactly one assignment")
	evs := f.roleEvents(t, f.standard.Sid)
	require.Len(t, evs, 1, "exactly one audit event")
	require.Equal(t, ras[0].Sid, evs[0].ResourceSid)
	require.Equal(t, f.owner.Sid, evs[0].Actor)
	require.Empty(t, f.engine.invited, "no invitation for a managed user")
}

// Anyone else gets an invitation, started on the engine (its workflow's
// StartUpdate records it) under a SID derived from the request's
// Idempotency-Key.
func TestInviteStartsAnInvitationForAnyoneElse(t *testing.T) {
	f := newFixture(t)
	created, hash := time.Now().Add(-time.Minute), bytes.Repeat([]byte{7}, 32)
	ctx := lifecycle.WithSIDSeed(context.Background(), created, hash)
	out, err := f.svc.Invitations.Invite(ctx, f.admin, f.acct.Sid,
		lifecycle.Invite{Email: "Guest@Partner.test", Roles: []string{domain.RoleSupport, domain.RoleDeveloper}})
	require.NoError(t, err)
	require.Nil(t, out.Granted)
	require.NotNil(t, out.Invitation)
	require.Len(t, f.engine.invited, 1)
	inv := f.engine.invited[0]
	require.Equal(t, domain.NewSIDFrom(domain.PrefixInvitation, created, bytes.NewReader(hash)), inv.Sid, "the SID derives from the key")
	require.Equal(t, "guest@partner.test", inv.Email)
	require.Equal(t, []string{domain.RoleDeveloper, domain.RoleSupport}, inv.Roles)
	require.Equal(t, f.owner.Sid, inv.InviterSid)
	require.Equal(t, inv.Sid, out.Invitation.Sid)
	require.Equal(t, "invitation/"+inv.Sid, out.Run.WorkflowID)
}

func TestInviteRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Invitations.Invite(ctx, f.admin, f.acct.Sid, lifecycle.Invite{Email: "nope", Roles: []string{domain.RoleSupport}})
	require.Equal(t, domain.CodeInvalidEmail, domain.ErrorCode(err))
	_, err = f.svc.Invitations.Invite(ctx, f.admin, f.acct.Sid, lifecycle.Invite{Email: "x@partner.test", Roles: []string{domain.RoleOwner}})
	require.Equal(t, domain.CodeInvalidRole, domain.ErrorCode(err))
	// A Developer of the account may not invite.
	_, err = f.st.CreateRoleAssignment(ctx, domain.RoleAssignment{Sid: domain.NewSID(domain.PrefixRoleAssignment, time.Now()), OrganizationSid: f.org.Sid,
		RoleSid: domain.RoleDeveloper, Scope: f.acct.Sid, Identity: f.standard.Sid}, domain.AuditEvent{})
	require.NoError(t, err)
	dev := domain.Principal{OrganizationSid: f.org.Sid, UserSid: f.standard.Sid, OrgRole: domain.OrgRoleStandard}
	_, err = f.svc.Invitations.Invite(ctx, dev, f.acct.Sid, lifecycle.Invite{Email: "x@partner.test", Roles: []string{domain.RoleSupport}})
	require.Equal(t, domain.EForbidden, domain.ErrorKind(err))
	// A closing account takes none.
	_, err = f.st.SetAccountStatus(ctx, f.acct.Sid, domain.AccountActive, domain.AccountPendingClosure, domain.AuditEvent{})
	require.NoError(t, err)
	_, err = f.svc.Invitations.Invite(ctx, f.admin, f.acct.Sid, lifecycle.Invite{Email: "x@partner.test", Roles: []string{domain.RoleSupport}})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	require.Empty(t, f.engine.invited)
}

// pendingInvitation records an invitation with an emailed link (version
// v) and returns the link's token.
func (f *fixture) pendingInvitation(t *testing.T, email string) (domain.Invitation, string) {
	t.Helper()
	ctx := context.Background()
	inv := domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, time.Now()), OrganizationSid: f.org.Sid, AccountSid: f.acct.Sid,
		Email: email, Roles: []string{domain.RoleDeveloper}, InviterSid: f.owner.Sid}
	require.NoError(t, f.st.CreateInvitation(ctx, inv, domain.AuditEvent{}))
	return inv, f.issue(t, domain.LinkInvitation, inv.Sid, 1)
}

func (f *fixture) issue(t *testing.T, kind, subject string, version int) string {
	t.Helper()
	token := domain.NewSecret(32)
	require.NoError(t, f.st.IssueLink(context.Background(), domain.ConfirmationLink{TokenHash: domain.HashSecret(token), Kind: kind, SubjectSid: subject,
		Version: version, ExpiresAt: time.Now().Add(time.Hour)}))
	return token
}

func TestConfirmationsViewSaysWhatALinkIsAboutAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	inv, token := f.pendingInvitation(t, "guest@partner.test")
	c, err := f.svc.Confirmations.View(ctx, token)
	require.NoError(t, err)
	require.Equal(t, domain.LinkInvitation, c.Kind)
	require.Equal(t, inv.Sid, c.SubjectSid)
	require.Equal(t, domain.ConfirmAskable, c.State)
	require.False(t, c.Need2FA)
	require.Equal(t, "Acme", c.OrganizationName)
	require.Equal(t, "Desk", c.AccountName)
	require.Equal(t, "owner@acme.example.com", c.Asker)
	require.Equal(t, "guest@partner.test", c.Recipient)
	require.Equal(t, []string{domain.RoleDeveloper}, c.Roles)

	_, err = f.svc.Confirmations.View(ctx, domain.NewSecret(32))
	require.Equal(t, domain.ENotFound, domain.ErrorKind(err))
	_, err = f.svc.Confirmations.View(ctx, "short")
	require.Equal(t, domain.ENotFound, domain.ErrorKind(err))

	// A newer link supersedes it; answering the old one reaches nobody.
	newer := f.issue(t, domain.LinkInvitation, inv.Sid, 2)
	c, err = f.svc.Confirmations.View(ctx, token)
	require.NoError(t, err)
	require.Equal(t, domain.ConfirmSuperseded, c.State)
	_, err = f.svc.Confirmations.Answer(ctx, token, true, domain.Actor{})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	require.Empty(t, f.engine.answers)

	// The latest link answers, for its version, as the invitee.
	c, err = f.svc.Confirmations.Answer(ctx, newer, false, domain.Actor{RequestID: "RQ-page"})
	require.NoError(t, err)
	require.Equal(t, domain.ConfirmDeclined, c.State)
	require.Equal(t, []linkAnswer{{domain.LinkInvitation, inv.Sid, domain.LinkAnswer{LinkVersion: 2, Accept: false, Actor: domain.Actor{RequestID: "RQ-page"}}}}, f.engine.answers)

	// A revoked invitation's link says so.
	_, err = f.st.FinishInvitation(ctx, inv.Sid, domain.InvitationRevoked, "", domain.AuditEvent{})
	require.NoError(t, err)
	c, err = f.svc.Confirmations.View(ctx, newer)
	require.NoError(t, err)
	require.Equal(t, domain.ConfirmRevoked, c.State)
}

// Where the account requires two-factor authentication, the service
// refuses an acceptance before enrolment without troubling the workflow
// (which would refuse it too), and enrols through the link.
func TestConfirmationsTwoFactorFirst(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	yes := true
	_, err := f.st.UpdateAccount(ctx, f.org.Sid, f.acct.Sid, domain.AccountUpdate{Require2FA: &yes}, domain.AuditEvent{})
	require.NoError(t, err)
	inv, token := f.pendingInvitation(t, "careful@partner.test")
	c, err := f.svc.Confirmations.View(ctx, token)
	require.NoError(t, err)
	require.True(t, c.Need2FA)

	c, err = f.svc.Confirmations.Answer(ctx, token, true, domain.Actor{})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	require.Contains(t, domain.ErrorMessage(err), "two-factor")
	require.True(t, c.Need2FA, "the page offers the enrolment")
	require.Empty(t, f.engine.answers)

	c, err = f.svc.Confirmations.EnrolTwoFactor(ctx, token, domain.Actor{RequestID: "RQ-page"})
	require.NoError(t, err)
	require.False(t, c.Need2FA)
	u, err := f.st.FindUserByEmailAnywhere(ctx, inv.Email)
	require.NoError(t, err)
	require.True(t, u.TwoFactorEnrolled)
	require.False(t, u.Managed, "partner.test is not a verified domain")

	_, err = f.svc.Confirmations.Answer(ctx, token, true, domain.Actor{})
	require.NoError(t, err)
	require.Len(t, f.engine.answers, 1)
	require.Equal(t, u.Sid, f.engine.answers[0].answer.Actor.UserSid, "the invitee answers")
	require.True(t, f.engine.answers[0].answer.Accept)
	require.Equal(t, []string{u.Sid + " " + domain.PasswordForInvitation}, f.engine.passwordLinks, "the invitee, who has no password, is sent a link to set one")

	// A workflow's refusal comes back with the link as it now is.
	f.engine.answerErr = domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is being answered")
	c, err = f.svc.Confirmations.Answer(ctx, token, true, domain.Actor{})
	require.Equal(t, domain.CodeInvalidState, domain.ErrorCode(err))
	require.Equal(t, domain.ConfirmAskable, c.State)
}

// Import and share links are the same concept: the same loader, states
// and answer.
func TestConfirmationsOfARequest(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), UserName: "stranger@elsewhere.test", Active: true}
	acct := domain.Account{Sid: domain.NewSID(domain.PrefixAccount, time.Now()), FriendlyName: "Lab", Status: domain.AccountActive,
		Kind: domain.AccountStandalone, OwnerSid: owner.Sid}
	require.NoError(t, f.st.SignUp(ctx, acct, owner, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{}))
	req := domain.AccountRequest{Sid: domain.NewSID(domain.PrefixAccountRequest, time.Now()), OrganizationSid: f.org.Sid, AccountSid: acct.Sid,
		Kind: domain.RequestShare, RequesterSid: f.owner.Sid, OwnerSid: owner.Sid, OwnerEmail: owner.UserName, ExpiresAt: time.Now().Add(time.Hour),
		Grants: []domain.Grant{{Identity: f.standard.Sid, Roles: []string{domain.RoleDeveloper}}}}
	require.NoError(t, f.st.CreateAccountRequest(ctx, req, domain.AuditEvent{}))
	token := f.issue(t, domain.LinkShare, req.Sid, 1)

	c, err := f.svc.Confirmations.View(ctx, token)
	require.NoError(t, err)
	require.Equal(t, domain.LinkShare, c.Kind)
	require.Equal(t, domain.ConfirmAskable, c.State)
	require.Equal(t, "Lab", c.AccountName)
	require.Equal(t, []domain.NamedGrant{{Who: "standard@acme.example.com", Roles: []string{domain.RoleDeveloper}}}, c.Grants)
	require.False(t, c.Need2FA)

	c, err = f.svc.Confirmations.Answer(ctx, token, true, domain.Actor{})
	require.NoError(t, err)
	require.Equal(t, domain.ConfirmAccepted, c.State)
	require.Equal(t, linkAnswer{domain.LinkShare, req.Sid, domain.LinkAnswer{LinkVersion: 1, Accept: true, Actor: domain.Actor{UserSid: owner.Sid}}}, f.engine.answers[0])

	_, err = f.svc.Confirmations.EnrolTwoFactor(ctx, token, domain.Actor{})
	require.Equal(t, domain.EForbidden, domain.ErrorKind(err), "no enrolment on a request's link")

	_, err = f.st.FinishAccountRequest(ctx, req.Sid, domain.RequestCancelled, domain.AuditEvent{})
	require.NoError(t, err)
	c, err = f.svc.Confirmations.View(ctx, token)
	require.NoError(t, err)
	require.Equal(t, domain.ConfirmRevoked, c.State)
}
