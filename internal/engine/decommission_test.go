package engine

import (
	"context"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// checklist records when it ran, on the engine's clock.
type checklist struct {
	at  []time.Time
	now func() time.Time
}

func (c *checklist) Decommission(_ context.Context, rb *runbook.Runbook) store.Event {
	c.at = append(c.at, c.now())
	return store.Event{Type: store.EventDecommissionChecked, Message: "decommission checks: 3 passed, 0 warned, 1 failed (0 waived); failing: old-alarms"}
}

// TestHoldEndRecordsDecommissionChecklist: the checklist runs once, when
// the 72h hold has passed, is recorded at the hold's step, and a failing
// item does not stop the run from finishing.
func TestHoldEndRecordsDecommissionChecklist(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(passing)
	c := &checklist{now: w.clock.Now}
	var holdStarted time.Time
	run, err := w.engine(func(o *Options) {
		o.Decommission = c
		o.OnEvent = func(e store.Event) {
			if e.Type == store.EventWaitStarted && w.rb.Steps[e.Step].Hold != nil {
				holdStarted = e.Time
			}
		}
	}).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	if len(c.at) != 1 || holdStarted.IsZero() || c.at[0].Sub(holdStarted) < 72*time.Hour {
		t.Fatalf("checklist ran at %v, hold started %v: want once, 72h after", c.at, holdStarted)
	}
	evs, _ := w.store.Events(context.Background(), "api", 0)
	found := false
	for _, e := range evs {
		if e.Type == store.EventDecommissionChecked {
			found = true
			if w.rb.Steps[e.Step].Hold == nil {
				t.Fatalf("checklist recorded at step %d (%s), not the hold", e.Step, w.rb.Steps[e.Step].Title)
			}
		}
	}
	if !found {
		t.Fatal("no decommission.checked event")
	}
}
