package cloudfront

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// swapAt moves www.example.com to the new distribution (as AWS Support
// would) the first time the watched clock passes at, and returns the
// moment the lab recorded the move.
func (w *world) swapAt(t *testing.T, at time.Time) func() time.Time {
	t.Helper()
	w.prove(t, "www.example.com", w.new())
	var moved time.Time
	w.clock.OnSleep = func(now time.Time) {
		if !moved.IsZero() || now.Before(at) {
			return
		}
		if _, err := w.raw.AssociateAlias(context.Background(), &cf.AssociateAliasInput{TargetDistributionId: aws.String(w.new()), Alias: aws.String("www.example.com")}); err != nil {
			t.Errorf("moving the alias: %v", err)
		}
		moved = now
	}
	return func() time.Time {
		for _, c := range w.history("AssociateAlias") {
			if c.Resource == w.seeded.Distributions["new"].ARN {
				return c.Time
			}
		}
		return time.Time{}
	}
}

func TestWatchAliasSeesTheSwapWithinOneInterval(t *testing.T) {
	w := newWorld(t, "", time.Minute)
	start := w.clock.Now()
	landed := w.swapAt(t, start.Add(90*time.Second))
	var progress []WatchProgress
	seen, err := w.client.WatchAlias(context.Background(), w.new(), "WWW.example.com", WatchOptions{
		Timeout: time.Hour, Progress: func(p WatchProgress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	at := landed()
	if at.IsZero() {
		t.Fatal("the lab recorded no move")
	}
	if lag := seen.Sub(at); lag < 0 || lag > DefaultWatchInterval {
		t.Fatalf("swap landed %s, seen %s: lag %s", at, seen, lag)
	}
	// Never above the budget: polls per second of watching.
	polls := progress[len(progress)-1].Polls
	if rate := float64(polls) / seen.Sub(start).Seconds(); rate > DefaultRequestsPerSecond {
		t.Fatalf("%d polls in %s: %.2f req/s", polls, seen.Sub(start), rate)
	}
	if polls < 300 {
		t.Fatalf("only %d polls in 90 s: the watch is slower than its interval", polls)
	}
}

func TestWatchAliasReturnsAtOnceWhenAlreadyThere(t *testing.T) {
	w := newWorld(t, "", -1)
	start := w.clock.Now()
	seen, err := w.client.WatchAlias(context.Background(), w.old(), "www.example.com", WatchOptions{Timeout: time.Minute})
	if err != nil || !seen.Equal(start) || w.cfRequests.Load() != 1 {
		t.Fatalf("seen %s (start %s), %d requests, err %v", seen, start, w.cfRequests.Load(), err)
	}
}

func TestWatchAliasTimesOut(t *testing.T) {
	w := newWorld(t, "", -1)
	start := w.clock.Now()
	_, err := w.client.WatchAlias(context.Background(), w.new(), "www.example.com", WatchOptions{Timeout: 30 * time.Second})
	if !errors.Is(err, ErrSwapTimeout) {
		t.Fatalf("want ErrSwapTimeout, got %v", err)
	}
	if took := w.clock.Now().Sub(start); took < 30*time.Second || took > 31*time.Second {
		t.Fatalf("timed out after %s", took)
	}
	if n := w.cfRequests.Load(); n > 30*DefaultRequestsPerSecond+DefaultBurst {
		t.Fatalf("%d requests in 30 s", n)
	}
}

func TestWatchAliasBacksOffOnThrottling(t *testing.T) {
	w := newWorld(t, "", -1)
	start := w.clock.Now()
	w.swapAt(t, start.Add(time.Minute))
	w.throttle.Store(5)
	var intervals []time.Duration
	var throttled int
	seen, err := w.client.WatchAlias(context.Background(), w.new(), "www.example.com", WatchOptions{
		Timeout: time.Hour, Progress: func(p WatchProgress) { intervals = append(intervals, p.Interval); throttled = p.Throttled }})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 4 * time.Second, 2 * time.Second, time.Second, 500 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
	for i, d := range want {
		if intervals[i] != d {
			t.Fatalf("interval %d = %s, want %s (all %v)", i, intervals[i], d, intervals[:len(want)])
		}
	}
	if throttled != 5 || seen.Sub(start) < time.Minute {
		t.Fatalf("throttled %d, seen after %s", throttled, seen.Sub(start))
	}
}

func TestWatchAliasStopsOnWhatRetryCannotFix(t *testing.T) {
	w := newWorld(t, "", -1)
	_, err := w.client.WatchAlias(context.Background(), "ENOSUCHDIST", "www.example.com", WatchOptions{Timeout: time.Hour})
	if errorCode(err) != "NoSuchDistribution" || w.cfRequests.Load() != 1 {
		t.Fatalf("after %d requests: %v", w.cfRequests.Load(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.clock.OnSleep = func(now time.Time) { cancel() }
	_, err = w.client.WatchAlias(ctx, w.new(), "www.example.com", WatchOptions{Timeout: time.Hour})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled watch: %v", err)
	}
}
