package lifecycle

import (
	"log/slog"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// DomainEngine runs the workflows of Domains.
type DomainEngine interface{}

// Domains is the lifecycle of an organization's verified domains.
//
// The HTTP handlers still carry this lifecycle's use cases; they move here
// one by one.
type Domains struct {
	access access
	store  domain.Store
	engine DomainEngine
	clock  domain.Clock
	log    *slog.Logger
}
