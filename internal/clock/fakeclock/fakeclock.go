// Package fakeclock is the one fake clock.Clock: time moves only when a
// test (or the code under test) says so. Sleep advances it at once, so a
// single-threaded engine runs days of waits in microseconds,
// deterministically; Advance and Set move it from outside, which is how the
// lab's lazily computed delays (PENDING→INSYNC, Deployed, ISSUED) are
// stepped through in tests.
package fakeclock

import (
	"context"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

var _ clock.Clock = (*Clock)(nil)

// Clock is a settable clock that advances only when slept on or told to.
// It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// OnSleep, when set, is called after each Sleep with the new time;
	// tests use it to inject events at given moments. Set it before the
	// clock is shared.
	OnSleep func(now time.Time)
}

// New returns a fake clock stopped at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the fake time by d (a non-positive d leaves it) and
// returns at once, or returns ctx's error without moving when ctx is done.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	now, hook := c.now, c.OnSleep
	c.mu.Unlock()
	if hook != nil {
		hook(now)
	}
	return nil
}

// Sleeps returns the durations Sleep was called with, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// Advance moves the fake time forward by d without sleeping.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the fake time to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
