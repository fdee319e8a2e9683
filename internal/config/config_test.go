package config

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, "", c.DatabaseURL)
	require.Equal(t, "data/orgaccounts.db", c.SQLitePath())
	require.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
	require.Equal(t, "orgaccounts", c.TaskQueue)
	require.Equal(t, time.Hour, c.TokenTTL)
	require.Equal(t, int64(65536), c.MaxBodyBytes)
	require.Equal(t, "", c.DNSResolver)
	require.Equal(t, 5*time.Minute, c.DomainCheck)
	require.Equal(t, 72*time.Hour, c.DomainWindow)
	require.Equal(t, 24*time.Hour, c.DomainRecheck)
	require.Equal(t, 30*24*time.Hour, c.DomainGrace)
}

func TestFromEnvOverrides(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"DATABASE_URL": "postgres://u@db:5432/x", "TOKEN_TTL": "5m", "PUBLIC_BASE_URL": "https://api.example.com/",
		"LOG_LEVEL": "debug", "LOG_FORMAT": "text",
	}))
	require.NoError(t, err)
	require.Equal(t, "postgres://u@db:5432/x", c.DatabaseURL)
	require.Equal(t, 5*time.Minute, c.TokenTTL)
	require.Equal(t, "https://api.example.com", c.PublicBaseURL)
}

func TestFromEnvErrors(t *testing.T) {
	tests := map[string]string{
		"DATABASE_URL":          "mysql://x",
		"TOKEN_TTL":             "forever",
		"SHUTDOWN_TIMEOUT":      "-1s",
		"MAX_BODY_BYTES":        "12",
		"LOG_LEVEL":             "loud",
		"LOG_FORMAT":            "xml",
		"PUBLIC_BASE_URL":       "localhost:8080",
		"DNS_RESOLVER":          "127.0.0.1",
		"DOMAIN_CHECK_INTERVAL": "often",
		"DOMAIN_GRACE_PERIOD":   "0s",
	}
	for name, val := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := FromEnv(env(map[string]string{name: val}))
			require.ErrorContains(t, err, name)
		})
	}
}

// TestREADMEListsEveryVariable keeps the README's configuration table true
// to the code: every variable, with its default.
func TestREADMEListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(b)
	for _, v := range Vars {
		def := "*(empty)*"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		row := "| `" + v.Name + "` | " + def + " |"
		require.True(t, strings.Contains(readme, row), "README lacks the row %q", row)
	}
}

// Unset, PUBLIC_BASE_URL follows HTTP_ADDR's port, so the links the
// service hands out (and the curl bootstrap prints) reach it.
func TestPublicBaseURLFollowsTheListenPort(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := FromEnv(env(map[string]string{"HTTP_ADDR": ":9191"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL != "http://localhost:9191" {
		t.Fatalf("PUBLIC_BASE_URL %q, want http://localhost:9191", c.PublicBaseURL)
	}
	c, err = FromEnv(env(map[string]string{"HTTP_ADDR": ":9191", "PUBLIC_BASE_URL": "https://accounts.example.com/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL != "https://accounts.example.com" {
		t.Fatalf("an explicit PUBLIC_BASE_URL is kept: %q", c.PublicBaseURL)
	}
	c, err = FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublicBaseURL != "http://localhost:8080" {
		t.Fatalf("default %q", c.PublicBaseURL)
	}
}
