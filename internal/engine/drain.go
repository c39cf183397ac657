package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/drainspec"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// drainPolicy is what a drain gate says about waiting: its policy and how
// long before it applies. *drain.Gate (internal/gate/drain) provides it.
type drainPolicy interface {
	Spec() drainspec.Spec
}

// execDrain waits until every drain gate reports the old edge quiet. Not
// draining is never a breach: the run waits with the gate's detail as the
// visible reason, and when a gate's timeout passes its policy decides —
// keep waiting, pause for a human, or roll back.
func (e *Engine) execDrain(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	key := e.timerKey(*run, s)
	started, ok := run.Timers[key]
	if !ok {
		started = e.o.Clock.Now()
		run.Timers[key] = started
		if err := e.commit(ctx, run, ev(store.EventDrainStarted, "step %s: waiting for the old edge to drain (%s)", s.ID, strings.Join(s.Drain.Gates, ", "))); err != nil {
			return err
		}
	}
	last := map[string]string{}
	overdue := map[string]bool{}
	for {
		now := e.o.Clock.Now()
		quiet := true
		for _, name := range s.Drain.Gates {
			g, ok := e.o.Gates[name]
			if !ok {
				return e.pause(ctx, run, store.EventGateMissing, "drain gate %s has no provider configured", name)
			}
			m := g.Measure(ctx, now)
			m.Gate, m.At = name, now
			if m.Phase == gate.Successful {
				continue
			}
			quiet = false
			if m.Detail != last[name] {
				last[name] = m.Detail
				data, _ := json.Marshal(m)
				if err := e.commit(ctx, run, evData(store.EventDrainWaiting, data, "step %s: %s: %s", s.ID, name, m.Detail)); err != nil {
					return err
				}
			}
			policy, timeout := drainspec.PolicyWait, time.Duration(0)
			if dp, ok := g.(drainPolicy); ok {
				spec := dp.Spec()
				policy, timeout = spec.Policy, spec.Timeout.D()
			}
			if timeout <= 0 || now.Sub(started) < timeout || overdue[name] {
				continue
			}
			overdue[name] = true
			reason := fmt.Sprintf("gate %s: the old edge has not drained after %s: %s", name, timeout, m.Detail)
			switch policy {
			case drainspec.PolicyPause:
				return e.pause(ctx, run, store.EventDrainTimeout, "%s", reason)
			case drainspec.PolicyRollback:
				if err := e.startRollback(ctx, rb, run, reason, false); err != nil {
					return err
				}
				return errPaused
			default:
				if err := e.commit(ctx, run, ev(store.EventDrainOverdue, "%s; still waiting (policy wait)", reason)); err != nil {
					return err
				}
			}
		}
		if quiet {
			delete(run.Timers, key)
			return e.advance(ctx, run, ev(store.EventDrainDone, "step %s: the old edge is quiet (%s)", s.ID, e.o.Clock.Now().Sub(started).Round(time.Second)))
		}
		interval := 30 * time.Second
		for _, name := range s.Drain.Gates {
			if spec, ok := gateSpec(rb, name); ok && spec.Interval.D() > 0 && spec.Interval.D() < interval {
				interval = spec.Interval.D()
			}
		}
		if err := e.sleepUntil(ctx, rb, run, e.o.Clock.Now().Add(interval), nil); err != nil {
			return err
		}
	}
}
