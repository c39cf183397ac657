package split

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Point is one moment of the chart, in percent (0–100) of the hostname's
// traffic going to the new edge.
type Point struct {
	At          time.Time `json:"at"`
	IntendedNew float64   `json:"intended_new"`
	// ObservedNew is the share of the period starting at At. It is nil
	// when neither edge reported a request then, when the edges' metrics
	// cannot be read, and on the points that mark a change of the
	// intended split between period starts.
	ObservedNew *float64 `json:"observed_new"`
}

// Edge is an edge whose request count is read, with the role that reaches
// its metrics ("" for the caller's own credentials).
type Edge struct {
	runbook.Target
	RoleARN string
}

// Metrics reads how many requests an edge served.
type Metrics interface {
	// Requests returns the edge's request count in each period of
	// [start, end), keyed by the period's start in Unix seconds; a period
	// without requests may be absent. ErrNoMetrics means the edge publishes
	// none (a plain DNS endpoint).
	Requests(ctx context.Context, e Edge, start, end time.Time, period time.Duration) (map[int64]float64, error)
}

// ErrNoMetrics: the edge has no request metrics to read.
var ErrNoMetrics = errors.New("edge publishes no request metrics")

// Series returns the chart of run: one point at the start of every period
// from the run's first event to its last (to now while it is under way),
// and one at every change of the intended split, sorted by time.
// Intended values come from events (change.applied and change.reconciled
// weights, observations at a weight, the end of a rollback); observed ones
// from the request counts of rb.From and rb.To. When the metrics cannot be
// read the points still carry the intended split, and the error says why
// the observed one is missing.
func Series(ctx context.Context, run store.Run, rb *runbook.Runbook, events []store.Event, m Metrics, period time.Duration) ([]Point, error) {
	return series(ctx, run, rb, events, m, period, clock.Real{}.Now())
}

func series(ctx context.Context, run store.Run, rb *runbook.Runbook, events []store.Event, m Metrics, period time.Duration, now time.Time) ([]Point, error) {
	if period <= 0 {
		return nil, fmt.Errorf("split of run %s: period %s: want more than 0", run.Name, period)
	}
	start, end := span(run, events, now)
	steps := Intended(run, rb, events)
	var points []Point
	first := start.Truncate(period)
	for t := first; !t.After(end); t = t.Add(period) {
		points = append(points, Point{At: t.UTC(), IntendedNew: at(steps, t)})
	}
	for _, s := range steps[1:] { // steps[0] is the start, at 0 %
		if !s.At.Before(first) && !s.At.After(end) {
			points = append(points, Point{At: s.At.UTC(), IntendedNew: s.New})
		}
	}
	sort.SliceStable(points, func(i, j int) bool { return points[i].At.Before(points[j].At) })
	points = dedupe(points)
	err := observe(ctx, rb, m, points, first, end.Add(period).Truncate(period), period)
	if err != nil {
		err = fmt.Errorf("observed split of run %s: %w", run.Name, err)
	}
	return points, err
}

// Step is a change of the intended split: from At on, New percent of the
// traffic is meant for the new edge.
type Step struct {
	At  time.Time `json:"at"`
	New float64   `json:"new"`
}

// Intended returns the changes of the intended split, oldest first,
// starting from 0 % at the run's start.
func Intended(run store.Run, rb *runbook.Runbook, events []store.Event) []Step {
	start, _ := span(run, events, time.Time{})
	out := []Step{{At: start, New: 0}}
	set := func(at time.Time, v float64) {
		if last := out[len(out)-1]; last.New == v {
			return
		}
		out = append(out, Step{At: at, New: v})
	}
	var rollback []runbook.Step
	rollingBack := false
	for _, e := range events {
		switch e.Type {
		case store.EventChangeApplied, store.EventChangeReconciled, store.EventBulkApplied:
			var d struct {
				Weights *runbook.Weights `json:"weights"`
			}
			if json.Unmarshal(e.Data, &d) == nil && d.Weights != nil {
				set(e.Time, percentNew(*d.Weights))
			}
		case store.EventRollbackStarted:
			rollingBack = true
			rollback = rollbackSteps(run)
		case store.EventWaitStarted:
			steps := rb.Steps
			if rollingBack {
				steps = rollback
			}
			if e.Step >= 0 && e.Step < len(steps) {
				if o := steps[e.Step].Observe; o != nil && o.Weights != nil {
					set(e.Time, percentNew(*o.Weights))
				}
			}
		case store.EventRunRolledBack:
			set(e.Time, 0)
		}
	}
	return out
}

func percentNew(w runbook.Weights) float64 {
	if w.Old+w.New <= 0 {
		return 0
	}
	return 100 * float64(w.New) / float64(w.Old+w.New)
}

func rollbackSteps(run store.Run) []runbook.Step {
	var steps []runbook.Step
	if raw, ok := run.Data["rollback"]; ok {
		_ = json.Unmarshal(raw, &steps)
	}
	return steps
}

// span is the time the chart covers: the first event (or the run's
// creation) to the last event of a finished run, or now.
func span(run store.Run, events []store.Event, now time.Time) (start, end time.Time) {
	start, end = run.CreatedAt, run.UpdatedAt
	if len(events) > 0 {
		start = events[0].Time
		if last := events[len(events)-1].Time; last.After(end) {
			end = last
		}
	}
	if !run.State.Terminal() && now.After(end) {
		end = now
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

func at(steps []Step, t time.Time) float64 {
	v := 0.0
	for _, s := range steps {
		if s.At.After(t) {
			break
		}
		v = s.New
	}
	return v
}

// dedupe keeps the last of points sharing a time: the split once that
// moment's changes are applied.
func dedupe(points []Point) []Point {
	out := points[:0]
	for _, p := range points {
		if n := len(out); n > 0 && out[n-1].At.Equal(p.At) {
			out[n-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

// observe fills ObservedNew of every point from the edges' request counts
// in the period the point falls in.
func observe(ctx context.Context, rb *runbook.Runbook, m Metrics, points []Point, start, end time.Time, period time.Duration) error {
	if m == nil || rb.From == nil || rb.To == nil {
		return nil
	}
	old, err := m.Requests(ctx, edgeOf(rb, *rb.From), start, end, period)
	if errors.Is(err, ErrNoMetrics) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("requests of the old edge %s: %w", rb.From.ID, err)
	}
	nw, err := m.Requests(ctx, edgeOf(rb, *rb.To), start, end, period)
	if errors.Is(err, ErrNoMetrics) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("requests of the new edge %s: %w", rb.To.ID, err)
	}
	for i := range points {
		if !points[i].At.Equal(points[i].At.Truncate(period)) {
			continue // a change of the intended split; counts are per period
		}
		k := points[i].At.Unix()
		o, n := old[k], nw[k]
		if o+n > 0 {
			v := 100 * n / (o + n)
			points[i].ObservedNew = &v
		}
	}
	return nil
}

// edgeOf pairs an edge with the role that reaches it: a distribution's own
// role, the runbook's CloudFront role, or none.
func edgeOf(rb *runbook.Runbook, t runbook.Target) Edge {
	e := Edge{Target: t}
	if t.Kind == runbook.TargetCloudFront {
		e.RoleARN = rb.CDNRoleARN
		if r, ok := rb.DistributionRoles[t.ID]; ok {
			e.RoleARN = r
		}
	}
	return e
}

// Result is the value NewFunc's function returns.
type Result struct {
	Points        []Point `json:"points"`
	ObservedError string  `json:"observed_error,omitempty"`
}

// NewFunc returns what a server calls to chart a run: a Result, which
// encodes as {"points": [...]} (plus "observed_error" when the edges'
// metrics could not be read, the points then carrying the intended split
// only), at a period that keeps the chart within MaxPoints periods (one
// minute for shorter runs).
func NewFunc(m Metrics) func(ctx context.Context, run store.Run, rb *runbook.Runbook, events []store.Event) (any, error) {
	return func(ctx context.Context, run store.Run, rb *runbook.Runbook, events []store.Event) (any, error) {
		start, end := span(run, events, time.Now())
		points, err := Series(ctx, run, rb, events, m, PeriodFor(end.Sub(start)))
		if points == nil {
			points = []Point{}
		}
		res := Result{Points: points}
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			res.ObservedError = err.Error()
		}
		return res, nil
	}
}

// MaxPoints bounds the periods of a chart NewFunc draws.
const MaxPoints = 720

// PeriodFor returns the chart period for a run lasting d: one minute, or
// the whole number of minutes that keeps it within MaxPoints periods.
func PeriodFor(d time.Duration) time.Duration {
	minutes := int64(d/time.Minute)/MaxPoints + 1
	return time.Duration(minutes) * time.Minute
}
