package cloudfront

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cutover/cutover/internal/retry"
)

// ErrSwapTimeout is returned by WatchAlias when the alias has not arrived
// by the deadline.
var ErrSwapTimeout = errors.New("alias did not arrive before the timeout")

// Watch defaults.
const (
	// DefaultWatchInterval is the watch's fastest poll. The budget
	// (Options.Limiter) caps the real rate whatever this says.
	DefaultWatchInterval = 250 * time.Millisecond
	// DefaultWatchMaxInterval caps the backoff under Throttling.
	DefaultWatchMaxInterval = 10 * time.Second
	// DefaultWatchFaults is how many transient faults in a row the watch
	// rides out before giving up.
	DefaultWatchFaults = 8
)

// WatchOptions tune WatchAlias.
type WatchOptions struct {
	// Interval is the pause between polls while all is well; default
	// DefaultWatchInterval.
	Interval time.Duration
	// MaxInterval caps the pause as Throttling doubles it; default
	// DefaultWatchMaxInterval.
	MaxInterval time.Duration
	// Timeout ends the watch with ErrSwapTimeout, measured on the Client's
	// clock; zero means only ctx ends it.
	Timeout time.Duration
	// MaxFaults is how many transient faults (5xx, lost connections) in a
	// row end the watch; default DefaultWatchFaults. Throttling is not a
	// fault: it only slows the watch down.
	MaxFaults int
	// Progress, when set, is called after every poll.
	Progress func(WatchProgress)
}

// WatchProgress describes the watch after one poll.
type WatchProgress struct {
	Polls     int           // GetDistribution calls made
	Throttled int           // of which CloudFront throttled
	Faults    int           // transient faults in a row
	Interval  time.Duration // pause before the next poll
	Elapsed   time.Duration
	Status    string // the distribution's status at the last good poll
	Err       error  // the last poll's error, if it failed
}

// WatchAlias polls targetID until alias is one of its alternate domain
// names and returns the moment (on the Client's clock) a poll first saw
// it. It polls every Interval, never faster than the Client's request
// budget allows, doubles the pause on Throttling up to MaxInterval and
// eases back as calls succeed. Errors that repeating cannot fix (no such
// distribution, access denied) end it at once.
func (c *Client) WatchAlias(ctx context.Context, targetID, alias string, o WatchOptions) (time.Time, error) {
	alias = normAlias(alias)
	if o.Interval <= 0 {
		o.Interval = DefaultWatchInterval
	}
	if o.MaxInterval < o.Interval {
		o.MaxInterval = max(DefaultWatchMaxInterval, o.Interval)
	}
	if o.MaxFaults <= 0 {
		o.MaxFaults = DefaultWatchFaults
	}
	clock := c.opts.Clock
	start := clock.Now()
	var deadline time.Time
	if o.Timeout > 0 {
		deadline = start.Add(o.Timeout)
	}
	p := WatchProgress{Interval: o.Interval}
	for {
		if !deadline.IsZero() && !clock.Now().Before(deadline) {
			return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %w (%s, %d polls)", targetID, alias, ErrSwapTimeout, o.Timeout, p.Polls)
		}
		if err := c.opts.Limiter.Wait(ctx); err != nil {
			return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %w", targetID, alias, err)
		}
		// One attempt per poll: the loop is the retry, so a throttled
		// poll slows the watch instead of hiding inside call's backoff.
		out, err := c.api.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(targetID)})
		seen := clock.Now()
		p.Polls++
		p.Err = err
		switch {
		case err == nil:
			p.Faults = 0
			d := fromSDK(out.Distribution, aws.ToString(out.ETag))
			p.Status = d.Status
			if d.HasAlias(alias) {
				p.Elapsed = seen.Sub(start)
				if o.Progress != nil {
					o.Progress(p)
				}
				return seen, nil
			}
			p.Interval = max(o.Interval, p.Interval/2)
		case ctx.Err() != nil:
			return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %w", targetID, alias, ctx.Err())
		case retry.Throttled(err):
			p.Throttled++
			p.Interval = min(o.MaxInterval, p.Interval*2)
		case retry.Transient(err):
			p.Faults++
			if p.Faults >= o.MaxFaults {
				return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %d faults in a row: %w", targetID, alias, p.Faults, err)
			}
			p.Interval = min(o.MaxInterval, p.Interval*2)
		default:
			return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %w", targetID, alias, translate(err))
		}
		p.Elapsed = seen.Sub(start)
		if o.Progress != nil {
			o.Progress(p)
		}
		pause := p.Interval
		if !deadline.IsZero() {
			pause = min(pause, deadline.Sub(clock.Now()))
		}
		if err := clock.Sleep(ctx, pause); err != nil {
			return time.Time{}, fmt.Errorf("watching distribution %s for alias %s: %w", targetID, alias, err)
		}
	}
}
