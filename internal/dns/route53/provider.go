package route53

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/ratelimit"
	"github.com/cutover/cutover/internal/retry"
)

// Options tune a Provider. The zero value is production-ready.
type Options struct {
	// MaxAttempts bounds tries per API call, the first included; default
	// DefaultMaxAttempts.
	MaxAttempts int
	// BaseDelay and MaxDelay shape the backoff ceiling base·2ⁿ ≤ max;
	// defaults DefaultBaseDelay and DefaultMaxDelay.
	BaseDelay, MaxDelay time.Duration

	// Account keys the shared rate limiter: providers with the same key
	// draw from one bucket. Use the account id (or the role ARN acting in
	// it); empty is a valid key of its own.
	Account string
	// RatePerSecond and Burst size the shared bucket when it is created;
	// defaults DefaultRatePerSecond and DefaultBurst.
	RatePerSecond float64
	Burst         int
	// Limiter, when set, replaces the shared per-account bucket.
	Limiter *ratelimit.Limiter

	// Sleep waits between attempts; it must return early with ctx's error.
	// Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a value in [0, 1) that scales each backoff (full
	// jitter). Default: math/rand/v2.
	Rand func() float64
}

// Provider implements dns.Provider and dns.InSyncChecker over Route 53.
type Provider struct {
	api     route53API
	opts    Options
	limiter *ratelimit.Limiter
}

var (
	_ dns.Provider      = (*Provider)(nil)
	_ dns.InSyncChecker = (*Provider)(nil)
)

// New returns a Provider using cfg's credentials and endpoint. The SDK's
// own retryer is disabled for this client: Provider retries throttling
// itself, under the shared rate limit, and a second retry loop underneath
// would multiply attempts and hide throttling from the limiter.
func New(cfg aws.Config, opts Options) *Provider {
	client := route53.NewFromConfig(cfg, func(o *route53.Options) {
		o.Retryer = aws.NopRetryer{}
		if o.Region == "" {
			// Route 53 is global and signs for us-east-1; an unset
			// region would otherwise fail endpoint resolution.
			o.Region = "us-east-1"
		}
	})
	return newProvider(client, opts)
}

func newProvider(api route53API, opts Options) *Provider {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = DefaultBaseDelay
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Sleep == nil {
		opts.Sleep = clock.Sleep
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	lim := opts.Limiter
	if lim == nil {
		lim = SharedLimiter(opts.Account, opts.RatePerSecond, opts.Burst)
	}
	return &Provider{api: api, opts: opts, limiter: lim}
}

// Wait spends one request of the provider's budget (shared by every
// provider of the account): a caller making a Route 53 call of its own
// with another client spends it first, so that the budget counts every
// call the account sees.
func (p *Provider) Wait(ctx context.Context) error { return p.limiter.Wait(ctx) }

// Records returns every record set at name in zone. Listing starts at name
// and follows pagination only while pages still hold name: Route 53 sorts
// by reversed labels, so all sets at one name are contiguous.
func (p *Provider) Records(ctx context.Context, zone, name string) ([]dns.RecordSet, error) {
	zoneID := bareID(zone)
	fq := dns.Fqdn(name)
	var out []dns.RecordSet
	err := p.listRecords(ctx, zoneID, aws.String(fq), func(r dns.RecordSet) bool {
		if r.Name != fq {
			return false
		}
		out = append(out, r)
		return true
	}, func(next string) bool { return dns.Fqdn(unescapeName(next)) == fq })
	if err != nil {
		return nil, fmt.Errorf("listing records at %s in zone %s: %w", fq, zoneID, err)
	}
	return out, nil
}

// Apply sends cs as one batch: per change, in order, DELETE Old exactly as
// read, then CREATE New. It returns the bare change id for InSync.
func (p *Provider) Apply(ctx context.Context, cs dns.ChangeSet) (string, error) {
	zoneID := bareID(cs.Zone)
	if len(cs.Changes) == 0 {
		return "", fmt.Errorf("applying batch to zone %s: %w", zoneID, ErrEmptyChangeSet)
	}
	batch := &types.ChangeBatch{}
	if cs.Comment != "" {
		batch.Comment = aws.String(cs.Comment)
	}
	for i, c := range cs.Changes {
		if c.Old == nil && c.New == nil {
			return "", fmt.Errorf("applying batch to zone %s: change %d: %w", zoneID, i, ErrEmptyChange)
		}
		if c.Old != nil {
			batch.Changes = append(batch.Changes, types.Change{Action: types.ChangeActionDelete, ResourceRecordSet: toSDK(*c.Old)})
		}
		if c.New != nil {
			batch.Changes = append(batch.Changes, types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: toSDK(*c.New)})
		}
	}
	in := &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: batch}
	var out *route53.ChangeResourceRecordSetsOutput
	err := p.call(ctx, retry.Write, func(ctx context.Context) error {
		var err error
		out, err = p.api.ChangeResourceRecordSets(ctx, in)
		return err
	})
	if err != nil {
		return "", p.applyError(ctx, zoneID, cs, err)
	}
	if out.ChangeInfo == nil {
		return "", nil
	}
	return bareID(aws.ToString(out.ChangeInfo.Id)), nil
}

// Route 53's wording for a batch that lost a race. The first two are a
// DELETE whose record is gone or differs; the last is a CREATE whose key
// (or a CNAME at the same name) is taken.
var (
	deleteConflictText = []string{"was not found", "values provided do not match"}
	createConflictText = []string{"already exists"}
)

// applyError turns a rejected batch into a *dns.ConflictError when Route 53
// says the zone no longer holds what the batch assumed, and into a plain
// wrapped error otherwise.
func (p *Provider) applyError(ctx context.Context, zoneID string, cs dns.ChangeSet, err error) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidChangeBatch" {
		return fmt.Errorf("applying batch to zone %s: %w", zoneID, err)
	}
	msgs := []string{apiErr.ErrorMessage()}
	var icb *types.InvalidChangeBatch
	if errors.As(err, &icb) {
		msgs = append(msgs, icb.Messages...)
	}
	text := strings.ToLower(strings.Join(msgs, "\n"))
	deleteLost, createLost := containsAny(text, deleteConflictText), containsAny(text, createConflictText)
	if !deleteLost && !createLost {
		return fmt.Errorf("applying batch to zone %s: %w", zoneID, err)
	}
	conflict := &dns.ConflictError{Zone: zoneID, Cause: err}
	var names []string
	seen := map[string]bool{}
	for _, c := range cs.Changes {
		if c.Old != nil && deleteLost {
			conflict.Expected = append(conflict.Expected, *c.Old)
		}
		if c.New != nil && createLost {
			conflict.Expected = append(conflict.Expected, *c.New)
		}
		for _, r := range []*dns.RecordSet{c.Old, c.New} {
			if r != nil && !seen[dns.Fqdn(r.Name)] {
				seen[dns.Fqdn(r.Name)] = true
				names = append(names, dns.Fqdn(r.Name))
			}
		}
	}
	for _, name := range names {
		rs, rerr := p.Records(ctx, zoneID, name)
		if rerr != nil {
			// The conflict stands; say the picture of "actual" is partial.
			conflict.Cause = errors.Join(err, fmt.Errorf("reading current records: %w", rerr))
			break
		}
		conflict.Actual = append(conflict.Actual, rs...)
	}
	return conflict
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// InSync reports whether the change Apply returned has reached every Route
// 53 name server.
func (p *Provider) InSync(ctx context.Context, changeID string) (bool, error) {
	id := bareID(changeID)
	var out *route53.GetChangeOutput
	err := p.call(ctx, retry.Read, func(ctx context.Context) error {
		var err error
		out, err = p.api.GetChange(ctx, &route53.GetChangeInput{Id: aws.String(id)})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("getting change %s: %w", id, err)
	}
	return out.ChangeInfo != nil && out.ChangeInfo.Status == types.ChangeStatusInsync, nil
}

// ZoneName returns the domain of zone as a lower-case FQDN, to check that a
// plan's hostname lies inside the zone it names.
func (p *Provider) ZoneName(ctx context.Context, zone string) (string, error) {
	info, err := p.ZoneInfo(ctx, zone)
	return info.Name, err
}

// ZoneInfo reads the zone's apex and its ResourceRecordSetCount with
// GetHostedZone.
func (p *Provider) ZoneInfo(ctx context.Context, zone string) (dns.ZoneInfo, error) {
	zoneID := bareID(zone)
	var out *route53.GetHostedZoneOutput
	err := p.call(ctx, retry.Read, func(ctx context.Context) error {
		var err error
		out, err = p.api.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zoneID)})
		return err
	})
	if err != nil {
		return dns.ZoneInfo{}, fmt.Errorf("getting zone %s: %w", zoneID, err)
	}
	if out.HostedZone == nil {
		return dns.ZoneInfo{}, fmt.Errorf("getting zone %s: empty answer", zoneID)
	}
	return dns.ZoneInfo{
		Name:       dns.Fqdn(unescapeName(aws.ToString(out.HostedZone.Name))),
		RecordSets: int(aws.ToInt64(out.HostedZone.ResourceRecordSetCount)),
	}, nil
}

var _ dns.ZoneDescriber = (*Provider)(nil)

// ErrEmptyChangeSet is returned by Apply for a change set with no changes;
// Route 53 requires at least one.
var ErrEmptyChangeSet = errors.New("change set has no changes")

// ErrEmptyChange is returned by Apply for a change with neither Old nor New.
var ErrEmptyChange = errors.New("change has neither old nor new record set")
