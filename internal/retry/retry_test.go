package retry

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var errThrottled = errors.New("Throttling")

func TestDoRetriesWithCappedJitteredBackoff(t *testing.T) {
	var slept []time.Duration
	var waits int
	calls := 0
	err := Do(context.Background(), Policy{
		MaxAttempts: 5,
		Backoff:     Exponential(100*time.Millisecond, 250*time.Millisecond),
		Rand:        func() float64 { return 0.5 },
		Sleep:       func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		Wait:        func(context.Context) error { waits++; return nil },
	}, func(context.Context) error {
		calls++
		if calls < 4 {
			return errThrottled
		}
		return nil
	}, func(err error) bool { return errors.Is(err, errThrottled) })
	if err != nil || calls != 4 || waits != 4 {
		t.Fatalf("err %v, calls %d, waits %d", err, calls, waits)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 125 * time.Millisecond}
	for i := range want {
		if slept[i] != want[i] {
			t.Fatalf("slept %v, want %v", slept, want)
		}
	}
}

func TestDoStopsOnWhatRetryCannotFixAndWhenAttemptsRunOut(t *testing.T) {
	p := Policy{MaxAttempts: 3, Backoff: Exponential(time.Millisecond, time.Second), Rand: func() float64 { return 0 },
		Sleep: func(context.Context, time.Duration) error { return nil }}
	fatal := errors.New("InvalidChangeBatch")
	calls := 0
	err := Do(context.Background(), p, func(context.Context) error { calls++; return fatal }, func(err error) bool { return err == errThrottled })
	if !errors.Is(err, fatal) || calls != 1 {
		t.Fatalf("non-retryable: err %v after %d calls", err, calls)
	}
	calls = 0
	err = Do(context.Background(), p, func(context.Context) error { calls++; return errThrottled }, func(error) bool { return true })
	if !errors.Is(err, errThrottled) || calls != 3 || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("exhausted: err %v after %d calls", err, calls)
	}
}
