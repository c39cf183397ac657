package conformance

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// otherBasics covers the calls cutover makes to the remaining services:
// who am I (STS), certificate lookups (ACM), load balancer and target
// group lookups (ELBv2) and a metric round trip (CloudWatch).
func otherBasics(r *run) {
	id, err := r.p.sts.GetCallerIdentity(r.ctx, &sts.GetCallerIdentityInput{})
	var iv any
	if err == nil {
		iv = map[string]string{"account": r.id("account", str(id.Account)), "arnAccountMatches": boolStr(accountNumber.FindString(str(id.Arn)) == str(id.Account))}
	}
	r.record("sts/get-caller-identity", iv, err)

	_, err = r.p.acm.DescribeCertificate(r.ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:" + str(id.Account) + ":certificate/00000000-0000-0000-0000-000000000000")})
	r.recordCode("acm/describe-unknown", nil, orAccepted(err))
	list, err := r.p.acm.ListCertificates(r.ctx, &acm.ListCertificatesInput{})
	var lv any
	if err == nil {
		lv = map[string]int{"certificates": len(list.CertificateSummaryList)}
	}
	r.record("acm/list-empty", lv, err)

	_, err = r.p.elb.DescribeLoadBalancers(r.ctx, &elb.DescribeLoadBalancersInput{Names: []string{"nothere"}})
	r.recordCode("elb/describe-unknown-lb", nil, orAccepted(err))
	_, err = r.p.elb.DescribeTargetHealth(r.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:" + str(id.Account) + ":targetgroup/nothere/0123456789abcdef")})
	r.recordCode("elb/target-health-unknown-tg", nil, orAccepted(err))
	lbs, err := r.p.elb.DescribeLoadBalancers(r.ctx, &elb.DescribeLoadBalancersInput{})
	var bv any
	if err == nil {
		bv = map[string]int{"loadBalancers": len(lbs.LoadBalancers)}
	}
	r.record("elb/describe-none", bv, err)

	// A whole minute well in the past, so both sides have it complete.
	at := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	_, err = r.p.cw.PutMetricData(r.ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Conformance"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("Requests"), Dimensions: []cwtypes.Dimension{{Name: aws.String("DistributionId"), Value: aws.String("E1")}}, Timestamp: aws.Time(at), Value: aws.Float64(3)},
		{MetricName: aws.String("Requests"), Dimensions: []cwtypes.Dimension{{Name: aws.String("DistributionId"), Value: aws.String("E1")}}, Timestamp: aws.Time(at.Add(10 * time.Second)), Value: aws.Float64(4)},
	}})
	r.recordCode("cw/put-metric-data", map[string]bool{"accepted": true}, err)
	stats, err := r.p.cw.GetMetricStatistics(r.ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("Conformance"), MetricName: aws.String("Requests"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("DistributionId"), Value: aws.String("E1")}},
		StartTime:  aws.Time(at.Add(-time.Minute)), EndTime: aws.Time(at.Add(2 * time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticSampleCount, cwtypes.StatisticMaximum},
	})
	var sv any
	if err == nil {
		var points []map[string]any
		for _, p := range stats.Datapoints {
			points = append(points, map[string]any{"at": aws.ToTime(p.Timestamp).Sub(at).String(), "sum": aws.ToFloat64(p.Sum), "n": aws.ToFloat64(p.SampleCount), "max": aws.ToFloat64(p.Maximum)})
		}
		sv = map[string]any{"label": str(stats.Label), "points": points}
	}
	r.recordCode("cw/get-metric-statistics", sv, err)
	data, err := r.p.cw.GetMetricData(r.ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(at.Add(-time.Minute)), EndTime: aws.Time(at.Add(2 * time.Minute)),
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("requests"), MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{Namespace: aws.String("Conformance"), MetricName: aws.String("Requests"), Dimensions: []cwtypes.Dimension{{Name: aws.String("DistributionId"), Value: aws.String("E1")}}},
			Period: aws.Int32(60), Stat: aws.String("Sum"),
		}}},
	})
	var dv any
	if err == nil {
		var results []map[string]any
		for _, res := range data.MetricDataResults {
			var ts []string
			for _, x := range res.Timestamps {
				ts = append(ts, x.Sub(at).String())
			}
			results = append(results, map[string]any{"id": str(res.Id), "label": str(res.Label), "status": string(res.StatusCode), "at": ts, "values": res.Values})
		}
		dv = results
	}
	r.recordCode("cw/get-metric-data", dv, err)
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
