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
	"github.com/cutover/cutover/internal/gate/drainspec"
)

// The spec, its sources and its policies live in package drainspec, free
// of any SDK, so the engine reads a gate's policy without linking the
// CloudWatch client.
type (
	// Spec is the stored form of a drain gate.
	Spec = drainspec.Spec
	// CloudWatchSource reads the old edge's request count.
	CloudWatchSource = drainspec.CloudWatchSource
	// PrometheusSource reads the old edge's rate through an instant query.
	PrometheusSource = drainspec.PrometheusSource
)

// What the engine does while the old edge keeps serving after Timeout.
const (
	PolicyWait     = drainspec.PolicyWait
	PolicyPause    = drainspec.PolicyPause
	PolicyRollback = drainspec.PolicyRollback
)

// DefaultWindow is how long the old edge must stay quiet when the spec
// names no window.
const DefaultWindow = drainspec.DefaultWindow

// metricsAPI is the one CloudWatch call the gate makes.
type metricsAPI = MetricsAPI

// MetricsAPI is the one CloudWatch call the gate and SumByPeriod make.
type MetricsAPI interface {
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
