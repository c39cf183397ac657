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
// use for plan p: Route 53 with the zone's identity (none for a zone on an
// RFC 2136 server: those checks then warn that they were skipped), and the
// edge's services (ACM, ELBv2, CloudFront, CloudWatch) with edgeRole (""
// for the caller's own credentials), each role assumed as the plan's
// identities say. Preflight passes the new edge's role, the decommission
// checks the old edge's.
func CheckWorld(ctx context.Context, p *plan.Plan, edgeRole string) (preflight.World, error) {
	access := observe.Access(p)
	creds := NewCredentials(access.Identities)
	cf, err := cloudFront(ctx, creds, edgeRole)
	if err != nil {
		return preflight.World{}, err
	}
	edgeCfg := func(ctx context.Context, region string) (aws.Config, error) {
		return creds.Config(ctx, region, edgeRole)
	}
	w := preflight.World{
		Certificates:  awsread.ACM{Config: edgeCfg},
		LoadBalancers: awsread.ELB{Config: edgeCfg},
		Distributions: cf,
		DistributionsFor: func(ctx context.Context, roleARN string) (preflight.Distributions, error) {
			return cloudFront(ctx, creds, roleARN)
		},
		Metrics: awsread.CloudWatch{Config: edgeCfg},
	}
	if access.ZoneServer == nil {
		zcfg, err := creds.Config(ctx, globalRegion, access.ZoneRoleARN)
		if err != nil {
			return preflight.World{}, fmt.Errorf("zone credentials: %w", err)
		}
		r53 := awsread.NewRoute53(zcfg, route53.New(zcfg, route53Options(access)))
		w.Zones, w.HealthChecks = r53, r53
	}
	return w, nil
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
	from, to, err := observe.Targets(ctx, d.p, ObserveDeps(observe.Access(d.p)))
	if err != nil {
		return store.Event{Type: store.EventDecommissionChecked, Message: "decommission checks not run: " + err.Error()}
	}
	w, err := CheckWorld(ctx, d.p, d.p.From.RoleARN)
	if err != nil {
		return store.Event{Type: store.EventDecommissionChecked, Message: "decommission checks not run: " + err.Error()}
	}
	rep := preflight.Decommission(ctx, preflight.Input{Plan: d.p, From: from, To: to}, w, d.o)
	return preflight.DecommissionEvent(rep)
}
