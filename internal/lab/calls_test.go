package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// TestCallLogRecordsReadsWritesAndRefusals drives one call of each kind
// through the lab and reads the call log back: reads are logged as well as
// writes, refused calls with their status, assumed roles as themselves,
// and each call names the resource it is authorized on.
func TestCallLogRecordsReadsWritesAndRefusals(t *testing.T) {
	l, seeded, url := startLab(t)
	ctx := context.Background()
	cfg := awstest.Config(url)
	zone := seeded.Zones["example.com"]
	dist := seeded.Distributions["old"].ID
	start := l.Env.Calls.Len()

	_, _ = r53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	// Refused: the values do not match; the log keeps it with its status.
	_, _ = r53.NewFromConfig(cfg).ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionDelete, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("www.example.com"), Type: r53types.RRTypeCname, TTL: aws.Int64(1), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("x.example.com")}}}}}},
	})
	cf := cloudfront.NewFromConfig(cfg)
	_, _ = cf.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(dist)})
	_, _ = cf.ListConflictingAliases(ctx, &cloudfront.ListConflictingAliasesInput{DistributionId: aws.String(dist), Alias: aws.String("cdn.example.com")})
	_, _ = acm.NewFromConfig(cfg).DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(seeded.Certificates["cdn"])})
	_, _ = elb.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	now := time.Now()
	_, _ = cwsdk.NewFromConfig(cfg).GetMetricData(ctx, &cwsdk.GetMetricDataInput{StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("m"), MetricStat: &cwtypes.MetricStat{Metric: &cwtypes.Metric{Namespace: aws.String("AWS/CloudFront"), MetricName: aws.String("Requests")}, Period: aws.Int32(60), Stat: aws.String("Sum")}}}})
	role := "arn:aws:iam::222222222222:role/dns"
	out, err := stssdk.NewFromConfig(cfg).AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("cutover")})
	if err != nil {
		t.Fatal(err)
	}
	other := awstest.ConfigAs(url, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	_, _ = r53.NewFromConfig(other).ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	_, _ = r53.NewFromConfig(awstest.ConfigAs(url, "AKIANOTALABKEY000000", "nope", "")).ListHostedZones(ctx, &r53.ListHostedZonesInput{})

	var got []string
	for _, c := range l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start}) {
		got = append(got, fmt.Sprintf("%s %s:%s %s %d", c.Account, c.Service, c.Operation, c.Resource, c.Status))
	}
	acct := awsapi.DefaultAccountID
	want := []string{
		acct + " route53:ListResourceRecordSets arn:aws:route53:::hostedzone/" + zone + " 200",
		acct + " route53:ChangeResourceRecordSets arn:aws:route53:::hostedzone/" + zone + " 400",
		acct + " cloudfront:GetDistributionConfig arn:aws:cloudfront::" + acct + ":distribution/" + dist + " 200",
		acct + " cloudfront:ListConflictingAliases arn:aws:cloudfront::" + acct + ":distribution/" + dist + " 200",
		acct + " acm:DescribeCertificate " + seeded.Certificates["cdn"] + " 200",
		acct + " elasticloadbalancing:DescribeLoadBalancers  200",
		acct + " cloudwatch:GetMetricData  200",
		acct + " sts:AssumeRole " + role + " 200",
		awsapi.OtherAccountID + " route53:ListHostedZones  200",
		" route53:  403",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("call log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A change batch carries the values IAM's Route 53 condition keys
	// are evaluated on, refused or not.
	batch := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start})[1]
	if got := fmt.Sprint(batch.Context); got != "map[route53:ChangeResourceRecordSetsActions:[DELETE] route53:ChangeResourceRecordSetsNormalizedRecordNames:[www.example.com] route53:ChangeResourceRecordSetsRecordTypes:[CNAME]]" {
		t.Fatalf("condition context of the batch: %s", got)
	}
	calls := l.Env.Calls.List(awsapi.CallFilter{SinceSeq: start, Account: awsapi.OtherAccountID})
	if len(calls) != 1 || !strings.Contains(calls[0].Caller, "assumed-role/dns/cutover") {
		t.Fatalf("the role's call is not logged as the assumed role: %+v", calls)
	}

	resp, err := http.Get(url + fmt.Sprintf("/_lab/calls?service=cloudfront&since=%d", start))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var served []awsapi.Call
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
		t.Fatal(err)
	}
	if len(served) != 2 || served[0].Operation != "GetDistributionConfig" || served[1].Operation != "ListConflictingAliases" {
		t.Fatalf("/_lab/calls?service=cloudfront: %+v", served)
	}
}
