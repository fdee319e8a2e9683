package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

// Links issued at once for one subject, each asking for the next version
// (an operator's password link while a workflow emails one), all succeed
// with versions of their own, and only the last one issued still works.
func TestIssueLink_NextVersionsAtOnce(t *testing.T) {
	t.Parallel()
	eachDialectClock(t, func(t *testing.T, s *store.Store, clk *testClock) {
		ctx := context.Background()
		subject := newSID(domain.PrefixUser)
		const n = 12
		hashes := make([]string, n)
		var g errgroup.Group
		for i := range n {
			hashes[i] = domain.HashSecret(domain.NewSecret(32))
			g.Go(func() error {
				return s.IssueLink(ctx, domain.ConfirmationLink{
					TokenHash: hashes[i], Kind: domain.LinkPassword, SubjectSid: subject,
					ExpiresAt: clk.Now().Add(time.Hour),
				})
			})
		}
		require.NoError(t, g.Wait())

		versions := map[int]bool{}
		valid := 0
		latest := domain.ConfirmationLink{}
		for _, h := range hashes {
			l, err := s.FindLink(ctx, h)
			require.NoError(t, err)
			assert.False(t, versions[l.Version], "version %d given twice", l.Version)
			versions[l.Version] = true
			if l.State(clk.Now()) == domain.LinkValid {
				valid++
			}
			if l.Version > latest.Version {
				latest = l
			}
		}
		assert.Len(t, versions, n)
		assert.Equal(t, 1, valid, "links still valid")
		assert.Equal(t, domain.LinkValid, latest.State(clk.Now()), "the last link issued works")
	})
}
