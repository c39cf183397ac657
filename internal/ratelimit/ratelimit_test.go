package ratelimit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
)

// cancelOnce is a fake clock whose next Sleep fails as if the caller gave
// up while queued.
type cancelOnce struct {
	*fakeclock.Clock
	next bool
}

func (c *cancelOnce) Sleep(ctx context.Context, d time.Duration) error {
	if c.next {
		c.next = false
		return context.Canceled // the caller gave up while queued
	}
	return c.Clock.Sleep(ctx, d)
}

func TestBurstThenRate(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := New(Budget{PerSecond: 5, Burst: 5}, c)
	ctx := context.Background()
	for i := range 5 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if len(c.Sleeps()) != 0 {
			t.Fatalf("call %d slept %v inside the burst", i, c.Sleeps())
		}
	}
	for range 3 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	if !slices.Equal(c.Sleeps(), want) {
		t.Fatalf("sleeps = %v, want %v (5/s after the burst)", c.Sleeps(), want)
	}
	// A quiet second refills the bucket, but never beyond the burst.
	c.Advance(10 * time.Second)
	before := len(c.Sleeps())
	for range 6 {
		_ = l.Wait(ctx)
	}
	if after := c.Sleeps()[before:]; !slices.Equal(after, []time.Duration{200 * time.Millisecond}) {
		t.Fatalf("after idling: sleeps = %v, want one 200ms wait on the 6th call", after)
	}
}

func TestCancelledWaitGivesTheTokenBack(t *testing.T) {
	c := &cancelOnce{Clock: fakeclock.New(time.Unix(1000, 0))}
	l := New(Budget{PerSecond: 1, Burst: 1}, c)
	_ = l.Wait(context.Background())
	c.next = true
	if err := l.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The cancelled waiter must not have left a debt behind: the next one
	// waits one interval, not two.
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Sleeps(), []time.Duration{time.Second}) {
		t.Fatalf("sleeps = %v, want [1s]", c.Sleeps())
	}
}

func TestDoneContextTakesNothing(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := New(Budget{PerSecond: 1, Burst: 1}, c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := l.Tokens(); got != 1 {
		t.Fatalf("tokens = %v, want the bucket still full", got)
	}
}

func TestAllowTakesNothingWhenRefused(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := New(Budget{PerSecond: 2, Burst: 2}, c)
	if !l.Allow() || !l.Allow() {
		t.Fatal("burst refused")
	}
	if l.Allow() {
		t.Fatal("empty bucket allowed a call")
	}
	if got := l.Tokens(); got != 0 {
		t.Fatalf("tokens = %v after a refusal, want 0", got)
	}
	c.Advance(500 * time.Millisecond)
	if !l.Allow() || l.Allow() {
		t.Fatal("half a second at 2/s is one token")
	}
}

func TestBurstZeroNeverWaitsForever(t *testing.T) {
	l := New(Budget{PerSecond: 1, Burst: 0}, fakeclock.New(time.Unix(1000, 0)))
	if err := l.Wait(context.Background()); err == nil {
		t.Fatal("a zero bucket granted a token")
	}
}

func TestBudgetOr(t *testing.T) {
	def := Budget{PerSecond: 5, Burst: 5}
	if got := (Budget{}).Or(def); got != def {
		t.Fatalf("zero budget: %+v", got)
	}
	if got := (Budget{PerSecond: -1, Burst: 7}).Or(def); got != (Budget{PerSecond: 5, Burst: 7}) {
		t.Fatalf("negative rate: %+v", got)
	}
	if got := (Budget{PerSecond: 0.5, Burst: -2}).Or(def); got != (Budget{PerSecond: 0.5, Burst: 5}) {
		t.Fatalf("negative burst: %+v", got)
	}
}
