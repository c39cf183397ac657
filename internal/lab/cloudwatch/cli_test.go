package cloudwatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// The aws CLI (botocore) speaks JSON 1.0 to CloudWatch, so these tests prove
// that protocol end to end. Each call costs most of a second: they cover
// the main success and error paths only.

// cli runs `aws cloudwatch args...` against the lab.
func cli(t *testing.T, l *lab, args ...string) awstest.CLIResult {
	t.Helper()
	return awstest.CLI(t, l.url, append([]string{"cloudwatch"}, args...)...)
}

func cliOK(t *testing.T, l *lab, out any, args ...string) {
	t.Helper()
	res := cli(t, l, args...)
	if res.ExitCode != 0 {
		t.Fatalf("aws cloudwatch %s: exit %d\n%s", args[0], res.ExitCode, res.Stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(res.Stdout), out); err != nil {
			t.Fatalf("aws cloudwatch %s: %v\n%s", args[0], err, res.Stdout)
		}
	}
}

// cliErr runs a failing call and checks botocore's rendering of the error:
// "An error occurred (Code) when calling the Op operation…: message".
func cliErr(t *testing.T, l *lab, code, op, message string, args ...string) {
	t.Helper()
	res := cli(t, l, args...)
	head := "An error occurred (" + code + ") when calling the " + op + " operation"
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, head) || !strings.HasSuffix(strings.TrimSpace(res.Stderr), ": "+message) {
		t.Errorf("aws cloudwatch %s: exit %d, stderr %q\nwant %q … %q", args[0], res.ExitCode, res.Stderr, head, message)
	}
}

func writeJSONFile(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

func iso(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func TestCLIMetrics(t *testing.T) {
	t.Parallel() // the CLI's start-up dominates; let the two CLI tests overlap
	l := newLab(t, Options{})
	// requests 100/min for 4 minutes; errors 4 and 9 in two of them
	var data []map[string]any
	var want []refPoint
	for i := 0; i < 4; i++ {
		ts := t0.Add(time.Duration(i-4) * time.Minute).Add(17 * time.Second)
		data = append(data, map[string]any{"MetricName": "Requests", "Timestamp": iso(ts), "Value": 100, "Unit": "Count",
			"Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}})
	}
	data = append(data,
		map[string]any{"MetricName": "Errors", "Timestamp": iso(t0.Add(-4 * time.Minute)), "Values": []float64{1, 3}, "Counts": []float64{1, 1},
			"Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}},
		map[string]any{"MetricName": "Errors", "Timestamp": iso(t0.Add(-1 * time.Minute)), "StatisticValues": map[string]float64{"SampleCount": 3, "Sum": 9, "Minimum": 3, "Maximum": 3},
			"Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}})
	want = append(want, refPoint{t0.Add(-4 * time.Minute), 1}, refPoint{t0.Add(-4 * time.Minute), 3},
		refPoint{t0.Add(-time.Minute), 3}, refPoint{t0.Add(-time.Minute), 3}, refPoint{t0.Add(-time.Minute), 3})
	cliOK(t, l, nil, "put-metric-data", "--namespace", "Lab/Edge", "--metric-data", writeJSONFile(t, data))
	cliOK(t, l, nil, "put-metric-data", "--namespace", "Lab/Edge", "--metric-name", "Latency", "--value", "250",
		"--unit", "Milliseconds", "--timestamp", iso(t0.Add(-30*time.Second)), "--storage-resolution", "1")

	var gmd struct {
		MetricDataResults []struct {
			Id, Label, StatusCode string
			Timestamps            []any
			Values                []float64
		}
	}
	queries := []map[string]any{
		{"Id": "errors", "ReturnData": false, "MetricStat": map[string]any{"Period": 60, "Stat": "Sum",
			"Metric": map[string]any{"Namespace": "Lab/Edge", "MetricName": "Errors", "Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}}}},
		{"Id": "requests", "ReturnData": false, "MetricStat": map[string]any{"Period": 60, "Stat": "Sum",
			"Metric": map[string]any{"Namespace": "Lab/Edge", "MetricName": "Requests", "Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}}}},
		{"Id": "rate", "Expression": "100*errors/requests", "Label": "5xx rate"},
		{"Id": "p50", "MetricStat": map[string]any{"Period": 120, "Stat": "p50",
			"Metric": map[string]any{"Namespace": "Lab/Edge", "MetricName": "Errors", "Dimensions": []map[string]string{{"Name": "Edge", "Value": "blue"}}}}},
	}
	cliOK(t, l, &gmd, "get-metric-data", "--metric-data-queries", writeJSONFile(t, queries),
		"--start-time", iso(t0.Add(-4*time.Minute)), "--end-time", iso(t0), "--scan-by", "TimestampAscending")
	if len(gmd.MetricDataResults) != 2 {
		t.Fatalf("results %+v", gmd.MetricDataResults)
	}
	rate, p50 := gmd.MetricDataResults[0], gmd.MetricDataResults[1]
	if rate.Id != "rate" || rate.Label != "5xx rate" || rate.StatusCode != "Complete" || len(rate.Values) != 2 || rate.Values[0] != 4 || rate.Values[1] != 9 {
		t.Errorf("rate %+v, want [4 9]", rate)
	}
	if len(rate.Timestamps) != 2 || !sameInstant(t, rate.Timestamps[0], t0.Add(-4*time.Minute)) || !sameInstant(t, rate.Timestamps[1], t0.Add(-time.Minute)) {
		t.Errorf("rate timestamps %v", rate.Timestamps)
	}
	ref := expectedBuckets(want, 2*time.Minute, 50)
	if len(p50.Values) != len(ref) || p50.Values[0] != ref[0].pct || p50.Values[1] != ref[1].pct {
		t.Errorf("p50 %v, want %+v", p50.Values, ref)
	}

	var gms struct {
		Label      string
		Datapoints []struct {
			Timestamp          any
			Sum, SampleCount   float64
			Unit               string
			ExtendedStatistics map[string]float64
		}
	}
	cliOK(t, l, &gms, "get-metric-statistics", "--namespace", "Lab/Edge", "--metric-name", "Latency",
		"--start-time", iso(t0.Add(-time.Minute)), "--end-time", iso(t0), "--period", "10", "--extended-statistics", "p99.9")
	if gms.Label != "Latency" || len(gms.Datapoints) != 1 || gms.Datapoints[0].ExtendedStatistics["p99.9"] != 250 ||
		gms.Datapoints[0].Unit != "Milliseconds" || !sameInstant(t, gms.Datapoints[0].Timestamp, t0.Add(-30*time.Second)) {
		t.Errorf("high-resolution statistics %+v", gms)
	}

	var lm struct {
		Metrics []struct {
			Namespace, MetricName string
			Dimensions            []struct{ Name, Value string }
		}
	}
	cliOK(t, l, &lm, "list-metrics", "--namespace", "Lab/Edge", "--dimensions", "Name=Edge,Value=blue")
	if len(lm.Metrics) != 2 || lm.Metrics[0].MetricName != "Errors" || lm.Metrics[1].Dimensions[0].Value != "blue" {
		t.Errorf("list-metrics %+v", lm)
	}

	cliErr(t, l, "InvalidParameterCombination", "GetMetricStatistics", "The parameters Statistics and ExtendedStatistics are mutually exclusive and you have specified both.",
		"get-metric-statistics", "--namespace", "Lab/Edge", "--metric-name", "Latency", "--start-time", iso(t0.Add(-time.Hour)), "--end-time", iso(t0),
		"--period", "60", "--statistics", "Sum", "--extended-statistics", "p99")
	cliErr(t, l, "InvalidParameterValue", "GetMetricStatistics", "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.",
		"get-metric-statistics", "--namespace", "Lab/Edge", "--metric-name", "Latency", "--start-time", iso(t0.Add(-time.Hour)), "--end-time", iso(t0),
		"--period", "45", "--statistics", "Sum")
	cliErr(t, l, "InvalidParameterValue", "PutMetricData", "The value AWS/ for parameter Namespace is invalid.",
		"put-metric-data", "--namespace", "AWS/ApplicationELB", "--metric-name", "RequestCount", "--value", "1")
}

// sameInstant compares a CLI timestamp, printed as epoch seconds (the
// default cli_timestamp_format of awscli v1) or ISO 8601, with want.
func sameInstant(t *testing.T, v any, want time.Time) bool {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return time.UnixMilli(int64(x * 1000)).Equal(want)
	case string:
		got, err := time.Parse(time.RFC3339Nano, x)
		if err == nil {
			return got.Equal(want)
		}
	}
	t.Errorf("timestamp %v is neither epoch seconds nor ISO 8601", v)
	return false
}

func TestCLIAlarms(t *testing.T) {
	t.Parallel()
	l := newLab(t, Options{})
	cliOK(t, l, nil, "put-metric-alarm", "--alarm-name", "p99-latency", "--namespace", "Lab/Edge", "--metric-name", "Latency",
		"--extended-statistic", "p99", "--period", "60", "--evaluation-periods", "2", "--threshold", "500",
		"--comparison-operator", "GreaterThanOrEqualToThreshold", "--unit", "Milliseconds")
	type alarms struct {
		MetricAlarms []struct {
			AlarmName, StateValue, ExtendedStatistic, ComparisonOperator string
			Threshold                                                    float64
			EvaluationPeriods                                            int
		}
	}
	var da alarms
	cliOK(t, l, &da, "describe-alarms", "--alarm-name-prefix", "p99")
	if len(da.MetricAlarms) != 1 || da.MetricAlarms[0].StateValue != StateInsufficientData || da.MetricAlarms[0].Threshold != 500 || da.MetricAlarms[0].EvaluationPeriods != 2 {
		t.Fatalf("describe-alarms %+v", da)
	}
	// Two complete minutes whose p99 crosses 500 ms: 99 fast + 1 slow
	// sample is not enough, 98 fast + 2 slow is.
	for i := 0; i < 2; i++ {
		for j := 0; j < 98; j++ {
			if err := l.svc.Put("111111111111", "Lab/Edge", "Latency", nil, t0.Add(time.Duration(i)*time.Minute), 20, "Milliseconds"); err != nil {
				t.Fatal(err)
			}
		}
		for j := 0; j < 2; j++ {
			_ = l.svc.Put("111111111111", "Lab/Edge", "Latency", nil, t0.Add(time.Duration(i)*time.Minute+time.Second), 900, "Milliseconds")
		}
	}
	l.clock.Advance(2 * time.Minute)
	cliOK(t, l, &da, "describe-alarms", "--state-value", "ALARM")
	if len(da.MetricAlarms) != 1 || da.MetricAlarms[0].AlarmName != "p99-latency" {
		t.Fatalf("describe-alarms --state-value ALARM %+v", da)
	}
	cliErr(t, l, "ResourceNotFound", "DeleteAlarms", "Alarm(s) not found: nope",
		"delete-alarms", "--alarm-names", "nope")
	cliErr(t, l, "InvalidParameterCombination", "PutMetricAlarm", "The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.",
		"put-metric-alarm", "--alarm-name", "x", "--namespace", "Lab/Edge", "--metric-name", "Latency", "--statistic", "Sum",
		"--extended-statistic", "p99", "--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold")
	cliOK(t, l, nil, "delete-alarms", "--alarm-names", "p99-latency")
	cliOK(t, l, &da, "describe-alarms")
	if len(da.MetricAlarms) != 0 {
		t.Errorf("alarm survived delete-alarms: %+v", da)
	}
}
