package drain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/gate/drain"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudwatch/cwtest"
	"github.com/cutover/cutover/internal/runbook"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const (
	distID = "E2OLDDIST0001"
	lbARN  = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/old/0123456789abcdef"
	lbDim  = "app/old/0123456789abcdef"
)

// lab is the lab's CloudWatch over HTTP with a real SDK client.
type lab struct{ *cwtest.Lab }

func newLab(t *testing.T) *lab {
	t.Helper()
	return &lab{cwtest.Start(t, t0)}
}

// requests publishes one minute of the old distribution's Requests as an
// edge does: several partial sums, and nothing at all for a quiet minute.
func (l *lab) requests(t *testing.T, minute int, n float64) {
	t.Helper()
	if n == 0 {
		return
	}
	at := t0.Add(time.Duration(minute) * time.Minute)
	for _, part := range []float64{0.5, 0.25, 0.25} {
		ts := at.Add(time.Duration(part*100) * time.Second / 2)
		if err := l.Service.Put(awsapi.DefaultAccountID, "AWS/CloudFront", "Requests", map[string]string{"DistributionId": distID, "Region": "Global"}, ts, n*part, "None"); err != nil {
			t.Fatal(err)
		}
	}
}

func (l *lab) albRequests(t *testing.T, minute int, n float64) {
	t.Helper()
	at := t0.Add(time.Duration(minute)*time.Minute + 10*time.Second)
	if err := l.Service.Put(awsapi.DefaultAccountID, "AWS/ApplicationELB", "RequestCount", map[string]string{"LoadBalancer": lbDim}, at, n, "Count"); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) measure(g gate.Gate, at time.Duration) gate.Measurement {
	now := t0.Add(at)
	l.Clock.Set(now)
	return g.Measure(context.Background(), now)
}

func window(d time.Duration) runbook.Duration { return runbook.Duration(d) }

func TestCloudFrontDecayToZeroDrainsAfterWindow(t *testing.T) {
	l := newLab(t)
	for m, n := range []float64{600, 300, 100, 41, 10} { // 10:00–10:04, then silence
		l.requests(t, m, n)
	}
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}, Threshold: 5, Window: window(5 * time.Minute)}, l.Client, drain.Options{})

	steps := []struct {
		at     time.Duration
		phase  gate.Phase
		value  float64
		detail string
	}{
		// Window ends 2 minutes before now: at 10:06 the newest minute is 10:03.
		{6 * time.Minute, gate.Inconclusive, 41, "still draining: 41 req/min > 5"},
		{7 * time.Minute, gate.Inconclusive, 10, "still draining: 10 req/min > 5"},
		{8 * time.Minute, gate.Inconclusive, 0, "quiet for 1m0s of 5m0s"},
		{11 * time.Minute, gate.Inconclusive, 0, "quiet for 4m0s of 5m0s"},
		{11*time.Minute + 59*time.Second, gate.Inconclusive, 0, "quiet for 4m0s of 5m0s"},
		{12 * time.Minute, gate.Successful, 0, "drained: CloudFront Requests of " + distID + " ≤ 5 req/min in every minute of 10:05–10:10"},
		{40 * time.Minute, gate.Successful, 0, "drained"},
	}
	for _, s := range steps {
		m := l.measure(g, s.at)
		if m.Phase != s.phase || m.Value != s.value || !strings.Contains(m.Detail, s.detail) {
			t.Errorf("at +%s: %s %g %q, want %s %g containing %q", s.at, m.Phase, m.Value, m.Detail, s.phase, s.value, s.detail)
		}
	}
}

func TestSteadyTrafficNeverDrains(t *testing.T) {
	l := newLab(t)
	for m := range 40 {
		l.requests(t, m, 30)
	}
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}, Threshold: 5, Window: window(5 * time.Minute)}, l.Client, drain.Options{})
	for at := 3 * time.Minute; at <= 40*time.Minute; at += time.Minute {
		m := l.measure(g, at)
		if m.Phase != gate.Inconclusive {
			t.Fatalf("at +%s: %s (%s), want Inconclusive: slow traffic is never drained, never failed", at, m.Phase, m.Detail)
		}
		if m.Value != 30 || !strings.Contains(m.Detail, "still draining: 30 req/min > 5") {
			t.Fatalf("at +%s: value %g, detail %q", at, m.Value, m.Detail)
		}
	}
}

func TestOneBurstInsideTheWindowRestartsIt(t *testing.T) {
	l := newLab(t)
	l.requests(t, 0, 100)
	l.requests(t, 4, 9) // one late client
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}, Threshold: 5, Window: window(5 * time.Minute), Policy: drain.PolicyPause}, l.Client, drain.Options{DataDelay: time.Minute})
	// Window 10:02–10:07: 10:04's 9 requests are over the limit.
	if m := l.measure(g, 8*time.Minute); m.Phase != gate.Inconclusive || !strings.Contains(m.Detail, "quiet for 2m0s of 5m0s") || !strings.Contains(m.Detail, "peak 9 at 10:04") {
		t.Fatalf("%+v", m)
	}
	if m := l.measure(g, 11*time.Minute); m.Phase != gate.Successful {
		t.Fatalf("%+v, want drained once 10:04 left the window", m)
	}
	if g.Spec().Policy != drain.PolicyPause {
		t.Errorf("policy %q", g.Spec().Policy)
	}
}

func TestALBFractionOfBaseline(t *testing.T) {
	l := newLab(t)
	for m, n := range []float64{1000, 1000, 400, 50, 8, 8, 8, 8, 8, 8} {
		l.albRequests(t, m, n)
	}
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{LoadBalancer: lbARN, Period: 120}, Fraction: 0.01, Window: window(4 * time.Minute)}, l.Client, drain.Options{})
	// First measurement: window 10:00–10:04 in two-minute periods (2000
	// and 450 requests, 1000 and 225 per minute): the baseline is the peak,
	// 1000 req/min, so the limit is 10.
	m := l.measure(g, 6*time.Minute)
	if m.Phase != gate.Inconclusive || m.Value != 225 || !strings.Contains(m.Detail, "> 10 (1% of baseline 1000)") || !strings.Contains(m.Detail, "ALB RequestCount of "+lbDim) {
		t.Fatalf("%+v", m)
	}
	// 10:06–10:10 at 8 req/min stays under the 10 of the first baseline,
	// not 1% of anything measured later.
	if m := l.measure(g, 12*time.Minute); m.Phase != gate.Successful || m.Value != 8 {
		t.Fatalf("%+v", m)
	}
}

func TestBaselineGivenInSpecIsKept(t *testing.T) {
	l := newLab(t)
	for m := range 10 {
		l.requests(t, m, 8)
	}
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}, Fraction: 0.5, Baseline: 10, Window: window(3 * time.Minute)}, l.Client, drain.Options{})
	if m := l.measure(g, 8*time.Minute); m.Phase != gate.Inconclusive || !strings.Contains(m.Detail, "8 req/min > 5 (50% of baseline 10)") {
		t.Fatalf("%+v", m)
	}
}

func TestCloudWatchErrors(t *testing.T) {
	l := newLab(t)
	bad := cw.NewFromConfig(awstest.ConfigAs(l.URL, "AKIAUNKNOWN000000000", "x", ""))
	g := drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}}, bad, drain.Options{})
	if m := l.measure(g, 10*time.Minute); m.Phase != gate.Error || !strings.Contains(m.Detail, "GetMetricData") {
		t.Fatalf("%+v", m)
	}
	g = drain.New(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}}, nil, drain.Options{})
	if m := l.measure(g, 10*time.Minute); m.Phase != gate.Error || !strings.Contains(m.Detail, "no CloudWatch client") {
		t.Fatalf("%+v", m)
	}
}

func TestSpecValidate(t *testing.T) {
	cf := &drain.CloudWatchSource{DistributionID: distID}
	for name, s := range map[string]drain.Spec{
		"no source":      {},
		"two sources":    {CloudWatch: cf, Prometheus: &drain.PrometheusSource{URL: "http://p", Query: "x"}},
		"two metrics":    {CloudWatch: &drain.CloudWatchSource{DistributionID: distID, LoadBalancer: lbARN}},
		"no metric":      {CloudWatch: &drain.CloudWatchSource{}},
		"odd period":     {CloudWatch: &drain.CloudWatchSource{DistributionID: distID, Period: 90}},
		"no query":       {Prometheus: &drain.PrometheusSource{URL: "http://p"}},
		"negative":       {CloudWatch: cf, Threshold: -1},
		"fraction":       {CloudWatch: cf, Fraction: 1},
		"policy":         {CloudWatch: cf, Policy: "panic"},
		"negative after": {CloudWatch: cf, Window: window(-time.Minute)},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
		if m := drain.New(s, nil, drain.Options{}).Measure(context.Background(), t0); m.Phase != gate.Error {
			t.Errorf("%s: measured %+v", name, m)
		}
	}
	d := drain.Spec{CloudWatch: cf}.WithDefaults()
	if d.Window.D() != drain.DefaultWindow || d.Policy != drain.PolicyWait || d.CloudWatch.Period != 60 || cf.Period != 0 {
		t.Errorf("defaults %+v (source %+v)", d, d.CloudWatch)
	}
}

// TestBuildRegistersDrain goes through the runbook's stored form, as a
// resumed run does.
func TestBuildRegistersDrain(t *testing.T) {
	l := newLab(t)
	l.requests(t, 0, 50)
	spec, _ := json.Marshal(drain.Spec{CloudWatch: &drain.CloudWatchSource{DistributionID: distID}, Threshold: 0, Window: window(2 * time.Minute), Policy: drain.PolicyRollback})
	rb := &runbook.Runbook{Gates: []runbook.Gate{{Name: "old-quiet", Kind: build.KindDrain, Spec: spec}}}
	var regions []string
	gates, err := build.Gates(rb, build.Deps{AWSConfig: func(region, role string) (aws.Config, error) {
		regions = append(regions, region)
		return awstest.Config(l.URL), nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(regions, ",") != "us-east-1" {
		t.Errorf("regions %v: CloudFront metrics live in us-east-1", regions)
	}
	if m := l.measure(gates["old-quiet"], 3*time.Minute); m.Phase != gate.Inconclusive || m.Value != 50 {
		t.Errorf("%+v", m)
	}
	if m := l.measure(gates["old-quiet"], 5*time.Minute); m.Phase != gate.Successful {
		t.Errorf("%+v", m)
	}
	if dg, ok := gates["old-quiet"].(*drain.Gate); !ok || dg.Spec().Policy != drain.PolicyRollback {
		t.Errorf("gate %T does not carry its policy", gates["old-quiet"])
	}
	for name, raw := range map[string]string{
		"unknown field": `{"cloudwatch":{"distribution_id":"E1"},"threshold":1,"retries":2}`,
		"invalid":       `{"threshold":1}`,
	} {
		rb := &runbook.Runbook{Gates: []runbook.Gate{{Name: "d", Kind: build.KindDrain, Spec: json.RawMessage(raw)}}}
		if _, err := build.Gates(rb, build.Deps{}); err == nil || !strings.Contains(err.Error(), "drain") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// promServer answers instant queries with the next canned body.
type promServer struct {
	mu      sync.Mutex
	bodies  []string
	status  int
	queries []string
	times   []string
	srv     *httptest.Server
}

func newProm(t *testing.T) *promServer {
	p := &promServer{status: http.StatusOK}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if r.URL.Path != "/prefix/api/v1/query" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		p.queries = append(p.queries, r.URL.Query().Get("query"))
		p.times = append(p.times, r.URL.Query().Get("time"))
		body := p.bodies[0]
		if len(p.bodies) > 1 {
			p.bodies = p.bodies[1:]
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *promServer) set(status int, bodies ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.bodies = status, bodies
}

func vector(values ...string) string {
	var series []string
	for i, v := range values {
		series = append(series, fmt.Sprintf(`{"metric":{"__name__":"edge_requests","edge":"e%d"},"value":[1795860000.123,%q]}`, i, v))
	}
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(series, ",") + `]}}`
}

func TestPrometheusClient(t *testing.T) {
	p := newProm(t)
	c, err := drain.NewPrometheus(p.srv.URL+"/prefix/", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 500e6, time.UTC)
	cases := []struct {
		status int
		body   string
		want   drain.Result
		err    string
	}{
		{200, vector("1.5", "2.25"), drain.Result{Type: "vector", Value: 3.75, Series: 2}, ""},
		{200, vector(), drain.Result{Type: "vector"}, ""},
		{200, `{"status":"success","data":{"resultType":"scalar","result":[1795860000,"41"]}}`, drain.Result{Type: "scalar", Value: 41}, ""},
		{200, `{"status":"success","data":{"resultType":"matrix","result":[]}}`, drain.Result{}, `result type "matrix"`},
		{400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}`, drain.Result{}, "status 400: bad_data: invalid parameter"},
		{200, vector("twelve"), drain.Result{}, `sample value "twelve"`},
		{502, `<html>bad gateway</html>`, drain.Result{}, "status 502, not a Prometheus API answer"},
	}
	for i, cs := range cases {
		p.set(cs.status, cs.body)
		got, err := c.Query(ctx, `sum(rate(edge_requests{edge="old"}[1m]))*60`, at)
		if cs.err != "" {
			if err == nil || !strings.Contains(err.Error(), cs.err) {
				t.Errorf("case %d: err %v, want %q", i, err, cs.err)
			}
			continue
		}
		if err != nil || got != cs.want {
			t.Errorf("case %d: %+v, %v; want %+v", i, got, err, cs.want)
		}
	}
	if q := p.queries[len(p.queries)-1]; q != `sum(rate(edge_requests{edge="old"}[1m]))*60` {
		t.Errorf("query sent %q", q)
	}
	if tm := p.times[len(p.times)-1]; tm != fmt.Sprintf("%d.500", at.Unix()) {
		t.Errorf("time sent %q", tm)
	}
	if _, err := drain.NewPrometheus("prometheus:9090", nil); err == nil {
		t.Error("a URL without scheme accepted")
	}
}

func TestPrometheusGateWindow(t *testing.T) {
	p := newProm(t)
	spec := drain.Spec{Prometheus: &drain.PrometheusSource{URL: p.srv.URL + "/prefix", Query: "old_rpm", Unit: "req/min"}, Threshold: 5, Window: window(3 * time.Minute)}
	g := drain.New(spec, nil, drain.Options{})
	steps := []struct {
		value  string
		at     time.Duration
		phase  gate.Phase
		detail string
	}{
		{"41", 0, gate.Inconclusive, "still draining: 41 req/min > 5"},
		{"3", time.Minute, gate.Inconclusive, "quiet for 0s of 3m0s"},
		{"2", 3 * time.Minute, gate.Inconclusive, "quiet for 2m0s of 3m0s"},
		{"7", 4 * time.Minute, gate.Inconclusive, "still draining: 7 req/min > 5"}, // the quiet run restarts
		{"0", 5 * time.Minute, gate.Inconclusive, "quiet for 0s"},
		{"0", 7*time.Minute + 59*time.Second, gate.Inconclusive, "quiet for 2m59s"},
		{"0", 8 * time.Minute, gate.Successful, "drained: 0 req/min ≤ 5 for 3m0s"},
	}
	for _, s := range steps {
		p.set(200, vector(s.value))
		m := g.Measure(context.Background(), t0.Add(s.at))
		if m.Phase != s.phase || !strings.Contains(m.Detail, s.detail) {
			t.Errorf("at +%s value %s: %s %q, want %s containing %q", s.at, s.value, m.Phase, m.Detail, s.phase, s.detail)
		}
	}
	// A failing query is an Error, never a pass.
	p.set(503, `{"status":"error","errorType":"unavailable","error":"no store"}`)
	if m := g.Measure(context.Background(), t0.Add(9*time.Minute)); m.Phase != gate.Error || !strings.Contains(m.Detail, "unavailable") {
		t.Errorf("%+v", m)
	}
	p.set(200, `{"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}}`)
	if m := g.Measure(context.Background(), t0.Add(10*time.Minute)); m.Phase != gate.Error {
		t.Errorf("NaN: %+v", m)
	}
}
