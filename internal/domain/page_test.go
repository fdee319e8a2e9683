package domain_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func accountSID(n int) string {
	return domain.NewSIDFrom(domain.PrefixAccount, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n)*time.Millisecond), constReader(byte(n), 10))
}

func TestParsePageToken_EmptyTokenIsTheFirstPage(t *testing.T) {
	t.Parallel()
	req, err := domain.ParsePageToken("", domain.PrefixAccount, 20)
	require.NoError(t, err)
	assert.Equal(t, domain.PageRequest{Size: 20}, req)
}

func TestNextPageToken_RoundTripsThroughParsePageToken(t *testing.T) {
	t.Parallel()
	last := accountSID(1)
	for _, number := range []int{0, 1, 7} {
		t.Run(fmt.Sprintf("from page %d", number), func(t *testing.T) {
			t.Parallel()
			tok := domain.NextPageToken(number, last)
			assert.NotContains(t, tok, "=", "token must be usable in a URL without escaping")
			assert.NotContains(t, tok, "+")
			assert.NotContains(t, tok, "/")
			req, err := domain.ParsePageToken(tok, domain.PrefixAccount, 25)
			require.NoError(t, err)
			assert.Equal(t, domain.PageRequest{Size: 25, Number: number + 1, After: last}, req)
		})
	}
}

func TestPrevPageToken_RoundTripsThroughParsePageToken(t *testing.T) {
	t.Parallel()
	first := accountSID(2)
	for _, number := range []int{1, 2, 9} {
		t.Run(fmt.Sprintf("from page %d", number), func(t *testing.T) {
			t.Parallel()
			req, err := domain.ParsePageToken(domain.PrevPageToken(number, first), domain.PrefixAccount, 10)
			require.NoError(t, err)
			assert.Equal(t, domain.PageRequest{Size: 10, Number: number - 1, Before: first}, req)
		})
	}
}

func TestParsePageToken_RejectsBadTokensWith25023(t *testing.T) {
	t.Parallel()
	ac := accountSID(3)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	cases := []struct {
		name  string
		token string
	}{
		{"not base64", "%%%not-a-token%%%"},
		{"base64 of something that is not JSON", enc("hello world")},
		{"JSON of the wrong shape", enc(`[1,2,3]`)},
		{"neither after nor before", enc(`{"p":1}`)},
		{"both after and before", enc(fmt.Sprintf(`{"p":1,"a":%q,"b":%q}`, ac, ac))},
		{"page number zero", enc(fmt.Sprintf(`{"p":0,"a":%q}`, ac))},
		{"negative page number", enc(fmt.Sprintf(`{"p":-3,"b":%q}`, ac))},
		{"SID of another kind after", domain.NextPageToken(0, domain.NewSID(domain.PrefixUser, time.Now()))},
		{"SID of another kind before", domain.PrevPageToken(2, domain.NewSID(domain.PrefixEvent, time.Now()))},
		{"malformed SID", enc(`{"p":1,"a":"AC123"}`)},
		{"SQL in the SID", enc(`{"p":1,"a":"AC' OR 1=1 --"}`)},
		{"oversized token", enc(fmt.Sprintf(`{"p":1,"a":%q,"x":%q}`, ac, strings.Repeat("y", 300)))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, err := domain.ParsePageToken(tc.token, domain.PrefixAccount, 50)
			require.Error(t, err, "token %q was accepted as %+v", tc.token, req)
			assert.Equal(t, domain.CodeInvalidPageToken, domain.ErrorCode(err))
			assert.Equal(t, domain.EInvalid, domain.ErrorKind(err))
		})
	}
}

func TestParsePageSize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw     string
		want    int
		wantErr bool
	}{
		{"", domain.DefaultPageSize, false},
		{"1", 1, false},
		{"42", 42, false},
		{"100", 100, false},
		{"0", 0, true},
		{"101", 0, true},
		{"-1", 0, true},
		{"abc", 0, true},
		{"1.5", 0, true},
		{" 5", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.raw), func(t *testing.T) {
			t.Parallel()
			got, err := domain.ParsePageSize(tc.raw, domain.DefaultPageSize, domain.MaxPageSize)
			if tc.wantErr {
				require.Error(t, err)
				assert.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
				assert.Contains(t, domain.ErrorMessage(err), "1 to 100")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestPageFrom(t *testing.T) {
	t.Parallel()
	seq := func(from, to int) []int { // inclusive, either direction
		var out []int
		step := 1
		if to < from {
			step = -1
		}
		for i := from; ; i += step {
			out = append(out, i)
			if i == to {
				return out
			}
		}
	}
	cases := []struct {
		name             string
		req              domain.PageRequest
		rows             []int // as the keyset query returned them
		wantItems        []int
		wantNext, wantPr bool
	}{
		{"first page with more after", domain.PageRequest{Size: 3}, seq(1, 4), seq(1, 3), true, false},
		{"first page that is the only page", domain.PageRequest{Size: 3}, seq(1, 3), seq(1, 3), false, false},
		{"empty first page", domain.PageRequest{Size: 3}, nil, nil, false, false},
		{"forward to a middle page", domain.PageRequest{Size: 3, Number: 1, After: "x"}, seq(4, 7), seq(4, 6), true, true},
		{"forward to the last page", domain.PageRequest{Size: 3, Number: 2, After: "x"}, seq(7, 7), seq(7, 7), false, true},
		{"backward to a middle page", domain.PageRequest{Size: 3, Number: 1, Before: "x"}, seq(6, 3), seq(4, 6), true, true},
		{"backward to the first page", domain.PageRequest{Size: 3, Number: 0, Before: "x"}, seq(3, 1), seq(1, 3), true, false},
		{"backward to a short first page", domain.PageRequest{Size: 3, Number: 0, Before: "x"}, seq(2, 1), seq(1, 2), true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := domain.PageFrom(tc.req, tc.rows)
			assert.Equal(t, tc.wantItems, p.Items, "items")
			assert.Equal(t, tc.wantNext, p.HasNext, "HasNext")
			assert.Equal(t, tc.wantPr, p.HasPrev, "HasPrev")
			assert.Equal(t, tc.req.Number, p.Number)
			assert.Equal(t, tc.req.Size, p.Size)
		})
	}
}
