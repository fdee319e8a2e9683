package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

// addDomain stores a pending domain for org.
func addDomain(t *testing.T, s *store.Store, org fixtureOrg, name string) domain.VerifiedDomain {
	t.Helper()
	d := domain.VerifiedDomain{Sid: newSID(domain.PrefixDomain), OrganizationSid: org.Sid, DomainName: name, VerificationToken: "tok-" + name}
	require.NoError(t, s.CreateDomain(context.Background(), d, domain.NewAuditEvent(domain.Actor{UserSid: org.Owner.Sid}, org.Sid, domain.EventDomainCreated, d.Sid, nil)))
	got, err := s.FindDomain(context.Background(), org.Sid, d.Sid)
	require.NoError(t, err)
	return got
}

func transition(ctx context.Context, s *store.Store, d domain.VerifiedDomain, kind string, at time.Time) (domain.VerifiedDomain, error) {
	tr := domain.DomainTransition{Kind: kind, At: at, RemoveAfter: at.Add(720 * time.Hour)}
	return s.TransitionDomain(ctx, d.Sid, tr, domain.NewAuditEvent(domain.SystemActor, d.OrganizationSid, tr.EventType(), d.Sid, nil))
}

func TestCreateDomain_StoresAPendingDomainOncePerOrganization(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme, other := createOrg(t, s, "acme"), createOrg(t, s, "other")
		d := addDomain(t, s, acme, "corp.example")
		assert.Equal(t, domain.DomainPending, d.Status)
		assert.Equal(t, "tok-corp.example", d.VerificationToken)
		assert.Nil(t, d.DateVerified)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventDomainCreated), 1)

		twin := domain.VerifiedDomain{Sid: newSID(domain.PrefixDomain), OrganizationSid: acme.Sid, DomainName: "corp.example", VerificationToken: "x"}
		err := s.CreateDomain(ctx, twin, domain.NewAuditEvent(domain.SystemActor, acme.Sid, domain.EventDomainCreated, twin.Sid, nil))
		requireCode(t, domain.CodeInvalidState, err)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventDomainCreated), 1, "no event for a refused creation")

		live, err := s.FindLiveDomain(ctx, acme.Sid, "corp.example")
		require.NoError(t, err)
		assert.Equal(t, d.Sid, live.Sid)
		_, err = s.FindLiveDomain(ctx, other.Sid, "corp.example")
		requireCode(t, domain.CodeDomainNotFound, err)
		_, err = s.FindDomain(ctx, other.Sid, d.Sid)
		requireCode(t, domain.CodeDomainNotFound, err)
		found, err := s.FindDomain(ctx, "", d.Sid)
		require.NoError(t, err)
		assert.Equal(t, acme.Sid, found.OrganizationSid)

		// another organization may have it pending too
		addDomain(t, s, other, "corp.example")
	})
}

func TestTransitionDomain_VerifyLapseRestoreRemove(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		d := addDomain(t, s, acme, "corp.example")
		at := time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC)

		got, err := transition(ctx, s, d, domain.DomainVerify, at)
		require.NoError(t, err)
		assert.Equal(t, domain.DomainVerified, got.Status)
		again, err := transition(ctx, s, d, domain.DomainVerify, at.Add(time.Hour))
		require.NoError(t, err, "verifying twice is a no-op")
		assert.Equal(t, at, *again.DateVerified, "the first verification's time stays")
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventDomainVerified), 1)
		ok, err := s.IsVerifiedDomain(ctx, acme.Sid, "corp.example")
		require.NoError(t, err)
		assert.True(t, ok)

		require.NoError(t, s.RecordDomainCheck(ctx, d.Sid, at.Add(time.Minute)))
		got, err = transition(ctx, s, d, domain.DomainLapse, at.Add(24*time.Hour))
		require.NoError(t, err)
		require.NotNil(t, got.MissingSince)
		assert.Equal(t, at.Add(24*time.Hour), *got.MissingSince)
		assert.Equal(t, at.Add(24*time.Hour+720*time.Hour), *got.RemoveAfter)
		stored, err := s.FindDomain(ctx, acme.Sid, d.Sid)
		require.NoError(t, err)
		assert.Equal(t, got, stored, "what TransitionDomain returns is what is stored")
		assert.Equal(t, at.Add(time.Minute), *stored.LastCheckedAt)
		ok, err = s.IsVerifiedDomain(ctx, acme.Sid, "corp.example")
		require.NoError(t, err)
		assert.True(t, ok, "a domain whose record vanished is still verified during its grace period")

		got, err = transition(ctx, s, d, domain.DomainRestore, at.Add(48*time.Hour))
		require.NoError(t, err)
		assert.Nil(t, got.MissingSince)
		assert.Nil(t, got.RemoveAfter)

		_, err = transition(ctx, s, d, domain.DomainRemove, at.Add(49*time.Hour))
		requireCode(t, domain.CodeInvalidState, err)

		_, err = transition(ctx, s, d, domain.DomainLapse, at.Add(50*time.Hour))
		require.NoError(t, err)
		got, err = transition(ctx, s, d, domain.DomainRemove, at.Add(800*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, domain.DomainRemoved, got.Status)
		ok, err = s.IsVerifiedDomain(ctx, acme.Sid, "corp.example")
		require.NoError(t, err)
		assert.False(t, ok)

		var types []string
		for _, ev := range eventsOf(t, s, acme.Sid, "") {
			if ev.ResourceSid == d.Sid {
				types = append(types, ev.Type)
			}
		}
		assert.Equal(t, []string{domain.EventDomainCreated, domain.EventDomainVerified, domain.EventDomainLapsed,
			domain.EventDomainRestored, domain.EventDomainLapsed, domain.EventDomainRemoved}, types)

		// once removed, the name may be added again
		addDomain(t, s, acme, "corp.example")
	})
}

func TestTransitionDomain_FailAndUnknown(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		d := addDomain(t, s, acme, "corp.example")
		got, err := transition(ctx, s, d, domain.DomainFail, time.Now())
		require.NoError(t, err)
		assert.Equal(t, domain.DomainFailed, got.Status)
		_, err = transition(ctx, s, d, domain.DomainVerify, time.Now())
		requireCode(t, domain.CodeInvalidState, err)
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventDomainFailed), 1)

		_, err = transition(ctx, s, domain.VerifiedDomain{Sid: newSID(domain.PrefixDomain)}, domain.DomainVerify, time.Now())
		requireCode(t, domain.CodeDomainNotFound, err)
		requireCode(t, domain.CodeDomainNotFound, s.RecordDomainCheck(ctx, newSID(domain.PrefixDomain), time.Now()))
	})
}

func TestTransitionDomain_VerifyingADomainAnotherOrganizationVerifiedIs25312(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme, other := createOrg(t, s, "acme"), createOrg(t, s, "other")
		mine := addDomain(t, s, acme, "corp.example")
		theirs := addDomain(t, s, other, "corp.example")
		_, err := transition(ctx, s, theirs, domain.DomainVerify, time.Now())
		require.NoError(t, err)
		_, err = transition(ctx, s, mine, domain.DomainVerify, time.Now())
		requireCode(t, domain.CodeDomainTaken, err)
		got, err := s.FindDomain(ctx, acme.Sid, mine.Sid)
		require.NoError(t, err)
		assert.Equal(t, domain.DomainPending, got.Status)
		assert.Empty(t, eventsOf(t, s, acme.Sid, domain.EventDomainVerified))

		v, err := s.FindVerifiedDomain(ctx, "corp.example")
		require.NoError(t, err)
		assert.Equal(t, other.Sid, v.OrganizationSid)
		_, err = s.FindVerifiedDomain(ctx, "nobody.example")
		requireCode(t, domain.CodeDomainNotFound, err)
	})
}

func TestDeleteDomain_RefusesTheLastVerifiedDomain(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		first, err := s.ListDomains(ctx, domain.DomainFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 10}})
		require.NoError(t, err)
		require.Len(t, first, 1)
		ev := func(sid string) domain.AuditEvent {
			return domain.NewAuditEvent(domain.Actor{UserSid: acme.Owner.Sid}, acme.Sid, domain.EventDomainDeleted, sid, nil)
		}

		pending := addDomain(t, s, acme, "pending.example")
		requireCode(t, domain.CodeLastVerifiedDomain, s.DeleteDomain(ctx, acme.Sid, first[0].Sid, ev(first[0].Sid)))
		require.NoError(t, s.DeleteDomain(ctx, acme.Sid, pending.Sid, ev(pending.Sid)), "a pending domain can always go")
		_, err = s.FindDomain(ctx, acme.Sid, pending.Sid)
		requireCode(t, domain.CodeDomainNotFound, err)
		requireCode(t, domain.CodeDomainNotFound, s.DeleteDomain(ctx, acme.Sid, pending.Sid, ev(pending.Sid)))

		second := addDomain(t, s, acme, "second.example")
		_, err = transition(ctx, s, second, domain.DomainVerify, time.Now())
		require.NoError(t, err)
		require.NoError(t, s.DeleteDomain(ctx, acme.Sid, first[0].Sid, ev(first[0].Sid)), "with another verified domain the first can go")
		requireCode(t, domain.CodeLastVerifiedDomain, s.DeleteDomain(ctx, acme.Sid, second.Sid, ev(second.Sid)))
		assert.Len(t, eventsOf(t, s, acme.Sid, domain.EventDomainDeleted), 2)

		other := createOrg(t, s, "other")
		requireCode(t, domain.CodeDomainNotFound, s.DeleteDomain(ctx, other.Sid, second.Sid, ev(second.Sid)))
	})
}

func TestListDomains_PagesByKeyset(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		createOrg(t, s, "other")
		a := addDomain(t, s, acme, "a.example")
		b := addDomain(t, s, acme, "b.example")
		page, err := s.ListDomains(ctx, domain.DomainFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 2}})
		require.NoError(t, err)
		require.Len(t, page, 3, "Size+1 rows tell there is more")
		sidOf := func(d domain.VerifiedDomain) string { return d.Sid }
		first := sids(page, sidOf)
		assert.Equal(t, sorted(first), first, "SID order")
		assert.Subset(t, first, []string{a.Sid, b.Sid})
		page, err = s.ListDomains(ctx, domain.DomainFilter{OrganizationSid: acme.Sid, Page: domain.PageRequest{Size: 2, After: first[0]}})
		require.NoError(t, err)
		assert.Equal(t, first[1:], sids(page, sidOf), "the next page starts after the token")
	})
}
