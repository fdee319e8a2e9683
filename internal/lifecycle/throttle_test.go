package lifecycle

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func newThrottle(limit int, window time.Duration) (*Throttle, *testClock) {
	clock := &testClock{t: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	return NewThrottle(clock, limit, window), clock
}

// retryAfter returns the Retry-After of a rate-limited refusal, -1 for nil
// and fails on any other error.
func retryAfter(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return -1
	}
	e, ok := domain.AsError(err)
	if !ok || e.Kind != domain.ERateLimited || e.Code != domain.CodeRateLimited {
		t.Fatalf("got %v, want a rate-limited error (25021)", err)
	}
	return e.RetryAfter
}

func TestThrottleLocksOutAfterLimitForTheRestOfTheWindow(t *testing.T) {
	th, clock := newThrottle(3, time.Minute)
	for i := range 2 {
		if got := th.Fail("SKa"); got != nil {
			t.Fatalf("failure %d: locked out %v, want none", i+1, got)
		}
		clock.t = clock.t.Add(10 * time.Second)
	}
	if got := retryAfter(t, th.Check("SKa")); got != -1 {
		t.Fatalf("before the limit: Retry-After %d, want no refusal", got)
	}
	if got, want := th.Fail("SKa"), []string{"SKa"}; !slices.Equal(got, want) {
		t.Fatalf("third failure: locked out %v, want %v", got, want)
	}
	// The window began 20 s ago: 40 s remain.
	if got, want := retryAfter(t, th.Check("SKa")), 40; got != want {
		t.Fatalf("Retry-After = %d, want %d", got, want)
	}
	if got := retryAfter(t, th.Check("SKother")); got != -1 {
		t.Fatalf("another key: Retry-After %d, want no refusal", got)
	}
	if got, want := retryAfter(t, th.Check("SKother", "", "SKa")), 40; got != want {
		t.Fatalf("any locked key refuses: Retry-After = %d, want %d", got, want)
	}
	clock.t = clock.t.Add(39*time.Second + 500*time.Millisecond)
	if got, want := retryAfter(t, th.Check("SKa")), 1; got != want {
		t.Fatalf("half a second left: Retry-After = %d, want %d (rounded up)", got, want)
	}
	clock.t = clock.t.Add(500 * time.Millisecond)
	if got := retryAfter(t, th.Check("SKa")); got != -1 {
		t.Fatalf("after the window: Retry-After %d, want no refusal", got)
	}
}

func TestThrottleFailuresInAnOldWindowDoNotCount(t *testing.T) {
	th, clock := newThrottle(3, time.Minute)
	th.Fail("ip")
	th.Fail("ip")
	clock.t = clock.t.Add(time.Minute)
	if got := th.Fail("ip"); got != nil {
		t.Fatalf("first failure of a new window: locked out %v, want none", got)
	}
	if err := th.Check("ip"); err != nil {
		t.Fatalf("Check = %v, want nil", err)
	}
}

func TestThrottleRepeatLockoutsDoubleUpToTheBound(t *testing.T) {
	th, clock := newThrottle(2, time.Minute)
	lockout := func() int {
		t.Helper()
		th.Fail("k")
		if got := th.Fail("k"); !slices.Equal(got, []string{"k"}) {
			t.Fatalf("locked out %v, want [k]", got)
		}
		secs := retryAfter(t, th.Check("k"))
		clock.t = clock.t.Add(time.Duration(secs) * time.Second)
		if err := th.Check("k"); err != nil {
			t.Fatalf("after the lockout: %v", err)
		}
		return secs
	}
	var got []int
	for range 7 {
		got = append(got, lockout())
	}
	want := []int{60, 120, 240, 480, 960, 960, 960}
	if !slices.Equal(got, want) {
		t.Fatalf("lockouts = %v s, want %v s", got, want)
	}
}

func TestThrottleForgetsLockoutsAfterAQuietSpell(t *testing.T) {
	th, clock := newThrottle(2, time.Minute)
	th.Fail("k")
	th.Fail("k")
	clock.t = clock.t.Add(time.Minute)
	th.Fail("k")
	th.Fail("k")
	if got, want := retryAfter(t, th.Check("k")), 120; got != want {
		t.Fatalf("second lockout: Retry-After = %d, want %d", got, want)
	}
	// Quiet for the lockout and as long again: a new lockout is short again.
	clock.t = clock.t.Add(4 * time.Minute)
	th.Fail("k")
	th.Fail("k")
	if got, want := retryAfter(t, th.Check("k")), 60; got != want {
		t.Fatalf("after a quiet spell: Retry-After = %d, want %d", got, want)
	}
}

func TestThrottleSucceedClearsOnlyThatKey(t *testing.T) {
	th, _ := newThrottle(2, time.Minute)
	if got, want := th.Fail("SKa", "ip"), []string(nil); !slices.Equal(got, want) {
		t.Fatalf("locked out %v, want none", got)
	}
	th.Succeed("SKa")
	if got, want := th.Fail("SKa", "ip"), []string{"ip"}; !slices.Equal(got, want) {
		t.Fatalf("locked out %v, want %v (SKa's count was cleared)", got, want)
	}
	if err := th.Check("SKa"); err != nil {
		t.Fatalf("Check(SKa) = %v, want nil", err)
	}
	if retryAfter(t, th.Check("ip")) <= 0 {
		t.Fatal("ip is not locked out")
	}
}

func TestThrottleFailWhileLockedIsNotANewLockout(t *testing.T) {
	th, clock := newThrottle(1, time.Minute)
	if got := th.Fail("k"); len(got) != 1 {
		t.Fatalf("locked out %v, want [k]", got)
	}
	clock.t = clock.t.Add(time.Second)
	if got := th.Fail("k"); got != nil {
		t.Fatalf("a failure while locked: locked out %v, want none", got)
	}
	if got, want := retryAfter(t, th.Check("k")), 59; got != want {
		t.Fatalf("Retry-After = %d, want %d (not extended)", got, want)
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th, clock := newThrottle(1, time.Minute)
	th.maxKeys = 100
	for i := range 100 {
		th.Fail(fmt.Sprint("old", i))
	}
	clock.t = clock.t.Add(time.Hour)
	th.Fail("new")
	if got, want := th.Len(), 1; got != want {
		t.Fatalf("after quiet keys are forgotten: %d keys, want %d", got, want)
	}
	// Every key locked out: the ones ending soonest go first.
	for i := range 250 {
		clock.t = clock.t.Add(time.Millisecond)
		th.Fail(fmt.Sprint("locked", i))
		if th.Len() > th.maxKeys {
			t.Fatalf("%d keys, want at most %d", th.Len(), th.maxKeys)
		}
	}
	if err := th.Check("locked249"); err == nil {
		t.Fatal("the newest lockout was forgotten")
	}
}

// syncClock is a clock safe to read from many goroutines.
type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *syncClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestThrottleConcurrentFailuresLockOutOnce(t *testing.T) {
	clock := &syncClock{t: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	th := NewThrottle(clock, 10, time.Minute)
	var mu sync.Mutex
	lockouts := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			clock.add(time.Millisecond)
			_ = th.Check("k")
			n := len(th.Fail("k"))
			mu.Lock()
			lockouts += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if lockouts != 1 {
		t.Fatalf("%d lockouts reported, want 1", lockouts)
	}
}
