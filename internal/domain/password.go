package domain

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules. A password is at least MinPasswordLength characters and
// at most MaxPasswordBytes bytes, and not one everyone tries first.
const (
	MinPasswordLength = 12
	MaxPasswordBytes  = 256
)

// argon2id parameters (OWASP's first recommendation: 19 MiB, 2 passes, one
// lane). They are stored in each hash, so raising them later leaves
// existing hashes readable.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// commonPasswords are the passwords attackers try first (checked lower-case
// and without trailing digits and punctuation, so "Password2024!" is one
// of them too).
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
		password passw0rd p@ssword p@ssw0rd passwort motdepasse contrasena
		qwerty qwertyuiop qwertyuiopasdfghjkl asdfghjkl asdfghjkl; zxcvbnm azerty
		letmein welcome welcomehome iloveyou trustno admin administrator root
		changeme changemenow default secret supersecret topsecret
		abcdefghijkl abcdefghijklmnop abc123abc123 monkey dragon football baseball
		sunshine princess shadow master superman batman starwars whatever
		summer winter spring autumn january february december
		twilio twiliotwilio orgaccounts organization organisation
		correcthorsebatterystaple iloveyouforever letmeinplease
		1q2w3e4r5t6y 1qaz2wsx3edc qazwsxedcrfv zaq12wsxcde3`) {
		commonPasswords[p] = true
	}
}

// ValidatePassword checks a new password for the user with email: long
// enough, not too long, printable, not common, not the email itself.
func ValidatePassword(password, email string) error {
	if !utf8.ValidString(password) {
		return Errorf(EInvalid, CodeWeakPassword, "the password must be text")
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return Errorf(EInvalid, CodeWeakPassword, "the password must be at least %d characters long; a few words together make a good one", MinPasswordLength)
	}
	if len(password) > MaxPasswordBytes {
		return Errorf(EInvalid, CodeWeakPassword, "the password must be at most %d bytes long", MaxPasswordBytes)
	}
	for _, r := range password {
		if r < 0x20 || r == 0x7f {
			return Errorf(EInvalid, CodeWeakPassword, "the password must not contain control characters")
		}
	}
	lower := strings.ToLower(password)
	core := strings.TrimRight(lower, "0123456789!@#$%^&*?.,-_ ")
	if commonPasswords[lower] || commonPasswords[core] || repeats(lower) || isSequence(lower) {
		return Errorf(EInvalid, CodeWeakPassword, "this password is one of the first that attackers try: choose another")
	}
	if email != "" {
		local := strings.ToLower(email)
		if at := strings.LastIndexByte(local, '@'); at >= 0 {
			local = local[:at]
		}
		if lower == strings.ToLower(email) || (len(local) >= 4 && strings.Contains(lower, local) && len(lower)-len(local) < MinPasswordLength/2) {
			return Errorf(EInvalid, CodeWeakPassword, "the password must not be built on your email address")
		}
	}
	return nil
}

// repeats reports whether s is one short pattern over and over
// ("aaaaaaaaaaaa", "abcabcabcabc").
func repeats(s string) bool {
	for n := 1; n <= 4 && n < len(s); n++ {
		if strings.Repeat(s[:n], len(s)/n+1)[:len(s)] == s {
			return true
		}
	}
	return false
}

// isSequence reports whether s is a run of consecutive characters
// ("123456789012", "abcdefghijkl").
func isSequence(s string) bool {
	if len(s) < 2 {
		return false
	}
	up, down := true, true
	for i := 1; i < len(s); i++ {
		d := int(s[i]) - int(s[i-1])
		up = up && (d == 1 || (s[i-1] == '9' && s[i] == '0'))
		down = down && d == -1
	}
	return up || down
}

// HashPassword hashes a password with argon2id and a random salt, encoded
// with its parameters: $argon2id$v=19$m=…,t=…,p=…$salt$key.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("domain: reading random bytes: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// dummyPasswordHash is compared against when there is no user or no
// password, so that an unknown email takes as long as a wrong password.
var dummyPasswordHash = HashPassword("no user has this password: it only burns the same time")

// PasswordMatches checks a password against an encoded hash in constant
// time. An empty or malformed hash matches nothing, after the same work as
// a real check.
func PasswordMatches(password, encoded string) bool {
	ok := true
	var m, t uint32
	var p uint8
	var saltB64, keyB64 string
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		ok, parts = false, strings.Split(dummyPasswordHash, "$")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		ok, parts = false, strings.Split(dummyPasswordHash, "$")
		_, _ = fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p)
	}
	saltB64, keyB64 = parts[4], parts[5]
	salt, err1 := base64.RawStdEncoding.DecodeString(saltB64)
	want, err2 := base64.RawStdEncoding.DecodeString(keyB64)
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && ok
}
