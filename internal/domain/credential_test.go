package domain_test

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func TestNewSecret_IsAValidSecretOfLettersAndDigits(t *testing.T) {
	t.Parallel()
	seen := map[rune]bool{}
	secrets := map[string]bool{}
	for i := 0; i < 200; i++ {
		s := domain.NewSecret(32)
		require.Len(t, s, 32)
		require.True(t, domain.ValidSecret(s), "NewSecret made %q, which ValidSecret refuses", s)
		require.False(t, secrets[s], "NewSecret repeated itself")
		secrets[s] = true
		for _, r := range s {
			seen[r] = true
		}
	}
	// 6400 draws from 62 symbols: every one of them shows up unless the
	// generator is biased or uses a smaller alphabet.
	for _, r := range secretAlphabet {
		assert.True(t, seen[r], "character %q never appeared in 200 secrets", r)
	}
	assert.Len(t, seen, len(secretAlphabet), "characters outside the alphabet appeared")
}

func TestNewSecret_HonoursTheLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 16, 64} {
		assert.Len(t, domain.NewSecret(n), n)
	}
}

func TestValidSecret(t *testing.T) {
	t.Parallel()
	ok := strings.Repeat("aZ9", 10) + "xY"
	require.Len(t, ok, 32)
	cases := []struct {
		name string
		in   string
		want bool
	}{
		{"32 letters and digits", ok, true},
		{"31 characters", ok[:31], false},
		{"33 characters", ok + "a", false},
		{"empty", "", false},
		{"dash", ok[:31] + "-", false},
		{"underscore", "_" + ok[1:], false},
		{"colon (breaks Basic auth)", ok[:16] + ":" + ok[17:], false},
		{"non-ASCII letter", ok[:30] + "é", false},
		{"space", ok[:31] + " ", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, domain.ValidSecret(tc.in))
		})
	}
}

func TestHashSecret_IsStableHexAndDiffersPerSecret(t *testing.T) {
	t.Parallel()
	a, b := domain.NewSecret(32), domain.NewSecret(32)
	h := domain.HashSecret(a)
	assert.Equal(t, h, domain.HashSecret(a), "the same secret must hash the same")
	assert.NotEqual(t, h, domain.HashSecret(b))
	assert.Len(t, h, 64)
	_, err := hex.DecodeString(h)
	assert.NoError(t, err, "hash is not hex")
	assert.NotContains(t, h, a, "the hash must not contain the secret")
	// SHA-256 of "abc", a published test vector.
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", domain.HashSecret("abc"))
}

func TestSecretMatches(t *testing.T) {
	t.Parallel()
	secret := domain.NewSecret(32)
	hash := domain.HashSecret(secret)
	assert.True(t, domain.SecretMatches(secret, hash))
	assert.False(t, domain.SecretMatches(secret[:31]+"!", hash), "a different secret matched")
	assert.False(t, domain.SecretMatches(strings.ToUpper(secret), hash), "secrets are case-sensitive")
	assert.False(t, domain.SecretMatches("", hash))
	assert.False(t, domain.SecretMatches(secret, ""), "an empty stored hash must never match")
	assert.False(t, domain.SecretMatches(secret, strings.ToUpper(hash)))
}
