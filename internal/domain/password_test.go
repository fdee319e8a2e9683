package domain

import (
	"strings"
	"testing"
)

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"OK", "plum kettle orbit 42", true},
		{"OKUnicode", "größenwahn ünd sîlence", true},
		{"ErrTooShort", "short pw 1", false},
		{"ErrTooLong", strings.Repeat("long pass ", 30), false},
		{"ErrCommon", "correcthorsebatterystaple", false},
		{"ErrCommonWithSuffix", "Password2024!!", false},
		{"ErrRepeated", "abcabcabcabcabc", false},
		{"ErrSequence", "1234567890123", false},
		{"ErrControl", "plum kettle\x00orbit", false},
		{"ErrInvalidUTF8", "plum kettle \xff orbit", false},
		{"ErrEmail", "alice.smith@example.com", false},
		{"ErrEmailLocalPart", "alice.smith12", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePassword(tc.password, "alice.smith@example.com")
			if got := err == nil; got != tc.ok {
				t.Fatalf("ValidatePassword(%q) = %v, want ok=%v", tc.password, err, tc.ok)
			}
			if err != nil && ErrorCode(err) != CodeWeakPassword {
				t.Fatalf("code %d, want %d", ErrorCode(err), CodeWeakPassword)
			}
		})
	}
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h := HashPassword("plum kettle orbit 42")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry argon2id and its parameters", h)
	}
	if h == HashPassword("plum kettle orbit 42") {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		name, password, hash string
		want                 bool
	}{
		{"OK", "plum kettle orbit 42", h, true},
		{"ErrWrong", "plum kettle orbit 43", h, false},
		{"ErrEmptyHash", "", "", false},
		{"ErrMalformed", "plum kettle orbit 42", "$argon2id$v=19$m=x$$", false},
		{"ErrDummy", "no user has this password: it only burns the same time", "", false},
	} {
		if got := PasswordMatches(tc.password, tc.hash); got != tc.want {
			t.Errorf("%s: PasswordMatches = %v, want %v", tc.name, got, tc.want)
		}
	}
}
