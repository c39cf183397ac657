package store

import (
	"context"
	"errors"
	"fmt"
)

// Update reads the run, lets fn change it and name the events to append, and
// commits both under lease. When the commit is refused as stale (an operator
// request or another write landed in between) it reads the run again and
// calls fn again, up to attempts times (at least once), so fn must be a pure
// function of the run it is given. fn may return an error to abandon the
// update; that error is returned unchanged.
func Update(ctx context.Context, s Store, lease Lease, name string, attempts int,
	fn func(r *Run) ([]Event, error)) (Run, []Event, error) {
	if attempts < 1 {
		attempts = 1
	}
	var lastErr error
	for i := 0; i < attempts; i++ {
		r, err := s.GetRun(ctx, name)
		if err != nil {
			return Run{}, nil, err
		}
		events, err := fn(&r)
		if err != nil {
			return Run{}, nil, err
		}
		saved, stored, err := s.Commit(ctx, lease, r, events...)
		if err == nil {
			return saved, stored, nil
		}
		if !errors.Is(err, ErrStale) {
			return Run{}, nil, err
		}
		lastErr = err
	}
	return Run{}, nil, fmt.Errorf("updating run %s after %d attempts: %w", name, attempts, lastErr)
}
