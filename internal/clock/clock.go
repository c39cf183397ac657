// Package clock is the one source of time every component takes by
// injection — the engine, the stores, the CloudFront and Route 53 adapters
// and their rate limits, the bridge's health cooldowns, the lab's emulated
// delays — so tests run hours of waits on a fake clock (package
// clock/fakeclock) in microseconds.
package clock

import (
	"context"
	"time"
)

// Clock reads the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx's error then.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx is done.
func (Real) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Sleep waits d on the wall clock, or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
