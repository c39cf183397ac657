package maintenance

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Request is a maintenance to switch on.
type Request struct {
	// Name is the run's name; empty gives RunName(Host, "on", now).
	Name string
	// Host is the hostname, Zone its hosted zone id, ZoneRoleARN the role
	// that changes the zone ("" for the caller's credentials).
	Host, Zone, ZoneRoleARN string
	// Page is the edge that serves the maintenance page.
	Page plan.Edge
	// From, when set, is the edge the hostname must point at now.
	From plan.Edge
	// Mode is runbook.MaintenanceWeight (default) or MaintenanceFailover;
	// HealthCheck is the PRIMARY's Route 53 health check in failover mode.
	Mode, HealthCheck string
	// InvertHealthCheck inverts HealthCheck once the failover pair is
	// live, so the page answers at once; off puts it back.
	InvertHealthCheck bool
	// CutoverTTL is the TTL of the page's CNAME in failover mode (default
	// 30).
	CutoverTTL int64
	// AliasTTL is the TTL resolvers get for alias records (default 60, as
	// AWS answers; the lab answers 1).
	AliasTTL int64
	// Verify, when set, adds a verification that the page answers (and,
	// when switching off, that the live edge answers again).
	Verify *runbook.Verify
}

// Deps reach the world: the page's edge and the zone.
type Deps struct {
	Edges observe.EdgeResolver
	Zone  dns.Provider
}

var healthCheckRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ErrBadRequest marks a request that is wrong before anything is read.
var ErrBadRequest = errors.New("bad maintenance request")

// Validate checks a request before anything is read.
func (r Request) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadRequest, fmt.Sprintf(format, args...))
	}
	switch {
	case r.Host == "" || !strings.Contains(strings.TrimSuffix(r.Host, "."), "."):
		return bad("host %q must be a fully qualified name", r.Host)
	case r.Zone == "":
		return bad("the hosted zone id is required")
	case r.Page.IsZero() || r.Page.Value == "":
		return bad("the page edge is required (cloudfront:ID, alb:DNS-NAME-OR-ARN or endpoint:DNS-NAME)")
	case r.Mode != "" && r.Mode != runbook.MaintenanceWeight && r.Mode != runbook.MaintenanceFailover:
		return bad("mode %q: want weight or failover", r.Mode)
	case r.Mode == runbook.MaintenanceFailover && r.HealthCheck == "":
		return bad("mode failover needs the health check of the live record (the PRIMARY); the page answers while it fails")
	case r.Mode != runbook.MaintenanceFailover && r.InvertHealthCheck:
		return bad("inverting the health check goes with mode failover")
	case r.Mode != runbook.MaintenanceFailover && r.HealthCheck != "":
		return bad("a health check is used only by mode failover")
	case r.HealthCheck != "" && !healthCheckRE.MatchString(r.HealthCheck):
		return bad("health check %q is not a Route 53 health check id (a UUID)", r.HealthCheck)
	case !r.From.IsZero() && r.From.Kind == r.Page.Kind && r.From.Value == r.Page.Value:
		return bad("the page is the edge serving the hostname now")
	case r.Page.Kind == plan.EdgeCloudFront && r.From.Kind == plan.EdgeCloudFront:
		return bad("a CloudFront page cannot stand in front of a hostname a CloudFront distribution serves: the alternate domain name lives on one distribution only")
	}
	return nil
}

// RunName is the default name of a maintenance run: maint-<side>-<host
// with dashes>-<UTC time>, at most 63 characters.
func RunName(host, side string, now time.Time) string {
	slug := strings.NewReplacer(".", "-", "*", "x", "_", "-").Replace(strings.ToLower(strings.TrimSuffix(host, ".")))
	stamp := now.UTC().Format("20060102t150405")
	prefix := "maint-" + side + "-"
	if room := 63 - len(prefix) - len(stamp) - 1; len(slug) > room {
		slug = strings.TrimRight(slug[:room], "-")
	}
	return prefix + slug + "-" + stamp
}

// On compiles the run that puts the page in front of r.Host, from the
// records the zone serves now. It changes nothing.
func On(ctx context.Context, r Request, d Deps, now time.Time) (*runbook.Runbook, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	host := dns.Fqdn(r.Host)
	name := r.Name
	if name == "" {
		name = RunName(host, "on", now)
	}
	page, err := d.Edges.Target(ctx, r.Page)
	if err != nil {
		return nil, fmt.Errorf("resolving the page %s: %w", r.Page, err)
	}
	obs := runbook.Observed{To: runbook.Target{Kind: runbook.TargetKind(page.Kind), ID: page.ID, DNSName: page.DNSName, AliasZoneID: page.AliasZoneID}}
	if !r.From.IsZero() {
		from, err := d.Edges.Target(ctx, r.From)
		if err != nil {
			return nil, fmt.Errorf("resolving the live edge %s: %w", r.From, err)
		}
		obs.From = runbook.Target{Kind: runbook.TargetKind(from.Kind), ID: from.ID, DNSName: from.DNSName, AliasZoneID: from.AliasZoneID}
	}
	if obs.Records, err = d.Zone.Records(ctx, r.Zone, host); err != nil {
		return nil, fmt.Errorf("reading %s in zone %s: %w", host, r.Zone, err)
	}
	ttl := r.CutoverTTL
	if ttl == 0 {
		ttl = 30
	}
	spec := runbook.Spec{Name: name, Hostname: host, Zone: r.Zone, Strategy: string(plan.StrategyMaintenance), CutoverTTL: ttl,
		AliasTTL: r.AliasTTL, Maintenance: &runbook.MaintenanceSpec{Mode: r.Mode, HealthCheck: r.HealthCheck, Invert: r.InvertHealthCheck}, Verify: r.Verify}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		return nil, err
	}
	rb.ZoneRoleARN = r.ZoneRoleARN
	return rb, nil
}

// ErrNotOn is returned by Active when no maintenance is on for the host.
var ErrNotOn = errors.New("no maintenance is on")

// Active returns the maintenance run that put host behind its page and
// has not been switched off. It is an error while a maintenance run (on
// or off) of host is still under way: finish or roll that back first.
func Active(ctx context.Context, st store.Store, host string) (store.Run, *runbook.Runbook, error) {
	host = dns.Fqdn(host)
	runs, err := st.ListRuns(ctx)
	if err != nil {
		return store.Run{}, nil, fmt.Errorf("listing runs: %w", err)
	}
	type found struct {
		run store.Run
		rb  *runbook.Runbook
	}
	var ours []found
	for _, run := range runs {
		if dns.Fqdn(run.Hostname) != host {
			continue
		}
		rb, err := engine.Runbook(run)
		if err != nil {
			return store.Run{}, nil, err
		}
		if rb.Strategy == string(plan.StrategyMaintenance) || rb.Strategy == runbook.StrategyMaintenanceOff {
			ours = append(ours, found{run, rb})
		}
	}
	if len(ours) == 0 {
		return store.Run{}, nil, fmt.Errorf("%w for %s: no maintenance run of it in the state file", ErrNotOn, strings.TrimSuffix(host, "."))
	}
	sort.SliceStable(ours, func(i, j int) bool { return ours[i].run.CreatedAt.Before(ours[j].run.CreatedAt) })
	last := ours[len(ours)-1]
	switch {
	case !engine.Terminal(last.run.State):
		return store.Run{}, nil, fmt.Errorf("run %s (%s) of %s is still %s: let it finish (`cutover resume %s`) or roll it back first", last.run.Name, last.rb.Strategy, strings.TrimSuffix(host, "."), last.run.State, last.run.Name)
	case last.rb.Strategy == runbook.StrategyMaintenanceOff && last.run.State == store.StateDone:
		return store.Run{}, nil, fmt.Errorf("%w for %s: run %s switched it off at %s", ErrNotOn, strings.TrimSuffix(host, "."), last.run.Name, last.run.UpdatedAt.UTC().Format(time.RFC3339))
	case last.rb.Strategy == string(plan.StrategyMaintenance) && last.run.State == store.StateDone:
		return last.run, last.rb, nil
	case last.rb.Strategy == runbook.StrategyMaintenanceOff:
		// The off run failed or was rolled back: the maintenance is
		// still on; find the run it was ending.
		for _, f := range ours {
			if f.run.Name == last.rb.MaintenanceOf {
				return f.run, f.rb, nil
			}
		}
	}
	return store.Run{}, nil, fmt.Errorf("%w for %s: the last maintenance run %s ended %s", ErrNotOn, strings.TrimSuffix(host, "."), last.run.Name, last.run.State)
}

// Off compiles the run that ends the active maintenance of host: the
// records the maintenance run found, restored with one compare-and-swap
// change against what the zone serves now. It changes nothing. When the
// zone no longer holds what the maintenance left, the error wraps
// runbook.ErrMaintenanceChanged and shows both.
func Off(ctx context.Context, st store.Store, zone dns.Provider, host, name string, now time.Time) (*runbook.Runbook, error) {
	_, on, err := Active(ctx, st, host)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = RunName(on.Hostname, "off", now)
	}
	current, err := zone.Records(ctx, on.Zone, on.Hostname)
	if err != nil {
		return nil, fmt.Errorf("reading %s in zone %s: %w", on.Hostname, on.Zone, err)
	}
	return runbook.CompileMaintenanceOff(name, on, current)
}
