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
