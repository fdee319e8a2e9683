// Package activities holds every side effect the workflows perform. Each
// method is one idempotent step: it may run twice (a worker can crash
// between the database write and the acknowledgement) and the second run
// changes nothing.
package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"

	"go.temporal.io/sdk/temporal"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
)

// Activities holds the dependencies of the activities.
type Activities struct {
	Store domain.Store
	Clock domain.Clock
	// Mailer delivers email (SMTP, or the outbox); BaseURL prefixes the
	// links emails carry.
	Mailer  email.Sender
	BaseURL string
	// Carrier releases numbers and Billing stops charges (the store's
	// database implementations when nil).
	Carrier domain.Carrier
	Billing domain.Billing
	// Requests ends the workflows of an account's pending requests when
	// the account closes.
	Requests RequestCanceller
	// ReleasePacing is waited before each release or charge stop: zero
	// in production; tests set it to watch a closure midway.
	ReleasePacing time.Duration
	// Resolver looks up the TXT records that verify domains.
	Resolver domain.TXTResolver
}

// logger is the activity's logger with the request id that started the
// workflow (carried in Temporal headers), so its lines join the API's.
func logger(ctx context.Context) log.Logger {
	return log.With(activity.GetLogger(ctx), "request_id", telemetry.RequestID(ctx))
}

// ErrorType is the application error type of failures that carry a domain
// error: retrying cannot fix them.
const ErrorType = "DomainError"

// DomainFailure is the detail attached to a non-retryable domain failure.
type DomainFailure struct {
	Kind       string `json:"kind"`
	Code       int    `json:"code"`
	Message    string `json:"message"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

// wrap turns a domain error (other than internal/unavailable ones, which
// may heal) into a non-retryable application error carrying its code.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := domain.AsError(err); ok && e.Kind != domain.EInternal && e.Kind != domain.EUnavailable {
		return temporal.NewNonRetryableApplicationError(e.Message, ErrorType, err, DomainFailure{Kind: e.Kind, Code: e.Code, Message: e.Message, RetryAfter: e.RetryAfter})
	}
	return err
}

// AsDomainError recovers the domain error from an activity failure seen by
// a workflow or a client.
func AsDomainError(err error) (*domain.Error, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrorType {
		return nil, false
	}
	var f DomainFailure
	if appErr.HasDetails() && appErr.Details(&f) == nil {
		return &domain.Error{Kind: f.Kind, Code: f.Code, Message: f.Message, RetryAfter: f.RetryAfter}, true
	}
	return nil, false
}

// NonRetryable turns a domain error into the failure activities return
// for it (for ports implemented outside this package).
func NonRetryable(err error) error { return wrap(err) }
