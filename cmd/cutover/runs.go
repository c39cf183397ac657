package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

// compiled is a plan read, resolved against the world and compiled.
type compiled struct {
	plan     *plan.Plan
	digest   string
	runbook  *runbook.Runbook
	from, to runbook.Target
}

// awsConfig loads the AWS configuration for region and an optional role.
func awsConfig(ctx context.Context, region, roleARN string) (aws.Config, error) {
	if region == "" {
		region = "us-east-1"
	}
	return awsconfig.Load(ctx, awsconfig.Options{Region: region, RoleARN: roleARN})
}

// zoneProvider returns the DNS provider for a plan's zone.
func zoneProvider(ctx context.Context, roleARN string) (dns.Provider, error) {
	cfg, err := awsConfig(ctx, "us-east-1", roleARN)
	if err != nil {
		return nil, fmt.Errorf("zone credentials: %w", err)
	}
	return route53.New(cfg, route53.Options{}), nil
}

// loadPlan reads and validates a plan file; problems are usage errors.
func loadPlan(path string) (*plan.Plan, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", usageError(fmt.Errorf("reading plan: %w", err))
	}
	p, err := plan.Parse(path, data)
	if err != nil {
		return nil, "", usageError(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:]), nil
}

// compilePlan reads the world the plan names and compiles its runbook.
func compilePlan(ctx context.Context, path string) (*compiled, dns.Provider, error) {
	p, digest, err := loadPlan(path)
	if err != nil {
		return nil, nil, err
	}
	spec, err := runbook.SpecFromPlan(p, build.Spec)
	if err != nil {
		return nil, nil, usageError(err)
	}
	res := edge.Resolver{Config: awsConfig}
	from, err := res.Target(ctx, p.From)
	if err != nil {
		return nil, nil, err
	}
	to, err := res.Target(ctx, p.To)
	if err != nil {
		return nil, nil, err
	}
	prov, err := zoneProvider(ctx, p.Zone.RoleARN)
	if err != nil {
		return nil, nil, err
	}
	recs, err := prov.Records(ctx, p.Zone.ID, p.Hostname)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s in zone %s: %w", p.Hostname, p.Zone.ID, err)
	}
	obs := runbook.Observed{Records: recs, From: from, To: to}
	if from.Kind == "cloudfront" || to.Kind == "cloudfront" {
		if err := observeCloudFront(ctx, p, &obs); err != nil {
			return nil, nil, err
		}
	}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		return nil, nil, err
	}
	rb.ZoneRoleARN = p.Zone.RoleARN
	rb.CDNRoleARN = cdnRole(p)
	for _, e := range []plan.Edge{p.From, p.To} {
		if e.Kind == plan.EdgeCloudFront && e.RoleARN != "" && e.RoleARN != rb.CDNRoleARN {
			if rb.DistributionRoles == nil {
				rb.DistributionRoles = map[string]string{}
			}
			rb.DistributionRoles[e.Value] = e.RoleARN
		}
	}
	return &compiled{plan: p, digest: digest, runbook: rb, from: from, to: to}, prov, nil
}

// cdnRole is the role that reaches the distributions of a plan.
// It is the new distribution's (the one a run changes most); the old
// one's, when it differs, goes in the runbook's DistributionRoles.
func cdnRole(p *plan.Plan) string {
	if p.To.Kind == plan.EdgeCloudFront {
		return p.To.RoleARN
	}
	if p.From.Kind == plan.EdgeCloudFront {
		return p.From.RoleARN
	}
	return ""
}

func cdnClient(ctx context.Context, roleARN string) (*cloudfront.Client, error) {
	cfg, err := awsConfig(ctx, "us-east-1", roleARN)
	if err != nil {
		return nil, fmt.Errorf("CloudFront credentials: %w", err)
	}
	return cloudfront.New(cfg, cloudfront.Options{}), nil
}

// observeCloudFront finds who holds the hostname as an alias and what the
// to distribution carries, so the compiler can explain the catch-22.
func observeCloudFront(ctx context.Context, p *plan.Plan, obs *runbook.Observed) error {
	cf, err := cdnClient(ctx, cdnRole(p))
	if err != nil {
		return err
	}
	host := p.Hostname
	for _, side := range []struct {
		t    runbook.Target
		role string
	}{{obs.To, p.To.RoleARN}, {obs.From, p.From.RoleARN}} {
		t := side.t
		if t.Kind != "cloudfront" {
			continue
		}
		reader := cf
		if side.role != "" && side.role != cdnRole(p) {
			if reader, err = cdnClient(ctx, side.role); err != nil {
				return err
			}
		}
		d, err := reader.Distribution(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("reading distribution %s: %w", t.ID, err)
		}
		if t == obs.To {
			obs.ToAliases = d.Aliases
			obs.ToAccount = arnAccount(d.ARN)
		}
		if d.HasAlias(host) && obs.Holder.Distribution == "" {
			obs.Holder = runbook.Holder{Distribution: d.ID, Account: arnAccount(d.ARN)}
		}
	}
	if obs.Holder.Distribution == "" && obs.To.Kind == "cloudfront" {
		// Ask CloudFront who else holds it; ids of other accounts come masked.
		conflicts, err := cf.Conflicts(ctx, obs.To.ID, host)
		if err == nil {
			for _, c := range conflicts {
				if strings.EqualFold(strings.TrimSuffix(c.Alias, "."), host) {
					obs.Holder = runbook.Holder{Distribution: c.DistributionID, Account: c.AccountID}
					break
				}
			}
		}
	}
	return nil
}

// planJSON is `cutover plan -o json`.
type planJSON struct {
	Runbook          *runbook.Runbook `json:"runbook"`
	From             runbook.Target   `json:"from"`
	To               runbook.Target   `json:"to"`
	PredictedSeconds float64          `json:"predicted_seconds"`
	RollbackSeconds  float64          `json:"worst_case_rollback_seconds"`
	Warnings         []string         `json:"warnings,omitempty"`
}

// assumedInSync is the propagation time plan output assumes per change
// (Route 53: "generally within 60 seconds").
const assumedInSync = 60 * time.Second

func printPlan(w io.Writer, c *compiled, output string) error {
	if output == "json" {
		total, rollback := c.runbook.Estimate(assumedInSync)
		out := planJSON{Runbook: c.runbook, From: c.from, To: c.to, PredictedSeconds: total.Seconds(), RollbackSeconds: rollback.Seconds()}
		for _, d := range c.plan.Warnings() {
			out.Warnings = append(out.Warnings, d.String())
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, d := range c.plan.Warnings() {
		fmt.Fprintf(w, "%s\n", d)
	}
	runbook.Render(w, c.runbook, c.from, c.to, assumedInSync)
	return nil
}

func openStore(path string) (store.Store, error) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening state %s: %w", path, err)
	}
	return s, nil
}

// confirm asks on the terminal; only "yes" proceeds.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "\n%s\n  Only 'yes' will be accepted: ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// engineFor builds the engine for a stored run: the zone's provider, its
// gates and a verifier when the runbook asks for one.
func engineFor(ctx context.Context, s store.Store, rb *runbook.Runbook, out io.Writer, extra func(*engine.Options)) (*engine.Engine, error) {
	prov, err := zoneProvider(ctx, rb.ZoneRoleARN)
	if err != nil {
		return nil, err
	}
	gates, err := build.Gates(rb, build.Deps{AWSConfig: func(region, roleARN string) (aws.Config, error) { return awsConfig(ctx, region, roleARN) }})
	if err != nil {
		return nil, usageError(err)
	}
	o := engine.Options{Store: s, Provider: prov, Clock: clock.Real{}, Gates: gates, OnEvent: progress(ctx, out)}
	if usesCDN(rb) {
		cf, err := cdnClient(ctx, rb.CDNRoleARN)
		if err != nil {
			return nil, err
		}
		o.CDN = cf
		if len(rb.DistributionRoles) > 0 {
			r := &cdnRouter{def: cf, by: map[string]*cloudfront.Client{}}
			for id, role := range rb.DistributionRoles {
				if r.by[id], err = cdnClient(ctx, role); err != nil {
					return nil, err
				}
			}
			o.CDN = r
		}
	}
	if extra != nil {
		extra(&o)
	}
	return engine.New(o), nil
}

// usesCDN reports whether a runbook has CloudFront steps.
func usesCDN(rb *runbook.Runbook) bool {
	for _, s := range rb.Steps {
		if s.Aliases != nil || s.Associate != nil || s.WatchAlias != nil || s.Deployed != nil {
			return true
		}
	}
	return false
}

// progress prints each committed event as one line and, while the run
// waits out a deadline, how long is left every countdownEvery.
func progress(ctx context.Context, w io.Writer) func(store.Event) {
	var mu sync.Mutex
	var until time.Time
	var what string
	go func() {
		t := time.NewTicker(countdownEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				mu.Lock()
				if left := until.Sub(now); left > 0 {
					fmt.Fprintf(w, "%s  ... %s: %s left (until %s)\n", now.Format("15:04:05"), what, left.Round(time.Second), until.Local().Format("15:04:05"))
				}
				mu.Unlock()
			}
		}
	}()
	return func(e store.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case "wait.started":
			var d struct {
				Until time.Time `json:"until"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				until, what = d.Until, fmt.Sprintf("step %d", e.Step+1)
			}
		case "wait.done", "run.paused", "rollback.started", "run.done", "run.rolled-back":
			until = time.Time{}
		}
		fmt.Fprintf(w, "%s  step %-3d %-18s %s\n", e.Time.Local().Format("15:04:05"), e.Step+1, e.Type, e.Message)
	}
}

// countdownEvery is how often a waiting run prints the time left.
var countdownEvery = 15 * time.Second

// runExit maps a run's final state to the exit code scripts rely on.
func runExit(r store.Run) error {
	switch r.State {
	case store.StateDone:
		return nil
	case store.StatePaused:
		return &exitError{code: exitPaused, err: fmt.Errorf("run %s paused: %s (continue with `cutover resume %s`, or `cutover rollback %s`)", r.Name, r.Reason, r.Name, r.Name)}
	case store.StateRolledBack:
		return &exitError{code: exitFailure, err: fmt.Errorf("run %s rolled back: %s", r.Name, r.Reason)}
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("run %s ended %s: %s", r.Name, r.State, r.Reason)}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// cdnRouter reaches each distribution with the credentials of its own
// account: a cross-account move changes both sides.
type cdnRouter struct {
	def *cloudfront.Client
	by  map[string]*cloudfront.Client
}

func (r *cdnRouter) client(id string) *cloudfront.Client {
	if c, ok := r.by[id]; ok {
		return c
	}
	return r.def
}

func (r *cdnRouter) Distribution(ctx context.Context, id string) (cloudfront.Distribution, error) {
	return r.client(id).Distribution(ctx, id)
}

func (r *cdnRouter) UpdateAliases(ctx context.Context, id string, add, remove []string) (cloudfront.Distribution, error) {
	return r.client(id).UpdateAliases(ctx, id, add, remove)
}

func (r *cdnRouter) AssociateAlias(ctx context.Context, targetID, alias string) error {
	return r.client(targetID).AssociateAlias(ctx, targetID, alias)
}

var _ engine.CDN = (*cdnRouter)(nil)

// arnAccount is the account field of an ARN ("" when absent).
func arnAccount(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) > 4 {
		return parts[4]
	}
	return ""
}
