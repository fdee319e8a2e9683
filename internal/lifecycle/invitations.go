package lifecycle

import "github.com/orgaccounts/orgaccounts/internal/domain"

// InvitationEngine runs the workflows of Invitations.
type InvitationEngine interface{}

// Invitations is the lifecycle of invitations and their emailed links.
//
// The HTTP handlers still carry this lifecycle's use cases; they move here
// one by one.
type Invitations struct {
	access access
	store  domain.Store
	engine InvitationEngine
	clock  domain.Clock
}
