package app_test

import (
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// env is a running orgaccounts with its bootstrap organization (the shared
// testenv.Org fixture), plus the helpers this package's tests add to it.
type env struct {
	*testenv.Org
}

// newAppEnv runs the service with opts on the package's Temporal server.
func newAppEnv(t *testing.T, opts testenv.AppOptions) *env {
	t.Helper()
	return &env{testenv.NewOrg(t, temporal, opts)}
}

// newEnv runs the service on databaseURL (empty: SQLite).
func newEnv(t *testing.T, databaseURL string) *env {
	t.Helper()
	return newAppEnv(t, testenv.AppOptions{DatabaseURL: databaseURL})
}

// newPostgresEnv runs the service on a fresh PostgreSQL database.
func newPostgresEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, testenv.MustPostgres(t))
}
