package lifecycle

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Throttle limits failed attempts (wrong secrets, wrong passwords) per key:
// a client id, an email, a client address. After limit failures within
// window a key is locked out for the rest of that window; each lockout that
// follows before the key has been quiet for as long as its last lockout
// lasts twice as long as the one before, up to maxLockoutFactor windows.
//
// It lives in memory, per API process, and holds at most maxThrottleKeys
// keys: past that, keys that are quiet are forgotten first, then the ones
// whose lockout ends soonest. It is safe for concurrent use.
type Throttle struct {
	mu      sync.Mutex
	clock   domain.Clock
	limit   int
	window  time.Duration
	maxKeys int
	keys    map[string]*throttled
}

// throttled is one key's record.
type throttled struct {
	failures    int       // within the current window
	windowStart time.Time // when the current window began
	lockouts    int       // lockouts in a row
	lockedUntil time.Time
	lastLock    time.Duration // how long the last lockout lasted
	lastFailure time.Time
}

const (
	// maxLockoutFactor bounds the doubling: no lockout is longer than
	// this many windows.
	maxLockoutFactor = 16
	// maxThrottleKeys bounds the memory a throttle holds.
	maxThrottleKeys = 100_000
)

// NewThrottle returns a throttle that locks a key out after limit failures
// within window.
func NewThrottle(clock domain.Clock, limit int, window time.Duration) *Throttle {
	if clock == nil {
		clock = domain.SystemClock{}
	}
	if limit < 1 {
		limit = 1
	}
	if window <= 0 {
		window = time.Minute
	}
	return &Throttle{clock: clock, limit: limit, window: window, maxKeys: maxThrottleKeys, keys: map[string]*throttled{}}
}

// Check returns 25021 (rate limited, with the seconds to wait) when any
// of keys is locked out, nil otherwise. Empty keys are ignored.
func (t *Throttle) Check(keys ...string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	var wait time.Duration
	for _, k := range keys {
		if e, ok := t.keys[k]; ok && k != "" && now.Before(e.lockedUntil) {
			wait = max(wait, e.lockedUntil.Sub(now))
		}
	}
	if wait == 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return domain.RateLimited(secs, "too many failed attempts; retry in %d s", secs)
}

// Fail records one failed attempt against each of keys and returns those
// that it has just locked out (so the caller records each lockout once).
// Empty keys are ignored.
func (t *Throttle) Fail(keys ...string) (lockedOut []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	for _, k := range keys {
		if k == "" {
			continue
		}
		e, ok := t.keys[k]
		if !ok {
			if len(t.keys) >= t.maxKeys {
				t.evict(now)
			}
			e = &throttled{windowStart: now}
			t.keys[k] = e
		}
		if t.quiet(e, now) {
			// Quiet for long enough: start over, the lockout count too.
			*e = throttled{windowStart: now}
		}
		e.lastFailure = now
		if now.Before(e.lockedUntil) {
			continue // already locked out: an attempt that raced the check
		}
		if !now.Before(e.windowStart.Add(t.window)) {
			e.failures, e.windowStart = 0, now
		}
		e.failures++
		if e.failures < t.limit {
			continue
		}
		// Locked for the rest of the window the first time, then twice
		// the last lockout each time after, up to the bound.
		lock := e.windowStart.Add(t.window).Sub(now)
		if e.lockouts > 0 {
			lock = min(2*e.lastLock, maxLockoutFactor*t.window)
		}
		lock = max(lock, time.Second)
		e.lockouts++
		e.lastLock = lock
		e.lockedUntil = now.Add(lock)
		e.failures, e.windowStart = 0, e.lockedUntil
		lockedOut = append(lockedOut, k)
	}
	return lockedOut
}

// Succeed forgets key's failures: the caller proved it holds the secret.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// quiet reports whether a key has nothing left to remember: not locked out,
// its window over, and no failure for a window (or, after a lockout, for as
// long as that lockout lasted), so a new failure starts from nothing.
func (t *Throttle) quiet(e *throttled, now time.Time) bool {
	if now.Before(e.lockedUntil) || now.Before(e.windowStart.Add(t.window)) {
		return false
	}
	return !now.Before(e.lastFailure.Add(max(t.window, e.lastLock)))
}

// evict makes room: it forgets quiet keys, then unlocked ones, then, if
// every key is locked out, the tenth of them whose lockouts end soonest.
func (t *Throttle) evict(now time.Time) {
	target := t.maxKeys - t.maxKeys/10
	for k, e := range t.keys {
		if t.quiet(e, now) {
			delete(t.keys, k)
		}
	}
	for k, e := range t.keys {
		if len(t.keys) <= target {
			return
		}
		if !now.Before(e.lockedUntil) {
			delete(t.keys, k)
		}
	}
	if len(t.keys) <= target {
		return
	}
	locked := make([]string, 0, len(t.keys))
	for k := range t.keys {
		locked = append(locked, k)
	}
	slices.SortFunc(locked, func(a, b string) int { return t.keys[a].lockedUntil.Compare(t.keys[b].lockedUntil) })
	for _, k := range locked[:len(locked)-target] {
		delete(t.keys, k)
	}
}

// Len returns how many keys the throttle remembers.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}
