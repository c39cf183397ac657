package cloudwatch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

func sdkClient(l *lab) *cw.Client { return cw.NewFromConfig(awstest.Config(l.url)) }

// latencyData publishes irregularly spaced samples over the 20 minutes
// before t0, plus one exactly at t0 (which EndTime=t0 must exclude), and
// returns what a query over [t0-20m, t0) must see.
func latencyData(t *testing.T, c *cw.Client) []refPoint {
	t.Helper()
	var data []types.MetricDatum
	var want []refPoint
	dims := []types.Dimension{{Name: aws.String("Edge"), Value: aws.String("blue")}}
	for i := 0; i < 45; i++ {
		ts := t0.Add(-20 * time.Minute).Add(time.Duration(i*27) * time.Second)
		v := float64((i*7)%13) + 0.5*float64(i)
		data = append(data, types.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(ts), Value: aws.Float64(v), Unit: types.StandardUnitMilliseconds})
		want = append(want, refPoint{ts, v})
	}
	// Values with Counts: 1 once, 2 twice, 3 once, in the second bucket.
	vt := t0.Add(-14 * time.Minute)
	data = append(data, types.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(vt),
		Values: []float64{1, 2, 3}, Counts: []float64{1, 2, 1}, Unit: types.StandardUnitMilliseconds})
	want = append(want, refPoint{vt, 1}, refPoint{vt, 2}, refPoint{vt, 2}, refPoint{vt, 3})
	data = append(data, types.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(t0), Value: aws.Float64(1e6), Unit: types.StandardUnitMilliseconds})
	_, err := c.PutMetricData(context.Background(), &cw.PutMetricDataInput{Namespace: aws.String("Lab/Edge"), MetricData: data})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	return want
}

func TestSDKGetMetricDataAggregatesPeriods(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	want := expectedBuckets(latencyData(t, c), 5*time.Minute, 99)
	if len(want) != 4 {
		t.Fatalf("reference has %d buckets, want 4", len(want))
	}
	metric := &types.Metric{Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Latency"),
		Dimensions: []types.Dimension{{Name: aws.String("Edge"), Value: aws.String("blue")}}}
	q := func(id, stat string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), MetricStat: &types.MetricStat{Metric: metric, Period: aws.Int32(300), Stat: aws.String(stat)}}
	}
	out, err := c.GetMetricData(context.Background(), &cw.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0),
		ScanBy:            types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{q("sum", "Sum"), q("avg", "Average"), q("p99", "p99")},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	if len(out.MetricDataResults) != 3 {
		t.Fatalf("got %d results, want 3", len(out.MetricDataResults))
	}
	for _, r := range out.MetricDataResults {
		if r.StatusCode != types.StatusCodeComplete {
			t.Errorf("%s: status %s, want Complete", *r.Id, r.StatusCode)
		}
		if *r.Label != "Latency" {
			t.Errorf("%s: label %q, want Latency", *r.Id, *r.Label)
		}
		if len(r.Timestamps) != len(want) || len(r.Values) != len(want) {
			t.Fatalf("%s: %d timestamps/%d values, want %d", *r.Id, len(r.Timestamps), len(r.Values), len(want))
		}
		for i, b := range want {
			exp := map[string]float64{"sum": b.sum, "avg": b.avg, "p99": b.pct}[*r.Id]
			if !r.Timestamps[i].Equal(b.start) || !near(r.Values[i], exp) {
				t.Errorf("%s[%d] = %v@%v, want %v@%v", *r.Id, i, r.Values[i], r.Timestamps[i], exp, b.start)
			}
		}
	}

	// Default ScanBy is TimestampDescending.
	out, err = c.GetMetricData(context.Background(), &cw.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0),
		MetricDataQueries: []types.MetricDataQuery{q("sum", "Sum")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ts := out.MetricDataResults[0].Timestamps; len(ts) != 4 || !ts[0].Equal(want[3].start) {
		t.Errorf("descending timestamps = %v", ts)
	}
}

func TestSDKGetMetricDataPaginates(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	latencyData(t, c)
	in := &cw.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0), MaxDatapoints: aws.Int32(3),
		ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Latency"),
				Dimensions: []types.Dimension{{Name: aws.String("Edge"), Value: aws.String("blue")}}},
			Period: aws.Int32(120), Stat: aws.String("SampleCount")}}},
	}
	var total float64
	var pages, points int
	p := cw.NewGetMetricDataPaginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		r := out.MetricDataResults[0]
		if out.NextToken != nil && r.StatusCode != types.StatusCodePartialData {
			t.Errorf("page %d: status %s with more pages, want PartialData", pages, r.StatusCode)
		}
		points += len(r.Values)
		for _, v := range r.Values {
			total += v
		}
	}
	// 45 single samples + 4 from Values/Counts; the one at EndTime excluded.
	if total != 49 || points != 10 || pages != 4 {
		t.Errorf("total SampleCount %v over %d points in %d pages, want 49 over 10 in 4", total, points, pages)
	}
	in.NextToken = aws.String("garbage")
	_, err := c.GetMetricData(context.Background(), in)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidNextToken" {
		t.Errorf("bad token: %v, want InvalidNextToken", err)
	}
}

func TestSDKExpressionErrorRate(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	// requests: 100, 200, 50 per minute; errors in minutes 1 and 3 only
	// (counters are reported only when non-zero).
	var data []types.MetricDatum
	for i, n := range []float64{100, 200, 50} {
		ts := t0.Add(time.Duration(i-3) * time.Minute)
		data = append(data, types.MetricDatum{MetricName: aws.String("Requests"), Timestamp: aws.Time(ts), Value: aws.Float64(n)})
	}
	data = append(data,
		types.MetricDatum{MetricName: aws.String("5xx"), Timestamp: aws.Time(t0.Add(-3 * time.Minute)), Value: aws.Float64(5)},
		types.MetricDatum{MetricName: aws.String("5xx"), Timestamp: aws.Time(t0.Add(-1 * time.Minute)), Value: aws.Float64(10)})
	if _, err := c.PutMetricData(context.Background(), &cw.PutMetricDataInput{Namespace: aws.String("Lab/App"), MetricData: data}); err != nil {
		t.Fatal(err)
	}
	ms := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("Lab/App"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	out, err := c.GetMetricData(context.Background(), &cw.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-3 * time.Minute)), EndTime: aws.Time(t0), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			ms("errors", "5xx"), ms("requests", "Requests"),
			{Id: aws.String("rate"), Expression: aws.String("100*errors/requests"), Label: aws.String("5xx rate")},
			{Id: aws.String("filled"), Expression: aws.String("100 * FILL(errors, 0) / requests")},
			{Id: aws.String("total"), Expression: aws.String("SUM(METRICS())")},
		},
	})
	if err != nil {
		t.Fatalf("GetMetricData: %v", err)
	}
	got := map[string]types.MetricDataResult{}
	for _, r := range out.MetricDataResults {
		got[*r.Id] = r
	}
	if _, ok := got["errors"]; ok || len(got) != 3 {
		t.Fatalf("results %v: ReturnData=false queries must be left out", got)
	}
	check := func(id string, wantT []time.Time, wantV []float64) {
		t.Helper()
		r := got[id]
		if len(r.Values) != len(wantV) {
			t.Fatalf("%s = %v@%v, want %v", id, r.Values, r.Timestamps, wantV)
		}
		for i := range wantV {
			if !near(r.Values[i], wantV[i]) || !r.Timestamps[i].Equal(wantT[i]) {
				t.Errorf("%s[%d] = %v@%v, want %v@%v", id, i, r.Values[i], r.Timestamps[i], wantV[i], wantT[i])
			}
		}
	}
	m := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	check("rate", []time.Time{m(-3), m(-1)}, []float64{5, 20})
	check("filled", []time.Time{m(-3), m(-2), m(-1)}, []float64{5, 0, 20})
	check("total", []time.Time{m(-3), m(-2), m(-1)}, []float64{105, 200, 60})
	if *got["rate"].Label != "5xx rate" {
		t.Errorf("label %q", *got["rate"].Label)
	}

	_, err = c.GetMetricData(context.Background(), &cw.GetMetricDataInput{
		StartTime: aws.Time(t0.Add(-3 * time.Minute)), EndTime: aws.Time(t0),
		MetricDataQueries: []types.MetricDataQuery{ms("errors", "5xx"), {Id: aws.String("bad"), Expression: aws.String("errors / nosuch")}},
	})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationError" || apiErr.ErrorMessage() != "Error in expression bad: unknown metric or expression id nosuch" {
		t.Errorf("unknown id: %v", err)
	}
}

func TestSDKGetMetricStatisticsExtended(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	want := expectedBuckets(latencyData(t, c), 10*time.Minute, 90)
	out, err := c.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
		Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Latency"),
		Dimensions: []types.Dimension{{Name: aws.String("Edge"), Value: aws.String("blue")}},
		StartTime:  aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0), Period: aws.Int32(600),
		ExtendedStatistics: []string{"p90", "p0.0", "p100"},
	})
	if err != nil {
		t.Fatalf("GetMetricStatistics: %v", err)
	}
	if *out.Label != "Latency" || len(out.Datapoints) != len(want) {
		t.Fatalf("label %q, %d datapoints, want %d", *out.Label, len(out.Datapoints), len(want))
	}
	for i, dp := range out.Datapoints {
		if !dp.Timestamp.Equal(want[i].start) || !near(dp.ExtendedStatistics["p90"], want[i].pct) {
			t.Errorf("dp %d: p90 %v@%v, want %v@%v", i, dp.ExtendedStatistics["p90"], dp.Timestamp, want[i].pct, want[i].start)
		}
		if dp.Unit != types.StandardUnitMilliseconds || dp.Sum != nil {
			t.Errorf("dp %d: unit %s, sum %v", i, dp.Unit, dp.Sum)
		}
		if dp.ExtendedStatistics["p0.0"] > dp.ExtendedStatistics["p100"] {
			t.Errorf("dp %d: p0 > p100", i)
		}
	}

	// Publishing the same samples again doubles the count, not the maximum.
	all := expectedBuckets(latencyData(t, c), 20*time.Minute, 100)
	stats, err := c.GetMetricStatistics(context.Background(), &cw.GetMetricStatisticsInput{
		Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Latency"),
		Dimensions: []types.Dimension{{Name: aws.String("Edge"), Value: aws.String("blue")}},
		StartTime:  aws.Time(t0.Add(-20 * time.Minute)), EndTime: aws.Time(t0), Period: aws.Int32(1200),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticSampleCount, types.StatisticMaximum},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(stats.Datapoints) != 1 || *stats.Datapoints[0].SampleCount != 2*float64(all[0].n) || !near(*stats.Datapoints[0].Maximum, all[0].pct) {
		t.Errorf("datapoints %d: n=%v max=%v, want one of %d samples with max %v", len(stats.Datapoints), *stats.Datapoints[0].SampleCount, *stats.Datapoints[0].Maximum, 2*all[0].n, all[0].pct)
	}
}

func TestSDKValidationErrors(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	ctx := context.Background()
	base := func() *cw.GetMetricStatisticsInput {
		return &cw.GetMetricStatisticsInput{Namespace: aws.String("Lab/X"), MetricName: aws.String("M"),
			StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0), Period: aws.Int32(60), Statistics: []types.Statistic{types.StatisticSum}}
	}
	badPeriod := base()
	badPeriod.Period = aws.Int32(90)
	both := base()
	both.ExtendedStatistics = []string{"p99"}
	badPct := base()
	badPct.Statistics, badPct.ExtendedStatistics = nil, []string{"p100.5"}
	tooMany := base()
	tooMany.Period, tooMany.StartTime = aws.Int32(1), aws.Time(t0.Add(-25*time.Minute))
	for _, tc := range []struct {
		name    string
		call    func() error
		code    string
		message string
		typed   any
	}{
		{"bad period", func() error { _, err := c.GetMetricStatistics(ctx, badPeriod); return err },
			"InvalidParameterValue", "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.", new(*types.InvalidParameterValueException)},
		{"statistics and extended", func() error { _, err := c.GetMetricStatistics(ctx, both); return err },
			"InvalidParameterCombination", "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.", new(*types.InvalidParameterCombinationException)},
		{"bad percentile", func() error { _, err := c.GetMetricStatistics(ctx, badPct); return err },
			"InvalidParameterValue", "The value p100.5 for parameter ExtendedStatistics.member.1 is invalid.", new(*types.InvalidParameterValueException)},
		{"too many datapoints", func() error { _, err := c.GetMetricStatistics(ctx, tooMany); return err },
			"InvalidParameterCombination", "You have requested up to 1500 datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", new(*types.InvalidParameterCombinationException)},
		{"empty namespace", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String(""), MetricData: []types.MetricDatum{{MetricName: aws.String("M"), Value: aws.Float64(1)}}})
			return err
		}, "MissingParameter", "The parameter Namespace is required.", new(*types.MissingRequiredParameterException)},
		{"AWS namespace", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("AWS/CloudFront"), MetricData: []types.MetricDatum{{MetricName: aws.String("M"), Value: aws.Float64(1)}}})
			return err
		}, "InvalidParameterValue", "The value AWS/ for parameter Namespace is invalid.", new(*types.InvalidParameterValueException)},
		{"value and values", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Lab/X"), MetricData: []types.MetricDatum{{MetricName: aws.String("M"), Value: aws.Float64(1), Values: []float64{2}}}})
			return err
		}, "InvalidParameterCombination", "The parameters MetricData.member.1.Value, MetricData.member.1.Values and MetricData.member.1.StatisticValues are mutually exclusive and you have specified more than one of them.", new(*types.InvalidParameterCombinationException)},
		{"old timestamp", func() error {
			_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Lab/X"), MetricData: []types.MetricDatum{{MetricName: aws.String("M"), Value: aws.Float64(1), Timestamp: aws.Time(t0.Add(-15 * 24 * time.Hour))}}})
			return err
		}, "InvalidParameterValue", "The parameter MetricData.member.1.Timestamp must specify a time no more than two weeks in the past.", new(*types.InvalidParameterValueException)},
		{"bad query id", func() error {
			_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0),
				MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("Upper"), Expression: aws.String("1")}}})
			return err
		}, "InvalidParameterValue", "The value Upper for parameter MetricDataQueries.member.1.Id is invalid. Ids must start with a lowercase letter and contain only letters, numbers and underscores.", new(*types.InvalidParameterValueException)},
		{"bad stat", func() error {
			_, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0),
				MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("m"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("Lab/X"), MetricName: aws.String("M")}, Period: aws.Int32(60), Stat: aws.String("Median")}}}})
			return err
		}, "InvalidParameterValue", "The value Median for parameter MetricDataQueries.member.1.MetricStat.Stat is invalid.", new(*types.InvalidParameterValueException)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v, want an API error", err)
			}
			if apiErr.ErrorCode() != tc.code || apiErr.ErrorMessage() != tc.message {
				t.Errorf("got %s: %q\nwant %s: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), tc.code, tc.message)
			}
			if !errors.As(err, tc.typed) {
				t.Errorf("err %T is not the modelled exception %T", err, tc.typed)
			}
		})
	}
	if h := l.env.History.List(awsapi.Filter{Service: "cloudwatch"}); len(h) != 0 {
		t.Errorf("rejected requests recorded history: %+v", h)
	}
}

func TestSDKListMetricsAndAccounts(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	other := cw.NewFromConfig(awstest.ConfigAs(l.url, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, ""))
	ctx := context.Background()
	put := func(c *cw.Client, name, edge string) {
		t.Helper()
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Lab/Edge"), MetricData: []types.MetricDatum{{
			MetricName: aws.String(name), Value: aws.Float64(1), Timestamp: aws.Time(t0.Add(-time.Minute)),
			Dimensions: []types.Dimension{{Name: aws.String("Edge"), Value: aws.String(edge)}, {Name: aws.String("Az"), Value: aws.String("a")}}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(c, "Requests", "blue")
	put(c, "Requests", "green")
	put(c, "Errors", "blue")
	put(other, "Requests", "red")
	out, err := c.ListMetrics(ctx, &cw.ListMetricsInput{Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Requests")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Metrics) != 2 || *out.Metrics[0].Dimensions[0].Name != "Az" {
		t.Fatalf("metrics %+v", out.Metrics)
	}
	out, err = c.ListMetrics(ctx, &cw.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Edge"), Value: aws.String("blue")}}})
	if err != nil || len(out.Metrics) != 2 {
		t.Fatalf("filter by dimension: %v %+v", err, out)
	}
	// The other account's metric is invisible unless addressed by AccountId.
	q := types.MetricDataQuery{Id: aws.String("m"), MetricStat: &types.MetricStat{Period: aws.Int32(60), Stat: aws.String("Sum"),
		Metric: &types.Metric{Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Requests"),
			Dimensions: []types.Dimension{{Name: aws.String("Az"), Value: aws.String("a")}, {Name: aws.String("Edge"), Value: aws.String("red")}}}}}
	gmd := func() int {
		res, err := c.GetMetricData(ctx, &cw.GetMetricDataInput{StartTime: aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0), MetricDataQueries: []types.MetricDataQuery{q}})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.MetricDataResults[0].Values)
	}
	if n := gmd(); n != 0 {
		t.Errorf("own account sees %d points of the other account's metric", n)
	}
	q.AccountId = aws.String(awsapi.OtherAccountID)
	if n := gmd(); n != 1 {
		t.Errorf("AccountId query sees %d points, want 1", n)
	}
	if h := l.env.History.List(awsapi.Filter{Service: "cloudwatch"}); len(h) != 4 || h[3].Account != awsapi.OtherAccountID || h[0].Operation != "PutMetricData" {
		t.Errorf("history %+v", h)
	}
}

func TestSDKAlarmGoesOKToAlarm(t *testing.T) {
	l := newLab(t, Options{})
	c := sdkClient(l)
	ctx := context.Background()
	_, err := c.PutMetricAlarm(ctx, &cw.PutMetricAlarmInput{
		AlarmName: aws.String("edge-5xx"), Namespace: aws.String("Lab/Edge"), MetricName: aws.String("Errors"),
		Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(3), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(10), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		TreatMissingData: aws.String("notBreaching"), AlarmActions: []string{"arn:aws:sns:us-east-1:111111111111:pager"},
	})
	if err != nil {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	state := func() types.MetricAlarm {
		t.Helper()
		out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"edge-5xx"}})
		if err != nil || len(out.MetricAlarms) != 1 {
			t.Fatalf("DescribeAlarms: %v %+v", err, out)
		}
		return out.MetricAlarms[0]
	}
	if a := state(); a.StateValue != types.StateValueOk || *a.AlarmArn != "arn:aws:cloudwatch:us-east-1:111111111111:alarm:edge-5xx" || *a.DatapointsToAlarm != 2 {
		t.Fatalf("fresh alarm with no data treated as not breaching: %s %s", a.StateValue, *a.StateReason)
	}
	put := func(v float64) {
		t.Helper()
		_, err := c.PutMetricData(ctx, &cw.PutMetricDataInput{Namespace: aws.String("Lab/Edge"),
			MetricData: []types.MetricDatum{{MetricName: aws.String("Errors"), Value: aws.Float64(v), Timestamp: aws.Time(l.clock.Now())}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put(50) // minute 0: breaching, but the minute is not complete yet
	if a := state(); a.StateValue != types.StateValueOk {
		t.Fatalf("state %s before the period completed", a.StateValue)
	}
	l.clock.Advance(time.Minute)
	put(50) // minute 1
	if a := state(); a.StateValue != types.StateValueOk {
		t.Fatalf("one breaching datapoint of the needed two: %s", a.StateValue)
	}
	l.clock.Advance(time.Minute)
	a := state()
	if a.StateValue != types.StateValueAlarm || !a.StateUpdatedTimestamp.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("two breaching datapoints: %s at %v (%s)", a.StateValue, a.StateUpdatedTimestamp, *a.StateReason)
	}
	want := "Threshold Crossed: 2 out of the last 3 datapoints [50, 50] were greater than the threshold (10) (minimum 2 datapoints for OK -> ALARM transition)."
	if *a.StateReason != want {
		t.Errorf("reason %q\nwant   %q", *a.StateReason, want)
	}
	out, err := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{StateValue: types.StateValueOk})
	if err != nil || len(out.MetricAlarms) != 0 {
		t.Errorf("StateValue=OK filter: %v %d", err, len(out.MetricAlarms))
	}
	l.clock.Advance(2 * time.Minute)
	if a := state(); a.StateValue != types.StateValueOk {
		t.Errorf("after the errors aged out: %s", a.StateValue)
	}
	_, err = c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"edge-5xx", "nope"}})
	var nf *types.ResourceNotFound
	if !errors.As(err, &nf) || nf.ErrorCode() != "ResourceNotFound" {
		t.Fatalf("delete with a missing name: %v", err)
	}
	if _, err := c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"edge-5xx"}}); err != nil {
		t.Fatal(err)
	}
	if out, _ := c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{}); len(out.MetricAlarms) != 0 {
		t.Errorf("alarm survived deletion")
	}
	h := l.env.History.List(awsapi.Filter{Service: "cloudwatch"})
	if h[0].Operation != "PutMetricAlarm" || h[len(h)-1].Operation != "DeleteAlarms" || h[len(h)-1].After != nil {
		t.Errorf("history %+v", h)
	}
}
