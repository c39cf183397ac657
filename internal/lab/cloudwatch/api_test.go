package cloudwatch

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

func TestPutQueryPlainAPI(t *testing.T) {
	l := newLab(t, Options{IngestDelay: 2 * time.Minute})
	dims := map[string]string{"DistributionId": "E1", "Region": "Global"}
	for i := 0; i < 6; i++ {
		if err := l.svc.Put("111111111111", "AWS/CloudFront", "Requests", dims, t0.Add(time.Duration(i-6)*time.Minute), float64(10*(i+1)), "None"); err != nil {
			t.Fatal(err)
		}
	}
	q := Query{Namespace: "AWS/CloudFront", MetricName: "Requests", Dimensions: dims, Stat: "Sum", Period: 3 * time.Minute,
		Start: t0.Add(-6*time.Minute + 30*time.Second), End: t0}
	// Published just now: hidden by the ingest delay.
	if ts, _, err := l.svc.Query("111111111111", q); err != nil || len(ts) != 0 {
		t.Fatalf("before the ingest delay: %v %v", ts, err)
	}
	l.clock.Advance(2 * time.Minute)
	ts, vals, err := l.svc.Query("111111111111", q)
	if err != nil {
		t.Fatal(err)
	}
	// Start 11:54:30 rounds down to 11:54; 3-minute buckets from the epoch
	// start at 11:54 and 11:57.
	if len(ts) != 2 || !ts[0].Equal(t0.Add(-6*time.Minute)) || vals[0] != 10+20+30 || vals[1] != 40+50+60 {
		t.Errorf("Query = %v %v", ts, vals)
	}
	if ts, _, _ := l.svc.Query("222222222222", q); len(ts) != 0 {
		t.Errorf("another account sees %d points", len(ts))
	}
	q.Period = 90 * time.Second
	if _, _, err := l.svc.Query("111111111111", q); err == nil || !strings.Contains(err.Error(), "InvalidParameterValue") {
		t.Errorf("bad period: %v", err)
	}
	if err := l.svc.Put("111111111111", "N", "M", nil, t0, 1, "Furlongs"); err == nil {
		t.Error("unknown unit accepted")
	}
	if h := l.env.History.List(awsapi.Filter{Service: "cloudwatch"}); len(h) != 0 {
		t.Errorf("data-plane Put recorded history: %+v", h)
	}
}

func TestStatisticSetsAndPercentiles(t *testing.T) {
	b := &bucket{}
	b.add(sample{Value: 4, Count: 1})
	b.add(sample{Set: true, Count: 3, Sum: 6, Min: 2, Max: 2})
	if v, ok := b.value("p50"); !ok || v != 2 {
		t.Errorf("p50 with an all-equal set = %v %v, want 2", v, ok)
	}
	if v, _ := b.value("Average"); v != 2.5 {
		t.Errorf("Average = %v, want 2.5", v)
	}
	b.add(sample{Set: true, Count: 2, Sum: 10, Min: 1, Max: 9})
	if _, ok := b.value("p50"); ok {
		t.Error("a percentile over a spread statistic set must be unavailable")
	}
	if v, _ := b.value("Maximum"); v != 9 {
		t.Errorf("Maximum = %v", v)
	}
	for _, tc := range []struct {
		p    float64
		want float64
	}{{0, 1}, {25, 1}, {26, 2}, {100, 3}} {
		// weighted: 1×1, 2×2, 3×1 → ranks 1,2,3,4
		got, _ := percentile([]sample{{Value: 3, Count: 1}, {Value: 1, Count: 1}, {Value: 2, Count: 2}}, tc.p)
		if got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestRoundStart(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		start, want time.Time
	}{
		{now.Add(-time.Hour - 34*time.Second), now.Add(-time.Hour - time.Minute)},
		{now.Add(-20*24*time.Hour - 7*time.Minute), now.Add(-20*24*time.Hour - 10*time.Minute)},
		{now.Add(-70*24*time.Hour - 7*time.Minute), now.Add(-70*24*time.Hour - time.Hour)},
	} {
		if got := roundStart(tc.start, now); !got.Equal(tc.want) {
			t.Errorf("roundStart(%v) = %v, want %v", tc.start, got, tc.want)
		}
	}
}

func TestSnapshotRestore(t *testing.T) {
	l := newLab(t, Options{})
	if err := l.svc.Put("111111111111", "N", "M", map[string]string{"a": "b"}, t0.Add(-time.Minute), 7, "Count"); err != nil {
		t.Fatal(err)
	}
	if err := l.svc.PutAlarm("111111111111", AlarmConfig{Name: "hi", Namespace: "N", MetricName: "M", Dimensions: map[string]string{"a": "b"},
		Statistic: "Sum", Period: time.Minute, EvaluationPeriods: 1, Threshold: 5, ComparisonOperator: "GreaterThanThreshold"}); err != nil {
		t.Fatal(err)
	}
	snap, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	fresh := New(l.env, Options{})
	if err := fresh.Restore(snap); err != nil {
		t.Fatal(err)
	}
	_, vals, err := fresh.Query("111111111111", Query{Namespace: "N", MetricName: "M", Dimensions: map[string]string{"a": "b"}, Stat: "Sum", Period: time.Minute, Start: t0.Add(-time.Hour), End: t0})
	if err != nil || len(vals) != 1 || vals[0] != 7 {
		t.Errorf("restored query: %v %v", vals, err)
	}
	if st, err := fresh.AlarmState("111111111111", "hi"); err != nil || st != StateAlarm {
		t.Errorf("restored alarm state %q %v, want ALARM", st, err)
	}
	if err := fresh.Restore(json.RawMessage(`{"version":2}`)); err == nil {
		t.Error("unknown snapshot version accepted")
	}
	if err := l.svc.PutAlarm("111111111111", AlarmConfig{Name: "bad", Namespace: "N", MetricName: "M", Statistic: "Sum", Period: time.Minute}); err == nil {
		t.Error("alarm without EvaluationPeriods accepted")
	}
}

// TestJSONErrorShape checks the awsQueryCompatible error envelope byte for
// byte: the shape in __type, the classic code in x-amzn-query-error.
func TestJSONErrorShape(t *testing.T) {
	l := newLab(t, Options{})
	req, _ := http.NewRequest(http.MethodPost, l.url+"/", strings.NewReader(`{"MetricName":"M","StartTime":0,"EndTime":60,"Period":60,"Statistics":["Sum"]}`))
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.GetMetricStatistics")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc map[string]string
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-query-error") != "MissingParameter;Sender" ||
		doc["__type"] != "com.amazonaws.cloudwatch#MissingRequiredParameterException" || doc["message"] != "The parameter Namespace is required." {
		t.Errorf("%d %v %s", resp.StatusCode, resp.Header, body)
	}

	req, _ = http.NewRequest(http.MethodPost, l.url+"/service/GraniteServiceVersion20100801/operation/Nope", strings.NewReader(""))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || !strings.HasPrefix(resp.Header.Get("x-amzn-query-error"), "UnknownOperationException;") {
		t.Errorf("unknown CBOR operation: %d %v", resp.StatusCode, resp.Header)
	}
}
