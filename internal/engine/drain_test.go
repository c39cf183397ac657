package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/drain"
	"github.com/cutover/cutover/internal/gate/drainspec"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// fakeDrain reports the old edge's rate falling by `step` per measurement
// from `start`; it is quiet at or under zero.
type fakeDrain struct {
	rate, step float64
	spec       drainspec.Spec
}

func (f *fakeDrain) Measure(context.Context, time.Time) gate.Measurement {
	defer func() { f.rate -= f.step }()
	if f.rate <= 0 {
		return gate.Measurement{Phase: gate.Successful, Detail: "quiet"}
	}
	return gate.Measurement{Phase: gate.Inconclusive, Value: f.rate, Detail: fmt.Sprintf("still draining: %g req/min > 0", f.rate)}
}

func (f *fakeDrain) Spec() drainspec.Spec { return f.spec }

// The real drain gate tells the engine its policy.
var _ drainPolicy = (*drain.Gate)(nil)

func drainSpec() runbook.Spec {
	s := weightedSpec()
	s.Gates = append(s.Gates, runbook.Gate{Name: "old-quiet", Interval: runbook.Duration(time.Minute), Kind: runbook.KindDrain, OnFailure: "rollback"})
	return s
}

func TestDrainWaitsWithVisibleReasonThenProceeds(t *testing.T) {
	w := newWorld(t, drainSpec())
	w.gates["errors"] = gate.Func(passing)
	d := &fakeDrain{rate: 50, step: 5}
	w.gates["old-quiet"] = d
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	evs, _ := w.store.Events(context.Background(), "api", 0)
	var waiting, done int
	for _, e := range evs {
		switch e.Type {
		case store.EventDrainWaiting:
			waiting++
			if !strings.Contains(e.Message, "still draining") {
				t.Fatalf("waiting event without the reason: %s", e.Message)
			}
		case store.EventDrainDone:
			done++
		}
	}
	// Once before done and once before the hold ends.
	if done != 2 || waiting < 5 {
		t.Fatalf("drain.done %d, drain.waiting %d", done, waiting)
	}
}

func TestNeverDrainingOldEdgeFollowsPolicy(t *testing.T) {
	for _, policy := range []string{drainspec.PolicyPause, drainspec.PolicyRollback} {
		t.Run(policy, func(t *testing.T) {
			w := newWorld(t, drainSpec())
			w.gates["errors"] = gate.Func(passing)
			// A population that overstays TTLs keeps hitting the old edge.
			w.gates["old-quiet"] = &fakeDrain{rate: 40, step: 0, spec: drainspec.Spec{Policy: policy, Timeout: runbook.Duration(time.Hour)}}
			run := w.run(t)
			want := map[string]store.RunState{drainspec.PolicyPause: store.StatePaused, drainspec.PolicyRollback: store.StateRolledBack}[policy]
			if run.State != want {
				t.Fatalf("state %s (%s), want %s", run.State, run.Reason, want)
			}
			if !strings.Contains(run.Reason, "has not drained after 1h0m0s") || !strings.Contains(run.Reason, "40 req/min") {
				t.Fatalf("reason %q", run.Reason)
			}
			// It never reached the hold.
			evs, _ := w.store.Events(context.Background(), "api", 0)
			for _, e := range evs {
				if strings.Contains(e.Message, "hold until") {
					t.Fatal("reached the hold although the old edge never drained")
				}
			}
		})
	}
}
