package activities_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// mailbox is a mailer that keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	sent []email.Message
}

func (m *mailbox) Send(_ context.Context, msg email.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

func (m *mailbox) Transport() string { return "test" }

// token returns the confirmation token in the i-th message.
func (m *mailbox) token(t *testing.T, i int) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	require.Greater(t, len(m.sent), i)
	_, after, ok := strings.Cut(m.sent[i].Text, "/confirm/")
	require.True(t, ok, "no link in %q", m.sent[i].Text)
	return strings.Fields(after)[0]
}

func (m *mailbox) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// inviteFixture is an active account and an invitation to it not
// recorded yet.
func inviteFixture(t *testing.T, f *fixture) (domain.Account, domain.Invitation, *mailbox) {
	t.Helper()
	mb := &mailbox{}
	f.acts.Mailer, f.acts.BaseURL = mb, "http://orgaccounts.test"
	in := f.recordInput("")
	acct, err := f.createRecord(t, in)
	require.NoError(t, err)
	acct, err = f.activate(t, activities.AccountStepInput{OrganizationSid: f.org.Sid, AccountSid: acct.Sid, Actor: f.actor})
	require.NoError(t, err)
	inv := domain.Invitation{Sid: domain.NewSID(domain.PrefixInvitation, time.Now()), OrganizationSid: f.org.Sid, AccountSid: acct.Sid,
		Email: "guest@partner.example.com", Roles: []string{domain.RoleDeveloper, domain.RoleSupport}, InviterSid: f.owner.Sid}
	return acct, inv, mb
}

func (f *fixture) open(t *testing.T, inv domain.Invitation) (domain.Invitation, error) {
	t.Helper()
	var out domain.Invitation
	err := f.call(t, f.acts.OpenInvitation, activities.OpenInvitationInput{Invitation: inv, Actor: f.actor}, &out)
	return out, err
}

func (f *fixture) finish(t *testing.T, sid, status string) (domain.Invitation, error) {
	t.Helper()
	var out domain.Invitation
	err := f.call(t, f.acts.FinishInvitation, activities.AnswerInput{InvitationSid: sid, Status: status, Actor: domain.Actor{RequestID: "RQ-page"}}, &out)
	return out, err
}

func (f *fixture) eventsOf(t *testing.T, typ string) []domain.AuditEvent {
	t.Helper()
	evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, Type: typ, Page: domain.PageRequest{Size: 100}})
	require.NoError(t, err)
	return evs
}

func TestOpenInvitationRecordsOnceUnderTheStoreRules(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		_, inv, _ := inviteFixture(t, f)
		first, err := f.open(t, inv)
		require.NoError(t, err)
		require.Equal(t, domain.InvitationPending, first.Status)
		again, err := f.open(t, inv)
		require.NoError(t, err, "a retried activity finds what the first run recorded")
		require.Equal(t, first.Sid, again.Sid)
		require.Len(t, f.eventsOf(t, domain.EventInvitationCreated), 1)

		twin := inv
		twin.Sid = domain.NewSID(domain.PrefixInvitation, time.Now())
		_, err = f.open(t, twin)
		requireDomainError(t, err, domain.EConflict, domain.CodeInvalidState)
	})
}

// The activity that finishes an invitation applies the two-factor rule
// itself, before it writes anything.
func TestFinishInvitationRefusesAnInviteeNotEnrolledWhereTwoFactorIsRequired(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		acct, inv, _ := inviteFixture(t, f)
		_, err := f.open(t, inv)
		require.NoError(t, err)
		yes := true
		_, err = f.st.UpdateAccount(ctx, f.org.Sid, acct.Sid, domain.AccountUpdate{Require2FA: &yes}, domain.AuditEvent{})
		require.NoError(t, err)

		_, err = f.finish(t, inv.Sid, domain.InvitationAccepted)
		requireDomainError(t, err, domain.EConflict, domain.CodeInvalidState)
		_, err = f.st.FindUserByEmailAnywhere(ctx, inv.Email)
		require.Equal(t, domain.CodeUserNotFound, domain.ErrorCode(err), "no user was made")
		stored, err := f.st.FindInvitation(ctx, "", inv.Sid)
		require.NoError(t, err)
		require.Equal(t, domain.InvitationPending, stored.Status)

		u := domain.NewInvitee(domain.NewSID(domain.PrefixUser, time.Now()), f.org.Sid, inv.Email, false)
		require.NoError(t, f.st.CreateUser(ctx, u, domain.AuditEvent{}))
		totp := domain.Factor{Sid: domain.NewSID(domain.PrefixFactor, time.Now()), UserSid: u.Sid, Kind: domain.FactorTOTP, Secret: "JBSWY3DPEHPK3PXP"}
		require.NoError(t, f.st.StartTOTP(ctx, totp))
		_, err = f.st.ConfirmTOTP(ctx, u.Sid, totp.Sid, 1, nil, domain.AuditEvent{})
		require.NoError(t, err)
		out, err := f.finish(t, inv.Sid, domain.InvitationAccepted)
		require.NoError(t, err)
		require.Equal(t, domain.InvitationAccepted, out.Status)
		require.Equal(t, u.Sid, out.UserSid)

		// Declining needs no enrolment.
		other := inv
		other.Sid, other.Email = domain.NewSID(domain.PrefixInvitation, time.Now()), "other@partner.example.com"
		_, err = f.open(t, other)
		require.NoError(t, err)
		out, err = f.finish(t, other.Sid, domain.InvitationDeclined)
		require.NoError(t, err)
		require.Equal(t, domain.InvitationDeclined, out.Status)
	})
}

// Accepting grants each role once, with one event each, however often the
// activity runs.
func TestFinishInvitationGrantsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		acct, inv, _ := inviteFixture(t, f)
		_, err := f.open(t, inv)
		require.NoError(t, err)
		for i := 0; i < 2; i++ {
			_, err = f.finish(t, inv.Sid, domain.InvitationAccepted)
			require.NoError(t, err)
		}
		u, err := f.st.FindUserByEmailAnywhere(ctx, inv.Email)
		require.NoError(t, err)
		require.False(t, u.Managed, "partner.example.com is not verified: an external user")
		roles, err := f.st.RolesOn(ctx, acct.Sid, u.Sid)
		require.NoError(t, err)
		require.ElementsMatch(t, inv.Roles, roles)
		var mine int
		for _, ev := range f.eventsOf(t, domain.EventRoleAssigned) {
			if ev.Changes["identity"] == u.Sid {
				mine++
				require.Equal(t, inv.Sid, ev.Changes["invitation_sid"])
				require.Equal(t, u.Sid, ev.Actor, "the invitee acted")
			}
		}
		require.Equal(t, len(inv.Roles), mine, "one event per role")
		require.Len(t, f.eventsOf(t, "invitation.accepted"), 1)
	})
}

// SendInvitation and SendAccountRequest share the one send of a link: once
// per version, a link of the subject's kind that the email alone carries,
// and the send noted on the subject.
func TestEmailedLinksAreSentOncePerVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		_, inv, mb := inviteFixture(t, f)
		_, err := f.open(t, inv)
		require.NoError(t, err)
		expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		send := activities.SendInvitationInput{InvitationSid: inv.Sid, Version: 1, ExpiresAt: expires, SentAt: time.Now()}
		require.NoError(t, f.call(t, f.acts.SendInvitation, send, nil))
		require.NoError(t, f.call(t, f.acts.SendInvitation, send, nil))
		require.Equal(t, 1, mb.count(), "one email per version")
		link, err := f.st.FindLink(ctx, domain.HashSecret(mb.token(t, 0)))
		require.NoError(t, err)
		require.Equal(t, domain.LinkInvitation, link.Kind)
		require.Equal(t, inv.Sid, link.SubjectSid)
		require.Equal(t, 1, link.Version)
		stored, err := f.st.FindInvitation(ctx, "", inv.Sid)
		require.NoError(t, err)
		require.Equal(t, 1, stored.SentCount)
		emails, err := f.st.ListEmails(ctx, inv.Sid)
		require.NoError(t, err)
		require.Len(t, emails, 1)
		require.Equal(t, "(link withheld)", emails[0].BodyText)

		// An import request: the same send, its own kind of link.
		owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, time.Now()), UserName: "founder@acme.example.com", Active: true}
		standalone := domain.Account{Sid: domain.NewSID(domain.PrefixAccount, time.Now()), FriendlyName: "Lab", Status: domain.AccountActive,
			Kind: domain.AccountStandalone, OwnerSid: owner.Sid}
		require.NoError(t, f.st.SignUp(ctx, standalone, owner, domain.HashSecret(domain.NewSecret(32)), domain.AuditEvent{}))
		req := domain.AccountRequest{Sid: domain.NewSID(domain.PrefixAccountRequest, time.Now()), OrganizationSid: f.org.Sid, AccountSid: standalone.Sid,
			Kind: domain.RequestImport, RequesterSid: f.owner.Sid, OwnerSid: owner.Sid, OwnerEmail: owner.UserName, ExpiresAt: expires}
		require.NoError(t, f.st.CreateAccountRequest(ctx, req, domain.AuditEvent{}))
		sendReq := activities.SendRequestInput{RequestSid: req.Sid, Version: 1, SentAt: time.Now()}
		require.NoError(t, f.call(t, f.acts.SendAccountRequest, sendReq, nil))
		require.NoError(t, f.call(t, f.acts.SendAccountRequest, sendReq, nil))
		require.Equal(t, 2, mb.count())
		link, err = f.st.FindLink(ctx, domain.HashSecret(mb.token(t, 1)))
		require.NoError(t, err)
		require.Equal(t, domain.LinkImport, link.Kind)
		require.Equal(t, req.Sid, link.SubjectSid)
		storedReq, err := f.st.FindAccountRequest(ctx, "", req.Sid)
		require.NoError(t, err)
		require.Equal(t, 1, storedReq.SentCount)
	})
}
