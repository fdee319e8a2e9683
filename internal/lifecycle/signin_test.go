package lifecycle_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// TestSignInThrottlesEmailAndAddress: failed sign-ins lock out the email
// after the limit, and the client address after five times as many, each
// for the rest of the window (25021 with the seconds to wait), the right
// password included; others are not held back.
func TestSignInThrottlesEmailAndAddress(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := &shiftClock{}
	svc := lifecycle.New(lifecycle.Deps{Store: f.st, Engine: f.engine, Clock: clock, SignInFailures: 2, SignInWindow: time.Minute})
	ctx := context.Background()
	try := func(email, ip string) error {
		_, err := svc.SignIn.Password(ctx, lifecycle.PasswordSignIn{Email: email, Password: "wrong wrong wrong"}, domain.Actor{SourceIP: ip})
		return err
	}
	requireLocked := func(err error) {
		t.Helper()
		require.Equal(t, domain.CodeRateLimited, domain.ErrorCode(err), "%v", err)
		de, ok := domain.AsError(err)
		require.True(t, ok)
		assert.Positive(t, de.RetryAfter)
		assert.LessOrEqual(t, de.RetryAfter, 60)
	}

	// The email: two failures, from anywhere, lock it.
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try("pat@acme.example.com", "192.0.2.1")))
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try("pat@acme.example.com", "192.0.2.2")))
	requireLocked(try("pat@acme.example.com", "192.0.2.3"))
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try("kim@acme.example.com", "192.0.2.3")), "another email is not held back")

	// The address: ten failures, whatever the emails, lock it.
	for i := range 10 {
		require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try(fmt.Sprintf("user%d@acme.example.com", i), "198.51.100.7")), "failure %d", i+1)
	}
	requireLocked(try("new@acme.example.com", "198.51.100.7"))
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try("new@acme.example.com", "198.51.100.8")), "another address is not held back")

	// After the window, both are free again.
	clock.advance(time.Minute + time.Second)
	require.Equal(t, domain.CodeUnauthenticated, domain.ErrorCode(try("pat@acme.example.com", "198.51.100.7")))
}
