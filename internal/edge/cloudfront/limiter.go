package cloudfront

import (
	"context"
	"sync"
	"time"
)

// CloudFront publishes no control-plane request rate, and its console, other
// tools and this one all draw from the same account. Five requests a second
// is a conservative budget that still lets a watch poll every 200 ms.
const (
	DefaultRequestsPerSecond = 5
	DefaultBurst             = 5
)

// Limiter is a token bucket on a Clock. Waiters reserve a token (the
// balance may go negative) and sleep until it would have refilled, so
// callers are served in arrival order and none can starve.
type Limiter struct {
	mu     sync.Mutex
	clock  Clock
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

// NewLimiter returns a full bucket refilling at rate tokens a second; nil
// clock means the wall clock.
func NewLimiter(rate float64, burst int, clock Clock) *Limiter {
	if rate <= 0 {
		rate = DefaultRequestsPerSecond
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if clock == nil {
		clock = RealClock{}
	}
	return &Limiter{clock: clock, rate: rate, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// Rate returns the bucket's refill rate in tokens a second.
func (l *Limiter) Rate() float64 { return l.rate }

// Wait blocks until a token is available or ctx ends; a cancelled wait
// gives its token back.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clock.Now()
	if elapsed := now.Sub(l.last).Seconds(); elapsed > 0 {
		l.tokens = min(l.burst, l.tokens+elapsed*l.rate)
		l.last = now
	}
	l.tokens--
	deficit := -l.tokens
	l.mu.Unlock()
	if deficit <= 0 {
		return nil
	}
	if err := l.clock.Sleep(ctx, time.Duration(deficit/l.rate*float64(time.Second))); err != nil {
		l.mu.Lock()
		l.tokens++
		l.mu.Unlock()
		return err
	}
	return nil
}

var (
	sharedOnce    sync.Once
	sharedLimiter *Limiter
)

// SharedLimiter is the process-wide budget every Client uses unless
// Options.Limiter says otherwise: the default rate on the wall clock.
func SharedLimiter() *Limiter {
	sharedOnce.Do(func() { sharedLimiter = NewLimiter(DefaultRequestsPerSecond, DefaultBurst, RealClock{}) })
	return sharedLimiter
}
