package domain_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// The parsers of what callers send (page tokens, SIDs, email addresses,
// domain names, If-Match) are fuzzed: whatever the input, they answer
// with a value or an invalid-input domain error, never a panic, and what
// they accept is what the rest of the service relies on. `go test` runs
// the seeds in testdata/fuzz; `make fuzz` searches for more.

// invalid fails the test unless err is nil or a domain error of kind.
func invalid(t *testing.T, err error, kinds ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, k := range kinds {
		if domain.ErrorKind(err) == k {
			if domain.ErrorCode(err) == 0 || domain.ErrorMessage(err) == "" {
				t.Fatalf("refusal without a code or message: %#v", err)
			}
			return
		}
	}
	t.Fatalf("got %v (kind %q), want nil or kind %v", err, domain.ErrorKind(err), kinds)
}

func FuzzParsePageToken(f *testing.F) {
	sid := domain.NewSIDFrom(domain.PrefixAccount, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(make([]byte, 10)))
	f.Add(domain.NextPageToken(0, sid))
	f.Add(domain.PrevPageToken(3, sid))
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := domain.ParsePageToken(raw, domain.PrefixAccount, domain.DefaultPageSize)
		invalid(t, err, domain.EInvalid)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalidPageToken {
				t.Fatalf("code %d, want %d", domain.ErrorCode(err), domain.CodeInvalidPageToken)
			}
			return
		}
		if raw == "" {
			return
		}
		if req.Number < 0 || (req.After == "") == (req.Before == "") {
			t.Fatalf("accepted %q as %+v: one direction and a page number from 0 expected", raw, req)
		}
		for _, s := range []string{req.After, req.Before} {
			if s != "" && !domain.ValidSID(domain.PrefixAccount, s) {
				t.Fatalf("accepted %q with a position %q that is not an account SID", raw, s)
			}
		}
		// What it accepts, it would have issued: the token of the same
		// position reads back the same.
		again := domain.NextPageToken(req.Number-1, req.After)
		if req.Before != "" {
			again = domain.PrevPageToken(req.Number+1, req.Before)
		}
		back, err := domain.ParsePageToken(again, domain.PrefixAccount, domain.DefaultPageSize)
		if err != nil || back != req {
			t.Fatalf("%q: %+v, reissued as %q: %+v, %v", raw, req, again, back, err)
		}
	})
}

func FuzzSID(f *testing.F) {
	f.Add("AC", "AC0123456789abcdef0123456789abcdef")
	f.Add("US", "us0123456789abcdef0123456789abcdef")
	f.Add("SK", "SK0123456789abcdef0123456789abcde\x00")
	f.Add("DM", "DM0123456789ABCDEF0123456789ABCDEF\n")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		ok := domain.ValidSID(prefix, s)
		err := domain.CheckSID("sid", prefix, s)
		if ok != (err == nil) {
			t.Fatalf("ValidSID(%q, %q) = %v but CheckSID says %v", prefix, s, ok, err)
		}
		invalid(t, err, domain.EInvalid)
		if err != nil && len(domain.ErrorMessage(err)) > 256 {
			t.Fatalf("a refusal repeats too much of the input: %d bytes", len(domain.ErrorMessage(err)))
		}
		if ok && (len(s) != 34 || !strings.HasPrefix(s, prefix) || strings.ToUpper(s[:2]) != s[:2]) {
			t.Fatalf("accepted %q for prefix %q", s, prefix)
		}
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", " Bob@Example.COM ", "a@b", "x@y.z", `"q uoted"@example.com`, "Ada <ada@example.com>",
		"i\u0307@example.com", "\u0130@example.com", "a@b\x00.com", "a@\xff.com", "a@b.c\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		e, err := domain.NormalizeEmail("email", raw)
		invalid(t, err, domain.EInvalid)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalidEmail {
				t.Fatalf("code %d, want %d", domain.ErrorCode(err), domain.CodeInvalidEmail)
			}
			return
		}
		if !utf8.ValidString(e) || strings.IndexFunc(e, unicode.IsControl) >= 0 {
			t.Fatalf("accepted %q as %q: invalid UTF-8 or a control character", raw, e)
		}
		if e != strings.ToLower(e) || len(e) > 255 || !strings.Contains(domain.EmailDomain(e), ".") {
			t.Fatalf("accepted %q as %q", raw, e)
		}
		if again, err := domain.NormalizeEmail("email", e); err != nil || again != e {
			t.Fatalf("%q normalizes to %q, which normalizes to %q, %v", raw, e, again, err)
		}
	})
}

func FuzzValidateDomainName(f *testing.F) {
	for _, s := range []string{"example.com", "corp.example", "xn--bcher-kva.example", "xn--a.com", "EXAMPLE.com", "a..b", "-a.com",
		"ab--c.com", "1.2.3.4", "example.com.", "a.b\x00", "b\u00fccher.example", strings.Repeat("a", 64) + ".com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := domain.ValidateDomainName("domain_name", name)
		invalid(t, err, domain.EInvalid)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeInvalidDomainName {
				t.Fatalf("code %d, want %d", domain.ErrorCode(err), domain.CodeInvalidDomainName)
			}
			return
		}
		if len(name) > 253 || name != strings.ToLower(name) || strings.HasSuffix(name, ".") || !strings.Contains(name, ".") {
			t.Fatalf("accepted %q", name)
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				t.Fatalf("accepted %q with byte %q", name, c)
			}
		}
		for _, l := range strings.Split(name, ".") {
			if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				t.Fatalf("accepted %q with label %q", name, l)
			}
		}
		// What it accepts can be asked for under a TXT record name.
		if err := domain.ValidateDomainName("domain_name", "x."+name); err != nil && len(name) <= 251 {
			t.Fatalf("%q accepted but its subdomain x.%s is not: %v", name, name, err)
		}
	})
}

func FuzzParseIfMatch(f *testing.F) {
	for _, s := range []string{`W/"3"`, `"3"`, "*", "", `W/"0"`, `W/"-1"`, `W/"99999999999999999999"`, "W/\"1\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := domain.ParseIfMatch(raw)
		invalid(t, err, domain.EPreconditionFailed)
		if err == nil && v < 0 {
			t.Fatalf("%q: version %d", raw, v)
		}
		if err == nil && v > 0 {
			if back, err := domain.ParseIfMatch(`W/"` + strings.TrimSpace(strings.Trim(strings.TrimPrefix(strings.TrimSpace(raw), "W/"), `"`)) + `"`); err != nil || back != v {
				t.Fatalf("%q: version %d, but its ETag reads %d, %v", raw, v, back, err)
			}
		}
	})
}
