// Package ratelimit is the one token bucket: golang.org/x/time/rate driven
// by an injected clock.Clock, so the adapters' client-side budgets (Route 53
// per account, CloudFront per process) and the lab's emulated throttling
// all refill on the same time source a test can fake.
//
// Every decision is taken at the clock's Now, never the wall clock's:
// Wait reserves a token at Now and sleeps the delay on the clock, giving the
// token back when the wait is cancelled, so waiters are served in arrival
// order and a burst cannot starve anyone.
package ratelimit

import (
	"context"
	"errors"

	"golang.org/x/time/rate"

	"github.com/cutover/cutover/internal/clock"
)

// errBurstZero is Wait's error for a bucket that can never hold a token.
var errBurstZero = errors.New("rate limiter has a burst of zero: no token can ever be taken")

// Limiter is a token bucket on a clock. It is safe for concurrent use.
type Limiter struct {
	clock clock.Clock
	lim   *rate.Limiter
}

// Budget sizes a bucket: Burst tokens, refilled at PerSecond tokens a
// second.
type Budget struct {
	PerSecond float64
	Burst     int
}

// Or returns b with a non-positive PerSecond or Burst taken from def.
func (b Budget) Or(def Budget) Budget {
	if b.PerSecond <= 0 {
		b.PerSecond = def.PerSecond
	}
	if b.Burst <= 0 {
		b.Burst = def.Burst
	}
	return b
}

// New returns a full bucket of b.Burst tokens refilling at b.PerSecond on
// clk (the wall clock when nil).
func New(b Budget, clk clock.Clock) *Limiter {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Limiter{clock: clk, lim: rate.NewLimiter(rate.Limit(b.PerSecond), b.Burst)}
}

// Rate returns the refill rate in tokens a second.
func (l *Limiter) Rate() float64 { return float64(l.lim.Limit()) }

// Burst returns the bucket's size.
func (l *Limiter) Burst() int { return l.lim.Burst() }

// Wait takes a token, sleeping on the clock until it has refilled when the
// bucket is empty (the balance may go negative: later waiters queue behind).
// It returns ctx's error, giving the token back, when ctx ends first.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := l.clock.Now()
	r := l.lim.ReserveN(now, 1)
	if !r.OK() {
		return errBurstZero
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := l.clock.Sleep(ctx, d); err != nil {
		r.CancelAt(l.clock.Now())
		return err
	}
	return nil
}

// Allow takes a token if one is available now and reports whether it did;
// a refused call takes nothing.
func (l *Limiter) Allow() bool { return l.lim.AllowN(l.clock.Now(), 1) }

// Tokens returns how many tokens the bucket holds now.
func (l *Limiter) Tokens() float64 { return l.lim.TokensAt(l.clock.Now()) }
