package preflight

import (
	"context"
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/plan"
)

// The names of the decommission checks.
const (
	CheckOldRecords      = "old-records"
	CheckOldHealthChecks = "old-health-checks"
	CheckOldAlarms       = "old-alarms"
	CheckOldTraffic      = "old-traffic"
)

// Decommission checks that nothing still depends on the plan's old edge:
// no record in the account's zones points at it (CNAME, alias, weighted
// leftovers), no Route 53 health check probes it, no CloudWatch alarm is
// scoped to it, and its request rate is at the drain threshold. Any FAIL
// means the old edge must stay.
func Decommission(ctx context.Context, in Input, w World, o Options) Report {
	o = o.withDefaults()
	c := &checker{in: in, w: w, o: o, host: dns.Fqdn(in.Plan.Hostname)}
	old := oldEdge(ctx, c)
	c.oldRecords(ctx, old)
	c.oldHealthChecks(ctx, old)
	c.oldAlarms(ctx, old)
	c.oldTraffic(ctx, old)
	return Report{Kind: "decommission", Hostname: in.Plan.Hostname, Results: c.results, Checked: o.Now.UTC()}
}

// old is what identifies the old edge in records, alarms and metrics.
type old struct {
	kind    plan.EdgeKind
	id      string // distribution id, or load balancer name
	dnsName string // lower case, no trailing dot
	// lbDim is the load balancer's CloudWatch dimension (app/<name>/<id>).
	lbDim  string
	region string
}

func oldEdge(ctx context.Context, c *checker) old {
	e := c.in.Plan.From
	o := old{kind: e.Kind, id: c.in.From.ID, dnsName: strings.ToLower(strings.TrimSuffix(c.in.From.DNSName, ".")), region: "us-east-1"}
	if e.Kind == plan.EdgeALB && c.w.LoadBalancers != nil {
		if lb, err := c.w.LoadBalancers.LoadBalancer(ctx, e.Value); err == nil {
			o.lbDim, o.region = LoadBalancerDimension(lb.ARN), lb.Region
		}
	}
	return o
}

// LoadBalancerDimension is the CloudWatch LoadBalancer dimension of a load
// balancer ARN: the part after "loadbalancer/" (app/<name>/<id>).
func LoadBalancerDimension(arn string) string {
	if _, after, ok := strings.Cut(arn, ":loadbalancer/"); ok {
		return after
	}
	return ""
}

// pointsAt reports whether a record set leads to the old edge.
func (o old) pointsAt(r dns.RecordSet) bool {
	match := func(n string) bool {
		n = strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(n, ".")), "dualstack.")
		return n == o.dnsName
	}
	if r.Alias != nil && match(r.Alias.DNSName) {
		return true
	}
	if r.Type == "CNAME" || r.Type == "TXT" {
		for _, v := range r.Values {
			if match(strings.Trim(v, `"`)) {
				return true
			}
		}
	}
	return false
}

func (c *checker) oldRecords(ctx context.Context, o old) {
	if c.w.Zones == nil {
		c.add(CheckOldRecords, Warn, "no Route 53 reader", "records not checked")
		return
	}
	zones, err := c.w.Zones.HostedZones(ctx)
	if err != nil {
		c.add(CheckOldRecords, Fail, "route53 ListHostedZones: "+err.Error(), "")
		return
	}
	var left []string
	for _, z := range zones {
		recs, err := c.w.Zones.AllRecords(ctx, z.ID)
		if err != nil {
			c.add(CheckOldRecords, Fail, fmt.Sprintf("route53 ListResourceRecordSets %s: %s", z.ID, err), "")
			return
		}
		for _, r := range recs {
			if o.pointsAt(r) {
				left = append(left, z.ID+": "+r.String())
			}
		}
	}
	ev := fmt.Sprintf("route53 ListResourceRecordSets over %d zones: ", len(zones))
	if len(left) > 0 {
		c.add(CheckOldRecords, Fail, ev+strings.Join(left, "; "), fmt.Sprintf("%s still pointing at %s: remove before destroying it", plural(len(left), "record set"), o.dnsName))
		return
	}
	c.add(CheckOldRecords, Pass, ev+"no record points at "+o.dnsName, "")
}

func (c *checker) oldHealthChecks(ctx context.Context, o old) {
	if c.w.HealthChecks == nil {
		c.add(CheckOldHealthChecks, Warn, "no Route 53 health check reader", "health checks not checked")
		return
	}
	hcs, err := c.w.HealthChecks.HealthChecks(ctx)
	if err != nil {
		c.add(CheckOldHealthChecks, Fail, "route53 ListHealthChecks: "+err.Error(), "")
		return
	}
	var left []string
	for _, h := range hcs {
		if strings.EqualFold(strings.TrimSuffix(h.FQDN, "."), o.dnsName) {
			left = append(left, fmt.Sprintf("%s %s %s", h.ID, h.Type, h.FQDN))
		}
	}
	ev := fmt.Sprintf("route53 ListHealthChecks (%d): ", len(hcs))
	if len(left) > 0 {
		c.add(CheckOldHealthChecks, Fail, ev+strings.Join(left, "; "), "health checks still probe the old edge")
		return
	}
	c.add(CheckOldHealthChecks, Pass, ev+"none probes "+o.dnsName, "")
}

// alarmScope is the dimension an alarm scoped to the old edge carries.
func (o old) alarmScope() (name, value string) {
	switch o.kind {
	case plan.EdgeCloudFront:
		return "DistributionId", o.id
	case plan.EdgeALB:
		return "LoadBalancer", o.lbDim
	}
	return "", ""
}

func (c *checker) oldAlarms(ctx context.Context, o old) {
	dim, val := o.alarmScope()
	if dim == "" || val == "" {
		c.add(CheckOldAlarms, Warn, "edge "+c.in.Plan.From.String()+": no CloudWatch dimension identifies it", "alarms not checked")
		return
	}
	if c.w.Metrics == nil {
		c.add(CheckOldAlarms, Warn, "no CloudWatch reader", "alarms not checked")
		return
	}
	alarms, err := c.w.Metrics.Alarms(ctx, o.region)
	if err != nil {
		c.add(CheckOldAlarms, Fail, "cloudwatch DescribeAlarms "+o.region+": "+err.Error(), "")
		return
	}
	var left []string
	for _, a := range alarms {
		if a.Dimensions[dim] == val {
			left = append(left, fmt.Sprintf("%s (%s %s %s=%s)", a.Name, a.Namespace, a.Metric, dim, val))
		}
	}
	ev := fmt.Sprintf("cloudwatch DescribeAlarms %s (%d alarms): ", o.region, len(alarms))
	if len(left) > 0 {
		c.add(CheckOldAlarms, Fail, ev+strings.Join(left, "; "), "alarms still scoped to the old edge would fire (or go INSUFFICIENT_DATA) once it is gone: move or delete them")
		return
	}
	c.add(CheckOldAlarms, Pass, ev+"none with "+dim+"="+val, "")
}

// oldTraffic compares the old edge's request rate over the traffic window
// with the plan's drain threshold (or Options.MinRequests).
func (c *checker) oldTraffic(ctx context.Context, o old) {
	var ns, metric string
	var dims map[string]string
	switch {
	case o.kind == plan.EdgeCloudFront:
		ns, metric, dims = "AWS/CloudFront", "Requests", map[string]string{"DistributionId": o.id, "Region": "Global"}
	case o.kind == plan.EdgeALB && o.lbDim != "":
		ns, metric, dims = "AWS/ApplicationELB", "RequestCount", map[string]string{"LoadBalancer": o.lbDim}
	default:
		c.add(CheckOldTraffic, Warn, "edge "+c.in.Plan.From.String()+": no request metric identifies it", "traffic not checked")
		return
	}
	if c.w.Metrics == nil {
		c.add(CheckOldTraffic, Warn, "no CloudWatch reader", "traffic not checked")
		return
	}
	threshold := c.o.MinRequests
	for _, g := range c.in.Plan.Gates {
		if g.Drain != nil && g.Drain.Fraction == 0 {
			threshold = g.Drain.Threshold
		}
	}
	end := c.o.Now
	start := end.Add(-c.o.TrafficWindow)
	sum, any, err := c.w.Metrics.Sum(ctx, o.region, ns, metric, dims, start, end)
	ev := fmt.Sprintf("cloudwatch GetMetricData %s %s %s over %s: ", ns, metric, dimString(dims), c.o.TrafficWindow)
	if err != nil {
		c.add(CheckOldTraffic, Fail, ev+err.Error(), "")
		return
	}
	rate := sum / c.o.TrafficWindow.Minutes()
	got := fmt.Sprintf("%.0f requests (%.2f/min)", sum, rate)
	if !any {
		got = "no datapoints (0/min)"
	}
	if rate > threshold {
		c.add(CheckOldTraffic, Fail, ev+got, fmt.Sprintf("above the drain threshold of %g/min: clients still reach the old edge", threshold))
		return
	}
	c.add(CheckOldTraffic, Pass, ev+got, fmt.Sprintf("at or under the drain threshold of %g/min", threshold))
}

func dimString(d map[string]string) string {
	var parts []string
	for _, k := range []string{"DistributionId", "Region", "LoadBalancer"} {
		if v, ok := d[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, ",")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
