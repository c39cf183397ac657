package route53

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// fakeClock advances only when something sleeps on it.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func TestLimiterBurstThenRate(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	l := NewLimiter(5, 5, c.Now, c.Sleep)
	ctx := context.Background()
	for i := range 5 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if len(c.sleeps) != 0 {
			t.Fatalf("call %d slept %v inside the burst", i, c.sleeps)
		}
	}
	for range 3 {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	if !slices.Equal(c.sleeps, want) {
		t.Fatalf("sleeps = %v, want %v (5/s after the burst)", c.sleeps, want)
	}
	// A quiet second refills the bucket, but never beyond the burst.
	c.now = c.now.Add(10 * time.Second)
	c.sleeps = nil
	for range 6 {
		_ = l.Wait(ctx)
	}
	if !slices.Equal(c.sleeps, []time.Duration{200 * time.Millisecond}) {
		t.Fatalf("after idling: sleeps = %v, want one 200ms wait on the 6th call", c.sleeps)
	}
}

func TestLimiterCancelledWaitReturnsToken(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	cancelNext := false
	l := NewLimiter(1, 1, c.Now, func(ctx context.Context, d time.Duration) error {
		if cancelNext {
			cancelNext = false
			return context.Canceled // the caller gave up while queued
		}
		return c.Sleep(ctx, d)
	})
	_ = l.Wait(context.Background())
	cancelNext = true
	if err := l.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The cancelled waiter must not have left a debt behind: the next one
	// waits one interval, not two.
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.sleeps, []time.Duration{time.Second}) {
		t.Fatalf("sleeps = %v, want [1s]", c.sleeps)
	}
}

func TestSharedLimiterIsPerAccount(t *testing.T) {
	a1 := SharedLimiter("acct-limiter-test-1", 5, 5)
	a2 := SharedLimiter("acct-limiter-test-1", 100, 100)
	b := SharedLimiter("acct-limiter-test-2", 5, 5)
	if a1 != a2 {
		t.Error("same account got two buckets")
	}
	if a1 == b {
		t.Error("different accounts share a bucket")
	}
	p1 := newProvider(newFake(t), Options{Account: "acct-limiter-test-3"})
	p2 := newProvider(newFake(t), Options{Account: "acct-limiter-test-3"})
	if p1.limiter != p2.limiter {
		t.Error("providers for one account do not share a bucket")
	}
	if p1.limiter.rate != DefaultRatePerSecond || p1.limiter.burst != DefaultBurst {
		t.Errorf("default bucket = %v/s burst %v, want 5/s burst 5", p1.limiter.rate, p1.limiter.burst)
	}
}

// Every attempt, retries included, spends a token: retrying throttled
// calls must not push the account further over its limit.
func TestProviderSpendsATokenPerAttempt(t *testing.T) {
	c := &fakeClock{now: time.Unix(1000, 0)}
	f := newFake(t)
	f.inject["List"] = []error{apiErr("Throttling"), apiErr("Throttling")}
	p, _ := testProvider(f, Options{Limiter: NewLimiter(5, 2, c.Now, c.Sleep)})
	if _, err := p.Records(context.Background(), "Z1", "a.example.com"); err != nil {
		t.Fatal(err)
	}
	// Three attempts against a burst of two: the third waits 200ms.
	if !slices.Equal(c.sleeps, []time.Duration{200 * time.Millisecond}) {
		t.Fatalf("limiter sleeps = %v, want [200ms]", c.sleeps)
	}
	rs := dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	if _, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &rs}}}); err != nil {
		t.Fatal(err)
	}
	if len(c.sleeps) != 2 {
		t.Fatalf("limiter sleeps = %v, want the write to wait too", c.sleeps)
	}
}
