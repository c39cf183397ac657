package awsconfig

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// DefaultSessionName names assumed-role sessions when Options.SessionName is
// empty, so CloudTrail shows which tool acted.
const DefaultSessionName = "cutover"

// Options selects the identity cutover acts as. The zero value means "the
// SDK's default chain, default region".
type Options struct {
	// Region overrides AWS_REGION / the profile's region. Route 53 and
	// CloudFront are global, but STS and ELB need a region.
	Region string
	// Profile selects a shared-config profile (like AWS_PROFILE).
	Profile string
	// RoleARNs are assumed in order, each with the credentials produced by
	// the previous hop (the first with the default chain).
	RoleARNs []string
	// RoleARN, when set, is assumed after RoleARNs: on its own it is the
	// common single-hop case.
	RoleARN string
	// ExternalID is sent with every AssumeRole call in the chain. A trust
	// policy that does not check sts:ExternalId ignores it, so sending it on
	// every hop is harmless and spares the caller naming which hop needs it.
	ExternalID string
	// SessionName names each assumed-role session; default DefaultSessionName.
	SessionName string
	// Duration of each assumed-role session; zero leaves the SDK default
	// (15 minutes, refreshed automatically before expiry).
	Duration time.Duration
}

// Chain returns the role ARNs Load assumes, in order.
func (o Options) Chain() []string {
	var out []string
	for _, arn := range o.RoleARNs {
		if arn = strings.TrimSpace(arn); arn != "" {
			out = append(out, arn)
		}
	}
	if arn := strings.TrimSpace(o.RoleARN); arn != "" {
		out = append(out, arn)
	}
	return out
}

// Load returns an aws.Config for o. Credentials are resolved lazily by the
// SDK, so a missing identity shows up on the first API call, not here;
// malformed role ARNs and unreadable profiles fail here.
func Load(ctx context.Context, o Options, extra ...func(*config.LoadOptions) error) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	opts = append(opts, extra...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("loading aws config: %w", err)
	}
	chain := o.Chain()
	for _, arn := range chain {
		if !strings.HasPrefix(arn, "arn:") || !strings.Contains(arn, ":role/") {
			return aws.Config{}, fmt.Errorf("assuming role %q: %w", arn, ErrInvalidRoleARN)
		}
	}
	if len(chain) > 0 && cfg.Region == "" {
		// STS needs a region to sign for; failing now beats an opaque
		// error on the first call of some unrelated service.
		return aws.Config{}, fmt.Errorf("assuming role %s: %w", chain[0], ErrNoRegion)
	}
	session := o.SessionName
	if session == "" {
		session = DefaultSessionName
	}
	for _, arn := range chain {
		// Each hop's STS client signs with the credentials of the hop
		// before it; the cache refreshes a hop only when it nears expiry.
		client := sts.NewFromConfig(cfg)
		provider := stscreds.NewAssumeRoleProvider(client, arn, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = session
			if o.ExternalID != "" {
				ao.ExternalID = aws.String(o.ExternalID)
			}
			if o.Duration > 0 {
				ao.Duration = o.Duration
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider, func(co *aws.CredentialsCacheOptions) {
			co.ExpiryWindow = RefreshBefore
		})
	}
	return cfg, nil
}

// RefreshBefore is how long before an assumed-role session expires its
// credentials cache assumes the role again, so that no call is signed
// with credentials about to lapse.
const RefreshBefore = 2 * time.Minute

// ErrInvalidRoleARN is returned for a role ARN that is not of the form
// arn:<partition>:iam::<account>:role/<name>.
var ErrInvalidRoleARN = errors.New("not an iam role arn")

// ErrNoRegion is returned when a role must be assumed but no region is
// configured anywhere.
var ErrNoRegion = errors.New("no aws region configured (set --region or AWS_REGION)")
