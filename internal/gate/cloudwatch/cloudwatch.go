package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/plan"
)

// metricsAPI is the one CloudWatch call the gate makes.
type metricsAPI interface {
	GetMetricData(ctx context.Context, in *cw.GetMetricDataInput, optFns ...func(*cw.Options)) (*cw.GetMetricDataOutput, error)
}

var _ metricsAPI = (*cw.Client)(nil)

// Options tune the query window.
type Options struct {
	// DataDelay is how far before the measurement time the window ends: the
	// newest minutes are still being published. Default 2m.
	DataDelay time.Duration
	// Periods is how many periods the window spans. The value is the newest
	// datapoint in the window; the missing-data policy applies only when the
	// whole window is empty. Default 1.
	Periods int
}

// Gate is the CloudWatch gate. Its measurement value is the newest
// datapoint of the metric or expression (0 under the zero policy when there
// is none).
type Gate struct {
	spec    plan.CloudWatchGate
	client  metricsAPI
	opts    Options
	period  int64
	queries []types.MetricDataQuery
	name    string // metric or expression, for details
	err     error  // a spec that can never be queried
}

var _ gate.Gate = (*Gate)(nil)

// resultID is the id of the query whose values the gate reads.
const resultID = "gate"

// New returns a gate for spec reading through client. A spec that can
// never be queried still yields a gate, whose every measurement is an Error
// saying why.
func New(spec plan.CloudWatchGate, client metricsAPI, opts Options) gate.Gate {
	if opts.DataDelay == 0 {
		opts.DataDelay = 2 * time.Minute
	}
	if opts.Periods <= 0 {
		opts.Periods = 1
	}
	if spec.Comparison == "" {
		spec.Comparison = ">"
	}
	if spec.Missing == "" {
		spec.Missing = plan.MissingZero
	}
	g := &Gate{spec: spec, client: client, opts: opts}
	g.queries, g.period, g.err = buildQueries(spec)
	if spec.Expression != "" {
		g.name = "expression " + spec.Expression
	} else if spec.Metric != nil {
		g.name = describe(spec.Metric)
	}
	if _, ok := gate.Compare(0, spec.Comparison, 0); !ok && g.err == nil {
		g.err = fmt.Errorf("comparison %q: want >, >=, < or <=", spec.Comparison)
	}
	switch spec.Missing {
	case plan.MissingZero, plan.MissingBreach, plan.MissingIgnore:
	default:
		if g.err == nil {
			g.err = fmt.Errorf("missing %q: want zero, breach or ignore", spec.Missing)
		}
	}
	if client == nil && g.err == nil {
		g.err = errors.New("no CloudWatch client")
	}
	return g
}

// buildQueries turns the spec into MetricDataQueries: the metric alone, or
// every input (ReturnData false, so only the expression comes back) and the
// expression. The window's period is the largest input period.
func buildQueries(spec plan.CloudWatchGate) ([]types.MetricDataQuery, int64, error) {
	switch {
	case spec.Metric != nil && spec.Expression != "":
		return nil, 0, errors.New("both metric and expression set")
	case spec.Metric != nil:
		q, p, err := metricQuery(resultID, spec.Metric, true)
		if err != nil {
			return nil, 0, err
		}
		return []types.MetricDataQuery{q}, p, nil
	case spec.Expression != "":
		if len(spec.Metrics) == 0 {
			return nil, 0, fmt.Errorf("expression %q has no metrics", spec.Expression)
		}
		ids := make([]string, 0, len(spec.Metrics))
		for id := range spec.Metrics {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var qs []types.MetricDataQuery
		var period int64
		for _, id := range ids {
			if id == resultID {
				return nil, 0, fmt.Errorf("metric id %q is reserved", id)
			}
			q, p, err := metricQuery(id, spec.Metrics[id], false)
			if err != nil {
				return nil, 0, err
			}
			period = max(period, p)
			qs = append(qs, q)
		}
		qs = append(qs, types.MetricDataQuery{Id: aws.String(resultID), Expression: aws.String(spec.Expression), ReturnData: aws.Bool(true), Label: aws.String(spec.Expression)})
		return qs, period, nil
	}
	return nil, 0, errors.New("neither metric nor expression set")
}

func metricQuery(id string, m *plan.Metric, ret bool) (types.MetricDataQuery, int64, error) {
	if m == nil {
		return types.MetricDataQuery{}, 0, fmt.Errorf("metric %s is empty", id)
	}
	period := int64(m.Period)
	if period == 0 {
		period = 60
	}
	dims := make([]types.Dimension, 0, len(m.Dimensions))
	for k, v := range m.Dimensions {
		dims = append(dims, types.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	sort.Slice(dims, func(i, j int) bool { return *dims[i].Name < *dims[j].Name })
	ms := &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name), Dimensions: dims},
		Period: aws.Int32(int32(period)),
		Stat:   aws.String(m.Stat),
	}
	if m.Unit != "" {
		ms.Unit = types.StandardUnit(m.Unit)
	}
	return types.MetricDataQuery{Id: aws.String(id), MetricStat: ms, ReturnData: aws.Bool(ret)}, period, nil
}

// Window returns the query window for a measurement at now: it ends DataDelay
// before now, on a period boundary, and spans Periods periods.
func (g *Gate) Window(now time.Time) (start, end time.Time) {
	p := g.period
	if p <= 0 {
		p = 60
	}
	e := now.Add(-g.opts.DataDelay).Unix()
	e -= mod(e, p)
	end = time.Unix(e, 0).UTC()
	return end.Add(-time.Duration(int64(g.opts.Periods)*p) * time.Second), end
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// Measure queries the window before now and compares the newest datapoint.
func (g *Gate) Measure(ctx context.Context, now time.Time) gate.Measurement {
	m := gate.Measurement{At: now}
	if g.err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("cloudwatch %s: %v", g.name, g.err)
		return m
	}
	start, end := g.Window(now)
	win := fmt.Sprintf("%s–%s", start.Format("15:04:05"), end.Format("15:04:05"))
	value, found, err := g.newest(ctx, start, end)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("%s over %s: %v", g.name, win, err)
		return m
	}
	cond := g.spec.Comparison + " " + strconv.FormatFloat(g.spec.Threshold, 'g', -1, 64)
	if !found {
		switch g.spec.Missing {
		case plan.MissingBreach:
			m.Phase, m.Detail = gate.Failed, fmt.Sprintf("%s: no datapoints over %s (missing counts as a breach of %s)", g.name, win, cond)
			return m
		case plan.MissingIgnore:
			m.Phase, m.Detail = gate.Inconclusive, fmt.Sprintf("%s: no datapoints over %s", g.name, win)
			return m
		}
		value = 0
	}
	m.Value = value
	breach, _ := gate.Compare(value, g.spec.Comparison, g.spec.Threshold)
	shown := strconv.FormatFloat(value, 'g', 6, 64)
	if !found {
		shown += " (no datapoints, counted as 0)"
	}
	if breach {
		m.Phase, m.Detail = gate.Failed, fmt.Sprintf("%s = %s over %s, breaches %s", g.name, shown, win, cond)
	} else {
		m.Phase, m.Detail = gate.Successful, fmt.Sprintf("%s = %s over %s, breach is %s", g.name, shown, win, cond)
	}
	return m
}

// newest runs the queries, following pages, and returns the value at the
// newest timestamp of the gate's result.
func (g *Gate) newest(ctx context.Context, start, end time.Time) (float64, bool, error) {
	in := &cw.GetMetricDataInput{
		MetricDataQueries: g.queries,
		StartTime:         aws.Time(start),
		EndTime:           aws.Time(end),
		ScanBy:            types.ScanByTimestampDescending,
	}
	var (
		best  time.Time
		value float64
		found bool
	)
	for page := 0; page < 100; page++ {
		out, err := g.client.GetMetricData(ctx, in)
		if err != nil {
			return 0, false, fmt.Errorf("GetMetricData: %w", err)
		}
		for _, r := range out.MetricDataResults {
			if aws.ToString(r.Id) != resultID {
				continue
			}
			switch r.StatusCode {
			case types.StatusCodeInternalError, types.StatusCodeForbidden:
				return 0, false, fmt.Errorf("GetMetricData: status %s: %s", r.StatusCode, messages(r.Messages))
			}
			for i, ts := range r.Timestamps {
				if i >= len(r.Values) {
					break
				}
				if !found || ts.After(best) {
					best, value, found = ts, r.Values[i], true
				}
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return value, found, nil
		}
		in.NextToken = out.NextToken
	}
	return 0, false, errors.New("GetMetricData: too many pages")
}

func messages(ms []types.MessageData) string {
	var s []string
	for _, m := range ms {
		s = append(s, strings.TrimSpace(aws.ToString(m.Code)+" "+aws.ToString(m.Value)))
	}
	if len(s) == 0 {
		return "no message"
	}
	return strings.Join(s, "; ")
}

func describe(m *plan.Metric) string {
	var dims []string
	for k, v := range m.Dimensions {
		dims = append(dims, k+"="+v)
	}
	sort.Strings(dims)
	s := m.Namespace + " " + m.Name + " " + m.Stat
	if len(dims) > 0 {
		s += " {" + strings.Join(dims, ",") + "}"
	}
	return s
}
