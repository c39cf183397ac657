package route53

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cutover/cutover/internal/retry"
)

// Backoff defaults. Route 53 asks clients to back off on throttling; with
// full jitter eight attempts spread over roughly half a minute at worst.
const (
	DefaultMaxAttempts = 8
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
)

// retryKind says whether an operation may be repeated after an ambiguous
// failure. A write that died on a 5xx or a broken connection may already
// have been applied; repeating it would turn our own success into a
// conflict, so only reads retry those.
type retryKind int

const (
	readCall retryKind = iota
	writeCall
)

// retryable reports whether err is worth another attempt.
func retryable(err error, kind retryKind) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "Throttling", "ThrottlingException", "RequestThrottled", "PriorRequestNotComplete":
			// Rejected before any effect: safe for writes too.
			return true
		}
	}
	if kind == writeCall {
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return true
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// backoff is the ceiling of the jittered delay before attempt n+1 (n from
// 0): base·2ⁿ, capped.
func (p *Provider) backoff(n int) time.Duration {
	return retry.Exponential(p.opts.BaseDelay, p.opts.MaxDelay)(n)
}

// call runs op with the account's rate limit, retrying what retryable
// allows with full-jitter backoff until MaxAttempts or ctx ends. The last
// error is returned as is, for the caller to wrap.
func (p *Provider) call(ctx context.Context, kind retryKind, op func(context.Context) error) error {
	return retry.Do(ctx, retry.Policy{MaxAttempts: p.opts.MaxAttempts, Backoff: p.backoff, Rand: p.opts.Rand, Sleep: p.opts.Sleep, Wait: p.limiter.Wait},
		op, func(err error) bool { return retryable(err, kind) })
}
