package lifecycle

import (
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// ClosureEngine runs the workflows of Closure.
type ClosureEngine interface{}

// Closure is the lifecycle of closing and reopening accounts, and what an account owns (numbers, charges, credentials).
//
// The HTTP handlers still carry this lifecycle's use cases; they move here
// one by one.
type Closure struct {
	access    access
	store     domain.Store
	engine    ClosureEngine
	clock     domain.Clock
	retention time.Duration
}
