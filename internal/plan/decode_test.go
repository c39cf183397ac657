package plan

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseWeightedExample(t *testing.T) {
	p, err := Load("../../examples/weighted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "api-alb-migration" || p.Hostname != "api.example.com" {
		t.Errorf("name/hostname = %q/%q", p.Name, p.Hostname)
	}
	if p.From.Kind != EdgeALB || !strings.HasPrefix(p.From.Value, "arn:aws:elasticloadbalancing:") {
		t.Errorf("from = %+v", p.From)
	}
	if p.To.Kind != EdgeALB || p.To.Value != "new-alb-1234567890.us-east-1.elb.amazonaws.com" {
		t.Errorf("to = %+v", p.To)
	}
	if got := []int{p.Steps[0].Weight, p.Steps[1].Weight, p.Steps[2].Weight, p.Steps[4].Weight}; got[3] != 100 || got[0] != 1 || len(p.Steps) != 5 {
		t.Errorf("steps = %v", got)
	}
	if a := p.Steps[3].Approve; a == nil || a.Timeout.Std() != 4*time.Hour || a.OnTimeout != OnTimeoutRollback {
		t.Errorf("steps[3].approve = %+v", a)
	}
	if p.Gates[0].InconclusiveLimit != 4 || p.Gates[0].DryRun || p.Gates[1].InconclusiveLimit != 0 {
		t.Errorf("inconclusive_limit/dry_run = %d/%v, gate 1 limit %d", p.Gates[0].InconclusiveLimit, p.Gates[0].DryRun, p.Gates[1].InconclusiveLimit)
	}
	if p.Steps[2].Pause.Std() != 15*time.Minute {
		t.Errorf("steps[2].pause = %v", p.Steps[2].Pause)
	}
	if p.TTL.Prepare.Std() != 48*time.Hour || p.TTL.Cutover != 30 || p.TTL.Restore != 300 {
		t.Errorf("ttl = %+v", p.TTL)
	}
	if len(p.Gates) != 3 {
		t.Fatalf("gates = %d", len(p.Gates))
	}
	if d := p.Gates[2].Drain; d == nil || d.CloudWatch == nil || d.CloudWatch.LoadBalancer != "app/old/0123456789abcdef" || d.Window.Std() != 15*time.Minute || d.Policy != "pause" {
		t.Errorf("drain gate = %+v", p.Gates[2])
	}
	g := p.Gates[0]
	if g.For.Std() != 3*time.Minute || g.CloudWatch == nil || g.Probe != nil {
		t.Errorf("gate 0 = %+v", g)
	}
	m := g.CloudWatch.Metrics["errors"]
	if m == nil || m.Name != "HTTPCode_Target_5XX_Count" || m.Dimensions["LoadBalancer"] != "app/new/0123456789abcdef" || m.Period != 60 {
		t.Errorf("errors metric = %+v", m)
	}
	if g.CloudWatch.Threshold != 1 || g.CloudWatch.Comparison != ">" {
		t.Errorf("threshold/comparison = %v %q", g.CloudWatch.Threshold, g.CloudWatch.Comparison)
	}
	h := p.Gates[1]
	if h.Interval.Std() != 30*time.Second || h.OnFailure != OnFailurePause || h.Probe == nil || h.Probe.BodyContains != "ok" {
		t.Errorf("gate 1 = %+v", h)
	}
	if p.Verify == nil || p.Verify.Expect.New != "ok-new" || p.Verify.Resolvers[0] != "1.1.1.1:53" {
		t.Errorf("verify = %+v", p.Verify)
	}
	if p.Hold.Std() != 72*time.Hour {
		t.Errorf("hold = %v", p.Hold)
	}
	// Positions point at the value nodes.
	if pos := p.PosOf(&p.Steps[2].Pause); pos.Line != 39 || pos.Col != 12 {
		t.Errorf("steps[2].pause at %v, want line 39 col 12", pos)
	}
	if p.Gates[1].Pos.Line != 74 || p.Gates[1].Pos.Col != 5 {
		t.Errorf("gates[1] at %v, want 74:5", p.Gates[1].Pos)
	}
}

const minimal = `apiVersion: cutover/v1
kind: Cutover
name: m
hostname: api.example.com
zone: {id: Z1}
from: {alb: old.example.net}
to: {alb: new.example.net}
`

func TestDefaults(t *testing.T) {
	p, err := Parse("m.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy != StrategyWeighted {
		t.Errorf("strategy = %s, want weighted", p.Strategy)
	}
	if len(p.Steps) != 5 || p.Steps[0].Weight != 1 || p.Steps[4].Weight != 100 || p.Steps[0].Pause.Std() != 5*time.Minute || p.Steps[4].Pause != 0 {
		t.Errorf("default steps = %+v", p.Steps)
	}
	if p.Zone.Provider != "route53" || p.TTL.Cutover != 30 || p.TTL.Restore != 0 || p.Hold.Std() != 72*time.Hour {
		t.Errorf("defaults: zone %+v ttl %+v hold %v", p.Zone, p.TTL, p.Hold)
	}
	if p.Verify != nil || p.AliasMove != nil || p.Bridge != nil || p.Staging != nil {
		t.Errorf("optional blocks should stay nil")
	}
	if !p.PosOf(&p.Strategy).IsZero() {
		t.Errorf("a defaulted field must have no position")
	}
	if p.PosOf(&p.Name).Line != 3 {
		t.Errorf("name position = %v", p.PosOf(&p.Name))
	}
}

func TestDefaultStrategyByEdges(t *testing.T) {
	cases := []struct {
		from, to string
		want     Strategy
	}{
		{"{alb: a.example.net}", "{endpoint: b.example.net}", StrategyWeighted},
		{"{cloudfront: EAAAAAAAAA}", "{alb: b.example.net}", StrategyAuto},
		{"{cloudfront: EAAAAAAAAA}", "{cloudfront: EBBBBBBBBB}", StrategyAuto},
		{"{cloudfront: EAAAAAAAAA}", "{cloudfront: EAAAAAAAAA}", StrategyStaging},
	}
	for _, c := range cases {
		src := strings.Replace(strings.Replace(minimal, "{alb: old.example.net}", c.from, 1), "{alb: new.example.net}", c.to, 1)
		p, err := Parse("m.yaml", []byte(src))
		if err != nil {
			t.Errorf("%s -> %s: %v", c.from, c.to, err)
			continue
		}
		if p.Strategy != c.want {
			t.Errorf("%s -> %s: strategy %s, want %s", c.from, c.to, p.Strategy, c.want)
		}
	}
}

func TestExplicitZeroIsNotDefault(t *testing.T) {
	src := minimal + "gates:\n  - name: g\n    interval: 0s\n    probe: {url: https://api.example.com/}\n"
	_, err := Parse("m.yaml", []byte(src))
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("want Diagnostics, got %v", err)
	}
	if want := "m.yaml:10:15: `gates[0].interval` must be greater than 0, got 0s"; err.Error() != want {
		t.Errorf("got %q\nwant %q", err.Error(), want)
	}
	// Left out, the interval takes its default.
	p, err := Parse("m.yaml", []byte(strings.Replace(src, "    interval: 0s\n", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Gates[0].Interval.Std() != 30*time.Second || p.Gates[0].Probe.ExpectStatus[0] != 200 {
		t.Errorf("gate defaults = %+v", p.Gates[0])
	}
}

func TestWarningsDoNotFail(t *testing.T) {
	src := minimal + "ttl: {cutover: 600, restore: 300, prepare: 1m}\n"
	p, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w := p.Warnings()
	if len(w) != 2 {
		t.Fatalf("warnings = %v", w)
	}
	if !strings.Contains(w.Error(), "m.yaml:8:16: warning: `ttl.cutover` (600s) is longer than `ttl.restore` (300s)") ||
		!strings.Contains(w.Error(), "m.yaml:8:44: warning: `ttl.prepare` (1m) is shorter than a typical TTL (5m)") {
		t.Errorf("warnings:\n%s", w.Error())
	}
}

func TestMergeKeysAndAnchors(t *testing.T) {
	src := minimal + `gates:
  - &base
    name: a
    for: 2m
    probe: {url: https://api.example.com/a}
  - <<: *base
    name: b
`
	p, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Gates[1].Name != "b" || p.Gates[1].For.Std() != 2*time.Minute || p.Gates[1].Probe.URL != "https://api.example.com/a" {
		t.Errorf("merged gate = %+v", p.Gates[1])
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	p := Default()
	p.Name, p.Hostname, p.Zone.ID = "x", "api.example.com", "Z1"
	p.From = Edge{Kind: EdgeCloudFront, Value: "EAAAAAAAAA"}
	p.To = Edge{Kind: EdgeCloudFront, Value: "EBBBBBBBBB"}
	p.Strategy = StrategyWeighted
	p.Steps = DefaultSteps()
	ds := Validate(p)
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "use alias-move (same account) or bridge") {
		t.Errorf("diagnostics = %v", ds)
	}
}

func TestDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"0": 0, "5m": 5 * time.Minute, "3d": 72 * time.Hour, "1d12h": 36 * time.Hour,
		"1.5d": 36 * time.Hour, "90s": 90 * time.Second, "-1d": -24 * time.Hour, "250ms": 250 * time.Millisecond,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got.Std() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "five minutes", "5", "d", "5x", "1d 2h", "999999999999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	for d, want := range map[Duration]string{
		Duration(72 * time.Hour): "3d", Duration(90 * time.Minute): "1h30m", 0: "0s",
		Duration(26*time.Hour + 5*time.Second): "1d2h5s", Duration(1500 * time.Millisecond): "1.5s",
	} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", int64(d), d.String(), want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("round trip of %s: %v %v", d, back, err)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"weight", "pause", "gates"}
	for in, want := range map[string]string{"paus": "pause", "Pause": "pause", "wieght": "weight", "colour": "", "gate": "gates"} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := suggest("roleArn", []string{"role_arn", "id"}); got != "role_arn" {
		t.Errorf("suggest(roleArn) = %q", got)
	}
}

func TestApproveDefaults(t *testing.T) {
	src := `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {id: Z1}
from: {alb: old.example.net}
to: {alb: new.example.net}
steps:
  - weight: 10
  - approve: {}
  - weight: 100
gates:
  - name: errors
    dry_run: true
    probe: {url: "https://api.example.com/"}
`
	p, err := Parse("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Steps[1].Approve
	if a == nil || a.Timeout != 0 || a.OnTimeout != OnTimeoutRollback {
		t.Fatalf("approve = %+v, want no timeout and on_timeout rollback", a)
	}
	if got := p.PosOf(&p.Steps[1].Approve); got.Line != 10 || got.Col != 14 {
		t.Errorf("approve at %v, want line 10 col 14", got)
	}
	if !p.Gates[0].DryRun || p.Gates[0].InconclusiveLimit != 0 {
		t.Errorf("gate = %+v", p.Gates[0])
	}
}
