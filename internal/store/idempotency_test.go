package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestIdempotency_BeginCompleteAndReplay(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const org, otherOrg = "OR00000000000000000000000000000001", "OR00000000000000000000000000000002"

		rec, fresh, err := s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: org, Key: "k1", RequestHash: "h1"})
		require.NoError(t, err)
		assert.True(t, fresh, "the first request claims the key")
		assert.Equal(t, "h1", rec.RequestHash)
		assert.False(t, rec.DateCreated.IsZero())

		again, fresh, err := s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: org, Key: "k1", RequestHash: "h2"})
		require.NoError(t, err)
		assert.False(t, fresh, "a second request finds the key claimed")
		assert.Equal(t, "h1", again.RequestHash, "the stored request hash comes back, so a mismatch can be told")
		assert.Equal(t, 0, again.StatusCode, "still in flight")
		assert.Equal(t, org, again.OrganizationSid)
		assert.Equal(t, "k1", again.Key)
		assert.True(t, rec.DateCreated.Equal(again.DateCreated))

		// keys are per organization
		_, fresh, err = s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: otherOrg, Key: "k1", RequestHash: "h1"})
		require.NoError(t, err)
		assert.True(t, fresh)

		body := []byte(`{"sid":"AC00000000000000000000000000000001"}`)
		headers := map[string]string{"Content-Type": "application/scim+json", "Location": "http://x/Users/US1"}
		require.NoError(t, s.CompleteIdempotent(ctx, org, "k1", 201, body, headers))
		done, fresh, err := s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: org, Key: "k1", RequestHash: "h1"})
		require.NoError(t, err)
		assert.False(t, fresh)
		assert.Equal(t, 201, done.StatusCode)
		assert.Equal(t, body, done.Body)
		assert.Equal(t, headers, done.Headers, "a replay repeats the headers a client reads")

		// the other organization's record was not completed
		other, _, err := s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: otherOrg, Key: "k1", RequestHash: "h1"})
		require.NoError(t, err)
		assert.Equal(t, 0, other.StatusCode)
	})
}

func TestIdempotency_ReleaseFreesOnlyKeysStillInFlight(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const org = "OR00000000000000000000000000000001"
		begin := func(key string) (domain.IdempotencyRecord, bool) {
			t.Helper()
			rec, fresh, err := s.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: org, Key: key, RequestHash: "h"})
			require.NoError(t, err)
			return rec, fresh
		}

		_, fresh := begin("in-flight")
		require.True(t, fresh)
		require.NoError(t, s.ReleaseIdempotent(ctx, org, "in-flight"))
		_, fresh = begin("in-flight")
		assert.True(t, fresh, "a released key can be claimed again")

		_, fresh = begin("completed")
		require.True(t, fresh)
		require.NoError(t, s.CompleteIdempotent(ctx, org, "completed", 200, []byte("ok"), nil))
		require.NoError(t, s.ReleaseIdempotent(ctx, org, "completed"))
		rec, fresh := begin("completed")
		assert.False(t, fresh, "a completed outcome must survive Release")
		assert.Equal(t, 200, rec.StatusCode)
		assert.Equal(t, []byte("ok"), rec.Body)

		require.NoError(t, s.ReleaseIdempotent(ctx, org, "never-claimed"))
	})
}

func TestIdempotency_ConcurrentBeginsClaimTheKeyOnce(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		const n = 6
		var wg sync.WaitGroup
		start := make(chan struct{})
		fresh := make([]bool, n)
		errs := make([]error, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				_, fresh[i], errs[i] = s.BeginIdempotent(context.Background(), domain.IdempotencyRecord{OrganizationSid: "OR00000000000000000000000000000001", Key: "same", RequestHash: "h"})
			}(i)
		}
		close(start)
		wg.Wait()
		claimed := 0
		for i := 0; i < n; i++ {
			require.NoError(t, errs[i])
			if fresh[i] {
				claimed++
			}
		}
		assert.Equal(t, 1, claimed, "exactly one request may claim a key")
	})
}
