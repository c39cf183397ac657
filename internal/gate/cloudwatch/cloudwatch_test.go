package cloudwatch_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/cloudwatch"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudwatch/cwtest"
	"github.com/cutover/cutover/internal/plan"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const lbDim = "app/new/456"

// lab serves the lab CloudWatch through the same identity middleware the lab
// server uses, and returns a real SDK client for it.
type lab struct{ *cwtest.Lab }

func newLab(t *testing.T) *lab {
	t.Helper()
	return &lab{cwtest.Start(t, t0)}
}

// alb publishes one minute of ALB counters; a zero count is not published,
// as ALB does.
func (l *lab) alb(t *testing.T, minute int, requests, errors float64) {
	t.Helper()
	at := t0.Add(time.Duration(minute) * time.Minute)
	dims := map[string]string{"LoadBalancer": lbDim}
	// Several samples per minute: the gate must read the minute's Sum.
	for _, part := range []float64{0.25, 0.75} {
		ts := at.Add(time.Duration(part*50) * time.Second)
		if requests > 0 {
			if err := l.Service.Put(awsapi.DefaultAccountID, "AWS/ApplicationELB", "RequestCount", dims, ts, requests*part, "Count"); err != nil {
				t.Fatal(err)
			}
		}
		if errors > 0 {
			if err := l.Service.Put(awsapi.DefaultAccountID, "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", dims, ts, errors*part, "Count"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (l *lab) measure(g gate.Gate, at time.Duration) gate.Measurement {
	now := t0.Add(at)
	l.Clock.Set(now)
	return g.Measure(context.Background(), now)
}

func albMetric(name string) *plan.Metric {
	return &plan.Metric{Namespace: "AWS/ApplicationELB", Name: name, Stat: "Sum", Period: 60, Dimensions: map[string]string{"LoadBalancer": lbDim}}
}

func errorRate(missing plan.Missing) plan.CloudWatchGate {
	return plan.CloudWatchGate{
		Expression: "100*errors/requests",
		Metrics:    map[string]*plan.Metric{"errors": albMetric("HTTPCode_Target_5XX_Count"), "requests": albMetric("RequestCount")},
		Threshold:  1,
		Comparison: ">",
		Missing:    missing,
	}
}

func TestErrorRateCrossingOnePercentFails(t *testing.T) {
	l := newLab(t)
	for m := 0; m < 5; m++ {
		l.alb(t, m, 1000, 5) // 0.5 %
	}
	l.alb(t, 5, 1000, 20) // 2 %
	l.alb(t, 6, 1000, 500)
	g := cloudwatch.New(errorRate(plan.MissingZero), l.Client, cloudwatch.Options{})

	// At 10:07 the window is the minute 10:04 (data delay 2m, one period).
	m := l.measure(g, 7*time.Minute)
	if m.Phase != gate.Successful || m.Value != 0.5 {
		t.Fatalf("at 10:07: %+v, want Successful 0.5", m)
	}
	if !strings.Contains(m.Detail, "100*errors/requests = 0.5") || !strings.Contains(m.Detail, "> 1") {
		t.Errorf("detail %q does not name the expression, value and threshold", m.Detail)
	}
	// At 10:07:59 the 2 % minute (10:05) is still inside the data delay.
	if m := l.measure(g, 7*time.Minute+59*time.Second); m.Phase != gate.Successful || m.Value != 0.5 {
		t.Fatalf("at 10:07:59: %+v, want the 10:04 minute still", m)
	}
	m = l.measure(g, 8*time.Minute)
	if m.Phase != gate.Failed || m.Value != 2 {
		t.Fatalf("at 10:08: %+v, want Failed 2", m)
	}
	if !strings.Contains(m.Detail, "breaches > 1") {
		t.Errorf("detail %q", m.Detail)
	}
}

func TestSingleMetricAndComparisons(t *testing.T) {
	l := newLab(t)
	l.alb(t, 0, 40, 0)
	l.alb(t, 1, 4, 0)
	spec := plan.CloudWatchGate{Metric: albMetric("RequestCount"), Threshold: 10, Comparison: "<"}
	g := cloudwatch.New(spec, l.Client, cloudwatch.Options{DataDelay: time.Minute})
	if m := l.measure(g, 3*time.Minute); m.Phase != gate.Failed || m.Value != 4 {
		t.Fatalf("traffic fell to 4 < 10: %+v, want Failed", m)
	}
	if m := l.measure(g, 2*time.Minute); m.Phase != gate.Successful || m.Value != 40 {
		t.Fatalf("40 requests: %+v, want Successful", m)
	}
	if m := l.measure(g, 2*time.Minute); !strings.Contains(m.Detail, "AWS/ApplicationELB RequestCount Sum {LoadBalancer="+lbDim+"}") {
		t.Errorf("detail %q does not name the metric", m.Detail)
	}
}

func TestNewestDatapointOfSeveralPeriods(t *testing.T) {
	l := newLab(t)
	l.alb(t, 0, 100, 50)
	l.alb(t, 1, 100, 1)
	l.alb(t, 2, 100, 0) // no 5xx published
	spec := plan.CloudWatchGate{Metric: albMetric("HTTPCode_Target_5XX_Count"), Threshold: 10}
	g := cloudwatch.New(spec, l.Client, cloudwatch.Options{Periods: 3})
	// Window 10:00–10:03: the newest point is 10:01's 1, not the 50 before.
	if m := l.measure(g, 5*time.Minute); m.Phase != gate.Successful || m.Value != 1 {
		t.Fatalf("%+v, want Successful 1 (newest datapoint)", m)
	}
}

func TestMissingData(t *testing.T) {
	cases := []struct {
		missing plan.Missing
		phase   gate.Phase
		detail  string
	}{
		{plan.MissingZero, gate.Successful, "no datapoints, counted as 0"},
		{"", gate.Successful, "no datapoints, counted as 0"},
		{plan.MissingBreach, gate.Failed, "missing counts as a breach"},
		{plan.MissingIgnore, gate.Inconclusive, "no datapoints"},
	}
	for _, c := range cases {
		t.Run(string(c.missing), func(t *testing.T) {
			l := newLab(t)
			spec := plan.CloudWatchGate{Metric: albMetric("HTTPCode_Target_5XX_Count"), Threshold: 5, Missing: c.missing}
			m := l.measure(cloudwatch.New(spec, l.Client, cloudwatch.Options{}), 10*time.Minute)
			if m.Phase != c.phase || m.Value != 0 || !strings.Contains(m.Detail, c.detail) {
				t.Fatalf("got %+v, want %s with %q", m, c.phase, c.detail)
			}
		})
	}
}

func TestZeroPolicyWithThresholdThatZeroBreaches(t *testing.T) {
	// Under the zero policy an absent point is a real 0, compared like any
	// other value: "requests < 1" breaches when nothing is published.
	l := newLab(t)
	spec := plan.CloudWatchGate{Metric: albMetric("RequestCount"), Threshold: 1, Comparison: "<"}
	if m := l.measure(cloudwatch.New(spec, l.Client, cloudwatch.Options{}), 10*time.Minute); m.Phase != gate.Failed {
		t.Fatalf("got %+v, want Failed (0 < 1)", m)
	}
}

func TestALBErrorsPublishedOnlyWhenNonZeroCountAsZero(t *testing.T) {
	l := newLab(t)
	for m := 0; m < 5; m++ {
		l.alb(t, m, 1000, 0) // requests flow, no 5xx datapoint at all
	}
	g := cloudwatch.New(errorRate(plan.MissingZero), l.Client, cloudwatch.Options{})
	m := l.measure(g, 6*time.Minute)
	if m.Phase != gate.Successful || m.Value != 0 {
		t.Fatalf("got %+v, want Successful 0", m)
	}
	// The same gate with missing=breach would have stopped a healthy run.
	g = cloudwatch.New(errorRate(plan.MissingBreach), l.Client, cloudwatch.Options{})
	if m := l.measure(g, 6*time.Minute); m.Phase != gate.Failed {
		t.Fatalf("missing=breach: got %+v, want Failed", m)
	}
}

func TestAPIErrorsAreErrorPhase(t *testing.T) {
	l := newLab(t)
	// A statistic CloudWatch rejects: the lab answers a validation error.
	bad := plan.CloudWatchGate{Metric: &plan.Metric{Namespace: "AWS/ApplicationELB", Name: "RequestCount", Stat: "Bogus", Period: 60}, Threshold: 1}
	m := l.measure(cloudwatch.New(bad, l.Client, cloudwatch.Options{}), 5*time.Minute)
	if m.Phase != gate.Error || !strings.Contains(m.Detail, "GetMetricData") {
		t.Fatalf("bad stat: got %+v, want Error from GetMetricData", m)
	}
	// An expression the service cannot parse.
	expr := errorRate(plan.MissingZero)
	expr.Expression = "100*errors/"
	if m := l.measure(cloudwatch.New(expr, l.Client, cloudwatch.Options{}), 5*time.Minute); m.Phase != gate.Error {
		t.Fatalf("bad expression: got %+v, want Error", m)
	}
	// An endpoint that is gone.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	dead := cw.NewFromConfig(awstest.Config(srv.URL))
	spec := plan.CloudWatchGate{Metric: albMetric("RequestCount"), Threshold: 1}
	if m := cloudwatch.New(spec, dead, cloudwatch.Options{}).Measure(context.Background(), t0); m.Phase != gate.Error || !strings.Contains(m.Detail, "refused") {
		t.Fatalf("unreachable: got %+v, want Error", m)
	}
}

func TestInvalidSpecsAreErrorPhase(t *testing.T) {
	l := newLab(t)
	m := albMetric("RequestCount")
	for name, spec := range map[string]plan.CloudWatchGate{
		"neither":          {Threshold: 1},
		"both":             {Metric: m, Expression: "a", Metrics: map[string]*plan.Metric{"a": m}},
		"no inputs":        {Expression: "a*2"},
		"bad comparison":   {Metric: m, Comparison: "=="},
		"bad missing":      {Metric: m, Missing: "maybe"},
		"reserved id":      {Expression: "gate", Metrics: map[string]*plan.Metric{"gate": m}},
		"nil input metric": {Expression: "a", Metrics: map[string]*plan.Metric{"a": nil}},
	} {
		if got := cloudwatch.New(spec, l.Client, cloudwatch.Options{}).Measure(context.Background(), t0); got.Phase != gate.Error || got.Detail == "" {
			t.Errorf("%s: got %+v, want Error", name, got)
		}
	}
	if got := cloudwatch.New(plan.CloudWatchGate{Metric: m}, nil, cloudwatch.Options{}).Measure(context.Background(), t0); got.Phase != gate.Error {
		t.Errorf("nil client: got %+v, want Error", got)
	}
}

// recorder captures the requests the gate sends.
type recorder struct{ in []*cw.GetMetricDataInput }

func (r *recorder) GetMetricData(_ context.Context, in *cw.GetMetricDataInput, _ ...func(*cw.Options)) (*cw.GetMetricDataOutput, error) {
	r.in = append(r.in, in)
	return &cw.GetMetricDataOutput{}, nil
}

func TestQueryShape(t *testing.T) {
	rec := &recorder{}
	spec := errorRate(plan.MissingZero)
	spec.Metrics["requests"].Period = 300
	g := cloudwatch.New(spec, rec, cloudwatch.Options{DataDelay: 3 * time.Minute, Periods: 2})
	g.Measure(context.Background(), t0.Add(17*time.Minute+10*time.Second))
	if len(rec.in) != 1 {
		t.Fatalf("%d requests, want 1", len(rec.in))
	}
	in := rec.in[0]
	// now-3m = 10:14:10, on the 5-minute boundary 10:10; two periods back.
	if !in.EndTime.Equal(t0.Add(10*time.Minute)) || !in.StartTime.Equal(t0) {
		t.Errorf("window %s–%s, want 10:00–10:10", in.StartTime, in.EndTime)
	}
	if len(in.MetricDataQueries) != 3 {
		t.Fatalf("%d queries, want 3", len(in.MetricDataQueries))
	}
	for _, q := range in.MetricDataQueries {
		isExpr := q.Expression != nil
		if *q.ReturnData != isExpr {
			t.Errorf("query %s: ReturnData %v, want %v", *q.Id, *q.ReturnData, isExpr)
		}
		if !isExpr && (q.MetricStat == nil || *q.MetricStat.Stat != "Sum" || *q.MetricStat.Metric.Dimensions[0].Value != lbDim) {
			t.Errorf("query %s: metric stat %+v", *q.Id, q.MetricStat)
		}
	}
}

// pages answers GetMetricData from a script, one output per call.
type pages struct {
	out    []*cw.GetMetricDataOutput
	tokens []string
}

func (p *pages) GetMetricData(_ context.Context, in *cw.GetMetricDataInput, _ ...func(*cw.Options)) (*cw.GetMetricDataOutput, error) {
	tok := ""
	if in.NextToken != nil {
		tok = *in.NextToken
	}
	p.tokens = append(p.tokens, tok)
	o := p.out[0]
	p.out = p.out[1:]
	return o, nil
}

func result(status types.StatusCode, ts []time.Time, vs []float64) types.MetricDataResult {
	return types.MetricDataResult{Id: aws.String("gate"), StatusCode: status, Timestamps: ts, Values: vs}
}

func TestPagesAreFollowedAndNewestWins(t *testing.T) {
	p := &pages{out: []*cw.GetMetricDataOutput{
		{MetricDataResults: []types.MetricDataResult{result(types.StatusCodePartialData, []time.Time{t0}, []float64{9})}, NextToken: aws.String("p2")},
		{MetricDataResults: []types.MetricDataResult{result(types.StatusCodeComplete, []time.Time{t0.Add(time.Minute)}, []float64{0.5})}},
	}}
	spec := plan.CloudWatchGate{Metric: albMetric("RequestCount"), Threshold: 1}
	m := cloudwatch.New(spec, p, cloudwatch.Options{Periods: 2}).Measure(context.Background(), t0.Add(10*time.Minute))
	if m.Phase != gate.Successful || m.Value != 0.5 {
		t.Fatalf("got %+v, want the newest point 0.5 from the second page", m)
	}
	if strings.Join(p.tokens, ",") != ",p2" {
		t.Errorf("tokens sent %q", p.tokens)
	}
}

func TestResultStatusErrors(t *testing.T) {
	p := &pages{out: []*cw.GetMetricDataOutput{{MetricDataResults: []types.MetricDataResult{{
		Id: aws.String("gate"), StatusCode: types.StatusCodeForbidden,
		Messages: []types.MessageData{{Code: aws.String("Forbidden"), Value: aws.String("no access to account 222222222222")}},
	}}}}}
	spec := plan.CloudWatchGate{Metric: albMetric("RequestCount"), Threshold: 1}
	m := cloudwatch.New(spec, p, cloudwatch.Options{}).Measure(context.Background(), t0)
	if m.Phase != gate.Error || !strings.Contains(m.Detail, "no access to account") {
		t.Fatalf("got %+v, want Error with the message", m)
	}
}
