package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// The names of the preflight checks, stable for --waive.
const (
	CheckCertIssued     = "cert-issued"
	CheckCertExpiry     = "cert-expiry"
	CheckCertCovers     = "cert-covers"
	CheckTargetsHealthy = "targets-healthy"
	CheckListener       = "listener"
	CheckDistDeployed   = "distribution-deployed"
	CheckDistEnabled    = "distribution-enabled"
	CheckAliasConflict  = "alias-conflict"
	CheckDistCert       = "distribution-cert"
	CheckZoneContains   = "zone-contains"
	CheckZoneDelegation = "zone-delegation"
	CheckZoneShadow     = "zone-shadow"
	CheckTTL            = "ttl"
	CheckRecordOwner    = "record-owner"
	CheckMarker         = "marker"
)

// Input is a plan and the edges it names, as observe resolved them.
type Input struct {
	Plan     *plan.Plan
	From, To runbook.Target
	// Hosts are a bulk plan's hostnames as compiled (nil for one).
	Hosts []runbook.BulkHost
}

// Preflight runs every check of the plan's new edge, zone and record, in
// a fixed order. It never changes anything.
func Preflight(ctx context.Context, in Input, w World, o Options) Report {
	o = o.withDefaults()
	if o.Resolver == "" && in.Plan.Verify != nil && len(in.Plan.Verify.Resolvers) > 0 {
		o.Resolver = withPort(in.Plan.Verify.Resolvers[0])
	}
	c := &checker{in: in, w: w, o: o, host: dns.Fqdn(in.Plan.Hostname)}
	if len(in.Hosts) > 0 {
		c.bulk(ctx)
		return Report{Kind: "preflight", Hostname: fmt.Sprintf("%d hostnames", len(in.Hosts)), Results: c.results, Checked: o.Now.UTC()}
	}
	c.edge(ctx)
	c.zone(ctx)
	c.record(ctx)
	c.marker(ctx)
	return Report{Kind: "preflight", Hostname: in.Plan.Hostname, Results: c.results, Checked: o.Now.UTC()}
}

type checker struct {
	in      Input
	w       World
	o       Options
	host    string
	results []Result
	// toLacksAlias is set when the new edge is a distribution that does
	// not carry the hostname yet (an alias move gives it during the run).
	toLacksAlias bool
}

func (c *checker) add(name string, s Status, evidence, detail string) {
	c.results = append(c.results, Result{Name: name, Status: s, Evidence: evidence, Detail: detail})
}

// edge checks the new edge: its certificate, and its targets or its
// distribution.
func (c *checker) edge(ctx context.Context) {
	to := c.in.Plan.To
	switch to.Kind {
	case plan.EdgeALB:
		c.loadBalancer(ctx, to.Value)
	case plan.EdgeCloudFront:
		c.distribution(ctx, to.Value, to.RoleARN)
	default:
		c.add(CheckCertIssued, Warn, "edge "+to.String()+": no ACM certificate to read",
			"an endpoint's certificate is checked only by the TLS handshake of the marker check")
	}
}

func (c *checker) loadBalancer(ctx context.Context, ref string) {
	if c.w.LoadBalancers == nil {
		c.add(CheckTargetsHealthy, Warn, "no ELBv2 reader", "target health not checked")
		return
	}
	lb, err := c.w.LoadBalancers.LoadBalancer(ctx, ref)
	if err != nil {
		c.add(CheckTargetsHealthy, Fail, "elbv2 DescribeLoadBalancers "+ref+": "+err.Error(), "the new load balancer cannot be read")
		return
	}
	var arns []string
	var listeners []string
	for _, l := range lb.Listeners {
		listeners = append(listeners, fmt.Sprintf("%s:%d", l.Protocol, l.Port))
		arns = append(arns, l.Certificates...)
	}
	if len(lb.Listeners) == 0 {
		c.add(CheckListener, Fail, "elbv2 DescribeListeners "+lb.Name+": no listener", "nothing accepts connections on the new load balancer")
	} else {
		c.add(CheckListener, Pass, "elbv2 DescribeListeners "+lb.Name+": "+strings.Join(listeners, ", "), "")
	}
	c.targets(lb)
	c.certificates(ctx, "load balancer "+lb.Name, lb.Region, arns)
}

// targets passes when every registered target of every target group is
// healthy; an empty group counts as unhealthy, as Route 53's target health
// evaluation does.
func (c *checker) targets(lb LoadBalancer) {
	ev := "elbv2 DescribeTargetHealth " + lb.Name + ": "
	if len(lb.Targets) == 0 {
		c.add(CheckTargetsHealthy, Fail, ev+"no targets", "an empty target group counts as unhealthy")
		return
	}
	var states, bad []string
	for _, t := range lb.Targets {
		s := fmt.Sprintf("%s:%d %s", t.ID, t.Port, t.State)
		if t.Reason != "" {
			s += " (" + t.Reason + ")"
		}
		states = append(states, s)
		if t.State != "healthy" {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		c.add(CheckTargetsHealthy, Fail, ev+strings.Join(states, ", "),
			fmt.Sprintf("%d of %d targets not healthy: healthy means healthy, not initial, draining or unused", len(bad), len(lb.Targets)))
		return
	}
	c.add(CheckTargetsHealthy, Pass, ev+strings.Join(states, ", "), "")
}

func (c *checker) distribution(ctx context.Context, id, role string) {
	if c.w.Distributions == nil {
		c.add(CheckDistDeployed, Warn, "no CloudFront reader", "distribution not checked")
		return
	}
	reader := c.w.Distributions
	if role != "" && c.w.DistributionsFor != nil {
		r, err := c.w.DistributionsFor(ctx, role)
		if err != nil {
			c.add(CheckDistDeployed, Fail, "cloudfront credentials "+role+": "+err.Error(), "")
			return
		}
		reader = r
	}
	d, err := reader.Distribution(ctx, id)
	if err != nil {
		c.add(CheckDistDeployed, Fail, "cloudfront GetDistribution "+id+": "+err.Error(), "the new distribution cannot be read")
		return
	}
	ev := "cloudfront GetDistribution " + id + ": "
	c.toLacksAlias = !d.HasAlias(c.in.Plan.Hostname)
	if d.Deployed() {
		c.add(CheckDistDeployed, Pass, ev+"Status="+d.Status, "")
	} else {
		c.add(CheckDistDeployed, Fail, ev+"Status="+d.Status, "its last change has not reached every edge location; wait for Deployed")
	}
	if d.Enabled {
		c.add(CheckDistEnabled, Pass, ev+"Enabled=true", "")
	} else {
		c.add(CheckDistEnabled, Fail, ev+"Enabled=false", "a disabled distribution answers no viewer")
	}
	if d.CertificateARN == "" {
		c.add(CheckDistCert, Fail, ev+"ViewerCertificate has no ACMCertificateArn", "the default *.cloudfront.net certificate does not cover "+c.in.Plan.Hostname)
	} else {
		c.add(CheckDistCert, Pass, ev+"ACMCertificateArn="+d.CertificateARN, "")
		c.certificates(ctx, "distribution "+id, "us-east-1", []string{d.CertificateARN})
	}
	c.conflicts(ctx, reader, id)
}

// conflicts asks CloudFront who else holds the hostname: only the plan's
// old distribution may (the run moves it from there).
func (c *checker) conflicts(ctx context.Context, reader Distributions, id string) {
	host := c.in.Plan.Hostname
	ev := fmt.Sprintf("cloudfront ListConflictingAliases DistributionId=%s Alias=%s: ", id, host)
	cs, err := reader.Conflicts(ctx, id, host)
	if err != nil {
		c.add(CheckAliasConflict, Warn, ev+err.Error(), "who holds the alias is unknown")
		return
	}
	var others, held []string
	for _, x := range cs {
		if x.DistributionID == id {
			continue
		}
		s := fmt.Sprintf("%s on %s (account %s)", x.Alias, x.DistributionID, x.AccountID)
		held = append(held, s)
		if !(c.in.Plan.From.Kind == plan.EdgeCloudFront && maskedMatch(x.DistributionID, c.in.Plan.From.Value)) {
			others = append(others, s)
		}
	}
	switch {
	case len(others) > 0:
		c.add(CheckAliasConflict, Fail, ev+strings.Join(held, "; "), "a distribution other than the plan's old one holds the hostname: CloudFront routes by Host, so it keeps answering")
	case len(held) > 0:
		c.add(CheckAliasConflict, Pass, ev+strings.Join(held, "; "), "held by the plan's old distribution, which the run moves it from")
	default:
		c.add(CheckAliasConflict, Pass, ev+"none", "")
	}
}

// maskedMatch compares a possibly masked id (******5LVBHXZ) with a full one.
func maskedMatch(masked, id string) bool {
	tail := strings.TrimLeft(masked, "*")
	return masked == id || (tail != masked && strings.HasSuffix(id, tail))
}

// certificates checks the certificates attached to the new edge or, when
// none is, the ACM certificates that would cover the hostname.
func (c *checker) certificates(ctx context.Context, what, region string, arns []string) {
	if c.w.Certificates == nil {
		c.add(CheckCertIssued, Warn, "no ACM reader", "certificates not checked")
		return
	}
	host := c.in.Plan.Hostname
	var certs []Certificate
	attached := len(arns) > 0
	for _, arn := range arns {
		crt, err := c.w.Certificates.Certificate(ctx, arn)
		if err != nil {
			c.add(CheckCertIssued, Fail, "acm DescribeCertificate "+arn+": "+err.Error(), "")
			return
		}
		certs = append(certs, crt)
	}
	if !attached {
		found, err := c.w.Certificates.Covering(ctx, region, host)
		if err != nil {
			c.add(CheckCertIssued, Warn, "acm ListCertificates "+region+": "+err.Error(), "")
			return
		}
		if len(found) == 0 {
			c.add(CheckCertCovers, Fail, fmt.Sprintf("%s has no certificate attached; acm ListCertificates %s: none covers %s", what, region, host), "request one and let it validate before the cutover")
			return
		}
		certs = found
	}
	crt := best(certs, host)
	ev := fmt.Sprintf("acm DescribeCertificate %s: ", crt.ARN)
	note := ""
	if !attached {
		note = what + " has no HTTPS listener using it yet"
	}
	if crt.Status == "ISSUED" {
		c.add(CheckCertIssued, Pass, ev+"Status=ISSUED", note)
	} else {
		c.add(CheckCertIssued, Fail, ev+"Status="+crt.Status, join("validation takes 5–30 minutes, sometimes longer: not a step for the morning of the cutover", note))
	}
	if covers(crt.Domains, host) {
		c.add(CheckCertCovers, Pass, ev+"SubjectAlternativeNames="+strings.Join(crt.Domains, ","), "")
	} else {
		c.add(CheckCertCovers, Fail, ev+"SubjectAlternativeNames="+strings.Join(crt.Domains, ","),
			"no name covers "+host+" (a wildcard covers exactly one label)")
	}
	c.expiry(ev, crt)
}

// expiry fails a certificate that expires before the hold ends: rollback
// must stay possible for the whole hold.
func (c *checker) expiry(ev string, crt Certificate) {
	if crt.NotAfter.IsZero() {
		c.add(CheckCertExpiry, Warn, ev+"no NotAfter", "not issued yet, so no expiry to check")
		return
	}
	// The run's TTL prep comes before the hold: the certificate must last
	// through both.
	hold := c.in.Plan.Hold.Std()
	end := c.o.Now.Add(c.in.Plan.TTL.Prepare.Std() + hold)
	left := crt.NotAfter.Sub(c.o.Now).Truncate(time.Minute)
	e := fmt.Sprintf("%sNotAfter=%s (%s from now)", ev, crt.NotAfter.UTC().Format(time.RFC3339), formatDays(left))
	switch {
	case !crt.NotAfter.After(end):
		c.add(CheckCertExpiry, Fail, e, fmt.Sprintf("expires before the run's TTL prep and hold of %s end: renew it before the cutover", hold))
	case crt.NotAfter.Before(end.Add(30 * 24 * time.Hour)):
		c.add(CheckCertExpiry, Warn, e, fmt.Sprintf("expires within 30 days after the hold of %s ends", hold))
	default:
		c.add(CheckCertExpiry, Pass, e, "")
	}
}

func formatDays(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.String()
}

// best is the certificate that matters most: one covering the host and
// ISSUED, else one covering it, else the first.
func best(certs []Certificate, host string) Certificate {
	for _, c := range certs {
		if c.Status == "ISSUED" && covers(c.Domains, host) {
			return c
		}
	}
	for _, c := range certs {
		if covers(c.Domains, host) {
			return c
		}
	}
	return certs[0]
}

// covers reports whether a certificate with names covers host: an exact
// name, or a wildcard `*.parent` for a host exactly one label below parent.
func covers(names []string, host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n == h {
			return true
		}
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			if i := strings.IndexByte(h, '.'); i > 0 && h[i+1:] == rest {
				return true
			}
		}
	}
	return false
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// record checks the hostname's records: their TTL (and so the TTL-prep
// wait) and whether another controller owns them.
func (c *checker) record(ctx context.Context) {
	if c.w.Zones == nil {
		c.add(CheckTTL, Warn, "no Route 53 reader for zone "+c.in.Plan.Zone.ID, "the TTL and ownership of the record not checked")
		return
	}
	zone := c.in.Plan.Zone.ID
	recs, err := c.w.Zones.Records(ctx, zone, c.host)
	ev := fmt.Sprintf("route53 ListResourceRecordSets %s name=%s: ", zone, c.host)
	if err != nil {
		c.add(CheckTTL, Fail, ev+err.Error(), "")
		return
	}
	var ttl int64
	var shown []string
	for _, r := range recs {
		if r.Type != "A" && r.Type != "AAAA" && r.Type != "CNAME" {
			continue // at an apex, NS and SOA are not what the run moves
		}
		t := r.TTL
		if r.Alias != nil {
			t = 60 // an alias answers with its target's TTL: 60 s for CloudFront and ELB
		}
		ttl = max(ttl, t)
		shown = append(shown, r.String())
	}
	if len(shown) == 0 {
		c.add(CheckTTL, Warn, ev+"no address or CNAME record", "the run creates the record; there is no old TTL to wait out")
	} else {
		wait := max(time.Duration(ttl)*time.Second, c.in.Plan.TTL.Prepare.Std())
		detail := fmt.Sprintf("TTL prep waits %s after Route 53 reports INSYNC before the first shift (max of the old TTL %ds and ttl.prepare)", wait, ttl)
		status := Pass
		if wait > time.Hour {
			status = Warn
			detail += "; lower the TTL well ahead (seed 004: 48 h) so the window does not carry it"
		}
		c.add(CheckTTL, status, ev+strings.Join(shown, "; "), detail)
	}
	c.owner(ctx, zone)
}

// ownerNames are where external-dns keeps its ownership TXT records for a
// name: the name itself (the old format) and the record-type prefixes of
// the new format.
func ownerNames(host string) []string {
	out := []string{host}
	for _, p := range []string{"a-", "aaaa-", "cname-"} {
		out = append(out, p+host)
	}
	return out
}

// owner warns that a controller (external-dns, with its heritage TXT
// record) owns the hostname's records and will revert a change it did not
// make.
func (c *checker) owner(ctx context.Context, zone string) {
	var found, other []string
	for _, n := range ownerNames(c.host) {
		recs, err := c.w.Zones.Records(ctx, zone, n)
		if err != nil {
			c.add(CheckRecordOwner, Warn, fmt.Sprintf("route53 ListResourceRecordSets %s name=%s: %s", zone, n, err), "")
			return
		}
		for _, r := range recs {
			if r.Type != "TXT" {
				continue
			}
			for _, v := range r.Values {
				v = strings.Trim(v, `"`)
				switch {
				case strings.Contains(v, "heritage=external-dns"):
					found = append(found, fmt.Sprintf("%s TXT %q", r.Name, v))
				case strings.Contains(v, "heritage=") || strings.Contains(v, "owner="):
					other = append(other, fmt.Sprintf("%s TXT %q", r.Name, v))
				}
			}
		}
	}
	ev := fmt.Sprintf("route53 ListResourceRecordSets %s names=%s: ", zone, strings.Join(ownerNames(c.host), ","))
	switch {
	case len(found) > 0:
		c.add(CheckRecordOwner, Fail, ev+strings.Join(found, "; "), "external-dns owns this record and will revert the run's changes: stop its controller or hand the record over first")
	case len(other) > 0:
		c.add(CheckRecordOwner, Warn, ev+strings.Join(other, "; "), "an ownership marker of another tool: make sure nothing reconciles this record during the run")
	default:
		c.add(CheckRecordOwner, Pass, ev+"no ownership TXT record", "")
	}
}

// sortedNS returns a normalised, sorted copy of a name server set.
func sortedNS(ns []string) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, strings.ToLower(dns.Fqdn(n)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
