package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/gate/probe/probetest"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	labcw "github.com/cutover/cutover/internal/lab/cloudwatch"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

const planYAML = `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {id: Z1}
from: {alb: old-123.eu-west-1.elb.amazonaws.com}
to: {alb: new-456.eu-west-1.elb.amazonaws.com}
gates:
  - name: errors
    for: 3m
    cloudwatch:
      region: eu-west-1
      expression: 100*errors/requests
      metrics:
        errors: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, stat: Sum, dimensions: {LoadBalancer: app/new/456}}
        requests: {namespace: AWS/ApplicationELB, name: RequestCount, stat: Sum, dimensions: {LoadBalancer: app/new/456}}
      threshold: 1
  - name: latency
    interval: 1m
    on_failure: pause
    cloudwatch:
      region: eu-west-1
      metric: {namespace: AWS/ApplicationELB, name: TargetResponseTime, stat: p99, dimensions: {LoadBalancer: app/new/456}}
      threshold: 0.5
      comparison: ">="
      missing: ignore
  - name: health
    probe:
      url: https://api.example.com/health
      body_contains: ok
      header: {X-Edge: new}
`

func loadPlan(t *testing.T) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(planYAML))
	if err != nil {
		t.Fatal(err)
	}
	if d := plan.Validate(p); len(d) > 0 {
		t.Fatalf("validation: %v", d)
	}
	return p
}

func compile(t *testing.T, p *plan.Plan) *runbook.Runbook {
	t.Helper()
	rb := &runbook.Runbook{Name: p.Name, Hostname: p.Hostname + "."}
	for _, g := range p.Gates {
		rg, err := build.Spec(g)
		if err != nil {
			t.Fatal(err)
		}
		rb.Gates = append(rb.Gates, rg)
	}
	// The runbook is stored as JSON and decoded on resume: go through that.
	raw, err := json.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	var back runbook.Runbook
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	return &back
}

func TestSpecDefaultsAndStoredForm(t *testing.T) {
	rb := compile(t, loadPlan(t))
	byName := map[string]runbook.Gate{}
	for _, g := range rb.Gates {
		byName[g.Name] = g
	}
	errs, lat, health := byName["errors"], byName["latency"], byName["health"]
	if errs.Kind != "cloudwatch" || errs.Interval.D() != 30*time.Second || errs.For.D() != 3*time.Minute || errs.OnFailure != "rollback" {
		t.Errorf("errors gate = %+v", errs)
	}
	if lat.Interval.D() != time.Minute || lat.OnFailure != "pause" {
		t.Errorf("latency gate = %+v", lat)
	}
	if health.Kind != "probe" {
		t.Errorf("health kind = %q", health.Kind)
	}
	var spec map[string]any
	if err := json.Unmarshal(health.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"url": "https://api.example.com/health", "expect_status": []any{200.0}, "body_contains": "ok", "header": map[string]any{"X-Edge": "new"}, "timeout": "5s"}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("probe spec = %v, want %v", spec, want)
	}
	if strings.Contains(string(errs.Spec), "Pos") || strings.Contains(string(errs.Spec), "plan.yaml") {
		t.Errorf("stored spec carries source positions: %s", errs.Spec)
	}
	var cws build.CloudWatchSpec
	if err := json.Unmarshal(errs.Spec, &cws); err != nil {
		t.Fatal(err)
	}
	if cws.Comparison != ">" || cws.Missing != "zero" || cws.Metrics["errors"].Period != 60 {
		t.Errorf("cloudwatch spec lacks defaults: %s", errs.Spec)
	}
}

// The plan's own structs do survive a JSON round trip, but as Go field names
// with their source positions; this is why the stored form has its own
// types.
func TestPlanStructsEncodePositions(t *testing.T) {
	p := loadPlan(t)
	raw, err := json.Marshal(p.Gates[2].Probe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"Pos":{"file":"plan.yaml"`) {
		t.Fatalf("plan.ProbeGate JSON = %s; if positions are gone, the spec types may be dropped", raw)
	}
}

func TestSpecRoundTripsToPlanTypes(t *testing.T) {
	p := loadPlan(t)
	for _, g := range p.Gates {
		rg, err := build.Spec(g)
		if err != nil {
			t.Fatal(err)
		}
		switch rg.Kind {
		case build.KindCloudWatch:
			var s build.CloudWatchSpec
			if err := json.Unmarshal(rg.Spec, &s); err != nil {
				t.Fatal(err)
			}
			if got, want := s.Plan(), stripCloudWatch(*g.CloudWatch); !reflect.DeepEqual(got, want) {
				t.Errorf("gate %s: round trip\n got %+v\nwant %+v", g.Name, got, want)
			}
		case build.KindProbe:
			var s build.ProbeSpec
			if err := json.Unmarshal(rg.Spec, &s); err != nil {
				t.Fatal(err)
			}
			want := *g.Probe
			want.Pos = plan.Pos{}
			if got := s.Plan(); !reflect.DeepEqual(got, want) {
				t.Errorf("gate %s: round trip\n got %+v\nwant %+v", g.Name, got, want)
			}
		}
	}
}

func stripCloudWatch(c plan.CloudWatchGate) plan.CloudWatchGate {
	c.Pos = plan.Pos{}
	if c.Metric != nil {
		m := *c.Metric
		m.Pos = plan.Pos{}
		c.Metric = &m
	}
	if c.Metrics != nil {
		ms := map[string]*plan.Metric{}
		for id, m := range c.Metrics {
			mm := *m
			mm.Pos = plan.Pos{}
			ms[id] = &mm
		}
		c.Metrics = ms
	}
	return c
}

func TestSpecDefaultsForPlanBuiltInCode(t *testing.T) {
	rg, err := build.Spec(plan.Gate{Name: "h", Probe: &plan.ProbeGate{URL: "https://x/"}})
	if err != nil {
		t.Fatal(err)
	}
	if rg.Interval.D() != 30*time.Second || rg.OnFailure != "rollback" || rg.For != 0 {
		t.Errorf("defaults: %+v", rg)
	}
	for name, g := range map[string]plan.Gate{
		"neither":    {Name: "a"},
		"both":       {Name: "b", Probe: &plan.ProbeGate{URL: "https://x/"}, CloudWatch: &plan.CloudWatchGate{}},
		"on_failure": {Name: "c", OnFailure: "explode", Probe: &plan.ProbeGate{URL: "https://x/"}},
	} {
		if _, err := build.Spec(g); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestGatesWorkAfterRoundTrip(t *testing.T) {
	// The lab: one edge answering the probe, one CloudWatch with data.
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{"api.example.com"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Edge", "new")
		fmt.Fprintln(w, "ok")
	}))
	clock := fakeclock.New(time.Date(2026, 11, 22, 10, 10, 0, 0, time.UTC))
	svc := labcw.New(awsapi.NewEnv(clock), labcw.Options{})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	dims := map[string]string{"LoadBalancer": "app/new/456"}
	minute := time.Date(2026, 11, 22, 10, 7, 0, 0, time.UTC)
	for metric, v := range map[string]float64{"RequestCount": 200, "HTTPCode_Target_5XX_Count": 6, "TargetResponseTime": 0.2} {
		if err := svc.Put(awsapi.DefaultAccountID, "AWS/ApplicationELB", metric, dims, minute.Add(10*time.Second), v, ""); err != nil {
			t.Fatal(err)
		}
	}

	p := loadPlan(t)
	p.Gates[2].Probe.URL = "https://api.example.com:" + strconv.Itoa(port) + "/health"
	rb := compile(t, p)
	var loads []string
	deps := build.Deps{
		AWSConfig: func(region, role string) (aws.Config, error) {
			loads = append(loads, region+"|"+role)
			cfg := awstest.Config(srv.URL)
			cfg.Region = region
			return cfg, nil
		},
		Probe: probe.Options{Connect: edges[0].Addr, RootCAs: ca.Pool},
	}
	gates, err := build.Gates(rb, deps)
	if err != nil {
		t.Fatal(err)
	}
	if len(gates) != 3 {
		t.Fatalf("%d gates, want 3", len(gates))
	}
	if strings.Join(loads, ",") != "eu-west-1|" {
		t.Errorf("AWS config loads = %v, want one for eu-west-1 shared by both metric gates", loads)
	}
	now := clock.Now()
	for name, want := range map[string]struct {
		phase gate.Phase
		value float64
	}{
		"errors":  {gate.Failed, 3},
		"latency": {gate.Successful, 0.2},
		"health":  {gate.Successful, 200},
	} {
		m := gates[name].Measure(context.Background(), now)
		if m.Phase != want.phase || m.Value != want.value {
			t.Errorf("gate %s: %+v, want %s %g", name, m, want.phase, want.value)
		}
	}
}

func TestGatesErrors(t *testing.T) {
	probeSpec := json.RawMessage(`{"url":"https://x/"}`)
	cwSpec := json.RawMessage(`{"metric":{"namespace":"N","name":"M","stat":"Sum","period":60},"threshold":1,"comparison":">","missing":"zero"}`)
	ok := func(string, string) (aws.Config, error) { return aws.Config{Region: "us-east-1"}, nil }
	cases := []struct {
		name  string
		gates []runbook.Gate
		load  func(string, string) (aws.Config, error)
		want  string
	}{
		{"unknown kind", []runbook.Gate{{Name: "a", Kind: "prometheus", Spec: probeSpec}}, ok, `gate a: unknown gate kind "prometheus"`},
		{"unknown field", []runbook.Gate{{Name: "a", Kind: "probe", Spec: json.RawMessage(`{"url":"https://x/","retries":3}`)}}, ok, "unknown field"},
		{"bad json", []runbook.Gate{{Name: "a", Kind: "cloudwatch", Spec: json.RawMessage(`[`)}}, ok, "decoding cloudwatch spec"},
		{"no url", []runbook.Gate{{Name: "a", Kind: "probe", Spec: json.RawMessage(`{}`)}}, ok, "no url"},
		{"duplicate", []runbook.Gate{{Name: "a", Kind: "probe", Spec: probeSpec}, {Name: "a", Kind: "probe", Spec: probeSpec}}, ok, "defined twice"},
		{"no loader", []runbook.Gate{{Name: "a", Kind: "cloudwatch", Spec: cwSpec}}, nil, "no AWS configuration"},
		{"loader fails", []runbook.Gate{{Name: "a", Kind: "cloudwatch", Spec: cwSpec}}, func(string, string) (aws.Config, error) {
			return aws.Config{}, errors.New("no credentials")
		}, "no credentials"},
	}
	for _, c := range cases {
		_, err := build.Gates(&runbook.Runbook{Gates: c.gates}, build.Deps{AWSConfig: c.load})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// Without gates nothing is loaded and nothing fails.
	gates, err := build.Gates(&runbook.Runbook{}, build.Deps{})
	if err != nil || len(gates) != 0 {
		t.Errorf("empty runbook: %v, %v", gates, err)
	}
}
