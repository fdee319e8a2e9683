package dnstxt_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/dnstxt"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

func TestLookupTXT_SeesRecordsTheServerHolds(t *testing.T) {
	srv := testenv.MustDNS(t)
	r, err := dnstxt.New(srv.Addr)
	require.NoError(t, err)
	ctx := context.Background()

	got, err := r.LookupTXT(ctx, "_orgaccounts.example.com")
	require.NoError(t, err, "a name that does not exist is no error")
	assert.Empty(t, got)

	long := strings.Repeat("x", 300)
	srv.SetTXT("_orgaccounts.example.com", "orgaccounts-domain-verification=abc", long)
	got, err = r.LookupTXT(ctx, "_orgaccounts.EXAMPLE.com")
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"orgaccounts-domain-verification=abc", long}, got, "a value longer than 255 bytes is joined again")

	srv.RemoveTXT("_orgaccounts.example.com")
	got, err = r.LookupTXT(ctx, "_orgaccounts.example.com")
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, 3, srv.Queries("_orgaccounts.example.com"))
}

func TestLookupTXT_UnreachableServerIsAnError(t *testing.T) {
	// A UDP port nobody reads: bound, then closed.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	r, err := dnstxt.New(addr)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err = r.LookupTXT(ctx, "_orgaccounts.example.com")
	require.Error(t, err)
}

func TestNew_RefusesAnAddressWithoutPort(t *testing.T) {
	_, err := dnstxt.New("127.0.0.1")
	require.Error(t, err)
}

func TestNew_WithoutAddressReadsResolvConf(t *testing.T) {
	r, err := dnstxt.New("")
	if err != nil {
		t.Skipf("no usable %s here: %v", dnstxt.ResolvConf, err)
	}
	assert.NotEmpty(t, r.Servers())
}
