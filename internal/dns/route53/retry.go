package route53

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/retry"
)

// Backoff defaults. Route 53 asks clients to back off on throttling; with
// full jitter eight attempts spread over roughly half a minute at worst.
const (
	DefaultMaxAttempts = 8
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
)

// backoff is the ceiling of the jittered delay before attempt n+1 (n from
// 0): base·2ⁿ, capped.
func (p *Provider) backoff(n int) time.Duration {
	return retry.Exponential(p.opts.BaseDelay, p.opts.MaxDelay)(n)
}

// call runs op with the account's rate limit, retrying what retry.Retryable
// allows with full-jitter backoff until MaxAttempts or ctx ends. The last
// error is returned as is, for the caller to wrap.
func (p *Provider) call(ctx context.Context, kind retry.Call, op func(context.Context) error) error {
	return retry.Do(ctx, retry.Policy{MaxAttempts: p.opts.MaxAttempts, Backoff: p.backoff, Rand: p.opts.Rand, Sleep: p.opts.Sleep, Wait: p.limiter.Wait},
		op, func(err error) bool { return retry.Retryable(err, kind) })
}
