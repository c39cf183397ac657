package engine

import (
	"context"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Clock is the engine's source of time (see package clock).
type Clock = clock.Clock

// RealClock is the wall clock.
type RealClock = clock.Real

// FakeClock advances only when slept on: Sleep moves time forward at once.
// A single-threaded engine on a FakeClock runs days of waits in
// microseconds, deterministically.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
	// OnSleep, when set, is called after each Sleep with the new time; tests
	// use it to inject events at given moments.
	OnSleep func(now time.Time)
}

// NewFakeClock returns a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the fake time by d.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	now := c.now
	hook := c.OnSleep
	c.mu.Unlock()
	if hook != nil {
		hook(now)
	}
	return nil
}

// Advance moves the fake time by d without sleeping.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
