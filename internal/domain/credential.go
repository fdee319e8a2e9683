package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"time"
)

// Credential is an API credential: a client id (an SK SID) and a secret of
// 32 letters and digits, bound to an organization and acting as one of its
// users. Only a hash of the secret is stored.
type Credential struct {
	Sid             string // the client id
	OrganizationSid string
	UserSid         string
	FriendlyName    string
	SecretHash      string
	// AccountSid, when set, scopes the credential to one account: it is
	// accepted only on that account's endpoints, and only while the
	// account (and its parent) are active.
	AccountSid  string
	DateCreated time.Time
	// Personal marks a person's API key (made with POST /Keys), as
	// opposed to an organization credential such as the bootstrap one.
	Personal bool
	// DateLastUsed is when the credential last authenticated a request,
	// to the minute (zero: never).
	DateLastUsed time.Time
}

// Via is how a caller using the credential authenticated.
func (c Credential) Via() Via {
	switch {
	case c.AccountSid != "":
		return ViaAccountCredential
	case c.Personal:
		return ViaPersonalKey
	}
	return ViaOrgCredential
}

// LastUsedGranularity is how stale a credential's DateLastUsed may be:
// it is written at most once per this interval.
const LastUsedGranularity = time.Minute

// NeedsTouch reports whether a use at now should be written to
// DateLastUsed.
func (c Credential) NeedsTouch(now time.Time) bool {
	return now.Sub(c.DateLastUsed) >= LastUsedGranularity
}

// MaxLiveTokensPerCredential is how many unexpired bearer tokens one
// credential may hold: issuing another deletes the oldest.
const MaxLiveTokensPerCredential = 10

// CredentialFilter selects an organization's credentials; UserSid, when
// set, only those acting as that user.
type CredentialFilter struct {
	OrganizationSid string
	UserSid         string
	Page            PageRequest
}

// CanCreateKey returns 25105 unless the caller may mint a personal API
// key: a person signed in, or an organization credential. A key cannot
// mint keys (a leaked key must not outlive its revocation through keys it
// made), nor can a credential scoped to an account.
func (p Principal) CanCreateKey() error {
	if p.Via == ViaSession || p.Via == ViaOrgCredential {
		return nil
	}
	return Errorf(EForbidden, CodeForbidden, "API keys are created by a signed-in person or with an organization credential, not with another key")
}

// CredentialScope returns whose credentials the caller may list and
// revoke: every one of the organization for an Owner or Administrator
// (""), only its own for anyone else (its user SID).
func (p Principal) CredentialScope() string {
	if p.IsOrgAdmin() && p.AccountSid == "" {
		return ""
	}
	return p.UserSid
}

// AccessToken is a short-lived bearer token issued by POST /v1/token.
type AccessToken struct {
	TokenHash     string
	CredentialSid string
	ExpiresAt     time.Time
	DateCreated   time.Time
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewSecret returns n random letters and digits. Twilio's client libraries
// refuse other characters in Basic credentials, so nothing else appears.
func NewSecret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("domain: reading random bytes: " + err.Error())
	}
	out := make([]byte, n)
	for i, c := range b {
		// 256 = 4*62 + 8: reject the top 8 values to stay uniform.
		for c >= 248 {
			var one [1]byte
			if _, err := rand.Read(one[:]); err != nil {
				panic("domain: reading random bytes: " + err.Error())
			}
			c = one[0]
		}
		out[i] = secretAlphabet[int(c)%len(secretAlphabet)]
	}
	return string(out)
}

// HashSecret hashes a high-entropy secret or token for storage. The inputs
// are 190+ random bits, so a fast hash is enough: no password stretching is
// needed and verifying stays cheap on every request.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// SecretRef names a secret in logs and traces by "hash:" and the first 12
// hex digits of its SHA-256: enough to follow one link through the logs,
// useless to anyone who reads them.
func SecretRef(secret string) string {
	return "hash:" + HashSecret(secret)[:12]
}

// SecretMatches compares a presented secret with a stored hash in constant
// time.
func SecretMatches(secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(hash)) == 1
}

// ValidSecret reports whether s has the shape of a credential secret.
func ValidSecret(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
