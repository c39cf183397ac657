package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// verdict is what a measurement asks the engine to do.
type verdict int

const (
	keepGoing verdict = iota
	pauseRun
	rollBack
)

// judge acts on one measurement: a breach held for the gate's `for`
// follows on_failure, inconclusive measurements past the gate's limit and
// errors past the engine's pause the run. Inconclusive is never a pass. A
// dry-run gate records what it would have done instead.
func (e *Engine) judge(ctx context.Context, rb *runbook.Runbook, run *store.Run, spec runbook.Gate, m gate.Measurement, now time.Time) error {
	name := spec.Name
	act, typ, reason := keepGoing, store.EventType(""), ""
	switch m.Phase {
	case gate.Successful:
		delete(e.breachSince, name)
		e.errors[name], e.inconclusive[name] = 0, 0
	case gate.Failed:
		e.errors[name], e.inconclusive[name] = 0, 0
		since, ok := e.breachSince[name]
		if !ok {
			since = now
			e.breachSince[name] = now
		}
		if now.Sub(since) >= spec.For.D() {
			delete(e.breachSince, name)
			reason = fmt.Sprintf("gate %s breached for %s: %s (value %g)", name, now.Sub(since), m.Detail, m.Value)
			act, typ = rollBack, store.EventGateFailed
			if spec.OnFailure == "pause" {
				act = pauseRun
			}
		}
	case gate.Inconclusive:
		e.inconclusive[name]++
		if n := e.inconclusive[name]; n > spec.InconclusiveLimit {
			e.inconclusive[name] = 0
			reason = fmt.Sprintf("gate %s inconclusive %d time(s) in a row (limit %d): %s; no data is not a pass: resume to measure again, `cutover promote --skip-current-step %s` to go on without it, or `cutover rollback %s`", name, n, spec.InconclusiveLimit, m.Detail, run.Name, run.Name)
			act, typ = pauseRun, store.EventGateInconclusive
		}
	case gate.Error:
		e.errors[name]++
		if e.errors[name] >= e.o.ErrorLimit {
			reason = fmt.Sprintf("gate %s failed to measure %d times in a row: %s", name, e.errors[name], m.Detail)
			e.errors[name] = 0
			act, typ = pauseRun, store.EventGateError
		}
	}
	if act != keepGoing && spec.DryRun {
		would := map[verdict]string{pauseRun: "paused the run", rollBack: "rolled the run back"}[act]
		data, _ := json.Marshal(m)
		dry := evData(store.EventGateDryRun, data, "gate %s (dry run) would have %s: %s", name, would, reason)
		dry.Step = run.Step
		e.pending = append(e.pending, dry)
		act = keepGoing
	}
	switch act {
	case pauseRun:
		return e.pause(ctx, run, typ, "%s", reason)
	case rollBack:
		if err := e.startRollback(ctx, rb, run, reason, false); err != nil {
			return err
		}
		return errPaused
	}
	return e.commit(ctx, run)
}
