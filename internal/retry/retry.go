// Package retry runs an AWS call again when the answer says it may: full
// jitter exponential backoff, an optional rate limiter before every
// attempt, a bounded number of attempts, and an injected sleep so tests
// run instantly. Retryable is the one classifier of what "may" means
// (throttling always, transient faults for reads only), shared by the
// Route 53 and CloudFront adapters.
package retry

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Policy says how to retry.
type Policy struct {
	// MaxAttempts bounds the attempts, the first included.
	MaxAttempts int
	// Backoff is the delay cap before retry n (0 for the first retry);
	// the delay is a uniform fraction of it (full jitter).
	Backoff func(n int) time.Duration
	// Rand returns a float in [0, 1).
	Rand func() float64
	// Sleep waits or returns ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
	// Wait, when set, runs before every attempt (a client-side rate limit).
	Wait func(ctx context.Context) error
}

// Exponential returns base·2ⁿ capped at max.
func Exponential(base, max time.Duration) func(int) time.Duration {
	return func(n int) time.Duration {
		d := float64(base) * math.Pow(2, float64(n))
		if d > float64(max) {
			return max
		}
		return time.Duration(d)
	}
}

// Do runs op until it succeeds, fails in a way retryable rejects, the
// attempts run out or ctx ends. The last error is returned as is (or
// annotated with why retrying stopped), for the caller to wrap.
func Do(ctx context.Context, p Policy, op func(context.Context) error, retryable func(error) bool) error {
	var err error
	for attempt := 0; attempt < p.MaxAttempts; attempt++ {
		if attempt > 0 {
			delay := time.Duration(p.Rand() * float64(p.Backoff(attempt-1)))
			if serr := p.Sleep(ctx, delay); serr != nil {
				return fmt.Errorf("%w (giving up after %d attempts: %w)", err, attempt, serr)
			}
		}
		if p.Wait != nil {
			if lerr := p.Wait(ctx); lerr != nil {
				if err != nil {
					return fmt.Errorf("%w (giving up after %d attempts: %w)", err, attempt, lerr)
				}
				return lerr
			}
		}
		err = op(ctx)
		if err == nil || !retryable(err) {
			return err
		}
	}
	return fmt.Errorf("%w (gave up after %d attempts)", err, p.MaxAttempts)
}
