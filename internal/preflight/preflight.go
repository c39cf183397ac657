package preflight

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/edge/cloudfront"
)

// Status is a check's verdict.
type Status string

// The verdicts. Only FAIL blocks a run; WARN is shown and recorded.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Result is one check's verdict and what it was based on.
type Result struct {
	// Name is stable: `--waive NAME` and scripts refer to it.
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Evidence is the value read and where from ("acm DescribeCertificate
	// arn:…: Status=PENDING_VALIDATION").
	Evidence string `json:"evidence"`
	// Detail says what follows from the evidence.
	Detail string `json:"detail,omitempty"`
	// Waived is set when an operator waived a FAIL by name.
	Waived bool `json:"waived,omitempty"`
}

// Report is a checklist for one hostname.
type Report struct {
	// Kind is "preflight" or "decommission".
	Kind     string    `json:"kind"`
	Hostname string    `json:"hostname"`
	Results  []Result  `json:"results"`
	Checked  time.Time `json:"checked"`
}

// Failed returns the FAIL results not waived.
func (r Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == Fail && !res.Waived {
			out = append(out, res)
		}
	}
	return out
}

// Waived returns the FAIL results an operator waived.
func (r Report) Waived() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Waived {
			out = append(out, res)
		}
	}
	return out
}

// OK reports whether no FAIL is left unwaived.
func (r Report) OK() bool { return len(r.Failed()) == 0 }

// Waive marks the FAIL results named in names as waived. A name that no
// check of the report has is an error: a typo must not pass for a waiver.
func (r *Report) Waive(names []string) error {
	var unknown []string
	for _, n := range names {
		found := false
		for i := range r.Results {
			if r.Results[i].Name == n {
				found = true
				if r.Results[i].Status == Fail {
					r.Results[i].Waived = true
				}
			}
		}
		if !found {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("--waive %s: no such check (checks: %s)", strings.Join(unknown, ", "), strings.Join(r.names(), ", "))
	}
	return nil
}

func (r Report) names() []string {
	seen := map[string]bool{}
	var out []string
	for _, res := range r.Results {
		if !seen[res.Name] {
			seen[res.Name] = true
			out = append(out, res.Name)
		}
	}
	sort.Strings(out)
	return out
}

// WriteText renders the checklist: one line per check with its verdict,
// then its evidence and detail indented below it, then a summary line.
func (r Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s checks for %s:\n", r.Kind, r.Hostname)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, res := range r.Results {
		status := string(res.Status)
		if res.Waived {
			status += " (waived)"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", status, res.Name)
		fmt.Fprintf(tw, "  \t  evidence: %s\n", res.Evidence)
		if res.Detail != "" {
			fmt.Fprintf(tw, "  \t  %s\n", res.Detail)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "  %s\n", r.Summary())
	return err
}

// Summary counts the verdicts: "9 passed, 1 warned, 1 failed (0 waived)".
func (r Report) Summary() string {
	var pass, warn, fail int
	for _, res := range r.Results {
		switch res.Status {
		case Pass:
			pass++
		case Warn:
			warn++
		case Fail:
			fail++
		}
	}
	return fmt.Sprintf("%d passed, %d warned, %d failed (%d waived)", pass, warn, fail, len(r.Waived()))
}

// Certificate is what DescribeCertificate says of a certificate.
type Certificate struct {
	ARN      string
	Status   string // ISSUED, PENDING_VALIDATION, EXPIRED, …
	Domains  []string
	NotAfter time.Time // zero until issued
}

// Certificates reads ACM.
type Certificates interface {
	// Certificate describes arn.
	Certificate(ctx context.Context, arn string) (Certificate, error)
	// Covering lists the certificates of region whose names include a
	// name covering host (any status), for an edge that has none attached
	// yet.
	Covering(ctx context.Context, region, host string) ([]Certificate, error)
}

// LoadBalancer is a load balancer with its listeners and the health of
// the targets of every target group it routes to.
type LoadBalancer struct {
	ARN       string
	Name      string
	DNSName   string
	Region    string
	Listeners []Listener
	Targets   []TargetHealth
}

// Listener is one listener of a load balancer.
type Listener struct {
	ARN          string
	Protocol     string
	Port         int
	Certificates []string
}

// TargetHealth is one target's DescribeTargetHealth answer.
type TargetHealth struct {
	TargetGroup string
	ID          string
	Port        int
	State       string // healthy, initial, unhealthy, unused, draining, unavailable
	Reason      string
}

// LoadBalancers reads ELBv2.
type LoadBalancers interface {
	// LoadBalancer reads the load balancer ref names (ARN or DNS name).
	LoadBalancer(ctx context.Context, ref string) (LoadBalancer, error)
}

// Distributions reads CloudFront.
type Distributions interface {
	Distribution(ctx context.Context, id string) (cdn.Distribution, error)
	Conflicts(ctx context.Context, distID, alias string) ([]cloudfront.Conflict, error)
}

// HostedZone is one hosted zone of the account.
type HostedZone struct {
	ID      string
	Name    string // lower-case FQDN with trailing dot
	Private bool
}

// Zones reads Route 53.
type Zones interface {
	// HostedZones lists the account's hosted zones.
	HostedZones(ctx context.Context) ([]HostedZone, error)
	// Records returns the record sets at name in zone.
	Records(ctx context.Context, zone, name string) ([]dns.RecordSet, error)
	// AllRecords returns every record set of zone.
	AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error)
}

// HealthCheck is a Route 53 health check.
type HealthCheck struct {
	ID   string
	Type string
	FQDN string
	IP   string
}

// HealthChecks lists Route 53 health checks.
type HealthChecks interface {
	HealthChecks(ctx context.Context) ([]HealthCheck, error)
}

// Alarm is a CloudWatch metric alarm.
type Alarm struct {
	Name       string
	Namespace  string
	Metric     string
	Dimensions map[string]string
}

// Metrics reads CloudWatch.
type Metrics interface {
	// Alarms lists the metric alarms of region.
	Alarms(ctx context.Context, region string) ([]Alarm, error)
	// Sum returns the sum of a metric over [start, end) in region, and
	// whether any datapoint was found.
	Sum(ctx context.Context, region, namespace, metric string, dims map[string]string, start, end time.Time) (float64, bool, error)
}

// World is what the checks read. A nil reader skips the checks that need
// it, with a WARN saying so.
type World struct {
	Certificates  Certificates
	LoadBalancers LoadBalancers
	Distributions Distributions
	// DistributionsFor reaches a distribution in another account through
	// roleARN; nil uses Distributions for every edge.
	DistributionsFor func(ctx context.Context, roleARN string) (Distributions, error)
	Zones            Zones
	HealthChecks     HealthChecks
	Metrics          Metrics
}

// Options tune the wire checks.
type Options struct {
	// Resolver is a DNS server (host:port) asked for the zone's delegation
	// and the new edge's addresses; empty uses the plan's first verify
	// resolver, and without one the delegation is checked through the API
	// only and the edge resolved by the system.
	Resolver string
	// Scheme (https, default, or http) and Port (default 443/80) of the
	// marker fetch.
	Scheme string
	Port   int
	// RootCAs are trusted for the marker fetch (a lab CA); nil is the
	// system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one DNS exchange or request. Default 5s.
	Timeout time.Duration
	// Now is the time certificates' expiry is measured from. Default: the
	// wall clock.
	Now time.Time
	// MinRequests is the decommission traffic threshold when the plan has
	// no drain gate: requests per minute. Default 0.
	MinRequests float64
	// TrafficWindow is how far back the old edge's requests are summed.
	// Default 15m.
	TrafficWindow time.Duration
}

func (o Options) withDefaults() Options {
	if o.Scheme == "" {
		o.Scheme = "https"
	}
	if o.Port == 0 {
		o.Port = 443
		if o.Scheme == "http" {
			o.Port = 80
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.TrafficWindow <= 0 {
		o.TrafficWindow = 15 * time.Minute
	}
	return o
}
