package lifecycle

import (
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Directory is the organization's managed users as SCIM provisions them.
type Directory struct {
	store domain.Store
	clock domain.Clock
}

// Auth turns credentials into callers and issues bearer tokens.
type Auth struct {
	store    domain.Store
	clock    domain.Clock
	tokenTTL time.Duration
}

// Confirmations is the emailed single-use confirmation link: loading what
// a link is about and carrying its holder's answer to the lifecycle that
// waits for it.
type Confirmations struct {
	store  domain.Store
	engine Engine
	clock  domain.Clock
}
