package drainspec

import (
	"errors"
	"fmt"
	"math"
	"time"

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
