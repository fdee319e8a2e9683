package main

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// n is how many were collected.
func (l *latencies) n() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// p is the q-th quantile (0 < q ≤ 1), zero when empty.
func (l *latencies) p(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// fanOut runs fn for 0..n-1 on clients goroutines; the first error wins.
func fanOut(n, clients int, fn func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(clients)
	for i := range n {
		g.Go(func() error {
			if err := fn(i); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// spread is min/median/max of one figure over the repetitions.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return fmt.Sprintf("%.2f / %.2f / %.2f", s[0], s[len(s)/2], s[len(s)-1])
}

func secs(d time.Duration) float64 { return d.Seconds() }
