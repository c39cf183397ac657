package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// stepRun is one run of no-wait steps.
type stepRun struct {
	Steps   int           // runbook steps executed
	Elapsed time.Duration // Run from call to return
	Commits int64
	Reads   int64
}

// PerStep is the mean time of one runbook step.
func (s stepRun) PerStep() time.Duration { return s.Elapsed / time.Duration(s.Steps) }

// stepSpec is a weighted move in n shifts with nothing to wait for: TTL 0,
// no pauses, no gates, no hold. Each shift compiles to a change, an insync
// and a zero-length TTL wait.
func stepSpec(n int) runbook.Spec {
	steps := make([]runbook.WeightStep, n)
	for i := range steps {
		steps[i] = runbook.WeightStep{Weight: int64(1 + i*98/max(1, n-1))}
	}
	return runbook.Spec{Name: "api", Hostname: host, Zone: zone, Strategy: "weighted", CutoverTTL: 0, Steps: steps}
}

func runSteps(ctx context.Context, b backend, n int) (stepRun, error) {
	w, err := newWorld(b, stepSpec(n))
	if err != nil {
		return stepRun{}, err
	}
	defer w.close()
	for _, s := range w.rb.Steps {
		if (s.Wait != nil && s.Wait.Duration != 0) || s.Observe != nil || s.Hold != nil || s.Verify != nil {
			return stepRun{}, fmt.Errorf("step %s (%s) is not a no-wait step", s.ID, s.Kind())
		}
	}
	e := w.engine(engine.Options{})
	start := time.Now()
	run, err := e.Run(ctx, "api")
	elapsed := time.Since(start)
	if err != nil {
		return stepRun{}, fmt.Errorf("%s run: %w", b.name, err)
	}
	if run.State != store.StateDone {
		return stepRun{}, fmt.Errorf("%s run ended %s (%s), want done", b.name, run.State, run.Reason)
	}
	return stepRun{Steps: len(w.rb.Steps), Elapsed: elapsed, Commits: w.store.commits.Load(), Reads: w.store.reads.Load()}, nil
}

// rawCommits measures n bare Commit calls on a run as large as the one
// runSteps executes (the stored runbook is most of a commit's bytes), each
// with one event: the floor under a step's cost.
//
// With stripRunbook the commits leave Run.Runbook empty, which the store
// contract allows (it keeps the stored runbook): the difference to a full
// commit is what re-checking the fixed runbook on every commit costs.
func rawCommits(ctx context.Context, b backend, steps, n int, stripRunbook bool) ([]time.Duration, error) {
	w, err := newWorld(b, stepSpec(steps))
	if err != nil {
		return nil, err
	}
	defer w.close()
	run, err := w.store.GetRun(ctx, "api")
	if err != nil {
		return nil, err
	}
	lease, err := w.store.Acquire(ctx, run.Hostname, engine.DefaultOwner(), time.Hour)
	if err != nil {
		return nil, err
	}
	out := make([]time.Duration, 0, n)
	for i := range n {
		run.Step = i
		if stripRunbook {
			run.Runbook = nil
		}
		start := time.Now()
		run, _, err = w.store.Commit(ctx, lease, run, store.Event{Type: store.EventWaitDone, Message: fmt.Sprintf("step %d: complete", i)})
		out = append(out, time.Since(start))
		if err != nil {
			return nil, fmt.Errorf("%s commit: %w", b.name, err)
		}
	}
	// An empty runbook must have kept the stored one, or the comparison
	// would be against a smaller record.
	if got, err := w.store.GetRun(ctx, "api"); err != nil || len(got.Runbook) == 0 {
		return nil, fmt.Errorf("%s: runbook lost after bare commits (%v)", b.name, err)
	}
	return out, nil
}
