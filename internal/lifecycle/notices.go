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
}
