package route53

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
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

func TestLimiterBurstThenRate(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	l := NewLimiter(5, 5, c)
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

func TestLimiterCancelledWaitReturnsToken(t *testing.T) {
	c := &cancelOnce{Clock: fakeclock.New(time.Unix(1000, 0))}
	l := NewLimiter(1, 1, c)
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
	if p1.limiter.Rate() != DefaultRatePerSecond || p1.limiter.Burst() != DefaultBurst {
		t.Errorf("default bucket = %v/s burst %v, want 5/s burst 5", p1.limiter.Rate(), p1.limiter.Burst())
	}
}

// Every attempt, retries included, spends a token: retrying throttled
// calls must not push the account further over its limit.
func TestProviderSpendsATokenPerAttempt(t *testing.T) {
	c := fakeclock.New(time.Unix(1000, 0))
	f := newFake(t)
	f.inject["List"] = []error{apiErr("Throttling"), apiErr("Throttling")}
	p, _ := testProvider(f, Options{Limiter: NewLimiter(5, 2, c)})
	if _, err := p.Records(context.Background(), "Z1", "a.example.com"); err != nil {
		t.Fatal(err)
	}
	// Three attempts against a burst of two: the third waits 200ms.
	if !slices.Equal(c.Sleeps(), []time.Duration{200 * time.Millisecond}) {
		t.Fatalf("limiter sleeps = %v, want [200ms]", c.Sleeps())
	}
	rs := dns.RecordSet{Name: "a.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.1"}}
	if _, err := p.Apply(context.Background(), dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{New: &rs}}}); err != nil {
		t.Fatal(err)
	}
	if len(c.Sleeps()) != 2 {
		t.Fatalf("limiter sleeps = %v, want the write to wait too", c.Sleeps())
	}
}
