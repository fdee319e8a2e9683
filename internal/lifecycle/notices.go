package lifecycle

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// NoticeEngine sends, with retries, the emails that follow a change made
// synchronously (an ownership transfer).
type NoticeEngine interface {
	// NotifyOwnershipChange emails the former and the new owner of an
	// account after a transfer, once per transfer.
	NotifyOwnershipChange(ctx context.Context, t domain.TransferredOwnership, actor domain.Actor) error
	// NotifySignUpAttempt tells the user who has an email that someone
	// tried to sign up with it (the sign-up itself answers as if it
	// worked, so it tells nobody else whether the email is known).
	NotifySignUpAttempt(ctx context.Context, email, friendlyName string, actor domain.Actor) error
}
