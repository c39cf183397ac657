// Package awsread reads, through aws-sdk-go-v2, what the preflight and
// decommission checks look at: ACM certificates, ELBv2 listeners and
// target health, Route 53 zones, records and health checks, CloudWatch
// alarms and request counts. Each SDK sits behind a narrow interface of
// just the calls used.
package awsread

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/preflight"
)

type acmAPI interface {
	DescribeCertificate(ctx context.Context, in *acm.DescribeCertificateInput, opts ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	ListCertificates(ctx context.Context, in *acm.ListCertificatesInput, opts ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
}

type elbAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, opts ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DescribeListeners(ctx context.Context, in *elb.DescribeListenersInput, opts ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elb.DescribeTargetGroupsInput, opts ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elb.DescribeTargetHealthInput, opts ...func(*elb.Options)) (*elb.DescribeTargetHealthOutput, error)
}

type route53API interface {
	ListHostedZones(ctx context.Context, in *route53.ListHostedZonesInput, opts ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error)
	ListHealthChecks(ctx context.Context, in *route53.ListHealthChecksInput, opts ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error)
}

type cloudwatchAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

var (
	_ acmAPI        = (*acm.Client)(nil)
	_ elbAPI        = (*elb.Client)(nil)
	_ route53API    = (*route53.Client)(nil)
	_ cloudwatchAPI = (*cloudwatch.Client)(nil)
)

// Config returns the AWS configuration of a region.
type Config func(ctx context.Context, region string) (aws.Config, error)

// RecordReader is the zone provider's part the checks use
// (internal/dns/route53.Provider).
type RecordReader interface {
	Records(ctx context.Context, zone, name string) ([]dns.RecordSet, error)
	AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error)
}

// ACM reads certificates, one client per region.
type ACM struct{ Config Config }

var _ preflight.Certificates = ACM{}

func (a ACM) client(ctx context.Context, region string) (acmAPI, error) {
	cfg, err := a.Config(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("ACM credentials for %s: %w", region, err)
	}
	return acm.NewFromConfig(cfg), nil
}

// Certificate describes arn in the region its ARN names.
func (a ACM) Certificate(ctx context.Context, arn string) (preflight.Certificate, error) {
	api, err := a.client(ctx, arnRegion(arn))
	if err != nil {
		return preflight.Certificate{}, err
	}
	return describe(ctx, api, arn)
}

func describe(ctx context.Context, api acmAPI, arn string) (preflight.Certificate, error) {
	out, err := api.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return preflight.Certificate{}, err
	}
	d := out.Certificate
	if d == nil {
		return preflight.Certificate{}, fmt.Errorf("describing certificate %s: empty answer", arn)
	}
	c := preflight.Certificate{ARN: arn, Status: string(d.Status), Domains: d.SubjectAlternativeNames, NotAfter: aws.ToTime(d.NotAfter)}
	if len(c.Domains) == 0 && d.DomainName != nil {
		c.Domains = []string{aws.ToString(d.DomainName)}
	}
	return c, nil
}

// Covering lists the region's certificates, of any status, one of whose
// names covers host or is its parent's wildcard.
func (a ACM) Covering(ctx context.Context, region, host string) ([]preflight.Certificate, error) {
	api, err := a.client(ctx, region)
	if err != nil {
		return nil, err
	}
	in := &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{
		acmtypes.CertificateStatusIssued, acmtypes.CertificateStatusPendingValidation, acmtypes.CertificateStatusExpired,
		acmtypes.CertificateStatusInactive, acmtypes.CertificateStatusFailed, acmtypes.CertificateStatusValidationTimedOut, acmtypes.CertificateStatusRevoked,
	}}
	var out []preflight.Certificate
	p := acm.NewListCertificatesPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.CertificateSummaryList {
			// The summary's names may be cut short (or, from some
			// emulators, missing): then only the description tells.
			names := append([]string{aws.ToString(s.DomainName)}, s.SubjectAlternativeNameSummaries...)
			partial := len(s.SubjectAlternativeNameSummaries) == 0 || aws.ToBool(s.HasAdditionalSubjectAlternativeNames)
			if !partial && !mentions(names, host) {
				continue
			}
			c, err := describe(ctx, api, aws.ToString(s.CertificateArn))
			if err != nil {
				return nil, err
			}
			if mentions(c.Domains, host) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// mentions reports whether a name is host or the wildcard of its parent.
func mentions(names []string, host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	parent := ""
	if i := strings.IndexByte(h, '.'); i > 0 {
		parent = "*." + h[i+1:]
	}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n == h || n == parent {
			return true
		}
	}
	return false
}

func arnRegion(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) > 3 && parts[3] != "" {
		return parts[3]
	}
	return "us-east-1"
}

// ELB reads load balancers.
type ELB struct{ Config Config }

var _ preflight.LoadBalancers = ELB{}

// LoadBalancer reads ref (an ARN or a DNS name), its listeners and the
// health of every target of its target groups.
func (e ELB) LoadBalancer(ctx context.Context, ref string) (preflight.LoadBalancer, error) {
	region := lbRegion(ref)
	cfg, err := e.Config(ctx, region)
	if err != nil {
		return preflight.LoadBalancer{}, fmt.Errorf("ELB credentials for %s: %w", region, err)
	}
	return readLB(ctx, elb.NewFromConfig(cfg), ref, region)
}

func readLB(ctx context.Context, api elbAPI, ref, region string) (preflight.LoadBalancer, error) {
	in := &elb.DescribeLoadBalancersInput{}
	byARN := strings.HasPrefix(ref, "arn:")
	if byARN {
		in.LoadBalancerArns = []string{ref}
	}
	want := strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(ref), "dualstack."), ".")
	var lb preflight.LoadBalancer
	p := elb.NewDescribeLoadBalancersPaginator(api, in)
	for p.HasMorePages() && lb.ARN == "" {
		page, err := p.NextPage(ctx)
		if err != nil {
			return lb, err
		}
		for _, l := range page.LoadBalancers {
			if byARN || strings.EqualFold(aws.ToString(l.DNSName), want) {
				lb = preflight.LoadBalancer{ARN: aws.ToString(l.LoadBalancerArn), Name: aws.ToString(l.LoadBalancerName), DNSName: strings.ToLower(aws.ToString(l.DNSName)), Region: region}
				break
			}
		}
	}
	if lb.ARN == "" {
		return lb, fmt.Errorf("load balancer %s: not found", ref)
	}
	ls, err := api.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lb.ARN)})
	if err != nil {
		return lb, fmt.Errorf("listeners of %s: %w", lb.Name, err)
	}
	for _, l := range ls.Listeners {
		li := preflight.Listener{ARN: aws.ToString(l.ListenerArn), Protocol: string(l.Protocol), Port: int(aws.ToInt32(l.Port))}
		for _, c := range l.Certificates {
			li.Certificates = append(li.Certificates, aws.ToString(c.CertificateArn))
		}
		lb.Listeners = append(lb.Listeners, li)
	}
	tgs, err := api.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lb.ARN)})
	if err != nil {
		return lb, fmt.Errorf("target groups of %s: %w", lb.Name, err)
	}
	for _, tg := range tgs.TargetGroups {
		h, err := api.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			return lb, fmt.Errorf("target health of %s: %w", aws.ToString(tg.TargetGroupName), err)
		}
		for _, d := range h.TargetHealthDescriptions {
			t := preflight.TargetHealth{TargetGroup: aws.ToString(tg.TargetGroupName)}
			if d.Target != nil {
				t.ID, t.Port = aws.ToString(d.Target.Id), int(aws.ToInt32(d.Target.Port))
			}
			if d.TargetHealth != nil {
				t.State, t.Reason = string(d.TargetHealth.State), string(d.TargetHealth.Reason)
			}
			lb.Targets = append(lb.Targets, t)
		}
	}
	return lb, nil
}

// lbRegion reads the region from a load balancer ARN or DNS name.
func lbRegion(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return arnRegion(ref)
	}
	labels := strings.Split(strings.TrimSuffix(ref, "."), ".")
	for i, l := range labels {
		if l == "elb" && i > 0 {
			return labels[i-1]
		}
	}
	return "us-east-1"
}

// Route53 reads zones, their records and health checks.
type Route53 struct {
	API route53API
	RR  RecordReader
}

// budget is what a RecordReader may offer to count the calls made with
// API against the run's Route 53 budget (route53.Provider.Wait).
type budget interface {
	Wait(ctx context.Context) error
}

// spend takes one call from RR's budget, when it has one.
func (r Route53) spend(ctx context.Context) error {
	if b, ok := r.RR.(budget); ok {
		return b.Wait(ctx)
	}
	return nil
}

var (
	_ preflight.Zones        = Route53{}
	_ preflight.HealthChecks = Route53{}
)

// NewRoute53 reads Route 53 with cfg; records go through rr (the zone
// provider, which retries under the shared rate limit).
func NewRoute53(cfg aws.Config, rr RecordReader) Route53 {
	return Route53{API: route53.NewFromConfig(cfg, func(o *route53.Options) {
		if o.Region == "" {
			o.Region = "us-east-1"
		}
	}), RR: rr}
}

// HostedZones lists the account's zones.
func (r Route53) HostedZones(ctx context.Context) ([]preflight.HostedZone, error) {
	var out []preflight.HostedZone
	p := route53.NewListHostedZonesPaginator(r.API, &route53.ListHostedZonesInput{})
	for p.HasMorePages() {
		if err := r.spend(ctx); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, z := range page.HostedZones {
			hz := preflight.HostedZone{ID: strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"), Name: strings.ToLower(dns.Fqdn(aws.ToString(z.Name)))}
			if z.Config != nil {
				hz.Private = z.Config.PrivateZone
			}
			out = append(out, hz)
		}
	}
	return out, nil
}

// Records returns the record sets at name.
func (r Route53) Records(ctx context.Context, zone, name string) ([]dns.RecordSet, error) {
	return r.RR.Records(ctx, zone, name)
}

// AllRecords returns every record set of zone.
func (r Route53) AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error) {
	return r.RR.AllRecords(ctx, zone)
}

// HealthChecks lists the account's health checks.
func (r Route53) HealthChecks(ctx context.Context) ([]preflight.HealthCheck, error) {
	var out []preflight.HealthCheck
	p := route53.NewListHealthChecksPaginator(r.API, &route53.ListHealthChecksInput{})
	for p.HasMorePages() {
		if err := r.spend(ctx); err != nil {
			return nil, err
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, h := range page.HealthChecks {
			hc := preflight.HealthCheck{ID: aws.ToString(h.Id)}
			if c := h.HealthCheckConfig; c != nil {
				hc.Type, hc.FQDN, hc.IP = string(c.Type), aws.ToString(c.FullyQualifiedDomainName), aws.ToString(c.IPAddress)
			}
			out = append(out, hc)
		}
	}
	return out, nil
}

// CloudWatch reads alarms and request counts, one client per region.
type CloudWatch struct{ Config Config }

var _ preflight.Metrics = CloudWatch{}

func (c CloudWatch) client(ctx context.Context, region string) (cloudwatchAPI, error) {
	cfg, err := c.Config(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("CloudWatch credentials for %s: %w", region, err)
	}
	return cloudwatch.NewFromConfig(cfg), nil
}

// Alarms lists the region's metric alarms with their dimensions.
func (c CloudWatch) Alarms(ctx context.Context, region string) ([]preflight.Alarm, error) {
	api, err := c.client(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []preflight.Alarm
	p := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.MetricAlarms {
			al := preflight.Alarm{Name: aws.ToString(a.AlarmName), Namespace: aws.ToString(a.Namespace), Metric: aws.ToString(a.MetricName), Dimensions: map[string]string{}}
			for _, d := range a.Dimensions {
				al.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
			}
			for _, m := range a.Metrics {
				if m.MetricStat != nil && m.MetricStat.Metric != nil {
					for _, d := range m.MetricStat.Metric.Dimensions {
						al.Dimensions[aws.ToString(d.Name)] = aws.ToString(d.Value)
					}
				}
			}
			out = append(out, al)
		}
	}
	return out, nil
}

// Sum adds up a metric's per-minute sums over [start, end).
func (c CloudWatch) Sum(ctx context.Context, region, namespace, metric string, dims map[string]string, start, end time.Time) (float64, bool, error) {
	api, err := c.client(ctx, region)
	if err != nil {
		return 0, false, err
	}
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(start.Truncate(time.Minute)), EndTime: aws.Time(end),
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id:         aws.String("requests"),
			MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String(namespace), MetricName: aws.String(metric), Dimensions: ds}, Period: aws.Int32(60), Stat: aws.String("Sum")},
		}},
	}
	var sum float64
	found := false
	p := cloudwatch.NewGetMetricDataPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, false, err
		}
		for _, r := range page.MetricDataResults {
			for _, v := range r.Values {
				sum += v
				found = true
			}
		}
	}
	return sum, found, nil
}
