package lifecycle

import (
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Confirmations is the emailed single-use confirmation link: loading what
// a link is about and carrying its holder's answer to the lifecycle that
// waits for it.
type Confirmations struct {
	store  domain.Store
	engine Engine
	clock  domain.Clock
}
