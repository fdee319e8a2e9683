// Package worker registers orgaccounts' workflows and activities on a
// Temporal worker. The binary and the tests share it, so what is tested is
// what runs.
package worker

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// Register adds every workflow and activity to r.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	r.RegisterWorkflow(workflows.CreateAccountWorkflow)
	r.RegisterWorkflow(workflows.InvitationWorkflow)
	r.RegisterWorkflow(workflows.SendEmailWorkflow)
	r.RegisterWorkflow(workflows.ImportAccountWorkflow)
	r.RegisterWorkflow(workflows.ShareAccountWorkflow)
	r.RegisterWorkflow(workflows.CloseAccountWorkflow)
	r.RegisterWorkflow(workflows.DomainVerificationWorkflow)
	r.RegisterWorkflow(workflows.RelinquishAccountWorkflow)
	r.RegisterActivity(acts)
}

// DefaultStickyCacheSize is how many workflows a worker process keeps in
// memory between their tasks unless configured (WORKER_STICKY_CACHE_SIZE).
// A workflow evicted from the cache (the least recently used goes first)
// costs nothing while it waits: when its update, signal or timer comes,
// the worker replays its history. Invitations and requests park for days,
// so the cache holds the busy workflows, not every waiting one (the SDK's
// own default of 10,000 would keep ~45 KiB and a few goroutines for each).
const DefaultStickyCacheSize = 500

// SetStickyCacheSize bounds the workflows the process keeps in memory
// between their tasks. The cache is shared by the process's workers and
// sized when the first of them starts: call it before New.
func SetStickyCacheSize(n int) {
	if n <= 0 {
		n = DefaultStickyCacheSize
	}
	sdkworker.SetStickyWorkflowCacheSize(n)
}

// New builds a worker on taskQueue with everything registered. On stop it
// waits up to stopTimeout for the activities in flight.
func New(c client.Client, taskQueue string, acts *activities.Activities, stopTimeout time.Duration) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		WorkerStopTimeout: stopTimeout,
		// Pollers follow the load (the server says when more would
		// help), instead of two of each kind: under a burst of lifecycles
		// a task no longer waits for a poller to come back.
		WorkflowTaskPollerBehavior: sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{}),
		ActivityTaskPollerBehavior: sdkworker.NewPollerBehaviorAutoscaling(sdkworker.PollerBehaviorAutoscalingOptions{}),
	})
	Register(w, acts)
	return w
}

// Run starts w and blocks until ctx ends, then stops it gracefully (the
// activities in flight finish or time out).
func Run(ctx context.Context, w sdkworker.Worker) error {
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: starting: %w", err)
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
