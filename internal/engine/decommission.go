package engine

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Decommissioner runs the decommission checklist when a run's hold ends
// (nothing still points at, alarms on or sends traffic to the old edge).
// It returns the event recording the checklist
// (store.EventDecommissionChecked); the checklist informs the teardown
// and never pauses the run.
type Decommissioner interface {
	Decommission(ctx context.Context, rb *runbook.Runbook) store.Event
}

// decommissionTimeout bounds the checklist, so a slow API cannot hold up
// the rest of the run.
const decommissionTimeout = time.Minute

// execHold waits out the hold, then records the decommission checklist.
// The event is committed after the hold's own, at the hold's step: a crash
// between the two loses the checklist, never a step.
func (e *Engine) execHold(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	if err := e.execWait(ctx, rb, run, s, s.Hold.Duration.D(), s.Hold.Gates, "hold"); err != nil {
		return err
	}
	if e.o.Decommission == nil || run.State != store.StateRunning {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, decommissionTimeout)
	defer cancel()
	ev := e.o.Decommission.Decommission(cctx, rb)
	ev.Type, ev.Step = store.EventDecommissionChecked, run.Step-1
	e.pending = append(e.pending, ev)
	return e.commit(ctx, run)
}
