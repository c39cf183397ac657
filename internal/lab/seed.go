package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cutover/cutover/internal/lab/acm"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/cloudwatch"
	"github.com/cutover/cutover/internal/lab/elbv2"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/sts"
)

// Seed is the lab's starting world, written as YAML. Entries refer to one
// another by their seed names (a record aliasing `distribution: old`), and
// every resource belongs to an account (default 111111111111).
type Seed struct {
	Zones         []SeedZone         `yaml:"zones"`
	Certificates  []SeedCertificate  `yaml:"certificates"`
	Distributions []SeedDistribution `yaml:"distributions"`
	LoadBalancers []SeedLoadBalancer `yaml:"load_balancers"`
	Roles         []SeedRole         `yaml:"roles"`
	Records       []SeedRecord       `yaml:"records"`
	Alarms        []SeedAlarm        `yaml:"alarms"`
	AccessKeys    []SeedAccessKey    `yaml:"access_keys"`
}

// SeedAlarm is a CloudWatch metric alarm, scoped by its dimensions; naming
// a seed load balancer or distribution adds the dimensions AWS metrics of
// that resource carry (LoadBalancer=app/<name>/<id>; DistributionId and
// Region=Global).
type SeedAlarm struct {
	Name         string            `yaml:"name"`
	Account      string            `yaml:"account"`
	Namespace    string            `yaml:"namespace"`
	Metric       string            `yaml:"metric"`
	Dimensions   map[string]string `yaml:"dimensions"`
	LoadBalancer string            `yaml:"load_balancer"`
	Distribution string            `yaml:"distribution"`
	Statistic    string            `yaml:"statistic"`  // default Sum
	Period       time.Duration     `yaml:"period"`     // default 60s
	Threshold    float64           `yaml:"threshold"`  // default 0
	Comparison   string            `yaml:"comparison"` // default GreaterThanThreshold
}

// SeedAccessKey is a static key the lab accepts, acting as the admin user
// of its account: a test suite's fixed fake credentials.
type SeedAccessKey struct {
	ID      string `yaml:"id"`
	Secret  string `yaml:"secret"`
	Account string `yaml:"account"`
}

// SeedZone is a public (or private) hosted zone.
type SeedZone struct {
	Name    string `yaml:"name"`
	Account string `yaml:"account"`
	Private bool   `yaml:"private"`
}

// SeedCertificate is an ACM certificate, created ISSUED unless Status
// says PENDING_VALIDATION.
type SeedCertificate struct {
	Name    string   `yaml:"name"`
	Account string   `yaml:"account"`
	Domains []string `yaml:"domains"`
	// Status is ISSUED (default) or PENDING_VALIDATION: requested, its
	// validation records not published yet.
	Status string `yaml:"status"`
	// ValidFor, when set, puts NotAfter that long from now (a certificate
	// about to expire) instead of ACM's 395 days.
	ValidFor time.Duration `yaml:"valid_for"`
}

// SeedDistribution is a CloudFront distribution.
type SeedDistribution struct {
	Name        string     `yaml:"name"`
	Account     string     `yaml:"account"`
	Aliases     []string   `yaml:"aliases"`
	Certificate string     `yaml:"certificate"` // a seed certificate name
	Origin      SeedOrigin `yaml:"origin"`
	Enabled     *bool      `yaml:"enabled"` // default true
	Comment     string     `yaml:"comment"`
}

// SeedOrigin is where a distribution fetches from: any host:port.
type SeedOrigin struct {
	Domain    string `yaml:"domain"`
	HTTPPort  int    `yaml:"http_port"`
	HTTPSPort int    `yaml:"https_port"`
	Path      string `yaml:"path"`
	Protocol  string `yaml:"protocol"` // http-only (default), https-only, match-viewer
}

// SeedLoadBalancer is an application load balancer with one target group.
type SeedLoadBalancer struct {
	Name    string   `yaml:"name"`
	Account string   `yaml:"account"`
	Region  string   `yaml:"region"`  // default us-east-1
	Targets []string `yaml:"targets"` // host:port
}

// SeedRole is an IAM role STS lets trusted accounts assume.
type SeedRole struct {
	ARN        string   `yaml:"arn"`
	Trust      []string `yaml:"trust"`
	ExternalID string   `yaml:"external_id"`
}

// SeedRecord is one record set in a seed zone.
type SeedRecord struct {
	Zone          string     `yaml:"zone"` // the zone's name
	Name          string     `yaml:"name"`
	Type          string     `yaml:"type"`
	TTL           int64      `yaml:"ttl"`
	Values        []string   `yaml:"values"`
	Alias         *SeedAlias `yaml:"alias"`
	SetIdentifier string     `yaml:"set_identifier"`
	Weight        *int64     `yaml:"weight"`
	Failover      string     `yaml:"failover"`
}

// SeedAlias points an alias record at a seed distribution or load
// balancer, or at an explicit target. On a CNAME record it names the
// CNAME's target instead.
type SeedAlias struct {
	Distribution         string `yaml:"distribution"`
	LoadBalancer         string `yaml:"load_balancer"`
	DNSName              string `yaml:"dns_name"`
	ZoneID               string `yaml:"zone_id"`
	EvaluateTargetHealth bool   `yaml:"evaluate_target_health"`
}

// Seeded maps seed names to what the lab created, so a caller (the demo,
// a test, `cutover lab`) can refer to the generated ids.
type Seeded struct {
	Zones         map[string]string          `json:"zones"`         // zone name → id
	Certificates  map[string]string          `json:"certificates"`  // name → ARN
	Distributions map[string]cloudfront.View `json:"distributions"` // name → view
	LoadBalancers map[string]elbv2.LB        `json:"load_balancers"`
}

// LoadSeed reads a seed file strictly: unknown fields are errors with
// their line.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading seed: %w", err)
	}
	return ParseSeed(path, data)
}

// ParseSeed decodes seed YAML.
func ParseSeed(name string, data []byte) (*Seed, error) {
	var s Seed
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

func acct(a string) string {
	if a == "" {
		return awsapi.DefaultAccountID
	}
	return a
}

// Apply creates the seed's world in the lab: certificates, distributions,
// load balancers, roles, zones, then records (which may alias the others).
func (l *Lab) Apply(s *Seed) (*Seeded, error) {
	out := &Seeded{Zones: map[string]string{}, Certificates: map[string]string{}, Distributions: map[string]cloudfront.View{}, LoadBalancers: map[string]elbv2.LB{}}
	for _, c := range s.Certificates {
		var o acm.ImportOptions
		switch c.Status {
		case "", acm.StatusIssued:
		case acm.StatusPendingValidation:
			o.Pending = true
		default:
			return nil, fmt.Errorf("seed certificate %s: status %q: want ISSUED or PENDING_VALIDATION", c.Name, c.Status)
		}
		o.ValidFor = c.ValidFor
		out.Certificates[c.Name] = l.ACM.ImportWith(acct(c.Account), c.Domains, o)
	}
	for _, d := range s.Distributions {
		v, err := l.applyDistribution(out, d)
		if err != nil {
			return nil, err
		}
		out.Distributions[d.Name] = v
	}
	for _, lb := range s.LoadBalancers {
		created, err := l.applyLoadBalancer(lb)
		if err != nil {
			return nil, err
		}
		out.LoadBalancers[lb.Name] = created
	}
	for _, a := range s.Alarms {
		if err := l.applyAlarm(out, a); err != nil {
			return nil, err
		}
	}
	for _, r := range s.Roles {
		if err := l.STS.AddRole(sts.Role{ARN: r.ARN, TrustedAccounts: r.Trust, ExternalID: r.ExternalID}); err != nil {
			return nil, fmt.Errorf("seed role %s: %w", r.ARN, err)
		}
	}
	for _, k := range s.AccessKeys {
		if k.ID == "" {
			return nil, fmt.Errorf("seed access key: id is required")
		}
		a := acct(k.Account)
		l.Env.Keys.Add(awsapi.Credential{AccessKeyID: k.ID, SecretAccessKey: k.Secret, Identity: awsapi.Identity{
			AccountID: a, ARN: "arn:aws:iam::" + a + ":user/lab-admin", UserID: "AIDALABSEEDKEYADMIN1",
		}})
	}
	zoneAccount := map[string]string{}
	for _, z := range s.Zones {
		id, err := l.Route53.CreateZone(acct(z.Account), z.Name, z.Private)
		if err != nil {
			return nil, fmt.Errorf("seed zone %s: %w", z.Name, err)
		}
		key := strings.TrimSuffix(strings.ToLower(z.Name), ".")
		out.Zones[key] = id
		zoneAccount[key] = acct(z.Account)
	}
	// Records go in one batch per zone, zones in the order their first
	// record appears.
	byZone := map[string][]route53.Change{}
	var order []string
	for _, r := range s.Records {
		key := strings.TrimSuffix(strings.ToLower(r.Zone), ".")
		if _, ok := out.Zones[key]; !ok {
			return nil, fmt.Errorf("seed record %s: no zone named %q", r.Name, r.Zone)
		}
		rs, err := l.recordSet(out, r)
		if err != nil {
			return nil, err
		}
		if _, seen := byZone[key]; !seen {
			order = append(order, key)
		}
		byZone[key] = append(byZone[key], route53.Change{Action: "CREATE", Set: rs})
	}
	for _, key := range order {
		for _, chunk := range seedBatches(byZone[key]) {
			if _, err := l.Route53.ApplyChanges(zoneAccount[key], out.Zones[key], chunk); err != nil {
				return nil, fmt.Errorf("seed records of zone %s: %w", key, err)
			}
		}
	}
	return out, nil
}

// seedBatches splits a zone's seed records, in order, into batches within
// Route 53's request limits (1,000 values, 32,000 value characters), so
// that a seed can hold as many records as a zone.
func seedBatches(changes []route53.Change) [][]route53.Change {
	var out [][]route53.Change
	start, records, chars := 0, 0, 0
	for i, c := range changes {
		r, n := len(c.Set.Records), 0
		for _, v := range c.Set.Records {
			n += len(v)
		}
		if i > start && (records+r > 1000 || chars+n > 32000) {
			out = append(out, changes[start:i])
			start, records, chars = i, 0, 0
		}
		records += r
		chars += n
	}
	if start < len(changes) {
		out = append(out, changes[start:])
	}
	return out
}

// applyDistribution creates a seed distribution, with its certificate from
// those out already holds.
func (l *Lab) applyDistribution(out *Seeded, d SeedDistribution) (cloudfront.View, error) {
	in := cloudfront.DistributionInput{
		CallerReference: "seed-" + d.Name,
		Comment:         d.Comment,
		Enabled:         d.Enabled == nil || *d.Enabled,
		Aliases:         d.Aliases,
	}
	if d.Certificate != "" {
		arn, ok := out.Certificates[d.Certificate]
		if !ok {
			return cloudfront.View{}, fmt.Errorf("seed distribution %s: no certificate named %q", d.Name, d.Certificate)
		}
		in.CertificateArn = arn
	}
	proto := d.Origin.Protocol
	if proto == "" {
		proto = "http-only"
	}
	in.Origins = []cloudfront.Origin{{ID: "origin-" + d.Name, DomainName: d.Origin.Domain, OriginPath: d.Origin.Path, HTTPPort: orDefault(d.Origin.HTTPPort, 80), HTTPSPort: orDefault(d.Origin.HTTPSPort, 443), ProtocolPolicy: proto}}
	v, err := l.CloudFront.CreateDistributionFor(acct(d.Account), in)
	if err != nil {
		return cloudfront.View{}, fmt.Errorf("seed distribution %s: %w", d.Name, err)
	}
	return v, nil
}

// applyLoadBalancer creates a seed load balancer and its target group.
func (l *Lab) applyLoadBalancer(lb SeedLoadBalancer) (elbv2.LB, error) {
	region := lb.Region
	if region == "" {
		region = "us-east-1"
	}
	created, err := l.ELB.CreateALB(acct(lb.Account), lb.Name, region)
	if err != nil {
		return elbv2.LB{}, fmt.Errorf("seed load balancer %s: %w", lb.Name, err)
	}
	var targets []elbv2.Target
	for _, t := range lb.Targets {
		host, port, err := net.SplitHostPort(t)
		if err != nil {
			return elbv2.LB{}, fmt.Errorf("seed load balancer %s: target %q: want host:port", lb.Name, t)
		}
		p, _ := strconv.Atoi(port)
		targets = append(targets, elbv2.Target{ID: host, Port: p})
	}
	if len(targets) > 0 {
		if _, err := l.ELB.AddTargetGroup(created.ARN, lb.Name+"-tg", targets[0].Port, targets); err != nil {
			return elbv2.LB{}, fmt.Errorf("seed load balancer %s: %w", lb.Name, err)
		}
	}
	if lbs, ok := l.ELB.ByDNSName(created.DNSName); ok {
		created = lbs
	}
	return created, nil
}

// recordSet is the record set of a seed record: its values, or the alias
// (a CNAME for a CNAME record) of a seed distribution or load balancer.
func (l *Lab) recordSet(out *Seeded, r SeedRecord) (route53.RecordSet, error) {
	rs := route53.RecordSet{Name: r.Name, Type: strings.ToUpper(r.Type), SetIdentifier: r.SetIdentifier, Weight: r.Weight, Failover: r.Failover}
	if r.Alias != nil {
		at, err := l.aliasTarget(out, *r.Alias)
		if err != nil {
			return route53.RecordSet{}, fmt.Errorf("seed record %s: %w", r.Name, err)
		}
		if rs.Type == "CNAME" {
			// A CNAME to a seed distribution or load balancer: its
			// DNS name is the value.
			ttl := r.TTL
			if ttl == 0 {
				ttl = 300
			}
			rs.TTL, rs.Records = route53.Int64(ttl), []string{at.DNSName}
		} else {
			rs.AliasTarget = at
		}
	} else {
		ttl := r.TTL
		if ttl == 0 {
			ttl = 300
		}
		rs.TTL = route53.Int64(ttl)
		rs.Records = r.Values
	}
	return rs, nil
}

func (l *Lab) aliasTarget(out *Seeded, a SeedAlias) (*route53.AliasTarget, error) {
	switch {
	case a.Distribution != "":
		d, ok := out.Distributions[a.Distribution]
		if !ok {
			return nil, fmt.Errorf("alias: no distribution named %q", a.Distribution)
		}
		return &route53.AliasTarget{HostedZoneID: "Z2FDTNDATAQYW2", DNSName: d.DomainName + ".", EvaluateTargetHealth: false}, nil
	case a.LoadBalancer != "":
		lb, ok := out.LoadBalancers[a.LoadBalancer]
		if !ok {
			return nil, fmt.Errorf("alias: no load balancer named %q", a.LoadBalancer)
		}
		return &route53.AliasTarget{HostedZoneID: lb.CanonicalHostedZoneID, DNSName: lb.DNSName + ".", EvaluateTargetHealth: a.EvaluateTargetHealth}, nil
	case a.DNSName != "" && a.ZoneID != "":
		return &route53.AliasTarget{HostedZoneID: a.ZoneID, DNSName: a.DNSName, EvaluateTargetHealth: a.EvaluateTargetHealth}, nil
	}
	return nil, errors.New("alias: name a distribution, a load_balancer, or dns_name with zone_id")
}

func orDefault(v, d int) int {
	if v == 0 {
		return d
	}
	return v
}

// applyAlarm creates a seed alarm through PutMetricAlarm's validation.
func (l *Lab) applyAlarm(out *Seeded, a SeedAlarm) error {
	dims := map[string]string{}
	for k, v := range a.Dimensions {
		dims[k] = v
	}
	if a.LoadBalancer != "" {
		lb, ok := out.LoadBalancers[a.LoadBalancer]
		if !ok {
			return fmt.Errorf("seed alarm %s: no load balancer named %q", a.Name, a.LoadBalancer)
		}
		_, dim, _ := strings.Cut(lb.ARN, ":loadbalancer/")
		dims["LoadBalancer"] = dim
	}
	if a.Distribution != "" {
		d, ok := out.Distributions[a.Distribution]
		if !ok {
			return fmt.Errorf("seed alarm %s: no distribution named %q", a.Name, a.Distribution)
		}
		dims["DistributionId"], dims["Region"] = d.ID, "Global"
	}
	c := cloudwatch.AlarmConfig{Name: a.Name, Namespace: a.Namespace, MetricName: a.Metric, Dimensions: dims,
		Statistic: a.Statistic, Period: a.Period, EvaluationPeriods: 1, Threshold: a.Threshold, ComparisonOperator: a.Comparison}
	if c.Statistic == "" {
		c.Statistic = "Sum"
	}
	if c.Period == 0 {
		c.Period = time.Minute
	}
	if c.ComparisonOperator == "" {
		c.ComparisonOperator = "GreaterThanThreshold"
	}
	if err := l.CloudWatch.PutAlarm(acct(a.Account), c); err != nil {
		return fmt.Errorf("seed alarm %s: %w", a.Name, err)
	}
	return nil
}
