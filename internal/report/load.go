package report

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/split"
	"github.com/cutover/cutover/internal/store"
)

// Load reads the named run and its whole event log from s, charts its
// split with m (nil: intended split only) and builds its report. A run
// that does not exist is store.ErrNotFound. Metrics that cannot be read do
// not fail the report: its SplitNote says why the observed split is
// missing.
func Load(ctx context.Context, s store.Store, name string, m split.Metrics) (*Report, error) {
	run, err := s.GetRun(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("report of run %s: %w", name, err)
	}
	var rb runbook.Runbook
	if err := json.Unmarshal(run.Runbook, &rb); err != nil {
		return nil, fmt.Errorf("report of run %s: decoding runbook: %w", name, err)
	}
	events, err := s.Events(ctx, name, 0)
	if err != nil {
		return nil, fmt.Errorf("report of run %s: %w", name, err)
	}
	note := ""
	if m == nil {
		note = "observed split not read (metrics off)"
	}
	start, end := run.CreatedAt, run.UpdatedAt
	if len(events) > 0 {
		start = events[0].Time
	}
	if !run.State.Terminal() {
		end = time.Now()
	}
	points, err := split.Series(ctx, run, &rb, events, m, split.PeriodFor(end.Sub(start)))
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		note = err.Error()
	} else if m != nil && (rb.From == nil || rb.To == nil) {
		note = "observed split unknown: the runbook does not name its edges"
	}
	return Build(run, &rb, events, points, note)
}
