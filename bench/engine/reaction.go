package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// reaction is one rollback trial, every field measured on the monotonic
// clock.
type reaction struct {
	// Total is breach visible → rollback change set handed to the provider.
	Total time.Duration
	// Limit is breach visible → the next evaluation the gate's interval
	// schedules: the part no engine can avoid.
	Limit time.Duration
	// Own is Total − Limit: the engine's share.
	Own time.Duration
	// Wake is scheduled evaluation → the evaluation's clock reading: timer
	// lateness plus re-reading the run after the sleep.
	Wake time.Duration
	// Act is that evaluation → the rollback submitted: measuring, the
	// commits and compiling the rollback.
	Act time.Duration
	// Commits is how many commits the engine made from the breaching
	// evaluation to the submission.
	Commits int64
}

func reactionSpec(interval time.Duration) runbook.Spec {
	return runbook.Spec{
		Name: "api", Hostname: host, Zone: zone, Strategy: "weighted",
		CutoverTTL: 0,
		// One weighted step observed far longer than any trial: only the
		// gate can end it.
		Steps: []runbook.WeightStep{{Weight: 10, Pause: time.Hour}},
		Gates: []runbook.Gate{{Name: "errors", Interval: runbook.Duration(interval), For: 0, OnFailure: "rollback", Kind: "probe"}},
	}
}

// evaluation is one call of the gate by the engine.
type evaluation struct {
	now      time.Time // the engine's clock reading for this evaluation
	breached bool      // what the metric said
	commits  int64     // engine commits so far when it was read
}

// runReaction executes one trial: a weighted run observing with a gate of
// the given interval; a random moment after the observation starts, the
// metric the gate reads turns to breaching.
func runReaction(ctx context.Context, b backend, interval time.Duration, rng *rand.Rand) (reaction, error) {
	w, err := newWorld(b, reactionSpec(interval))
	if err != nil {
		return reaction{}, err
	}
	defer w.close()

	var (
		breaching  atomic.Bool
		mu         sync.Mutex
		evals      []evaluation
		breachAt   time.Time
		submitAt   time.Time
		submitCmts int64
		timer      *time.Timer
	)
	// The breach lands at a uniformly random phase of the gate's schedule,
	// at least half an interval after the first evaluation.
	offset := interval/2 + time.Duration(rng.Int64N(int64(interval)))
	g := gate.Func(func(_ context.Context, now time.Time) gate.Measurement {
		bad := breaching.Load()
		mu.Lock()
		if len(evals) == 0 {
			timer = time.AfterFunc(offset, func() {
				breaching.Store(true)
				t := time.Now()
				mu.Lock()
				breachAt = t
				mu.Unlock()
			})
		}
		evals = append(evals, evaluation{now: now, breached: bad, commits: w.store.commits.Load()})
		mu.Unlock()
		if bad {
			return gate.Measurement{Phase: gate.Failed, Value: 7.5, Detail: "5xx rate 7.5% > 1%"}
		}
		return gate.Measurement{Phase: gate.Successful, Value: 0}
	})
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "roll back") {
			t := time.Now()
			mu.Lock()
			if submitAt.IsZero() {
				submitAt, submitCmts = t, w.store.commits.Load()
			}
			mu.Unlock()
		}
		return nil
	}
	e := w.engine(engine.Options{Gates: map[string]gate.Gate{"errors": g}})
	ctx, cancel := context.WithTimeout(ctx, 2*offset+10*interval+30*time.Second)
	defer cancel()
	run, err := e.Run(ctx, "api")
	mu.Lock()
	defer mu.Unlock()
	if timer != nil {
		timer.Stop()
	}
	if err != nil {
		return reaction{}, fmt.Errorf("%s run: %w", b.name, err)
	}
	if run.State != store.StateRolledBack {
		return reaction{}, fmt.Errorf("%s run ended %s (%s), want rolled-back", b.name, run.State, run.Reason)
	}
	return analyse(interval, evals, breachAt, submitAt, submitCmts)
}

// analyse splits one trial's reaction into the schedule's part and the
// engine's.
func analyse(interval time.Duration, evals []evaluation, breachAt, submitAt time.Time, submitCommits int64) (reaction, error) {
	if breachAt.IsZero() || submitAt.IsZero() {
		return reaction{}, errors.New("trial ended without a breach and a rollback")
	}
	first := -1
	for i, ev := range evals {
		if ev.breached {
			first = i
			break
		}
	}
	if first < 1 {
		return reaction{}, fmt.Errorf("no evaluation before the one that saw the breach (%d evaluations)", len(evals))
	}
	// The evaluation that saw the breach was scheduled one interval after
	// the previous one's clock reading (engine.evaluate: nextDue = now +
	// interval).
	scheduled := evals[first-1].now.Add(interval)
	seen := evals[first].now
	r := reaction{
		Total:   submitAt.Sub(breachAt),
		Wake:    seen.Sub(scheduled),
		Act:     submitAt.Sub(seen),
		Commits: submitCommits - evals[first].commits,
	}
	// A breach that lands between an evaluation's clock reading and its
	// read of the metric is seen at once: nothing to wait for.
	r.Limit = max(0, scheduled.Sub(breachAt))
	r.Own = r.Total - r.Limit
	return r, nil
}

// shiftReaction is one trial of a breach that starts the moment a shift is
// applied, the likeliest moment for a bad new edge to show.
type shiftReaction struct {
	// Total is breach visible → rollback submitted.
	Total time.Duration
	// FirstEval is breach → the first gate evaluation after it.
	FirstEval time.Duration
}

// shiftSpec is reactionSpec with a cutover TTL: after the shift the run
// waits for INSYNC and then one TTL before it observes.
func shiftSpec(interval time.Duration, ttl int64) runbook.Spec {
	s := reactionSpec(interval)
	s.CutoverTTL = ttl
	return s
}

// runShiftReaction executes one trial in which the metric turns bad as soon
// as the first shift is applied; the provider reports the change INSYNC
// after insyncAfter checks (each one Poll apart) and the run then waits the
// TTL. A reaction bounded by the gate interval would not see either.
//
// poll is the engine's Poll; zero keeps the product's default.
func runShiftReaction(ctx context.Context, b backend, interval time.Duration, ttl int64, insyncAfter int, poll time.Duration) (shiftReaction, error) {
	w, err := newWorld(b, shiftSpec(interval, ttl))
	if err != nil {
		return shiftReaction{}, err
	}
	defer w.close()
	w.dns.InSyncAfter = insyncAfter

	var (
		breaching                     atomic.Bool
		mu                            sync.Mutex
		breachAt, firstEval, submitAt time.Time
	)
	g := gate.Func(func(context.Context, time.Time) gate.Measurement {
		t := time.Now()
		if breaching.Load() {
			mu.Lock()
			if firstEval.IsZero() {
				firstEval = t
			}
			mu.Unlock()
			return gate.Measurement{Phase: gate.Failed, Value: 7.5, Detail: "5xx rate 7.5% > 1%"}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "shift ") {
			breaching.Store(true)
			t := time.Now()
			mu.Lock()
			breachAt = t
			mu.Unlock()
		}
		return nil
	}
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "roll back") {
			t := time.Now()
			mu.Lock()
			if submitAt.IsZero() {
				submitAt = t
			}
			mu.Unlock()
		}
		return nil
	}
	e := w.engine(engine.Options{Gates: map[string]gate.Gate{"errors": g}, Poll: poll})
	ctx, cancel := context.WithTimeout(ctx, time.Duration(ttl)*time.Second+time.Duration(insyncAfter+2)*time.Minute)
	defer cancel()
	run, err := e.Run(ctx, "api")
	if err != nil {
		return shiftReaction{}, fmt.Errorf("%s run: %w", b.name, err)
	}
	if run.State != store.StateRolledBack {
		return shiftReaction{}, fmt.Errorf("%s run ended %s (%s), want rolled-back", b.name, run.State, run.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if breachAt.IsZero() || firstEval.IsZero() || submitAt.IsZero() {
		return shiftReaction{}, errors.New("trial ended without a breach, an evaluation and a rollback")
	}
	return shiftReaction{Total: submitAt.Sub(breachAt), FirstEval: firstEval.Sub(breachAt)}, nil
}
