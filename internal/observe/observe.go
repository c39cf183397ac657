package observe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// EdgeResolver tells where an edge a plan names answers.
type EdgeResolver interface {
	Target(ctx context.Context, e plan.Edge) (edge.Target, error)
}

var _ EdgeResolver = edge.Resolver{}

// Distributions reads CloudFront distributions and the aliases that
// conflict with a hostname.
type Distributions interface {
	Distribution(ctx context.Context, id string) (cloudfront.Distribution, error)
	Conflicts(ctx context.Context, distID, alias string) ([]cloudfront.Conflict, error)
}

var _ Distributions = (*cloudfront.Client)(nil)

// Deps reach the world a plan names.
type Deps struct {
	// Edges resolves the plan's from and to edges.
	Edges EdgeResolver
	// Zone returns the DNS provider of the zone access names (Access: the
	// zone, its RFC 2136 server or its role and how that is assumed).
	Zone func(ctx context.Context, access *runbook.Runbook) (dns.Provider, error)
	// CDN returns a CloudFront reader with the credentials of roleARN;
	// needed only when an edge is CloudFront.
	CDN func(ctx context.Context, roleARN string) (Distributions, error)
}

// Observe reads the world p names: its edges, the records at its hostname
// and, when an edge is CloudFront, who holds the hostname as an alias and
// what the to distribution carries, so the compiler can explain the
// catch-22. For a bulk plan it reads each zone once, whole, and fills
// Observed.Hosts with the hostnames its selectors pick.
func Observe(ctx context.Context, p *plan.Plan, d Deps) (runbook.Observed, error) {
	from, err := d.Edges.Target(ctx, p.From)
	if err != nil {
		return runbook.Observed{}, err
	}
	to, err := d.Edges.Target(ctx, p.To)
	if err != nil {
		return runbook.Observed{}, err
	}
	prov, err := d.Zone(ctx, Access(p))
	if err != nil {
		return runbook.Observed{}, err
	}
	if p.IsBulk() {
		obs := runbook.Observed{From: targetOf(from), To: targetOf(to)}
		if obs.Hosts, obs.ZoneSizes, err = observeBulk(ctx, p, prov); err != nil {
			return runbook.Observed{}, err
		}
		if err := checkBulkCloudFront(ctx, p, d, &obs); err != nil {
			return runbook.Observed{}, err
		}
		return obs, nil
	}
	recs, err := prov.Records(ctx, p.Zone.Ref(), p.Hostname)
	if err != nil {
		return runbook.Observed{}, fmt.Errorf("reading %s in zone %s: %w", p.Hostname, p.Zone.Ref(), err)
	}
	obs := runbook.Observed{Records: recs, From: targetOf(from), To: targetOf(to)}
	if zd, ok := prov.(dns.ZoneDescriber); ok {
		if obs.Zone, err = zd.ZoneInfo(ctx, p.Zone.ID); err != nil {
			return runbook.Observed{}, fmt.Errorf("safety brake: %w", err)
		}
	}
	if obs.Zone.Name == "" && p.Zone.Name != "" {
		obs.Zone.Name = dns.Fqdn(p.Zone.Name)
	}
	if from.Kind == edge.KindCloudFront || to.Kind == edge.KindCloudFront {
		if err := observeCloudFront(ctx, p, d, &obs); err != nil {
			return runbook.Observed{}, err
		}
	}
	return obs, nil
}

// targetOf is the runbook's view of an edge target.
func targetOf(t edge.Target) runbook.Target {
	return runbook.Target{Kind: runbook.TargetKind(t.Kind), ID: t.ID, DNSName: t.DNSName, AliasZoneID: t.AliasZoneID, ARN: t.ARN}
}

// CDNRole is the role that reaches the distributions of a plan.
// It is the new distribution's (the one a run changes most); the old
// one's, when it differs, goes in the runbook's DistributionRoles.
func CDNRole(p *plan.Plan) string {
	if p.To.Kind == plan.EdgeCloudFront {
		return p.To.RoleARN
	}
	if p.From.Kind == plan.EdgeCloudFront {
		return p.From.RoleARN
	}
	return ""
}

func observeCloudFront(ctx context.Context, p *plan.Plan, d Deps, obs *runbook.Observed) error {
	cf, err := d.CDN(ctx, CDNRole(p))
	if err != nil {
		return err
	}
	host := p.Hostname
	for _, side := range []struct {
		t    runbook.Target
		role string
	}{{obs.To, p.To.RoleARN}, {obs.From, p.From.RoleARN}} {
		t := side.t
		if t.Kind != runbook.TargetCloudFront {
			continue
		}
		reader := cf
		if side.role != "" && side.role != CDNRole(p) {
			if reader, err = d.CDN(ctx, side.role); err != nil {
				return err
			}
		}
		dist, err := reader.Distribution(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("reading distribution %s: %w", t.ID, err)
		}
		if t == obs.To {
			obs.ToAliases = dist.Aliases
			obs.ToAccount = arnAccount(dist.ARN)
		}
		if dist.HasAlias(host) && obs.Holder.Distribution == "" {
			obs.Holder = runbook.Holder{Distribution: dist.ID, Account: arnAccount(dist.ARN)}
		}
	}
	if obs.Holder.Distribution == "" && obs.To.Kind == runbook.TargetCloudFront {
		// Ask CloudFront who else holds it; ids of other accounts come masked.
		conflicts, err := cf.Conflicts(ctx, obs.To.ID, host)
		if err != nil {
			return fmt.Errorf("finding who holds %s: %w", host, err)
		}
		for _, c := range conflicts {
			if strings.EqualFold(strings.TrimSuffix(c.Alias, "."), host) {
				obs.Holder = runbook.Holder{Distribution: c.DistributionID, Account: c.AccountID}
				break
			}
		}
	}
	return nil
}

// arnAccount is the account field of an ARN ("" when absent).
func arnAccount(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}

// Compiled is a plan resolved against the world and compiled.
type Compiled struct {
	Plan     *plan.Plan
	Runbook  *runbook.Runbook
	From, To runbook.Target
	// Brake is the safety brake's verdict on the runbook's changes.
	Brake runbook.BrakeCheck
}

// PlanError is a plan the compiler cannot turn into a spec: bad input,
// found before the world is read.
type PlanError struct{ Err error }

func (e *PlanError) Error() string { return e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// Compile observes the world p names and compiles its runbook, recording
// the roles a run needs to reach the zone and each distribution. An error
// in the plan itself is a *PlanError.
func Compile(ctx context.Context, p *plan.Plan, d Deps) (*Compiled, error) {
	spec, err := runbook.SpecFromPlan(p, build.Spec)
	if err != nil {
		return nil, &PlanError{Err: err}
	}
	obs, err := Observe(ctx, p, d)
	if err != nil {
		return nil, err
	}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		return nil, err
	}
	a := Access(p)
	rb.ZoneRoleARN, rb.ZoneServer, rb.CDNRoleARN = a.ZoneRoleARN, a.ZoneServer, a.CDNRoleARN
	rb.ZoneRateLimit = a.ZoneRateLimit
	rb.DistributionRoles, rb.Identities = a.DistributionRoles, a.Identities
	limits := runbook.Brake{MaxShare: p.Brake.MaxShare, MinRecordSets: p.Brake.MinRecordSets}
	brake := runbook.CheckBrake(rb, obs.Zone, limits)
	if rb.IsBulk() {
		brake = runbook.CheckBulkBrake(rb, obs.ZoneSizes, limits)
	}
	return &Compiled{Plan: p, Runbook: rb, From: obs.From, To: obs.To, Brake: brake}, nil
}

// Access is how a run reaches what p names, as a runbook holding only
// that: the zone, its RFC 2136 server or its role, the CloudFront roles,
// and how each role is assumed. Compile copies it into the runbook, so a
// resumed run reaches the world the same way; the TSIG secret stays where
// the plan says it is.
func Access(p *plan.Plan) *runbook.Runbook {
	a := &runbook.Runbook{Name: p.Name, Zone: p.Zone.Ref()}
	if p.Zone.Provider == plan.ProviderRFC2136 {
		a.ZoneServer = &runbook.ZoneServer{Server: p.Zone.Server, Nameservers: p.Zone.Nameservers}
		if t := p.Zone.TSIG; t != nil {
			a.ZoneServer.TSIG = &runbook.TSIGRef{Name: t.Name, Algorithm: t.Algorithm, SecretFile: t.SecretFile, SecretEnv: t.SecretEnv}
		}
	} else {
		a.ZoneRoleARN = p.Zone.RoleARN
		a.ZoneRateLimit = p.Zone.RateLimit
		addIdentity(a, p.Zone.Identity())
	}
	a.CDNRoleARN = CDNRole(p)
	for _, e := range []plan.Edge{p.From, p.To} {
		addIdentity(a, e.Identity)
		if e.Kind == plan.EdgeCloudFront && e.RoleARN != "" && e.RoleARN != a.CDNRoleARN {
			if a.DistributionRoles == nil {
				a.DistributionRoles = map[string]string{}
			}
			a.DistributionRoles[e.Value] = e.RoleARN
		}
	}
	return a
}

// addIdentity records how id's role is assumed, when that is more than
// the role alone.
func addIdentity(a *runbook.Runbook, id plan.Identity) {
	if id.RoleARN == "" || (len(id.RoleChain) == 0 && id.ExternalID == "" && id.SessionName == "") {
		return
	}
	if a.Identities == nil {
		a.Identities = map[string]runbook.Identity{}
	}
	a.Identities[id.RoleARN] = runbook.Identity{Chain: id.RoleChain, ExternalID: id.ExternalID, SessionName: id.SessionName}
}

// AssumedInSync is the propagation time a plan's estimate assumes per
// change (Route 53: "generally within 60 seconds").
const AssumedInSync = 60 * time.Second

// Report is a compiled plan as `cutover plan -o json` shows it.
type Report struct {
	Runbook          *runbook.Runbook `json:"runbook"`
	From             runbook.Target   `json:"from"`
	To               runbook.Target   `json:"to"`
	PredictedSeconds float64          `json:"predicted_seconds"`
	RollbackSeconds  float64          `json:"worst_case_rollback_seconds"`
	// Calls are the identities the run's calls use.
	Calls    []runbook.Call `json:"calls"`
	Warnings []string       `json:"warnings,omitempty"`
	// Brake says what the runbook touches and, when apply would refuse it
	// without --force, why.
	Brake runbook.BrakeCheck `json:"brake"`
}

// Report estimates the run's total and worst-case rollback times and
// collects the plan's warnings.
func (c *Compiled) Report() Report {
	total, rollback := c.Runbook.Estimate(AssumedInSync)
	r := Report{Runbook: c.Runbook, From: c.From, To: c.To, PredictedSeconds: total.Seconds(), RollbackSeconds: rollback.Seconds(), Calls: c.Runbook.Calls(), Brake: c.Brake}
	for _, d := range c.Plan.Warnings() {
		r.Warnings = append(r.Warnings, d.String())
	}
	return r
}

// Targets resolves the plan's from and to edges alone, for checks that
// need to know the edges but not the records (decommission, after the
// move, when the runbook would no longer compile from the zone).
func Targets(ctx context.Context, p *plan.Plan, d Deps) (from, to runbook.Target, err error) {
	f, err := d.Edges.Target(ctx, p.From)
	if err != nil {
		return from, to, err
	}
	t, err := d.Edges.Target(ctx, p.To)
	if err != nil {
		return from, to, err
	}
	return targetOf(f), targetOf(t), nil
}
