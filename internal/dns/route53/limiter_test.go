package route53

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
)

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
