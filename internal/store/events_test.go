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

func eventSid(e domain.AuditEvent) string { return e.Sid }

func TestListEvents_FiltersByActorResourceTypeAndTime(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")                                    // organization.created by system
		globex := createOrg(t, s, "globex")                                // not acme's
		bob := createUser(t, s, acme, "bob")                               // user.created by owner
		carol := createUser(t, s, acme, "carol")                           // user.created by owner
		a := createAccount(t, s, acme, bob, "Bob's", domain.AccountActive) // account.created by bob
		name := "Renamed"
		bobActor := domain.Actor{UserSid: bob.Sid, CredentialSid: "SK00000000000000000000000000000001", SourceIP: "192.0.2.7", RequestID: "RQ7"}
		_, err := s.UpdateAccount(ctx, acme.Sid, a.Sid, domain.AccountUpdate{FriendlyName: &name},
			domain.NewAuditEvent(bobActor, acme.Sid, domain.EventAccountUpdated, a.Sid, nil)) // account.updated by bob
		require.NoError(t, err)
		createUser(t, s, globex, "dave")

		list := func(f domain.EventFilter) []domain.AuditEvent {
			t.Helper()
			f.OrganizationSid = acme.Sid
			if f.Page.Size == 0 {
				f.Page.Size = 100
			}
			evs, err := s.ListEvents(ctx, f)
			require.NoError(t, err)
			return evs
		}
		types := func(evs []domain.AuditEvent) []string {
			return sids(evs, func(e domain.AuditEvent) string { return e.Type })
		}

		all := list(domain.EventFilter{})
		require.Equal(t, []string{domain.EventOrganizationCreated, domain.EventUserCreated, domain.EventUserCreated, domain.EventAccountCreated, domain.EventAccountUpdated}, types(all),
			"every event of acme, oldest first, none of globex")
		assert.Equal(t, sorted(sids(all, eventSid)), sids(all, eventSid))
		for i := 1; i < len(all); i++ {
			require.True(t, all[i].DateCreated.After(all[i-1].DateCreated), "events must carry increasing times")
		}

		updated := all[4]
		assert.Equal(t, bob.Sid, updated.Actor)
		assert.Equal(t, bobActor.CredentialSid, updated.CredentialSid)
		assert.Equal(t, "192.0.2.7", updated.SourceIP)
		assert.Equal(t, "RQ7", updated.RequestID)
		assert.Equal(t, a.Sid, updated.ResourceSid)
		assert.Equal(t, acme.Sid, updated.OrganizationSid)
		assert.True(t, domain.ValidSID(domain.PrefixEvent, updated.Sid))
		assert.Equal(t, map[string]any{"friendly_name": map[string]any{"from": "Bob's", "to": "Renamed"}}, updated.Changes)

		assert.Equal(t, []string{domain.EventAccountCreated, domain.EventAccountUpdated}, types(list(domain.EventFilter{Actor: bob.Sid})))
		assert.Equal(t, []string{domain.EventUserCreated, domain.EventUserCreated}, types(list(domain.EventFilter{Actor: acme.Owner.Sid})))
		assert.Equal(t, []string{domain.EventOrganizationCreated}, types(list(domain.EventFilter{Actor: "system"})))
		assert.Equal(t, []string{domain.EventAccountCreated, domain.EventAccountUpdated}, types(list(domain.EventFilter{ResourceSid: a.Sid})))
		assert.Equal(t, []string{carol.Sid}, sids(list(domain.EventFilter{ResourceSid: carol.Sid}), func(e domain.AuditEvent) string { return e.ResourceSid }))
		assert.Len(t, list(domain.EventFilter{Type: domain.EventUserCreated}), 2)
		assert.Len(t, list(domain.EventFilter{Type: domain.EventUserCreated, Actor: bob.Sid}), 0)
		assert.Len(t, list(domain.EventFilter{Type: domain.EventAccountUpdated, Actor: bob.Sid, ResourceSid: a.Sid}), 1)

		t.Run("time range", func(t *testing.T) {
			start, end := all[1].DateCreated, all[3].DateCreated
			assert.Equal(t, sids(all[1:4], eventSid), sids(list(domain.EventFilter{Start: &start, End: &end}), eventSid),
				"start and end are both inclusive")
			assert.Equal(t, sids(all[1:], eventSid), sids(list(domain.EventFilter{Start: &start}), eventSid))
			assert.Equal(t, sids(all[:4], eventSid), sids(list(domain.EventFilter{End: &end}), eventSid))
			single := all[2].DateCreated
			assert.Equal(t, sids(all[2:3], eventSid), sids(list(domain.EventFilter{Start: &single, End: &single}), eventSid))
			after := all[4].DateCreated.Add(time.Millisecond)
			assert.Empty(t, list(domain.EventFilter{Start: &after}))
			assert.Equal(t, []string{domain.EventUserCreated, domain.EventUserCreated}, types(list(domain.EventFilter{Start: &start, End: &end, Type: domain.EventUserCreated})))
		})

		t.Run("keyset pages", func(t *testing.T) {
			assert.Equal(t, sids(all[:3], eventSid), sids(list(domain.EventFilter{Page: domain.PageRequest{Size: 2}}), eventSid), "Size+1 rows")
			assert.Equal(t, sids(all[3:], eventSid), sids(list(domain.EventFilter{Page: domain.PageRequest{Size: 2, After: all[2].Sid}}), eventSid))
			assert.Equal(t, []string{all[2].Sid, all[1].Sid, all[0].Sid}, sids(list(domain.EventFilter{Page: domain.PageRequest{Size: 2, Before: all[3].Sid}}), eventSid))
		})
	})
}

func TestAudit_EventWithoutActorIsRecordedAsSystem(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		acme := createOrg(t, s, "acme")
		a := createAccount(t, s, acme, acme.Owner, "Main", domain.AccountProvisioning)
		_, err := s.SetAccountStatus(context.Background(), a.Sid, domain.AccountProvisioning, domain.AccountActive,
			domain.AuditEvent{OrganizationSid: acme.Sid, Type: domain.EventAccountActivated, ResourceSid: a.Sid})
		require.NoError(t, err)
		evs := eventsOf(t, s, acme.Sid, domain.EventAccountActivated)
		require.Len(t, evs, 1)
		assert.Equal(t, "system", evs[0].Actor)
	})
}
