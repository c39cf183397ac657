package build

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/cutover/cutover/internal/gate/drain"
	"time"

	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// The gate kinds a runbook names.
const (
	KindCloudWatch = "cloudwatch"
	KindProbe      = "probe"
	// KindDrain is a drain gate; its spec is a drain.Spec.
	KindDrain = "drain"
)

// CloudWatchSpec is the stored form of plan.CloudWatchGate.
type CloudWatchSpec struct {
	Region     string                 `json:"region,omitempty"`
	RoleARN    string                 `json:"role_arn,omitempty"`
	Metric     *MetricSpec            `json:"metric,omitempty"`
	Expression string                 `json:"expression,omitempty"`
	Metrics    map[string]*MetricSpec `json:"metrics,omitempty"`
	Threshold  float64                `json:"threshold"`
	Comparison string                 `json:"comparison"`
	Missing    string                 `json:"missing"`
}

// MetricSpec is the stored form of plan.Metric.
type MetricSpec struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Stat       string            `json:"stat"`
	Period     int               `json:"period"`
	Unit       string            `json:"unit,omitempty"`
}

// ProbeSpec is the stored form of plan.ProbeGate.
type ProbeSpec struct {
	URL          string            `json:"url"`
	ExpectStatus []int             `json:"expect_status,omitempty"`
	BodyContains string            `json:"body_contains,omitempty"`
	Header       map[string]string `json:"header,omitempty"`
	Timeout      runbook.Duration  `json:"timeout,omitempty"`
}

// Defaults a runbook gate gets when the plan gate leaves them unset (a plan
// built in code rather than loaded from a file).
const (
	DefaultInterval     = 30 * time.Second
	DefaultProbeTimeout = 5 * time.Second
)

// Spec compiles a plan gate into a runbook gate: interval 30s and
// on_failure rollback unless set, comparison ">" and missing "zero" for
// metric gates, status 200 and a 5s timeout for probes.
func Spec(g plan.Gate) (runbook.Gate, error) {
	rg := runbook.Gate{
		Name:      g.Name,
		Interval:  runbook.Duration(g.Interval.Std()),
		For:       runbook.Duration(g.For.Std()),
		OnFailure: string(g.OnFailure),
		// Inconclusive is never a pass: the limit says how long the run
		// tolerates no data before a human decides.
		InconclusiveLimit: g.InconclusiveLimit,
		DryRun:            g.DryRun,
	}
	if rg.Interval <= 0 {
		rg.Interval = runbook.Duration(DefaultInterval)
	}
	if rg.OnFailure == "" {
		rg.OnFailure = string(plan.OnFailureRollback)
	}
	if rg.OnFailure != string(plan.OnFailureRollback) && rg.OnFailure != string(plan.OnFailurePause) {
		return runbook.Gate{}, fmt.Errorf("gate %s: on_failure %q: want rollback or pause", g.Name, rg.OnFailure)
	}
	var spec any
	switch {
	case g.CloudWatch != nil && g.Probe != nil:
		return runbook.Gate{}, fmt.Errorf("gate %s: both cloudwatch and probe set", g.Name)
	case g.Drain != nil:
		rg.Kind, spec = KindDrain, drainSpec(g.Drain)
	case g.CloudWatch != nil:
		rg.Kind, spec = KindCloudWatch, cloudWatchSpec(g.CloudWatch)
	case g.Probe != nil:
		rg.Kind, spec = KindProbe, probeSpec(g.Probe)
	default:
		return runbook.Gate{}, fmt.Errorf("gate %s: neither cloudwatch nor probe set", g.Name)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return runbook.Gate{}, fmt.Errorf("gate %s: encoding spec: %w", g.Name, err)
	}
	rg.Spec = raw
	return rg, nil
}

func cloudWatchSpec(c *plan.CloudWatchGate) CloudWatchSpec {
	s := CloudWatchSpec{
		Region:     c.Region,
		RoleARN:    c.RoleARN,
		Metric:     metricSpec(c.Metric),
		Expression: c.Expression,
		Threshold:  c.Threshold,
		Comparison: c.Comparison,
		Missing:    string(c.Missing),
	}
	if s.Comparison == "" {
		s.Comparison = ">"
	}
	if s.Missing == "" {
		s.Missing = string(plan.MissingZero)
	}
	if len(c.Metrics) > 0 {
		s.Metrics = make(map[string]*MetricSpec, len(c.Metrics))
		for id, m := range c.Metrics {
			s.Metrics[id] = metricSpec(m)
		}
	}
	return s
}

func metricSpec(m *plan.Metric) *MetricSpec {
	if m == nil {
		return nil
	}
	s := &MetricSpec{Namespace: m.Namespace, Name: m.Name, Dimensions: m.Dimensions, Stat: m.Stat, Period: m.Period, Unit: m.Unit}
	if s.Period == 0 {
		s.Period = 60
	}
	return s
}

func probeSpec(p *plan.ProbeGate) ProbeSpec {
	s := ProbeSpec{URL: p.URL, ExpectStatus: p.ExpectStatus, BodyContains: p.BodyContains, Header: p.Header, Timeout: runbook.Duration(p.Timeout.Std())}
	if len(s.ExpectStatus) == 0 {
		s.ExpectStatus = []int{200}
	}
	if s.Timeout <= 0 {
		s.Timeout = runbook.Duration(DefaultProbeTimeout)
	}
	return s
}

// Plan returns the cloudwatch spec in the plan form the provider takes.
func (s CloudWatchSpec) Plan() plan.CloudWatchGate {
	c := plan.CloudWatchGate{
		Region:     s.Region,
		RoleARN:    s.RoleARN,
		Metric:     s.Metric.plan(),
		Expression: s.Expression,
		Threshold:  s.Threshold,
		Comparison: s.Comparison,
		Missing:    plan.Missing(s.Missing),
	}
	if len(s.Metrics) > 0 {
		c.Metrics = make(map[string]*plan.Metric, len(s.Metrics))
		for id, m := range s.Metrics {
			c.Metrics[id] = m.plan()
		}
	}
	return c
}

func (m *MetricSpec) plan() *plan.Metric {
	if m == nil {
		return nil
	}
	return &plan.Metric{Namespace: m.Namespace, Name: m.Name, Dimensions: m.Dimensions, Stat: m.Stat, Period: m.Period, Unit: m.Unit}
}

// Plan returns the probe spec in the plan form the provider takes.
func (s ProbeSpec) Plan() plan.ProbeGate {
	return plan.ProbeGate{URL: s.URL, ExpectStatus: s.ExpectStatus, BodyContains: s.BodyContains, Header: s.Header, Timeout: plan.Duration(s.Timeout.D())}
}

// decodeStrict decodes raw into v, rejecting unknown fields: a runbook
// written by a newer version must not be half understood.
func decodeStrict(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func drainSpec(d *plan.DrainGate) drain.Spec {
	s := drain.Spec{Threshold: d.Threshold, Fraction: d.Fraction, Window: runbook.Duration(d.Window.Std()), Timeout: runbook.Duration(d.Timeout.Std()), Policy: d.Policy}
	if c := d.CloudWatch; c != nil {
		s.CloudWatch = &drain.CloudWatchSource{Region: c.Region, RoleARN: c.RoleARN, DistributionID: c.DistributionID, LoadBalancer: c.LoadBalancer, Period: c.Period}
	}
	if p := d.Prometheus; p != nil {
		s.Prometheus = &drain.PrometheusSource{URL: p.URL, Query: p.Query}
	}
	return s.WithDefaults()
}
