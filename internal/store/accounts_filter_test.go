package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestListAccounts_StatusKindAndSearchNarrowThePage(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		acme := createOrg(t, s, "acme")
		support := createAccount(t, s, acme, acme.Owner, "Support Desk", domain.AccountActive)
		billing := createAccount(t, s, acme, acme.Owner, "100% Billing_Team", domain.AccountActive)
		closed := createAccount(t, s, acme, acme.Owner, "Old support", domain.AccountClosed)

		list := func(f domain.AccountFilter) []string {
			t.Helper()
			f.OrganizationSid, f.Page = acme.Sid, domain.PageRequest{Size: 50}
			rows, err := s.ListAccounts(ctx, f)
			require.NoError(t, err)
			return sids(rows, accountSid)
		}
		assert.Equal(t, sorted([]string{support.Sid, closed.Sid}), list(domain.AccountFilter{Search: "SUPPORT"}), "name, ignoring case")
		assert.Equal(t, []string{billing.Sid}, list(domain.AccountFilter{Search: billing.Sid}), "an exact SID")
		assert.Equal(t, []string{billing.Sid}, list(domain.AccountFilter{Search: "100%"}), "a percent sign is literal")
		assert.Equal(t, []string{billing.Sid}, list(domain.AccountFilter{Search: "g_t"}), "an underscore is literal")
		assert.Empty(t, list(domain.AccountFilter{Search: "0_B"}), "no wildcard match")
		assert.Equal(t, []string{closed.Sid}, list(domain.AccountFilter{Status: domain.AccountClosed}))
		assert.Equal(t, []string{support.Sid}, list(domain.AccountFilter{Status: domain.AccountActive, Search: "desk"}))
		assert.Len(t, list(domain.AccountFilter{Kind: domain.AccountManaged}), 3)
		assert.Empty(t, list(domain.AccountFilter{Kind: domain.AccountIndependent}))
	})
}
