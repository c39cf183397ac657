package engine

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Phases of an approval step, kept in Run.StepPhase.
const (
	phaseAwaiting = "awaiting-approval"
	phaseApproved = "approved"
)

// execApprove keeps the current split, gates watched, until an operator
// promotes the run. The deadline of a bounded approval is stored when the
// step starts, so a restart never extends it.
func (e *Engine) execApprove(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	a := s.Approve
	key := e.timerKey(*run, s)
	if run.StepPhase == "" {
		run.StepPhase = phaseAwaiting
		var until *time.Time
		if a.Timeout > 0 {
			d := e.o.Clock.Now().Add(a.Timeout.D())
			run.Timers[key] = d
			until = &d
		}
		data := mustJSON(map[string]any{"until": until, "timeout": a.Timeout.D().String(), "on_timeout": a.OnTimeout, "weights": a.Weights, "gates": a.Gates})
		msg := "step %s: waiting for approval: `cutover promote %s` continues, `cutover rollback %s` undoes"
		if err := e.commit(ctx, run, evData(store.EventApprovalWaiting, data, msg, s.ID, run.Name, run.Name)); err != nil {
			return err
		}
	}
	for {
		if run.StepPhase == phaseApproved {
			delete(run.Timers, key)
			return e.advance(ctx, run)
		}
		now := e.o.Clock.Now()
		deadline, bounded := run.Timers[key]
		if bounded && !now.Before(deadline) {
			return e.approvalTimedOut(ctx, rb, run, s, key)
		}
		next := now.Add(e.o.Poll)
		if bounded && deadline.Before(next) {
			next = deadline
		}
		if err := e.sleepUntil(ctx, rb, run, next, a.Gates); err != nil {
			return err
		}
	}
}

// approvalTimedOut applies on_timeout. A pause re-arms the step, so that
// a resume waits a full timeout again; a promote approves it.
func (e *Engine) approvalTimedOut(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step, key string) error {
	a := s.Approve
	delete(run.Timers, key)
	run.StepPhase = ""
	if a.OnTimeout == "pause" {
		return e.pause(ctx, run, store.EventApprovalTimeout, "step %s: not approved within %s; `cutover promote %s` approves, `cutover resume %s` waits again, `cutover rollback %s` undoes", s.ID, a.Timeout.D(), run.Name, run.Name, run.Name)
	}
	timeout := ev(store.EventApprovalTimeout, "step %s: not approved within %s; rolling back", s.ID, a.Timeout.D())
	timeout.Step = run.Step
	e.pending = append(e.pending, timeout)
	if err := e.startRollback(ctx, rb, run, "approval timed out after "+a.Timeout.D().String(), false); err != nil {
		return err
	}
	return errPaused
}

// current is the plan step the run stands at, when it runs (or is paused
// in) the plan's steps rather than its rollback.
func (e *Engine) current(rb *runbook.Runbook, run store.Run) (runbook.Step, bool) {
	if run.State != store.StateRunning && run.State != store.StatePaused {
		return runbook.Step{}, false
	}
	if _, rolling := run.Data[keyRollback]; rolling || run.Step >= len(rb.Steps) {
		return runbook.Step{}, false
	}
	return rb.Steps[run.Step], true
}

// skippable reports whether an operator may skip a step: waits only, never
// a change to DNS or CloudFront, whose effect the rest of the run relies on.
func skippable(s runbook.Step) bool {
	return s.Observe != nil || s.Hold != nil || s.Wait != nil || s.Approve != nil || s.Drain != nil || s.Verify != nil
}

// approve handles a promote on an approval step, also when a timeout
// paused it there.
func (e *Engine) approve(ctx context.Context, run *store.Run, s runbook.Step) error {
	run.State, run.Reason = store.StateRunning, ""
	run.StepPhase = phaseApproved
	return e.commit(ctx, run, ev(store.EventApprovalGranted, "step %s approved by operator", s.ID))
}

// skip handles `cutover promote --skip-current-step`: the waiting step is
// left behind, and a run a gate paused there runs again.
func (e *Engine) skip(ctx context.Context, run *store.Run, s runbook.Step) error {
	delete(run.Timers, e.timerKey(*run, s))
	run.State, run.Reason = store.StateRunning, ""
	e.resetGates()
	return e.advance(ctx, run, ev(store.EventStepSkipped, "step %s (%s: %s) skipped by operator", s.ID, s.Kind(), s.Title))
}

// resetGates forgets the breach, error and inconclusive streaks.
func (e *Engine) resetGates() {
	e.breachSince, e.errors, e.inconclusive = map[string]time.Time{}, map[string]int{}, map[string]int{}
}
