package ratelimit

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
)

func TestBurstThenRate(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := New(5, 5, c)
	ctx := context.Background()
	for range 8 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	if got := c.Sleeps(); !slices.Equal(got, want) {
		t.Fatalf("sleeps = %v, want %v (a burst of 5, then 5/s)", got, want)
	}
	if l.Rate() != 5 || l.Burst() != 5 {
		t.Fatalf("rate %v burst %v", l.Rate(), l.Burst())
	}
}

// cancelOnce is a fake clock whose next Sleep fails as if its context ended
// while the caller was queued.
type cancelOnce struct {
	*fakeclock.Clock
	next bool
}

func (c *cancelOnce) Sleep(ctx context.Context, d time.Duration) error {
	if c.next {
		c.next = false
		return context.Canceled
	}
	return c.Clock.Sleep(ctx, d)
}

func TestCancelledWaitGivesTheTokenBack(t *testing.T) {
	c := &cancelOnce{Clock: fakeclock.New(time.Unix(1000, 0))}
	l := New(1, 1, c)
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.next = true
	if err := l.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// No debt left behind: the next waiter waits one interval, not two.
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Sleeps(); !slices.Equal(got, []time.Duration{time.Second}) {
		t.Fatalf("sleeps = %v, want [1s]", got)
	}
}

func TestDoneContextTakesNothing(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := New(1, 1, c)
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
	l := New(2, 2, c)
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
	l := New(1, 0, fakeclock.New(time.Unix(1000, 0)))
	if err := l.Wait(context.Background()); err == nil {
		t.Fatal("a zero bucket granted a token")
	}
}
