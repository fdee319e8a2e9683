package lifecycle

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Permission is what a command asks of its caller, as its service checks
// it. The edge checks it again before it answers a command from a stored
// answer (an Idempotency-Key replay), so a caller who has lost the right
// since the first attempt is refused, not served the old answer.
type Permission struct {
	// OrgAdmin asks for the organization Owner or Administrator role.
	OrgAdmin bool
	// OrgUser asks for any organization role (creating accounts).
	OrgUser bool
	// Account, when set, is the account the command acts on; Action is
	// what it does there.
	Account string
	Action  domain.AccountAction
	// Role, with Account, is a role the command grants on the account
	// (granting Administrator asks for more than granting the others).
	Role string
}

// Authorize checks the caller holds perm now, answering as the command's
// service would: 25105 for too small a role, 25101 for an account the
// caller may not see.
func (s *Services) Authorize(ctx context.Context, p domain.Principal, perm Permission) error {
	if perm.OrgAdmin {
		if err := p.RequireOrgAdmin(); err != nil {
			return err
		}
	}
	if perm.OrgUser {
		if err := p.CanCreateAccounts(); err != nil {
			return err
		}
	}
	if perm.Account == "" {
		return nil
	}
	if perm.Role != "" {
		if err := domain.CheckSID("scope", domain.PrefixAccount, perm.Account); err != nil {
			return err
		}
		return s.People.mayManageRole(ctx, p, perm.Account, perm.Role, "grant")
	}
	_, err := s.access.account(ctx, p, perm.Account, perm.Action)
	return err
}
