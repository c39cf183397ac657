package drain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cutover/cutover/internal/gate"
)

// RequestMetric returns the request count metric of the edge a source
// names, and a name for it: AWS/CloudFront Requests with DistributionId and
// Region=Global, or AWS/ApplicationELB RequestCount with the LoadBalancer
// dimension (app/<name>/<id>, read from an ARN).
func RequestMetric(c *CloudWatchSource) (*types.Metric, string) {
	if c.DistributionID != "" {
		return &types.Metric{
			Namespace:  aws.String("AWS/CloudFront"),
			MetricName: aws.String("Requests"),
			// Both dimensions are required; CloudFront publishes Global only.
			Dimensions: []types.Dimension{{Name: aws.String("DistributionId"), Value: aws.String(c.DistributionID)}, {Name: aws.String("Region"), Value: aws.String("Global")}},
		}, "CloudFront Requests of " + c.DistributionID
	}
	lb := loadBalancerDimension(c.LoadBalancer)
	return &types.Metric{
		Namespace:  aws.String("AWS/ApplicationELB"),
		MetricName: aws.String("RequestCount"),
		Dimensions: []types.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lb)}},
	}, "ALB RequestCount of " + lb
}

// Window returns the CloudWatch window a measurement at now reads: it ends
// DataDelay before now on a period boundary and spans the gate's window
// rounded up to whole periods.
func (g *Gate) Window(now time.Time) (start, end time.Time) {
	p := int64(g.spec.CloudWatch.Period)
	e := now.Add(-g.opts.DataDelay).Unix()
	e -= ((e % p) + p) % p
	end = time.Unix(e, 0).UTC()
	periods := (int64(g.spec.Window.D()/time.Second) + p - 1) / p
	return end.Add(-time.Duration(periods*p) * time.Second), end
}

// measureCloudWatch reads every period of the window. A period without a
// datapoint had no request: neither CloudFront nor ALB publish a zero.
func (g *Gate) measureCloudWatch(ctx context.Context, now time.Time) gate.Measurement {
	m := gate.Measurement{At: now}
	src := g.spec.CloudWatch
	metric, name := RequestMetric(src)
	start, end := g.Window(now)
	win := fmt.Sprintf("%s–%s", start.Format("15:04"), end.Format("15:04"))
	sums, err := SumByPeriod(ctx, g.cw, metric, int32(src.Period), start, end)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("drain: %s over %s: %v", name, win, err)
		return m
	}
	period := time.Duration(src.Period) * time.Second
	perMinute := 60 / float64(src.Period)
	// Walk the periods oldest first: the peak, and the end of the last
	// period over the limit.
	var peak, latest float64
	var peakAt time.Time
	rates := make([]float64, 0, int(end.Sub(start)/period))
	for t := start; t.Before(end); t = t.Add(period) {
		r := sums[t.Unix()] * perMinute
		rates = append(rates, r)
		if r > peak || peakAt.IsZero() {
			peak, peakAt = r, t
		}
		latest = r
	}
	m.Value = latest

	g.mu.Lock()
	limit, base := g.limit(peak)
	g.mu.Unlock()
	quietFrom := start
	for i, r := range rates {
		if r > limit {
			quietFrom = start.Add(time.Duration(i+1) * period)
		}
	}
	window := g.spec.Window.D()
	switch {
	case quietFrom.Equal(start):
		m.Phase, m.Detail = gate.Successful, fmt.Sprintf("drained: %s ≤ %s req/min%s in every minute of %s (window %s, peak %s)", name, num(limit), base, win, window, num(peak))
	case latest > limit:
		m.Phase, m.Detail = gate.Inconclusive, fmt.Sprintf("still draining: %s req/min > %s%s (%s, period ending %s; peak %s at %s)", num(latest), num(limit), base, name, end.Format("15:04"), num(peak), peakAt.Format("15:04"))
	default:
		m.Phase, m.Detail = gate.Inconclusive, fmt.Sprintf("quiet for %s of %s: %s ≤ %s req/min%s since %s (peak %s at %s)", end.Sub(quietFrom), window, name, num(limit), base, quietFrom.Format("15:04"), num(peak), peakAt.Format("15:04"))
	}
	return m
}

// SumByPeriod returns the Sum of metric over each period (seconds) of
// [start, end), keyed by the period's start in Unix seconds, reading every
// page of GetMetricData. A period without a datapoint is absent: neither
// CloudFront nor ALB publish a zero.
func SumByPeriod(ctx context.Context, api metricsAPI, metric *types.Metric, period int32, start, end time.Time) (map[int64]float64, error) {
	in := &cw.GetMetricDataInput{
		MetricDataQueries: []types.MetricDataQuery{{
			Id:         aws.String("requests"),
			MetricStat: &types.MetricStat{Metric: metric, Period: aws.Int32(period), Stat: aws.String("Sum")},
			ReturnData: aws.Bool(true),
		}},
		StartTime: aws.Time(start),
		EndTime:   aws.Time(end),
		ScanBy:    types.ScanByTimestampAscending,
	}
	out := map[int64]float64{}
	for range 100 {
		resp, err := api.GetMetricData(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("GetMetricData: %w", err)
		}
		for _, r := range resp.MetricDataResults {
			switch r.StatusCode {
			case types.StatusCodeInternalError, types.StatusCodeForbidden:
				return nil, fmt.Errorf("GetMetricData: status %s", r.StatusCode)
			}
			for i, ts := range r.Timestamps {
				if i < len(r.Values) {
					out[ts.Unix()] += r.Values[i]
				}
			}
		}
		if aws.ToString(resp.NextToken) == "" {
			return out, nil
		}
		in.NextToken = resp.NextToken
	}
	return nil, errors.New("GetMetricData: too many pages")
}
