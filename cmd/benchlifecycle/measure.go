package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// repetition is one run of every measurement, between two of the
// ceilings.
type repetition struct {
	before, after ceilings

	creationsPerSec, invitationsPerSec, closuresPerSec float64
	postAccounts, postToActive, postInvitations        *latencies
	confirm                                            *latencies
	// loadedStarts are bare starts made alongside the creations, at a
	// pace too low to add load of their own: the engine's start under the
	// same load as the POSTs.
	loadedStarts    *latencies
	parked          int
	rssMiB, idleCPU float64 // RSS of the service; its CPU while parked, in cores
}

// ceiling of a kind: the mean of before and after.
func (r repetition) rate(pick func(ceilings) wfRun) float64 {
	return (pick(r.before).PerSecond + pick(r.after).PerSecond) / 2
}

func (r repetition) p99(pick func(ceilings) *latencies) time.Duration {
	return (pick(r.before).p(0.99) + pick(r.after).p(0.99)) / 2
}

func three(c ceilings) wfRun      { return c.Three }
func threeLocal(c ceilings) wfRun { return c.ThreeLocal }

// ratios are the figures the goals are stated in.
func (r repetition) ratios() map[string]float64 {
	return map[string]float64{
		"creations/s ÷ 3-local ceiling":          r.creationsPerSec / r.rate(threeLocal),
		"closures/s ÷ 3-regular ceiling":         r.closuresPerSec / r.rate(three),
		"invitations sent/s ÷ 3-regular ceiling": r.invitationsPerSec / r.rate(three),
		"POST Accounts p99 ÷ bare start p99": secs(r.postAccounts.p(0.99)) /
			secs(r.p99(func(c ceilings) *latencies { return c.Noop.Start })),
		"POST Accounts p99 ÷ bare start p99 alongside": secs(r.postAccounts.p(0.99)) / secs(r.loadedStarts.p(0.99)),
		"POST→active p99 ÷ 3-local completion p99": secs(r.postToActive.p(0.99)) /
			secs(r.p99(func(c ceilings) *latencies { return c.ThreeLocal.Done })),
	}
}

var ratioOrder = []string{
	"creations/s ÷ 3-local ceiling", "closures/s ÷ 3-regular ceiling", "invitations sent/s ÷ 3-regular ceiling",
	"POST Accounts p99 ÷ bare start p99", "POST Accounts p99 ÷ bare start p99 alongside", "POST→active p99 ÷ 3-local completion p99",
}

func (r repetition) print(i int) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("\nrep %d\n", i)
	for _, c := range []struct {
		name string
		c    ceilings
	}{{"before", r.before}, {"after", r.after}} {
		fmt.Printf("  ceilings %-6s  no-op %.1f/s (start p99 %s)  3 regular %.1f/s (p99 %s)  3 local %.1f/s (p99 %s)\n", c.name,
			c.c.Noop.PerSecond, ms(c.c.Noop.Start.p(0.99)), c.c.Three.PerSecond, ms(c.c.Three.Done.p(0.99)),
			c.c.ThreeLocal.PerSecond, ms(c.c.ThreeLocal.Done.p(0.99)))
	}
	fmt.Printf("  creations %.1f/s  POST p50/p90/p99 %s/%s/%s  POST→active p50/p99 %s/%s\n", r.creationsPerSec,
		ms(r.postAccounts.p(0.5)), ms(r.postAccounts.p(0.9)), ms(r.postAccounts.p(0.99)), ms(r.postToActive.p(0.5)), ms(r.postToActive.p(0.99)))
	fmt.Printf("  bare starts alongside the creations: %d, p50/p99 %s/%s\n", r.loadedStarts.n(), ms(r.loadedStarts.p(0.5)), ms(r.loadedStarts.p(0.99)))
	fmt.Printf("  invitations sent %.1f/s  POST p50/p99 %s/%s  confirm p50/p99 %s/%s\n", r.invitationsPerSec,
		ms(r.postInvitations.p(0.5)), ms(r.postInvitations.p(0.99)), ms(r.confirm.p(0.5)), ms(r.confirm.p(0.99)))
	fmt.Printf("  closures %.2f/s\n", r.closuresPerSec)
	fmt.Printf("  service with %d invitations parked: RSS %.0f MiB, idle CPU %.2f%% of a core\n", r.parked, r.rssMiB, 100*r.idleCPU)
	ratios := r.ratios()
	for _, k := range ratioOrder {
		fmt.Printf("  %-42s %.2f\n", k, ratios[k])
	}
}

func summarize(reps []repetition) {
	fmt.Printf("\nsummary over %d reps: min / median / max\n", len(reps))
	for _, k := range ratioOrder {
		var xs []float64
		for _, r := range reps {
			xs = append(xs, r.ratios()[k])
		}
		fmt.Printf("  %-42s %s\n", k, spread(xs))
	}
	var rss, cpu []float64
	for _, r := range reps {
		rss, cpu = append(rss, r.rssMiB), append(cpu, 100*r.idleCPU)
	}
	fmt.Printf("  %-42s %s\n", "service RSS, MiB (invitations parked)", spread(rss))
	fmt.Printf("  %-42s %s\n", "idle CPU, % of a core", spread(cpu))
}

func measureRep(ctx context.Context, o options, c client.Client, ceilingQueue string, s *service, rep int) (repetition, error) {
	r := repetition{postAccounts: &latencies{}, postToActive: &latencies{}, postInvitations: &latencies{}, confirm: &latencies{}, loadedStarts: &latencies{}}
	var err error
	if r.before, err = measureCeilings(ctx, c, ceilingQueue, o.ceilingN, o.clients); err != nil {
		return r, fmt.Errorf("ceilings: %w", err)
	}

	// Creations: POST, then poll until active; alongside, bare starts
	// of the no-op workflow every probeEvery.
	accounts := make([]string, o.creations)
	stopProbe := probeStarts(ctx, c, ceilingQueue, r.loadedStarts)
	began := time.Now()
	err = fanOut(o.creations, o.clients, func(i int) error {
		t0 := time.Now()
		var created struct {
			AccountSid string `json:"account_sid"`
		}
		if err := s.call(ctx, http.MethodPost, "/Accounts", map[string]any{"friendly_name": fmt.Sprintf("Bench %d-%d", rep, i)}, http.StatusAccepted, &created); err != nil {
			return err
		}
		r.postAccounts.add(time.Since(t0))
		accounts[i] = created.AccountSid
		if err := s.waitFor(ctx, "/Accounts/"+created.AccountSid, "status", domain.AccountActive); err != nil {
			return err
		}
		r.postToActive.add(time.Since(t0))
		return nil
	})
	r.creationsPerSec = float64(o.creations) / time.Since(began).Seconds()
	if perr := stopProbe(); err == nil {
		err = perr
	}
	if err != nil {
		return r, fmt.Errorf("creations: %w", err)
	}

	// Invitations to one account: POST, then poll until the first link
	// was sent.
	target := accounts[0]
	invitations := make([]string, o.invitations)
	began = time.Now()
	err = fanOut(o.invitations, o.clients, func(i int) error {
		t0 := time.Now()
		var inv struct {
			Sid string `json:"sid"`
		}
		if err := s.call(ctx, http.MethodPost, "/Accounts/"+target+"/Invitations",
			map[string]any{"email": fmt.Sprintf("guest%d-%d@elsewhere.example", rep, i), "roles": []string{domain.RoleDeveloper}}, http.StatusCreated, &inv); err != nil {
			return err
		}
		r.postInvitations.add(time.Since(t0))
		invitations[i] = inv.Sid
		return s.waitFor(ctx, "/Accounts/"+target+"/Invitations/"+inv.Sid, "sent_count", 1)
	})
	if err != nil {
		return r, fmt.Errorf("invitations: %w", err)
	}
	r.invitationsPerSec = float64(o.invitations) / time.Since(began).Seconds()

	// Confirm: the answer a confirmation page hands the engine, until the
	// API shows the invitation accepted.
	wf := workflows.Client{Temporal: c, TaskQueue: s.queue}
	confirmed := min(30, o.invitations)
	err = fanOut(confirmed, o.clients, func(i int) error {
		t0 := time.Now()
		if err := wf.AnswerLink(ctx, domain.LinkInvitation, invitations[i], domain.LinkAnswer{LinkVersion: 1, Accept: true}); err != nil {
			return err
		}
		if err := s.waitFor(ctx, "/Accounts/"+target+"/Invitations/"+invitations[i], "status", domain.InvitationAccepted); err != nil {
			return err
		}
		r.confirm.add(time.Since(t0))
		return nil
	})
	if err != nil {
		return r, fmt.Errorf("confirm: %w", err)
	}
	r.parked = rep * (o.invitations - confirmed)

	// Closures of accounts with o.numbers numbers each (acquired before
	// the clock starts), until each is closed.
	closing := accounts[1 : 1+min(o.closures, len(accounts)-2)]
	err = fanOut(len(closing)*o.numbers, o.clients, func(i int) error {
		// A random number another account holds already (21422) is
		// drawn again.
		var err error
		for range 5 {
			err = s.call(ctx, http.MethodPost, "/Accounts/"+closing[i/o.numbers]+"/PhoneNumbers", map[string]any{}, http.StatusCreated, nil)
			if err == nil || !strings.Contains(err.Error(), `"code":21422`) {
				break
			}
		}
		return err
	})
	if err != nil {
		return r, fmt.Errorf("acquiring numbers: %w", err)
	}
	began = time.Now()
	ack := map[string]any{"lose_access": true, "stop_charges": true, "release_resources": true, "schedule_deletion": true}
	err = fanOut(len(closing), o.clients, func(i int) error {
		if err := s.call(ctx, http.MethodPost, "/Accounts/"+closing[i]+"/Close", ack, http.StatusAccepted, nil); err != nil {
			return err
		}
		return s.waitFor(ctx, "/Accounts/"+closing[i], "status", domain.AccountClosed)
	})
	if err != nil {
		return r, fmt.Errorf("closures: %w", err)
	}
	r.closuresPerSec = float64(len(closing)) / time.Since(began).Seconds()

	// The service with its invitations parked (and closures in
	// retention): resident memory, and CPU while nothing happens.
	_, cpu0, err := usage(s.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	idle := time.NewTimer(o.idle)
	select {
	case <-idle.C:
	case <-ctx.Done():
		return r, ctx.Err()
	}
	rss, cpu1, err := usage(s.cmd.Process.Pid)
	if err != nil {
		return r, err
	}
	r.rssMiB, r.idleCPU = float64(rss)/1024, (cpu1-cpu0).Seconds()/o.idle.Seconds()

	if r.after, err = measureCeilings(ctx, c, ceilingQueue, o.ceilingN, o.clients); err != nil {
		return r, fmt.Errorf("ceilings: %w", err)
	}
	return r, nil
}
