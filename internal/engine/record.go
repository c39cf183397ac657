package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/store"
)

// Record appends events to a run's log from outside an execution (the
// preflight checklist a run was created after), under the hostname's
// lease, leaving the run itself as it is.
func Record(ctx context.Context, s store.Store, name string, events ...store.Event) error {
	if len(events) == 0 {
		return nil
	}
	run, err := s.GetRun(ctx, name)
	if err != nil {
		return fmt.Errorf("recording events of run %s: %w", name, err)
	}
	lease, err := s.Acquire(ctx, run.Hostname, store.ProcessOwner(), 10*time.Second)
	if err != nil {
		return fmt.Errorf("recording events of run %s: %w", name, err)
	}
	defer func() { _ = s.Release(ctx, lease) }()
	if _, _, err := s.Commit(ctx, lease, run, events...); err != nil {
		return fmt.Errorf("recording events of run %s: %w", name, err)
	}
	return nil
}
