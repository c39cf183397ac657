// Package connect builds, from AWS credentials, the adapters a run needs:
// the zone's DNS provider, a CloudFront client reaching each distribution
// with its own account's role, the runbook's gates, and what observe reads
// the world through. `cutover apply` and a long-running controller build
// their engines the same way, so neither holds this wiring itself.
//
// Credentials come from the standard chain (awsconfig): profiles, SSO,
// AWS_ENDPOINT_URL for the lab or moto, and a role per zone or edge.
package connect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/webhook"
)

// globalRegion is where the global services (Route 53, CloudFront) are
// signed for.
const globalRegion = "us-east-1"

// GateConfigError is a gate of the runbook that cannot be built from its
// settings: bad input, not a failure of AWS. Its message is the gate's own.
type GateConfigError struct{ Err error }

func (e *GateConfigError) Error() string { return e.Err.Error() }
func (e *GateConfigError) Unwrap() error { return e.Err }

// Config loads the AWS configuration for region (us-east-1 when empty),
// assuming roleARN when set.
func Config(ctx context.Context, region, roleARN string) (aws.Config, error) {
	if region == "" {
		region = globalRegion
	}
	return awsconfig.Load(ctx, awsconfig.Options{Region: region, RoleARN: roleARN})
}

// ZoneProvider returns the Route 53 provider reached with roleARN (the
// caller's own credentials when empty).
func ZoneProvider(ctx context.Context, roleARN string) (dns.Provider, error) {
	cfg, err := Config(ctx, globalRegion, roleARN)
	if err != nil {
		return nil, fmt.Errorf("zone credentials: %w", err)
	}
	return route53.New(cfg, route53.Options{}), nil
}

// CloudFront returns a CloudFront client reached with roleARN.
func CloudFront(ctx context.Context, roleARN string) (*cloudfront.Client, error) {
	cfg, err := Config(ctx, globalRegion, roleARN)
	if err != nil {
		return nil, fmt.Errorf("CloudFront credentials: %w", err)
	}
	return cloudfront.New(cfg, cloudfront.Options{}), nil
}

// ObserveDeps reach the world a plan names through the AWS APIs.
func ObserveDeps() observe.Deps {
	return observe.Deps{
		Edges: edge.Resolver{Config: Config},
		Zone:  ZoneProvider,
		CDN: func(ctx context.Context, roleARN string) (observe.Distributions, error) {
			return CloudFront(ctx, roleARN)
		},
	}
}

// EngineOptions returns the engine options a stored runbook needs: its
// zone's provider, its gates, the wall clock and, when a step calls
// CloudFront, a client that reaches every distribution with its own role.
// The caller adds the store, the verifier and the event subscriber. A gate
// that cannot be built is a *GateConfigError.
func EngineOptions(ctx context.Context, rb *runbook.Runbook) (engine.Options, error) {
	prov, err := ZoneProvider(ctx, rb.ZoneRoleARN)
	if err != nil {
		return engine.Options{}, err
	}
	gates, err := build.Gates(rb, build.Deps{AWSConfig: func(region, roleARN string) (aws.Config, error) { return Config(ctx, region, roleARN) }})
	if err != nil {
		return engine.Options{}, &GateConfigError{Err: err}
	}
	o := engine.Options{Provider: prov, Clock: clock.Real{}, Gates: gates}
	if len(rb.Webhooks) > 0 {
		o.Webhooks = &webhook.Client{}
	}
	if rb.UsesCDN() {
		if o.CDN, err = distributions(ctx, rb); err != nil {
			return engine.Options{}, err
		}
	}
	return o, nil
}

// distributions is the runbook's CloudFront client: the CDN role's, and
// the distributions of other accounts through their own roles.
func distributions(ctx context.Context, rb *runbook.Runbook) (engine.CDN, error) {
	cf, err := CloudFront(ctx, rb.CDNRoleARN)
	if err != nil {
		return nil, err
	}
	if len(rb.DistributionRoles) == 0 {
		return cf, nil
	}
	by := map[string]*cloudfront.Client{}
	for id, role := range rb.DistributionRoles {
		if by[id], err = CloudFront(ctx, role); err != nil {
			return nil, err
		}
	}
	return cloudfront.NewAccounts(cf, by), nil
}
