package lab

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/route53"
)

const seedYAML = `
certificates:
  - name: cdn
    domains: [cdn.example.com, "*.example.com"]
distributions:
  - name: old
    aliases: [cdn.example.com]
    certificate: cdn
    origin: {domain: 127.0.0.1, http_port: 8081}
load_balancers:
  - name: api-old
    targets: ["127.0.0.1:8082"]
roles:
  - arn: arn:aws:iam::222222222222:role/dns
    trust: ["111111111111"]
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: A, alias: {distribution: old}}
  - {zone: example.com, name: api.example.com, type: A, alias: {load_balancer: api-old, evaluate_target_health: true}}
  - {zone: example.com, name: www.example.com, type: CNAME, ttl: 300, values: [cdn.example.com]}
`

func startLab(t *testing.T) (*Lab, *Seeded, string) {
	t.Helper()
	l := New(Options{Propagation: -1, DeployDelay: -1, RateLimit: route53.RateLimitOff})
	s, err := ParseSeed("seed.yaml", []byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, seeded, srv.URL
}

// TestEveryServiceThroughOneEndpoint drives each emulated service through
// the lab's single listener with the real SDK clients, proving the
// dispatcher routes by SigV4 scope and that the seed built one world.
func TestEveryServiceThroughOneEndpoint(t *testing.T) {
	_, seeded, url := startLab(t)
	ctx := context.Background()
	cfg := awstest.Config(url)

	zones, err := r53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(seeded.Zones["example.com"])})
	if err != nil {
		t.Fatal(err)
	}
	var sawAlias bool
	for _, rs := range zones.ResourceRecordSets {
		if aws.ToString(rs.Name) == "cdn.example.com." && rs.AliasTarget != nil {
			sawAlias = aws.ToString(rs.AliasTarget.DNSName) == seeded.Distributions["old"].DomainName+"."
		}
	}
	if !sawAlias {
		t.Fatalf("seeded alias to the distribution not listed: %+v", zones.ResourceRecordSets)
	}

	dist, err := cloudfront.NewFromConfig(cfg).GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(seeded.Distributions["old"].ID)})
	if err != nil {
		t.Fatal(err)
	}
	if got := dist.Distribution.DistributionConfig.Aliases.Items; len(got) != 1 || got[0] != "cdn.example.com" {
		t.Fatalf("aliases %v", got)
	}

	cert, err := acm.NewFromConfig(cfg).DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(seeded.Certificates["cdn"])})
	if err != nil {
		t.Fatal(err)
	}
	if cert.Certificate.Status != "ISSUED" {
		t.Fatalf("seeded certificate %s", cert.Certificate.Status)
	}

	lbs, err := elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"api-old"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(lbs.LoadBalancers) != 1 || aws.ToString(lbs.LoadBalancers[0].DNSName) != seeded.LoadBalancers["api-old"].DNSName {
		t.Fatalf("load balancers %+v", lbs.LoadBalancers)
	}

	cw := cwsdk.NewFromConfig(cfg)
	now := time.Now().Truncate(time.Minute)
	if _, err := cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Lab/Test"), MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("hits"), Value: aws.Float64(4), Timestamp: aws.Time(now)}}}); err != nil {
		t.Fatal(err)
	}
	stats, err := cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{Namespace: aws.String("Lab/Test"), MetricName: aws.String("hits"), StartTime: aws.Time(now.Add(-time.Minute)), EndTime: aws.Time(now.Add(time.Minute)), Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Datapoints) != 1 || aws.ToFloat64(stats.Datapoints[0].Sum) != 4 {
		t.Fatalf("datapoints %+v", stats.Datapoints)
	}

	// A role chain reaches the other account, whose view of Route 53 is its own.
	stsc := stssdk.NewFromConfig(cfg)
	out, err := stsc.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/dns"), RoleSessionName: aws.String("cutover")})
	if err != nil {
		t.Fatal(err)
	}
	other := awstest.ConfigAs(url, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	id, err := stssdk.NewFromConfig(other).GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != awsapi.OtherAccountID {
		t.Fatalf("assumed identity in account %s", aws.ToString(id.Account))
	}
	theirs, err := r53.NewFromConfig(other).ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(theirs.HostedZones) != 0 {
		t.Fatalf("account 222222222222 sees another account's zones: %+v", theirs.HostedZones)
	}
}

func TestUnsignedAndUnknownKeysAreRefused(t *testing.T) {
	_, _, url := startLab(t)
	resp, err := http.Get(url + "/2013-04-01/hostedzone")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned request: %d", resp.StatusCode)
	}
	cfg := awstest.ConfigAs(url, "AKIANOTALABKEY000000", "nope", "")
	_, err = r53.NewFromConfig(cfg).ListHostedZones(context.Background(), &r53.ListHostedZonesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestHistoryRecordsAcceptedWritesOnly(t *testing.T) {
	l, seeded, url := startLab(t)
	ctx := context.Background()
	c := r53.NewFromConfig(awstest.Config(url))
	before := len(l.Env.History.List(awsapi.Filter{Service: "route53"}))
	// A DELETE that does not match exactly is refused and leaves no trace.
	_, err := c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(seeded.Zones["example.com"]),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www.example.com"), Type: r53types.RRTypeCname, TTL: aws.Int64(60), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("cdn.example.com")}}}}}},
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidChangeBatch" || !strings.Contains(ae.ErrorMessage(), "values provided do not match") {
		t.Fatalf("non-matching delete: %v", err)
	}
	if n := len(l.Env.History.List(awsapi.Filter{Service: "route53"})); n != before {
		t.Fatalf("refused change recorded: %d → %d entries", before, n)
	}
	_, err = c.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(seeded.Zones["example.com"]),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www.example.com"), Type: r53types.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("cdn.example.com")}}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/_lab/history?service=route53")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := len(l.Env.History.List(awsapi.Filter{Service: "route53"})); n != before+1 {
		t.Fatalf("accepted change: %d → %d entries", before, n)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	l, seeded, _ := startLab(t)
	data, err := l.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	l2 := New(Options{Propagation: -1, DeployDelay: -1, RateLimit: route53.RateLimitOff})
	if err := l2.Restore(data); err != nil {
		t.Fatal(err)
	}
	zone := seeded.Zones["example.com"]
	a, _ := l.Route53.Records(zone)
	b, ok := l2.Route53.Records(zone)
	if !ok || len(a) != len(b) {
		t.Fatalf("records %d → %d after restore", len(a), len(b))
	}
	if _, sets, ok := l2.Route53.Served("www.example.com."); !ok || len(sets) != 1 {
		t.Fatalf("restored zone does not serve www: %v", sets)
	}
	if len(l2.CloudFront.List()) != 1 {
		t.Fatal("distribution lost in snapshot")
	}
}

// TestCLIAgainstEveryService runs the real aws CLI through the lab's one
// endpoint, one call per service.
func TestCLIAgainstEveryService(t *testing.T) {
	_, seeded, url := startLab(t)
	for _, args := range [][]string{
		{"route53", "list-resource-record-sets", "--hosted-zone-id", seeded.Zones["example.com"]},
		{"cloudfront", "get-distribution", "--id", seeded.Distributions["old"].ID},
		{"acm", "describe-certificate", "--certificate-arn", seeded.Certificates["cdn"]},
		{"elbv2", "describe-load-balancers", "--names", "api-old"},
		{"sts", "get-caller-identity"},
		{"cloudwatch", "list-metrics"},
	} {
		res := awstest.CLI(t, url, args...)
		if res.ExitCode != 0 {
			t.Fatalf("aws %v: exit %d: %s", args, res.ExitCode, res.Stderr)
		}
	}
	res := awstest.CLI(t, url, "cloudfront", "get-distribution", "--id", "ENOSUCHDIST00")
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "NoSuchDistribution") {
		t.Fatalf("missing distribution: exit %d %s", res.ExitCode, res.Stderr)
	}
}
