package domain_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// constReader returns a reader yielding n copies of b: the random part of a
// SID made from it is known.
func constReader(b byte, n int) *bytes.Reader {
	return bytes.NewReader(bytes.Repeat([]byte{b}, n))
}

func TestNewSID_HasPrefixAnd34CharactersAndIsValid(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, prefix := range []string{
		domain.PrefixOrganization, domain.PrefixUser, domain.PrefixAccount, domain.PrefixRole,
		domain.PrefixRoleAssignment, domain.PrefixCredential, domain.PrefixEvent, domain.PrefixDomain,
	} {
		t.Run(prefix, func(t *testing.T) {
			t.Parallel()
			sid := domain.NewSID(prefix, now)
			assert.Len(t, sid, 34)
			assert.True(t, strings.HasPrefix(sid, prefix), "SID %s lacks prefix %s", sid, prefix)
			assert.True(t, domain.ValidSID(prefix, sid), "NewSID made an invalid SID %s", sid)
		})
	}
}

func TestNewSID_TwoSIDsAtTheSameInstantDiffer(t *testing.T) {
	t.Parallel()
	now := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		sid := domain.NewSID(domain.PrefixAccount, now)
		require.False(t, seen[sid], "NewSID repeated %s", sid)
		seen[sid] = true
	}
}

func TestNewSID_StartsWithCreationTimeInMilliseconds(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(0x0123456789ab)
	sid := domain.NewSIDFrom(domain.PrefixEvent, now, constReader(0, 10))
	assert.Equal(t, "EV0123456789ab00000000000000000000", sid)
}

func TestNewSID_LaterSIDSortsAfterEarlierOne(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		early time.Time
		gap   time.Duration
	}{
		{"one millisecond apart", time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), time.Millisecond},
		{"across a carry in the timestamp", time.UnixMilli(0x00ffffffffff), time.Millisecond},
		{"a second apart", time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC), time.Second},
		{"years apart", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), 150 * 365 * 24 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Worst case: the earlier SID has the largest random part,
			// the later one the smallest.
			early := domain.NewSIDFrom(domain.PrefixAccount, tc.early, constReader(0xff, 10))
			late := domain.NewSIDFrom(domain.PrefixAccount, tc.early.Add(tc.gap), constReader(0x00, 10))
			assert.Less(t, early, late)
		})
	}
}

func TestNewSID_SIDsMadeInSequenceSortInCreationOrder(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 500; i++ {
		sid := domain.NewSID(domain.PrefixUser, start.Add(time.Duration(i)*time.Millisecond))
		require.Greater(t, sid, prev, "SID %d does not sort after SID %d", i, i-1)
		prev = sid
	}
}

func TestNewSIDFrom_SameReaderContentGivesSameSID(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	seed := []byte("0123456789")
	a := domain.NewSIDFrom(domain.PrefixAccount, now, bytes.NewReader(seed))
	b := domain.NewSIDFrom(domain.PrefixAccount, now, bytes.NewReader(seed))
	assert.Equal(t, a, b)
	assert.True(t, domain.ValidSID(domain.PrefixAccount, a))

	other := domain.NewSIDFrom(domain.PrefixAccount, now, bytes.NewReader([]byte("0123456788")))
	assert.NotEqual(t, a, other, "different entropy must give a different SID")
}

func TestNewSIDFrom_PanicsWhenTheReaderRunsDry(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() {
		domain.NewSIDFrom(domain.PrefixAccount, time.Now(), constReader(1, 3))
	})
}

func TestSIDLowerBound_SeparatesSIDsCreatedBeforeAndAfter(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	bound := domain.SIDLowerBound(domain.PrefixEvent, at)

	assert.True(t, domain.ValidSID(domain.PrefixEvent, bound), "bound %s is not a valid SID", bound)
	assert.Equal(t, domain.NewSIDFrom(domain.PrefixEvent, at, constReader(0, 10)), bound,
		"the bound is the smallest SID of that millisecond")

	atBound := domain.NewSIDFrom(domain.PrefixEvent, at, constReader(0x00, 10))
	sameMs := domain.NewSIDFrom(domain.PrefixEvent, at, constReader(0x7f, 10))
	before := domain.NewSIDFrom(domain.PrefixEvent, at.Add(-time.Millisecond), constReader(0xff, 10))
	after := domain.NewSIDFrom(domain.PrefixEvent, at.Add(time.Millisecond), constReader(0x00, 10))

	assert.LessOrEqual(t, bound, atBound)
	assert.LessOrEqual(t, bound, sameMs)
	assert.Less(t, bound, after)
	assert.Less(t, before, bound, "a SID from the millisecond before must sort below the bound")
}

func TestValidSID(t *testing.T) {
	t.Parallel()
	const hex32 = "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name   string
		prefix string
		sid    string
		want   bool
	}{
		{"lower-case hex", "AC", "AC" + hex32, true},
		{"upper-case hex allowed by the contract", "AC", "AC" + strings.ToUpper(hex32), true},
		{"mixed-case hex", "AC", "AC0123456789ABCDEF0123456789abcdef", true},
		{"built-in role SID", "IX", domain.RoleDeveloper, true},
		{"wrong prefix", "AC", "US" + hex32, false},
		{"lower-case prefix", "AC", "ac" + hex32, false},
		{"too short", "AC", "AC" + hex32[:31], false},
		{"too long", "AC", "AC" + hex32 + "0", false},
		{"non-hex digit", "AC", "AC" + hex32[:31] + "g", false},
		{"prefix only", "AC", "AC", false},
		{"empty", "AC", "", false},
		{"surrounding white space", "AC", " AC" + hex32, false},
		{"trailing newline", "AC", "AC" + hex32 + "\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, domain.ValidSID(tc.prefix, tc.sid))
			err := domain.CheckSID("Sid", tc.prefix, tc.sid)
			if tc.want {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
			assert.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
			assert.Contains(t, domain.ErrorMessage(err), "Sid must be a "+tc.prefix+" SID")
		})
	}
}

func TestCheckSID_TruncatesLongInputInTheMessage(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 500)
	err := domain.CheckSID("AccountSid", domain.PrefixAccount, long)
	require.Error(t, err)
	msg := domain.ErrorMessage(err)
	assert.NotContains(t, msg, long, "the whole 500-character input is echoed back")
	assert.Contains(t, msg, strings.Repeat("x", 64)+"…")
	assert.Less(t, len(msg), 200, fmt.Sprintf("message too long: %q", msg))
}
