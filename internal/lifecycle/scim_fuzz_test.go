package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// SCIM filters and PATCH operations come from identity providers as they
// are: whatever they hold, parsing answers with a value or a 400 domain
// error, never a panic, and what it accepts is clean text. `go test` runs
// the seeds in testdata/fuzz; `make fuzz` searches for more.

func FuzzSCIMFilter(f *testing.F) {
	for _, s := range []string{`userName eq "alice@example.com"`, `externalId eq "a\"b"`, ` USERNAME EQ "X" `, `userName eq "\u0000"`,
		`userName eq "\xff"`, `userName co "a"`, `userName eq "a" and active eq true`, `externalId eq "\ud800"`, `userName eq "` + "\t" + `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var uf domain.UserFilter
		err := parseSCIMFilter(raw, &uf)
		if err != nil {
			if domain.ErrorKind(err) != domain.EInvalid || domain.ErrorCode(err) != domain.CodeInvalidSCIMFilter {
				t.Fatalf("%q: %v, want a 25001 refusal", raw, err)
			}
			return
		}
		if raw != "" && (uf.UserName == "") == (uf.ExternalID == "") && !strings.Contains(raw, `""`) {
			t.Fatalf("%q accepted as %+v: one attribute expected", raw, uf)
		}
		for _, v := range []string{uf.UserName, uf.ExternalID} {
			if !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
				t.Fatalf("%q accepted with the value %q, which no database column takes", raw, v)
			}
		}
		if uf.UserName != strings.ToLower(uf.UserName) {
			t.Fatalf("%q: userName %q is compared lower-cased", raw, uf.UserName)
		}
	})
}

func FuzzSCIMPatchOperation(f *testing.F) {
	for _, s := range [][3]string{
		{"replace", "active", "false"}, {"Replace", "active", `"False"`}, {"add", "", `{"displayName":"Ada","name":{"givenName":"A"}}`},
		{"remove", "externalId", ""}, {"remove", "userName", ""}, {"replace", "userName", `"New@Example.com"`},
		{"add", "", `{"name":"x"}`}, {"replace", "name.familyName", `7`}, {"move", "active", "true"}, {"add", "", `[1,2]`},
		{"replace", "emails[type eq \"work\"].value", `"a@b.c"`}, {"replace", "", `{"active":"yes"}`}, {"add", "locale", `null`},
	} {
		f.Add(s[0], s[1], []byte(s[2]))
	}
	f.Fuzz(func(t *testing.T, op, path string, value []byte) {
		u := domain.User{Sid: "US0123456789abcdef0123456789abcdef", UserName: "ada@example.com", Active: true, DisplayName: "Ada"}
		before := u
		err := applyPatchOp(&u, strings.ToLower(op), path, json.RawMessage(value))
		if err != nil {
			if domain.ErrorKind(err) != domain.EInvalid || domain.ErrorMessage(err) == "" {
				t.Fatalf("op %q path %q value %q: %v, want a 400 refusal", op, path, value, err)
			}
			return
		}
		if u.Sid != before.Sid || u.OrgRole != before.OrgRole || u.OrganizationSid != before.OrganizationSid || u.Managed != before.Managed {
			t.Fatalf("op %q path %q value %q changed what PATCH may not: %+v", op, path, value, u)
		}
		if u.UserName != before.UserName {
			if norm, err := domain.NormalizeEmail("userName", u.UserName); err != nil || norm != u.UserName {
				t.Fatalf("op %q path %q value %q set userName %q, not a normalized address", op, path, value, u.UserName)
			}
		}
	})
}
