package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// DomainVerificationWorkflowID is the workflow ID of a domain's
// verification; it derives from the domain SID (and stays the same across
// continue-as-new).
func DomainVerificationWorkflowID(domainSid string) string { return "domain-verification/" + domainSid }

// DomainTimings are the intervals of DomainVerificationWorkflow. Zero
// values take the defaults below.
type DomainTimings struct {
	CheckInterval   time.Duration // between checks while pending (DOMAIN_CHECK_INTERVAL)
	Window          time.Duration // how long a pending domain is checked before it fails (DOMAIN_VERIFICATION_WINDOW)
	RecheckInterval time.Duration // between checks once verified (DOMAIN_RECHECK_INTERVAL)
	GracePeriod     time.Duration // how long a vanished record may stay missing (DOMAIN_GRACE_PERIOD)
	ChecksPerRun    int           // checks before the run continues as new
}

// Default domain timings.
const (
	DefaultDomainCheckInterval   = 5 * time.Minute
	DefaultDomainWindow          = 72 * time.Hour
	DefaultDomainRecheckInterval = 24 * time.Hour
	DefaultDomainGracePeriod     = 30 * 24 * time.Hour
	// DefaultDomainChecksPerRun keeps a run's history to a few thousand
	// events: 72 hours of checks every 5 minutes fit in about four runs.
	DefaultDomainChecksPerRun = 250
)

func (t DomainTimings) withDefaults() DomainTimings {
	if t.CheckInterval <= 0 {
		t.CheckInterval = DefaultDomainCheckInterval
	}
	if t.Window <= 0 {
		t.Window = DefaultDomainWindow
	}
	if t.RecheckInterval <= 0 {
		t.RecheckInterval = DefaultDomainRecheckInterval
	}
	if t.GracePeriod <= 0 {
		t.GracePeriod = DefaultDomainGracePeriod
	}
	if t.ChecksPerRun <= 0 {
		t.ChecksPerRun = DefaultDomainChecksPerRun
	}
	return t
}

// Statuses of DomainVerificationState beyond the domain's own.
const (
	// DomainDeleted: the domain was deleted through the API; the workflow
	// ended.
	DomainDeleted = "deleted"
)

// DomainVerificationState is the verification as the workflow sees it: the
// progress query returns it, and it travels into the next run on
// continue-as-new.
type DomainVerificationState struct {
	Status        string     `json:"status"`          // pending | verified | failed | removed | deleted
	VerifyBy      time.Time  `json:"verify_by"`       // pending: the end of the verification window
	NextCheckAt   time.Time  `json:"next_check_at"`   // when the record is looked up next
	Checks        int        `json:"checks"`          // look-ups so far, every run counted
	Found         bool       `json:"found"`           // what the latest look-up found
	LastCheckedAt *time.Time `json:"last_checked_at"` // the latest look-up
	MissingSince  *time.Time `json:"missing_since"`   // verified, record missing since
	RemoveAfter   *time.Time `json:"remove_after"`    // verified, record missing: removal time
	Runs          int        `json:"runs"`            // runs before this one (continue-as-new)
}

// DomainVerificationInput is what the API passes to
// DomainVerificationWorkflow, and what a run passes to the next.
type DomainVerificationInput struct {
	OrganizationSid string
	DomainSid       string
	DomainName      string
	// VerificationToken is the token of the domain that the first run's
	// StartUpdate persists (runs started before StartUpdate found the
	// domain persisted by the API).
	VerificationToken string
	Timings           DomainTimings
	Actor             domain.Actor
	// State is empty on the first run, then carried over.
	State DomainVerificationState
}

// DomainVerificationWorkflow verifies a domain through its DNS TXT record
// and keeps it verified. Its first run's StartUpdate, sent with its start,
// persists the pending domain (or answers why it may not be added, and the
// run ends); then, while pending it looks the record up every
// CheckInterval until Window ends (then the domain fails); once verified,
// every RecheckInterval. A record that vanished starts a GracePeriod: back
// in time, the domain is restored; still missing at its end, the domain is
// removed. It runs as long as the domain is verified, continuing as new
// every ChecksPerRun look-ups to keep its history short, and ends when the
// domain fails, is removed, or is deleted (the API cancels it).
//
// Determinism: every decision reads workflow.Now and activity results
// only. Changing this function's commands changes the history of runs in
// flight, which live forever here: guard any change with
// workflow.GetVersion (a new run after continue-as-new takes the new code);
// the histories recorded in testdata must keep replaying.
func DomainVerificationWorkflow(ctx workflow.Context, in DomainVerificationInput) (DomainVerificationState, error) {
	w := &domainVerification{in: in, state: in.State}
	if err := w.setup(ctx); err != nil {
		return w.state, err
	}
	return w.run(ctx)
}

type domainVerification struct {
	in    DomainVerificationInput
	t     DomainTimings
	state DomainVerificationState
	acts  *activities.Activities
	log   log.Logger

	// byStartUpdate is set for a first run whose domain is persisted by
	// its StartUpdate (not for older runs, nor for runs continued as new,
	// which carry their state).
	byStartUpdate bool
	// opened is set once StartUpdate's persist step has run: added is the
	// domain it persisted, or openErr why it was refused.
	opening, opened bool
	added           domain.VerifiedDomain
	openErr         error
}

// checkOptions: a look-up is retried a few times, then the workflow moves
// on (a resolver that stays down must not keep a pending domain from
// failing, nor remove a verified one).
var checkOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        10 * time.Second,
		MaximumAttempts:        3,
		NonRetryableErrorTypes: []string{activities.ErrorType},
	},
}

func (w *domainVerification) setup(ctx workflow.Context) error {
	if !domain.ValidSID(domain.PrefixDomain, w.in.DomainSid) || !domain.ValidSID(domain.PrefixOrganization, w.in.OrganizationSid) {
		return domainError(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "invalid domain verification workflow input"))
	}
	w.t = w.in.Timings.withDefaults()
	if w.state.Status == "" {
		w.byStartUpdate = workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, versionUpdateWithStart) == versionUpdateWithStart
	}
	if w.state.Status == "" {
		now := workflow.Now(ctx)
		w.state = DomainVerificationState{Status: domain.DomainPending, VerifyBy: now.Add(w.t.Window), NextCheckAt: now}
	}
	w.log = log.With(workflow.GetLogger(ctx), "request_id", w.in.Actor.RequestID, "DomainSid", w.in.DomainSid)
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (DomainVerificationState, error) { return w.state, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, StartUpdate, w.start, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
		if !w.byStartUpdate {
			return domainError(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this verification was started without %s", StartUpdate))
		}
		return nil
	}})
}

// start is StartUpdate's handler: it persists the pending domain and
// answers with it, or with the domain error that refused it (25312: verified
// by another organization; 25019: the organization has it already). A
// retried request gets the same answer.
func (w *domainVerification) start(ctx workflow.Context) (domain.VerifiedDomain, error) {
	if w.opening {
		if err := workflow.Await(ctx, func() bool { return w.opened }); err != nil {
			return domain.VerifiedDomain{}, err
		}
		return w.added, w.openErr
	}
	w.opening = true
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	w.openErr = workflow.ExecuteActivity(actx, w.acts.CreateDomainRecord, domain.DomainAddition{
		OrganizationSid: w.in.OrganizationSid, DomainSid: w.in.DomainSid, DomainName: w.in.DomainName,
		VerificationToken: w.in.VerificationToken, Actor: w.in.Actor,
	}).Get(ctx, &w.added)
	w.opened = true
	return w.added, w.openErr
}

func (w *domainVerification) run(ctx workflow.Context) (DomainVerificationState, error) {
	if w.byStartUpdate {
		started, err := workflow.AwaitWithTimeout(ctx, startTimeout, func() bool { return w.opened })
		if err != nil {
			if w.opening {
				// Cancelled while persisting: let the answer go out.
				dctx, _ := workflow.NewDisconnectedContext(ctx)
				_ = workflow.Await(dctx, func() bool { return w.opened })
			}
			return w.state, err
		}
		if !started {
			w.log.Warn("the verification was never started")
			return w.state, nil
		}
		if w.openErr != nil {
			// Refused: nothing was persisted, nothing to verify.
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return w.state, w.openErr
		}
	}
	checks := 0
	for {
		if wait := w.state.NextCheckAt.Sub(workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return w.state, err // cancelled: the domain was deleted
			}
		}
		done, err := w.step(ctx)
		if errors.Is(err, errDomainGone) {
			return w.state, nil
		}
		if err != nil || done {
			return w.state, err
		}
		checks++
		if checks >= w.t.ChecksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			next := w.in
			next.State = w.state
			next.State.Runs++
			w.log.Info("continuing as new", "checks", w.state.Checks, "status", w.state.Status)
			return w.state, workflow.NewContinueAsNewError(ctx, DomainVerificationWorkflow, next)
		}
	}
}

// step looks the record up once and acts on what it found; done means the
// workflow has nothing left to do.
func (w *domainVerification) step(ctx workflow.Context) (bool, error) {
	now := workflow.Now(ctx)
	found, lookedUp, gone, err := w.check(ctx, now)
	if err != nil || gone {
		return true, err
	}
	s := &w.state
	switch s.Status {
	case domain.DomainPending:
		if found {
			if err := w.transition(ctx, domain.DomainTransition{Kind: domain.DomainVerify, At: now}, ""); err != nil {
				if e, ok := activities.AsDomainError(err); ok && e.Code == domain.CodeDomainTaken {
					return true, w.transition(ctx, domain.DomainTransition{Kind: domain.DomainFail, At: now}, e.Message)
				}
				return true, err
			}
			s.Status = domain.DomainVerified
			s.NextCheckAt = now.Add(w.t.RecheckInterval)
			return false, nil
		}
		if !now.Before(s.VerifyBy) {
			return true, w.transition(ctx, domain.DomainTransition{Kind: domain.DomainFail, At: now}, "the record was not found within the verification window")
		}
		s.NextCheckAt = minTime(now.Add(w.t.CheckInterval), s.VerifyBy)
	case domain.DomainVerified:
		switch {
		case !lookedUp:
			// The resolver failed: change nothing, try again later.
		case found && s.MissingSince != nil:
			if err := w.transition(ctx, domain.DomainTransition{Kind: domain.DomainRestore, At: now}, ""); err != nil {
				return true, err
			}
			s.MissingSince, s.RemoveAfter = nil, nil
		case !found && s.MissingSince == nil:
			until := now.Add(w.t.GracePeriod)
			if err := w.transition(ctx, domain.DomainTransition{Kind: domain.DomainLapse, At: now, RemoveAfter: until}, "the record is missing"); err != nil {
				return true, err
			}
			s.MissingSince, s.RemoveAfter = &now, &until
		case !found && !now.Before(*s.RemoveAfter):
			if err := w.transition(ctx, domain.DomainTransition{Kind: domain.DomainRemove, At: now}, "the record stayed missing for the whole grace period"); err != nil {
				return true, err
			}
			s.Status = domain.DomainRemoved
			return true, nil
		}
		s.NextCheckAt = now.Add(w.t.RecheckInterval)
		if s.RemoveAfter != nil && s.RemoveAfter.After(now) {
			s.NextCheckAt = minTime(s.NextCheckAt, *s.RemoveAfter)
		}
	default:
		return true, nil
	}
	return false, nil
}

// check looks the record up. lookedUp is false when the resolver kept
// failing; gone is true when the domain was deleted.
func (w *domainVerification) check(ctx workflow.Context, now time.Time) (found, lookedUp, gone bool, err error) {
	var res activities.DomainCheck
	cctx := workflow.WithActivityOptions(ctx, checkOptions)
	err = workflow.ExecuteActivity(cctx, w.acts.CheckDomainRecord, activities.CheckDomainInput{DomainSid: w.in.DomainSid, At: now}).Get(ctx, &res)
	w.state.Checks++
	w.state.LastCheckedAt = &now
	if e, ok := activities.AsDomainError(err); ok && e.Code == domain.CodeDomainNotFound {
		w.state.Status = DomainDeleted
		w.log.Info("domain deleted; verification ends")
		return false, false, true, nil
	}
	if err != nil && temporal.IsCanceledError(err) {
		return false, false, false, err
	}
	if err != nil {
		w.log.Warn("domain record look-up failed", "Error", err)
		w.state.Found = false
		return false, false, false, nil
	}
	w.state.Found = res.Found
	return res.Found, true, false, nil
}

// transition records a change in the store (audit event, owner notice).
func (w *domainVerification) transition(ctx workflow.Context, t domain.DomainTransition, reason string) error {
	actx := workflow.WithActivityOptions(ctx, activityOptions)
	err := workflow.ExecuteActivity(actx, w.acts.TransitionDomain, activities.DomainTransitionInput{
		DomainSid: w.in.DomainSid, Transition: t, Reason: reason, Actor: domain.SystemActor,
	}).Get(ctx, nil)
	if e, ok := activities.AsDomainError(err); ok && e.Code == domain.CodeDomainNotFound {
		w.state.Status = DomainDeleted
		return errDomainGone
	}
	if err == nil && t.Kind == domain.DomainFail {
		w.state.Status = domain.DomainFailed
	}
	if err == nil {
		w.log.Info("domain "+t.Kind, "domain", w.in.DomainName)
	}
	return err
}

// errDomainGone: the domain was deleted while the workflow ran.
var errDomainGone = errors.New("the domain was deleted")

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
