package lifecycle

import (
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// RequestEngine runs the workflows of Requests.
type RequestEngine interface{}

// Requests is the lifecycle of import and share requests, and relinquishing shared accounts.
//
// The HTTP handlers still carry this lifecycle's use cases; they move here
// one by one.
type Requests struct {
	access access
	store  domain.Store
	engine RequestEngine
	clock  domain.Clock
	ttl    time.Duration
}
