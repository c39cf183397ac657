package server

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// SplitPoint is one moment of a run's split: the share of traffic (percent)
// the run intends the new side to get, and the share observed from the
// edges' request metrics (nil when not known).
type SplitPoint struct {
	At          time.Time `json:"at"`
	IntendedNew float64   `json:"intended_new"`
	ObservedNew *float64  `json:"observed_new"`
}

// Split is the body of GET /api/v1/runs/{name}/split.
type Split struct {
	Points []SplitPoint `json:"points"`
}

// IntendedSplit is the default SplitFunc: a point at the run's start (all
// traffic on the old side) and one at every applied or reconciled change
// that carries weights and changes the split. It observes nothing, so ObservedNew stays nil.
func IntendedSplit(_ context.Context, run store.Run, _ *runbook.Runbook, events []store.Event) (any, error) {
	out := Split{Points: []SplitPoint{}}
	for _, e := range events {
		switch e.Type {
		case store.EventRunStarted:
			out.Points = append(out.Points, SplitPoint{At: e.Time, IntendedNew: 0})
		case store.EventChangeApplied, store.EventChangeReconciled, store.EventBulkApplied:
			var d struct {
				Weights *runbook.Weights `json:"weights"`
			}
			if json.Unmarshal(e.Data, &d) != nil || d.Weights == nil {
				continue
			}
			total := d.Weights.Old + d.Weights.New
			if total <= 0 {
				continue
			}
			v := float64(d.Weights.New) * 100 / float64(total)
			if n := len(out.Points); n > 0 && out.Points[n-1].IntendedNew == v {
				continue // the same split again (a collapse to a simple record)
			}
			out.Points = append(out.Points, SplitPoint{At: e.Time, IntendedNew: v})
		}
	}
	return out, nil
}
