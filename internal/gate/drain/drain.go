package drain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
)

// What the engine does while the old edge keeps serving after Timeout.
const (
	// PolicyWait keeps waiting (the default): a slow drain is normal.
	PolicyWait = "wait"
	// PolicyPause pauses the run for a human.
	PolicyPause = "pause"
	// PolicyRollback rolls the run back: traffic that will not leave the
	// old edge means the new path is not taking it.
	PolicyRollback = "rollback"
)

// DefaultWindow is how long the old edge must stay quiet when the spec
// names no window. Resolver tails last 15 minutes and more (reference E).
const DefaultWindow = 15 * time.Minute

// Spec is the stored form of a drain gate. Exactly one of CloudWatch and
// Prometheus is set; Threshold is absolute unless Fraction is set.
type Spec struct {
	CloudWatch *CloudWatchSource `json:"cloudwatch,omitempty"`
	Prometheus *PrometheusSource `json:"prometheus,omitempty"`
	// Threshold is the highest rate that counts as drained: requests per
	// minute for CloudWatch, the query's own unit for Prometheus. 0 means
	// no request at all.
	Threshold float64 `json:"threshold"`
	// Fraction, when set (0 < Fraction < 1), makes the threshold that part
	// of the baseline: the peak of the first window measured (CloudWatch)
	// or the first value (Prometheus).
	Fraction float64 `json:"fraction,omitempty"`
	// Baseline fixes the baseline instead of measuring it, so a resumed
	// run keeps the one it started with.
	Baseline float64 `json:"baseline,omitempty"`
	// Window is how long the rate must stay at or under the threshold.
	// Default 15m.
	Window runbook.Duration `json:"window,omitempty"`
	// Policy is what the engine does when the edge has not drained after
	// Timeout: wait (default), pause or rollback. The gate never fails on
	// its own.
	Policy string `json:"policy,omitempty"`
	// Timeout bounds the wait before Policy applies; 0 waits forever.
	Timeout runbook.Duration `json:"timeout,omitempty"`
}

// CloudWatchSource reads the old edge's request count.
type CloudWatchSource struct {
	// Region of the metric. Default us-east-1, where CloudFront metrics
	// live; a load balancer's metrics live in its own region.
	Region  string `json:"region,omitempty"`
	RoleARN string `json:"role_arn,omitempty"`
	// DistributionID selects AWS/CloudFront Requests (Sum) with
	// Region=Global.
	DistributionID string `json:"distribution_id,omitempty"`
	// LoadBalancer selects AWS/ApplicationELB RequestCount (Sum): the
	// dimension value app/<name>/<id>, or the load balancer's ARN.
	LoadBalancer string `json:"load_balancer,omitempty"`
	// Period of each datapoint in seconds, a multiple of 60. Default 60.
	Period int `json:"period,omitempty"`
}

// PrometheusSource reads the old edge's rate through an instant query.
type PrometheusSource struct {
	// URL is the server's base URL (the API is under /api/v1).
	URL string `json:"url"`
	// Query must yield one number: a scalar, or a vector whose series are
	// summed (an empty vector is 0: no series, no traffic).
	Query string `json:"query"`
	// Unit names the query's unit in details, for example req/s.
	Unit string `json:"unit,omitempty"`
}

// Validate reports a spec that can never be measured.
func (s Spec) Validate() error {
	switch {
	case s.CloudWatch != nil && s.Prometheus != nil:
		return errors.New("both cloudwatch and prometheus set")
	case s.CloudWatch != nil:
		c := s.CloudWatch
		if (c.DistributionID == "") == (c.LoadBalancer == "") {
			return errors.New("cloudwatch: set exactly one of distribution_id and load_balancer")
		}
		if c.Period < 0 || c.Period%60 != 0 {
			return fmt.Errorf("cloudwatch: period %d: want a multiple of 60 seconds", c.Period)
		}
	case s.Prometheus != nil:
		if s.Prometheus.URL == "" || s.Prometheus.Query == "" {
			return errors.New("prometheus: url and query are required")
		}
	default:
		return errors.New("neither cloudwatch nor prometheus set")
	}
	if s.Threshold < 0 || math.IsNaN(s.Threshold) {
		return fmt.Errorf("threshold %g: want 0 or more", s.Threshold)
	}
	if s.Fraction < 0 || s.Fraction >= 1 {
		return fmt.Errorf("fraction %g: want more than 0 and less than 1", s.Fraction)
	}
	if s.Window < 0 || s.Timeout < 0 {
		return errors.New("window and timeout: want positive durations")
	}
	switch s.Policy {
	case "", PolicyWait, PolicyPause, PolicyRollback:
	default:
		return fmt.Errorf("policy %q: want wait, pause or rollback", s.Policy)
	}
	return nil
}

// WithDefaults fills the window, policy and CloudWatch period.
func (s Spec) WithDefaults() Spec {
	if s.Window == 0 {
		s.Window = runbook.Duration(DefaultWindow)
	}
	if s.Policy == "" {
		s.Policy = PolicyWait
	}
	if s.CloudWatch != nil && s.CloudWatch.Period == 0 {
		c := *s.CloudWatch
		c.Period = 60
		s.CloudWatch = &c
	}
	return s
}

// metricsAPI is the one CloudWatch call the gate makes.
type metricsAPI interface {
	GetMetricData(ctx context.Context, in *cw.GetMetricDataInput, optFns ...func(*cw.Options)) (*cw.GetMetricDataOutput, error)
}

var _ metricsAPI = (*cw.Client)(nil)

// Options tune the gate.
type Options struct {
	// DataDelay is how far before the measurement the CloudWatch window
	// ends: the newest minutes are still being published. Default 2m.
	DataDelay time.Duration
	// HTTPClient reaches Prometheus. Default: a client with a 10s timeout.
	HTTPClient *http.Client
}

// Gate is a drain gate.
type Gate struct {
	spec Spec
	opts Options
	cw   metricsAPI
	prom *Prometheus
	err  error // a spec that can never be measured

	mu         sync.Mutex
	baseline   float64
	haveBase   bool
	quietSince time.Time // Prometheus: first quiet measurement of the current run
}

var _ gate.Gate = (*Gate)(nil)

// New returns a drain gate. metrics reads CloudWatch sources and may be nil
// for Prometheus ones. A spec that can never be measured still yields a
// gate, whose every measurement is an Error saying why.
func New(spec Spec, metrics metricsAPI, opts Options) *Gate {
	spec = spec.WithDefaults()
	if opts.DataDelay == 0 {
		opts.DataDelay = 2 * time.Minute
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	g := &Gate{spec: spec, opts: opts, cw: metrics, err: spec.Validate()}
	if spec.Baseline > 0 {
		g.baseline, g.haveBase = spec.Baseline, true
	}
	switch {
	case g.err != nil:
	case spec.CloudWatch != nil && metrics == nil:
		g.err = errors.New("no CloudWatch client")
	case spec.Prometheus != nil:
		g.prom, g.err = NewPrometheus(spec.Prometheus.URL, opts.HTTPClient)
	}
	return g
}

// Spec returns the spec with its defaults, for the engine to read Policy
// and Timeout.
func (g *Gate) Spec() Spec { return g.spec }

// Measure implements gate.Gate.
func (g *Gate) Measure(ctx context.Context, now time.Time) gate.Measurement {
	m := gate.Measurement{At: now}
	if g.err != nil {
		m.Phase, m.Detail = gate.Error, "drain: "+g.err.Error()
		return m
	}
	if g.spec.CloudWatch != nil {
		return g.measureCloudWatch(ctx, now)
	}
	return g.measurePrometheus(ctx, now)
}

// limit returns the threshold in force, setting the baseline from first
// when it is not known yet.
func (g *Gate) limit(first float64) (limit float64, detail string) {
	if g.spec.Fraction == 0 {
		return g.spec.Threshold, ""
	}
	if !g.haveBase {
		g.baseline, g.haveBase = first, true
	}
	return g.spec.Fraction * g.baseline, fmt.Sprintf(" (%s of baseline %s)", percent(g.spec.Fraction), num(g.baseline))
}

func (g *Gate) measurePrometheus(ctx context.Context, now time.Time) gate.Measurement {
	m := gate.Measurement{At: now}
	p := g.spec.Prometheus
	r, err := g.prom.Query(ctx, p.Query, now)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("drain: prometheus %s: %v", p.Query, err)
		return m
	}
	if math.IsNaN(r.Value) {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("drain: prometheus %s returned NaN", p.Query)
		return m
	}
	m.Value = r.Value
	unit := ""
	if p.Unit != "" {
		unit = " " + p.Unit
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	limit, base := g.limit(r.Value)
	window := g.spec.Window.D()
	if r.Value > limit {
		g.quietSince = time.Time{}
		m.Phase, m.Detail = gate.Inconclusive, fmt.Sprintf("still draining: %s%s > %s%s (%s)", num(r.Value), unit, num(limit), base, p.Query)
		return m
	}
	if g.quietSince.IsZero() {
		g.quietSince = now
	}
	quiet := now.Sub(g.quietSince)
	if quiet >= window {
		m.Phase, m.Detail = gate.Successful, fmt.Sprintf("drained: %s%s ≤ %s%s for %s (window %s; %s)", num(r.Value), unit, num(limit), base, quiet, window, p.Query)
		return m
	}
	m.Phase, m.Detail = gate.Inconclusive, fmt.Sprintf("quiet for %s of %s: %s%s ≤ %s%s (%s)", quiet, window, num(r.Value), unit, num(limit), base, p.Query)
	return m
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

func percent(f float64) string { return strconv.FormatFloat(f*100, 'g', 4, 64) + "%" }

// loadBalancerDimension turns an ALB ARN into its metric dimension value
// (app/<name>/<id>); a dimension value is returned as it is.
func loadBalancerDimension(lb string) string {
	if i := strings.Index(lb, ":loadbalancer/"); i >= 0 {
		return lb[i+len(":loadbalancer/"):]
	}
	return lb
}
