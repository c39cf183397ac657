package route53

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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
	d := float64(p.opts.BaseDelay) * math.Pow(2, float64(n))
	if d > float64(p.opts.MaxDelay) {
		return p.opts.MaxDelay
	}
	return time.Duration(d)
}

// call runs op with the account's rate limit, retrying what retryable
// allows with full-jitter backoff until MaxAttempts or ctx ends. The last
// error is returned as is, for the caller to wrap.
func (p *Provider) call(ctx context.Context, kind retryKind, op func(context.Context) error) error {
	var err error
	for attempt := 0; attempt < p.opts.MaxAttempts; attempt++ {
		if attempt > 0 {
			delay := time.Duration(p.opts.Rand() * float64(p.backoff(attempt-1)))
			if serr := p.opts.Sleep(ctx, delay); serr != nil {
				return fmt.Errorf("%w (giving up after %d attempts: %w)", err, attempt, serr)
			}
		}
		if lerr := p.limiter.Wait(ctx); lerr != nil {
			if err != nil {
				return fmt.Errorf("%w (giving up after %d attempts: %w)", err, attempt, lerr)
			}
			return lerr
		}
		err = op(ctx)
		if err == nil || !retryable(err, kind) {
			return err
		}
	}
	return fmt.Errorf("%w (gave up after %d attempts)", err, p.opts.MaxAttempts)
}
