package lifecycle

import (
	"math"
	"sync"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// rateLimiter is a token bucket per key (a client IP): n tokens, refilled
// evenly over per. It lives in memory, per API process.
type rateLimiter struct {
	mu      sync.Mutex
	n       float64
	per     time.Duration
	clock   domain.Clock
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(n int, per time.Duration, clock domain.Clock) *rateLimiter {
	return &rateLimiter{n: float64(n), per: per, clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it says how long until
// the next one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	rate := l.n / l.per.Seconds() // tokens per second
	if len(l.buckets) > 100_000 {
		// Forget the clients whose buckets have refilled: they are back
		// where a new client starts.
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*rate >= l.n {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.n, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.n, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}
