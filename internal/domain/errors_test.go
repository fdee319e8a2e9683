package domain_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestErrorAccessors(t *testing.T) {
	t.Parallel()
	notFound := domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account %s not found", "AC1")
	cases := []struct {
		name     string
		err      error
		wantKind string
		wantCode int
		wantMsg  string
		isDomain bool
	}{
		{"domain error", notFound, domain.ENotFound, domain.CodeAccountNotFound, "account AC1 not found", true},
		{"wrapped once", fmt.Errorf("finding: %w", notFound), domain.ENotFound, domain.CodeAccountNotFound, "account AC1 not found", true},
		{"wrapped twice", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", notFound)), domain.ENotFound, domain.CodeAccountNotFound, "account AC1 not found", true},
		{"joined with another error", errors.Join(errors.New("other"), notFound), domain.ENotFound, domain.CodeAccountNotFound, "account AC1 not found", true},
		{"plain error", errors.New("pq: connection refused at 10.0.0.5"), domain.EInternal, domain.CodeInternal, "internal error", false},
		{"context error", context.DeadlineExceeded, domain.EInternal, domain.CodeInternal, "internal error", false},
		{"plain error wrapped", fmt.Errorf("store: %w", errors.New("secret detail")), domain.EInternal, domain.CodeInternal, "internal error", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.wantKind, domain.ErrorKind(tc.err))
			assert.Equal(t, tc.wantCode, domain.ErrorCode(tc.err))
			assert.Equal(t, tc.wantMsg, domain.ErrorMessage(tc.err))
			e, ok := domain.AsError(tc.err)
			assert.Equal(t, tc.isDomain, ok)
			if ok {
				assert.Same(t, notFound, e)
			}
		})
	}
}

func TestError_ErrorStringNamesKindCodeAndMessage(t *testing.T) {
	t.Parallel()
	err := domain.Errorf(domain.EConflict, domain.CodeVersionConflict, "version %d is stale", 3)
	assert.Equal(t, "orgaccounts: conflict (25020): version 3 is stale", err.Error())
}

func TestErrorf_DoesNotInterpretPercentInArguments(t *testing.T) {
	t.Parallel()
	err := domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s", "100%d")
	assert.Equal(t, "100%d", err.Message)
}
