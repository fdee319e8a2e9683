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
