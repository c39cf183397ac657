package drainspec

import (
	"testing"
	"time"

	"github.com/cutover/cutover/internal/runbook"
)

func TestSpecValidate(t *testing.T) {
	cf := &CloudWatchSource{DistributionID: "E2OLDDIST0001"}
	lb := "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/old/0123456789abcdef"
	for name, s := range map[string]Spec{
		"no source":      {},
		"two sources":    {CloudWatch: cf, Prometheus: &PrometheusSource{URL: "http://p", Query: "x"}},
		"two metrics":    {CloudWatch: &CloudWatchSource{DistributionID: "E2OLDDIST0001", LoadBalancer: lb}},
		"no metric":      {CloudWatch: &CloudWatchSource{}},
		"odd period":     {CloudWatch: &CloudWatchSource{DistributionID: "E2OLDDIST0001", Period: 90}},
		"no query":       {Prometheus: &PrometheusSource{URL: "http://p"}},
		"negative":       {CloudWatch: cf, Threshold: -1},
		"fraction":       {CloudWatch: cf, Fraction: 1},
		"policy":         {CloudWatch: cf, Policy: "panic"},
		"negative after": {CloudWatch: cf, Window: runbook.Duration(-time.Minute)},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	for name, s := range map[string]Spec{
		"cloudwatch": {CloudWatch: cf, Threshold: 5, Policy: PolicyRollback, Timeout: runbook.Duration(time.Hour)},
		"alb":        {CloudWatch: &CloudWatchSource{LoadBalancer: lb, Period: 120}, Fraction: 0.1},
		"prometheus": {Prometheus: &PrometheusSource{URL: "http://p", Query: "x"}, Policy: PolicyPause},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := Spec{CloudWatch: cf}.WithDefaults()
	if d.Window.D() != DefaultWindow || d.Policy != PolicyWait || d.CloudWatch.Period != 60 || cf.Period != 0 {
		t.Errorf("defaults %+v (source %+v)", d, d.CloudWatch)
	}
}
