package activities_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/dnstxt"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// withDomain gives f a pending domain, an outbox and a resolver asking a
// DNS server the test controls.
func withDomain(t *testing.T, f *fixture) (domain.VerifiedDomain, *testenv.DNS) {
	t.Helper()
	srv := testenv.MustDNS(t)
	r, err := dnstxt.New(srv.Addr)
	require.NoError(t, err)
	f.acts.Resolver = r
	f.acts.Mailer = email.Outbox{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	d := domain.VerifiedDomain{Sid: domain.NewSID(domain.PrefixDomain, time.Now()), OrganizationSid: f.org.Sid, DomainName: "corp.example", VerificationToken: "tok"}
	require.NoError(t, f.st.CreateDomain(context.Background(), d, domain.AuditEvent{}))
	return d, srv
}

func TestCheckDomainRecord_FindsOnlyTheExactValue(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		d, srv := withDomain(t, f)
		at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		check := func() activities.DomainCheck {
			t.Helper()
			var got activities.DomainCheck
			require.NoError(t, f.call(t, f.acts.CheckDomainRecord, activities.CheckDomainInput{DomainSid: d.Sid, At: at}, &got))
			return got
		}
		assert.False(t, check().Found, "no record")
		for _, near := range []string{"orgaccounts-domain-verification=tok ", "orgaccounts-domain-verification=TOK", "tok", "orgaccounts-domain-verification=tokx"} {
			srv.SetTXT(d.RecordName(), near)
			assert.False(t, check().Found, "%q is not the record", near)
		}
		srv.SetTXT(d.RecordName(), "something else", "orgaccounts-domain-verification=tok")
		got := check()
		assert.True(t, got.Found)
		assert.Equal(t, domain.DomainPending, got.Status)
		stored, err := f.st.FindDomain(context.Background(), f.org.Sid, d.Sid)
		require.NoError(t, err)
		assert.Equal(t, at, *stored.LastCheckedAt)

		require.NoError(t, f.st.DeleteDomain(context.Background(), f.org.Sid, d.Sid, domain.AuditEvent{}))
		err = f.call(t, f.acts.CheckDomainRecord, activities.CheckDomainInput{DomainSid: d.Sid, At: at}, nil)
		e, ok := activities.AsDomainError(err)
		require.True(t, ok, "a deleted domain is a domain error, not retried: %v", err)
		assert.Equal(t, domain.CodeDomainNotFound, e.Code)
	})
}

func TestTransitionDomain_RunTwiceRecordsOneEventAndOneEmail(t *testing.T) {
	eachStore(t, func(t *testing.T, f *fixture) {
		d, _ := withDomain(t, f)
		in := activities.DomainTransitionInput{DomainSid: d.Sid, Transition: domain.DomainTransition{Kind: domain.DomainVerify, At: time.Now()}, Actor: domain.SystemActor}
		for i := 0; i < 2; i++ {
			var got domain.VerifiedDomain
			require.NoError(t, f.call(t, f.acts.TransitionDomain, in, &got))
			assert.Equal(t, domain.DomainVerified, got.Status)
		}
		evs, err := f.st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: f.org.Sid, ResourceSid: d.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, domain.EventDomainVerified, evs[0].Type)
		assert.Equal(t, "system", evs[0].Actor)
		mails, err := f.st.ListEmails(context.Background(), d.Sid)
		require.NoError(t, err)
		require.Len(t, mails, 1)
		assert.Equal(t, f.owner.UserName, mails[0].To)
		assert.Contains(t, mails[0].Subject, "corp.example is verified")

		in.Transition = domain.DomainTransition{Kind: domain.DomainFail, At: time.Now()}
		err = f.call(t, f.acts.TransitionDomain, in, nil)
		e, ok := activities.AsDomainError(err)
		require.True(t, ok, "%v", err)
		assert.Equal(t, domain.CodeInvalidState, e.Code)
	})
}
