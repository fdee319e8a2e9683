package main

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The engine's ceilings: workflows that do nothing but what the engine
// itself costs, on their own task queue, run by a worker in this process.

// NoopWorkflow returns at once: a bare start and one workflow task.
func NoopWorkflow(workflow.Context) error { return nil }

// ThreeActivitiesWorkflow runs three no-op regular activities in turn:
// the shape of a creation before local activities.
func ThreeActivitiesWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	for i := 0; i < 3; i++ {
		if err := workflow.ExecuteActivity(ctx, NoopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// ThreeLocalActivitiesWorkflow runs three no-op local activities in turn.
func ThreeLocalActivitiesWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	for i := 0; i < 3; i++ {
		if err := workflow.ExecuteLocalActivity(ctx, NoopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// NoopActivity does nothing.
func NoopActivity(context.Context) error { return nil }

// ceilings is one measurement of the three engine workflows.
type ceilings struct {
	Noop, Three, ThreeLocal wfRun
}

// wfRun is n workflows of one kind driven by the clients: their rate, the
// latency of their start (the call returns) and of their completion.
type wfRun struct {
	PerSecond float64
	Start     *latencies
	Done      *latencies
}

// startCeilingWorker runs the ceiling workflows' worker on queue until
// stopped.
func startCeilingWorker(c client.Client, queue string) (sdkworker.Worker, error) {
	w := sdkworker.New(c, queue, sdkworker.Options{})
	w.RegisterWorkflow(NoopWorkflow)
	w.RegisterWorkflow(ThreeActivitiesWorkflow)
	w.RegisterWorkflow(ThreeLocalActivitiesWorkflow)
	w.RegisterActivity(NoopActivity)
	return w, w.Start()
}

// measureCeilings runs n workflows of each kind with the given clients.
func measureCeilings(ctx context.Context, c client.Client, queue string, n, clients int) (ceilings, error) {
	var out ceilings
	for _, k := range []struct {
		dst *wfRun
		wf  any
	}{{&out.Noop, NoopWorkflow}, {&out.Three, ThreeActivitiesWorkflow}, {&out.ThreeLocal, ThreeLocalActivitiesWorkflow}} {
		r, err := measureWorkflow(ctx, c, queue, k.wf, n, clients)
		if err != nil {
			return out, err
		}
		*k.dst = r
	}
	return out, nil
}

func measureWorkflow(ctx context.Context, c client.Client, queue string, wf any, n, clients int) (wfRun, error) {
	prefix := fmt.Sprintf("ceiling-%d", time.Now().UnixNano())
	starts, dones := &latencies{}, &latencies{}
	began := time.Now()
	err := fanOut(n, clients, func(i int) error {
		t0 := time.Now()
		h, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: queue}, wf)
		if err != nil {
			return err
		}
		starts.add(time.Since(t0))
		if err := h.Get(ctx, nil); err != nil {
			return err
		}
		dones.add(time.Since(t0))
		return nil
	})
	return wfRun{PerSecond: float64(n) / time.Since(began).Seconds(), Start: starts, Done: dones}, err
}

// probeEvery is the pace of the bare starts made alongside a lifecycle's
// load: 20 a second, a seventh of what the creations start.
const probeEvery = 50 * time.Millisecond

// probeStarts starts the no-op workflow on queue every probeEvery, timing
// each start call into out, until the returned function is called; that
// function returns the first start that failed.
func probeStarts(ctx context.Context, c client.Client, queue string, out *latencies) func() error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		prefix := fmt.Sprintf("probe-%d", time.Now().UnixNano())
		tick := time.NewTicker(probeEvery)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-tick.C:
			}
			t0 := time.Now()
			if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: queue}, NoopWorkflow); err != nil {
				if ctx.Err() != nil {
					done <- nil
				} else {
					done <- err
				}
				return
			}
			out.add(time.Since(t0))
		}
	}()
	return func() error {
		cancel()
		return <-done
	}
}
