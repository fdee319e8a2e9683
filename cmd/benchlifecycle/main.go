// Command benchlifecycle measures orgaccounts' lifecycles against the
// engine's own ceilings, side by side in one run on one Temporal server:
// a no-op workflow, one of three no-op regular activities and one of
// three no-op local activities on a task queue of their own, then account
// creations, invitations and closures per second through the HTTP API of
// an `orgaccounts serve` process, the POST latencies, the confirm
// latency, and the RSS and idle CPU of that process with the invitations
// parked. Each lifecycle figure is printed as a ratio to the ceilings
// measured just before and just after it; with -reps 3 the summary gives
// min / median / max of each ratio.
//
// It starts what is not given: a Temporal dev server from -temporal unless
// TEMPORAL_ADDRESS is set, and a fresh database on the PostgreSQL server of
// DATABASE_URL (or TEST_DATABASE_URL). `make bench-lifecycle` builds the
// binary and runs it; docs/BENCHMARKS.md records results.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
)

type options struct {
	bin, temporalBin                 string
	reps, clients                    int
	ceilingN, creations, invitations int
	closures, numbers                int
	idle                             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/orgaccounts", "the orgaccounts binary to run (`serve`)")
	flag.StringVar(&o.temporalBin, "temporal", "bin/temporal", "Temporal CLI started as a dev server unless TEMPORAL_ADDRESS is set")
	flag.IntVar(&o.reps, "reps", 3, "repetitions")
	flag.IntVar(&o.clients, "clients", 30, "concurrent clients")
	flag.IntVar(&o.ceilingN, "ceiling-n", 150, "workflows per ceiling measurement")
	flag.IntVar(&o.creations, "creations", 120, "account creations per repetition")
	flag.IntVar(&o.invitations, "invitations", 120, "invitations per repetition (left parked, but for the confirmed ones)")
	flag.IntVar(&o.closures, "closures", 20, "closures per repetition")
	flag.IntVar(&o.numbers, "numbers", 10, "phone numbers of each closed account")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "how long the idle CPU of the parked service is sampled")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlifecycle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	addr := os.Getenv("TEMPORAL_ADDRESS")
	if addr == "" {
		a, stopDev, err := startDevServer(ctx, o.temporalBin)
		if err != nil {
			return err
		}
		cleanups = append(cleanups, stopDev)
		addr = a
	}
	dbURL, dropDB, err := freshDatabase(ctx)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, dropDB)
	c, err := dialTemporal(ctx, addr)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, c.Close)
	svc, err := startService(ctx, o.bin, dbURL, addr)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, svc.stop)
	ceilingQueue := "bench-ceiling-" + randomHex(4)
	w, err := startCeilingWorker(c, ceilingQueue)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, w.Stop)

	fmt.Printf("benchlifecycle: %d clients, %d reps; ceilings %d workflows each; %d creations, %d invitations, %d closures of %d numbers per rep\n",
		o.clients, o.reps, o.ceilingN, o.creations, o.invitations, o.closures, o.numbers)
	var reps []repetition
	for i := 1; i <= o.reps; i++ {
		r, err := measureRep(ctx, o, c, ceilingQueue, svc, i)
		if err != nil {
			return err
		}
		r.print(i)
		reps = append(reps, r)
	}
	summarize(reps)
	return nil
}

// dialTemporal connects, retrying while a dev server starts.
func dialTemporal(ctx context.Context, addr string) (client.Client, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.Dial(client.Options{HostPort: addr, Logger: quietLogger{}})
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("temporal at %s: %w", addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// quietLogger drops the SDK's log lines, which would drown the results.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
