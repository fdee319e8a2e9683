package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestUsageErrors(t *testing.T) {
	require.Equal(t, 2, run([]string{"launch"}))
	require.Equal(t, 2, run([]string{"serve", "extra"}))
	t.Setenv("TOKEN_TTL", "never")
	require.Equal(t, 2, run([]string{"migrate"}), "bad configuration is a usage error")
}

func TestMigrateAndBootstrapOnSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("LOG_LEVEL", "error")
	require.Equal(t, 0, run([]string{"migrate"}))
	require.Equal(t, 0, run([]string{"migrate"}), "migrating twice is fine")

	st, err := store.Open(context.Background(), store.Options{SQLitePath: filepath.Join(dir, "orgaccounts.db")})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	_, err = st.FirstOrganization(context.Background())
	require.Equal(t, domain.CodeOrganizationNotFound, domain.ErrorCode(err), "migrate bootstraps nothing")

	require.Equal(t, 0, run([]string{"bootstrap"}))
	org, err := st.FirstOrganization(context.Background())
	require.NoError(t, err)
	owner, err := st.FindUser(context.Background(), org.Sid, org.OwnerSid)
	require.NoError(t, err)
	require.Equal(t, "owner@example.com", owner.UserName)
	ok, err := st.IsVerifiedDomain(context.Background(), org.Sid, "example.com")
	require.NoError(t, err)
	require.True(t, ok)

	require.Equal(t, 0, run([]string{"bootstrap"}), "a second bootstrap issues a new credential for the same organization")
	again, err := st.FirstOrganization(context.Background())
	require.NoError(t, err)
	require.Equal(t, org.Sid, again.Sid)
	events, err := st.ListEvents(context.Background(), domain.EventFilter{OrganizationSid: org.Sid, Type: domain.EventCredentialCreated, Page: domain.PageRequest{Size: 10}})
	require.NoError(t, err)
	require.Len(t, events, 1)
}
