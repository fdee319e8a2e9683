package workflows

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// AnswerLink carries the answer given on a confirmation link's page to the
// workflow that waits for it (lifecycle.ConfirmationEngine): the
// invitation's, or the import or share request's, each through its answer
// Update. The workflow refuses what its state does not allow (25019: no
// longer pending, a stale link version, expired; for an invitation, an
// acceptance before the invitee enrolled in two-factor authentication
// where the account requires it), and an ended workflow means the subject
// is no longer pending.
func (c Client) AnswerLink(ctx context.Context, kind, subjectSid string, a domain.LinkAnswer) error {
	switch kind {
	case domain.LinkInvitation:
		_, err := c.updateInvitation(ctx, subjectSid, AnswerUpdate, a)
		return err
	case domain.LinkImport, domain.LinkShare:
		requestKind := domain.RequestImport
		if kind == domain.LinkShare {
			requestKind = domain.RequestShare
		}
		_, err := update[RequestState](ctx, c, AccountRequestWorkflowID(requestKind, subjectSid), RequestAnswerUpdate,
			domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the request is no longer pending"), a)
		return err
	}
	return domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "unknown kind of confirmation link %q", kind)
}
