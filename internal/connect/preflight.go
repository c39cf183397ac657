package connect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/preflight/awsread"
)

// CheckWorld returns the readers the preflight and decommission checks
// use: Route 53 with the zone's role, and the edge's services (ACM, ELBv2,
// CloudFront, CloudWatch) with edgeRole ("" for the caller's own
// credentials). Preflight passes the new edge's role, the decommission
// checks the old edge's.
func CheckWorld(ctx context.Context, zoneRole, edgeRole string) (preflight.World, error) {
	zcfg, err := Config(ctx, globalRegion, zoneRole)
	if err != nil {
		return preflight.World{}, fmt.Errorf("zone credentials: %w", err)
	}
	cf, err := CloudFront(ctx, edgeRole)
	if err != nil {
		return preflight.World{}, err
	}
	edgeCfg := func(ctx context.Context, region string) (aws.Config, error) { return Config(ctx, region, edgeRole) }
	r53 := awsread.NewRoute53(zcfg, route53.New(zcfg, route53.Options{}))
	return preflight.World{
		Certificates:  awsread.ACM{Config: edgeCfg},
		LoadBalancers: awsread.ELB{Config: edgeCfg},
		Distributions: cf,
		DistributionsFor: func(ctx context.Context, roleARN string) (preflight.Distributions, error) {
			return CloudFront(ctx, roleARN)
		},
		Zones:        r53,
		HealthChecks: r53,
		Metrics:      awsread.CloudWatch{Config: edgeCfg},
	}, nil
}
