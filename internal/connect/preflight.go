package connect

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/preflight/awsread"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
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

// Decommissioner returns the engine's end-of-hold checklist for the plan
// a run was created from: it resolves the plan's edges and runs the
// decommission checks with the old edge's credentials.
func Decommissioner(p *plan.Plan, o preflight.Options) engine.Decommissioner {
	return decommissioner{p: p, o: o}
}

type decommissioner struct {
	p *plan.Plan
	o preflight.Options
}

func (d decommissioner) Decommission(ctx context.Context, _ *runbook.Runbook) store.Event {
	from, to, err := observe.Targets(ctx, d.p, ObserveDeps())
	if err != nil {
		return store.Event{Type: store.EventDecommissionChecked, Message: "decommission checks not run: " + err.Error()}
	}
	w, err := CheckWorld(ctx, d.p.Zone.RoleARN, d.p.From.RoleARN)
	if err != nil {
		return store.Event{Type: store.EventDecommissionChecked, Message: "decommission checks not run: " + err.Error()}
	}
	rep := preflight.Decommission(ctx, preflight.Input{Plan: d.p, From: from, To: to}, w, d.o)
	return preflight.DecommissionEvent(rep)
}
