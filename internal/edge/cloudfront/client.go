package cloudfront

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/ratelimit"
	"github.com/cutover/cutover/internal/retry"
)

// Defaults for Options.
const (
	DefaultMaxAttempts = 5
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxDelay    = 10 * time.Second
	// DefaultDeployPoll is how often Abort polls a disabled staging
	// distribution before deleting it.
	DefaultDeployPoll = 20 * time.Second
)

// Options tune a Client. The zero value is production-ready.
type Options struct {
	// Clock measures every wait (deploy polls, backoff, the watch loop);
	// default the wall clock.
	Clock clock.Clock
	// MaxAttempts bounds tries of one call (Throttling, transient faults
	// on reads) and rounds of read-modify-write after a stale ETag; the
	// first try included. Default DefaultMaxAttempts.
	MaxAttempts int
	// Limiter is the request budget; default SharedLimiter().
	Limiter *ratelimit.Limiter
	// DeployPoll is Abort's poll while the staging distribution deploys
	// its disabling; default DefaultDeployPoll.
	DeployPoll time.Duration
	// Rand returns a value in [0, 1) that scales each backoff (full
	// jitter); default math/rand/v2.
	Rand func() float64
}

// Client drives CloudFront through the SDK.
type Client struct {
	api  api
	opts Options
}

// New returns a Client using cfg's credentials and endpoint. The SDK's own
// retryer is disabled: the Client retries Throttling itself, on its clock
// and under its budget, and a second loop underneath would multiply
// attempts and hide throttling from the watch's backoff.
func New(cfg aws.Config, opts Options) *Client {
	client := cf.NewFromConfig(cfg, func(o *cf.Options) {
		o.Retryer = aws.NopRetryer{}
		if o.Region == "" {
			// CloudFront is global and signs for us-east-1.
			o.Region = "us-east-1"
		}
	})
	return newClient(client, opts)
}

func newClient(a api, opts Options) *Client {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Limiter == nil {
		opts.Limiter = SharedLimiter()
	}
	if opts.DeployPoll <= 0 {
		opts.DeployPoll = DefaultDeployPoll
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	return &Client{api: a, opts: opts}
}

// Distribution is what cutover needs to know about a distribution; the
// type lives in the SDK-free package cdn.
type Distribution = cdn.Distribution

// Distribution statuses.
const (
	StatusDeployed   = cdn.StatusDeployed
	StatusInProgress = cdn.StatusInProgress
)

func fromSDK(d *types.Distribution, etag string) Distribution {
	if d == nil {
		return Distribution{ETag: etag}
	}
	out := Distribution{
		ID: aws.ToString(d.Id), ARN: aws.ToString(d.ARN), DomainName: aws.ToString(d.DomainName),
		Status: aws.ToString(d.Status), LastModified: aws.ToTime(d.LastModifiedTime), ETag: etag,
	}
	if c := d.DistributionConfig; c != nil {
		out.Enabled = aws.ToBool(c.Enabled)
		out.Staging = aws.ToBool(c.Staging)
		out.PolicyID = aws.ToString(c.ContinuousDeploymentPolicyId)
		if c.Aliases != nil {
			out.Aliases = slices.Clone(c.Aliases.Items)
		}
		if c.ViewerCertificate != nil {
			out.CertificateARN = aws.ToString(c.ViewerCertificate.ACMCertificateArn)
		}
	}
	return out
}

// normAlias is CloudFront's spelling of an alias: lower case, no trailing dot.
func normAlias(a string) string { return cdn.NormAlias(a) }

// Distribution reads a distribution and its current ETag.
func (c *Client) Distribution(ctx context.Context, id string) (Distribution, error) {
	d, err := c.get(ctx, id)
	if err != nil {
		return Distribution{}, fmt.Errorf("reading distribution %s: %w", id, err)
	}
	return d, nil
}

func (c *Client) get(ctx context.Context, id string) (Distribution, error) {
	var out *cf.GetDistributionOutput
	err := c.call(ctx, readCall, func(ctx context.Context) error {
		var err error
		out, err = c.api.GetDistribution(ctx, &cf.GetDistributionInput{Id: aws.String(id)})
		return err
	})
	if err != nil {
		return Distribution{}, err
	}
	return fromSDK(out.Distribution, aws.ToString(out.ETag)), nil
}

// WaitDeployed polls every poll (on the Client's clock) until the
// distribution reports Deployed, and returns it then.
func (c *Client) WaitDeployed(ctx context.Context, id string, poll time.Duration) (Distribution, error) {
	if poll <= 0 {
		poll = DefaultDeployPoll
	}
	for {
		d, err := c.get(ctx, id)
		if err != nil {
			return Distribution{}, fmt.Errorf("waiting for distribution %s to deploy: %w", id, err)
		}
		if d.Deployed() {
			return d, nil
		}
		if err := c.opts.Clock.Sleep(ctx, poll); err != nil {
			return Distribution{}, fmt.Errorf("waiting for distribution %s to deploy (still %s): %w", id, d.Status, err)
		}
	}
}

// readCall and writeCall say whether an operation may be repeated after an
// ambiguous failure (see retry.Call): a write that died on a 5xx or a
// broken connection may have been applied, so only reads retry those.
const (
	readCall  = retry.Read
	writeCall = retry.Write
)

// errorCode returns the AWS error code in err, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// backoff is the ceiling of the jittered delay before attempt n+1.
var backoff = retry.Exponential(DefaultBaseDelay, DefaultMaxDelay)

// call runs op under the budget, retrying what retry.Retryable allows with
// full-jitter backoff until MaxAttempts or ctx ends. The last error is
// returned for the caller to wrap.
func (c *Client) call(ctx context.Context, kind retry.Call, op func(context.Context) error) error {
	err := retry.Do(ctx, retry.Policy{MaxAttempts: c.opts.MaxAttempts, Backoff: backoff, Rand: c.opts.Rand, Sleep: c.opts.Clock.Sleep, Wait: c.opts.Limiter.Wait},
		op, func(err error) bool { return retry.Retryable(err, kind) })
	return translate(err)
}

// codedError is an API error that also matches one of package cdn's
// sentinels. Its message is the API error's own, unchanged.
type codedError struct {
	err      error
	sentinel error
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() []error { return []error{e.err, e.sentinel} }

// sentinelFor maps a CloudFront error code to the cdn sentinel it means,
// or nil.
func sentinelFor(code string) error {
	switch {
	case code == "DistributionAlreadyExists":
		return cdn.ErrCallerRefUsed
	case code == "StagingDistributionInUse":
		return cdn.ErrStagingInUse
	case code == "CNAMEAlreadyExists":
		return cdn.ErrAliasTaken
	case strings.HasPrefix(code, "NoSuch"):
		return cdn.ErrNotFound
	}
	return nil
}

// translate makes an API error that has a meaning in package cdn match
// that sentinel with errors.Is, so callers never read error codes.
func translate(err error) error {
	if err == nil {
		return nil
	}
	s := sentinelFor(errorCode(err))
	if s == nil || errors.Is(err, s) {
		return err
	}
	return &codedError{err: err, sentinel: s}
}

// isStale reports CloudFront's answer to an If-Match that no longer names
// the current version: someone (or a deploy of ours) changed it since.
func isStale(err error) bool { return errorCode(err) == "PreconditionFailed" }

// readModifyWrite runs rw (read, change, write with If-Match) until it
// succeeds or fails for another reason than a stale ETag, at most
// MaxAttempts times.
func (c *Client) readModifyWrite(ctx context.Context, rw func(ctx context.Context) error) error {
	var err error
	for round := 0; round < c.opts.MaxAttempts; round++ {
		if err = rw(ctx); err == nil || !isStale(err) {
			return err
		}
	}
	return fmt.Errorf("%w (the ETag went stale %d times in a row)", err, c.opts.MaxAttempts)
}
