package route53

import (
	"context"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Route 53's legacy API limit is five requests a second per account,
// shared by every principal. Staying under it client-side keeps a run from
// starving the console or another tool of the same budget.
const (
	DefaultRatePerSecond = 5
	DefaultBurst         = 5
)

// Limiter is a token bucket. Waiters reserve a token (the balance may go
// negative) and sleep until it would have refilled, so callers are served
// in arrival order and a burst cannot starve anyone.
type Limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
}

// NewLimiter returns a full bucket refilling at rate tokens a second.
// now and sleep may be nil for the wall clock.
func NewLimiter(rate float64, burst int, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if rate <= 0 {
		rate = DefaultRatePerSecond
	}
	if burst <= 0 {
		burst = DefaultBurst
	}
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	return &Limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now, sleep: sleep}
}

// Wait blocks until a token is available or ctx ends. A cancelled wait
// returns its token.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
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
	wait := time.Duration(deficit / l.rate * float64(time.Second))
	if err := l.sleep(ctx, wait); err != nil {
		l.mu.Lock()
		l.tokens++
		l.mu.Unlock()
		return err
	}
	return nil
}

// shared holds one limiter per account key so every provider acting in an
// account draws from the same budget, as Route 53 counts it.
var shared = struct {
	sync.Mutex
	m map[string]*Limiter
}{m: map[string]*Limiter{}}

// SharedLimiter returns the process-wide limiter for account, creating it
// with rate and burst on first use; later calls get the same bucket whatever
// they pass.
func SharedLimiter(account string, rate float64, burst int) *Limiter {
	shared.Lock()
	defer shared.Unlock()
	if l, ok := shared.m[account]; ok {
		return l
	}
	l := NewLimiter(rate, burst, nil, nil)
	shared.m[account] = l
	return l
}

func sleepCtx(ctx context.Context, d time.Duration) error { return clock.Sleep(ctx, d) }
