package cloudwatch

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

// The fuzz targets feed arbitrary bodies to each protocol's decoder and the
// operations behind it. Whatever arrives, the answer must be an AWS-shaped
// response below 500: never a panic, never an internal error.

var fuzzOps = []string{"PutMetricData", "GetMetricData", "GetMetricStatistics", "ListMetrics", "PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"}

func fuzzService() *Service {
	return New(awsapi.NewEnv(fakeclock.New(t0)), Options{})
}

func checkFuzzResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.Bytes())
	}
}

func FuzzCBORRequest(f *testing.F) {
	seed := func(v any) []byte {
		b, err := cbor.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(uint8(0), seed(map[string]any{"Namespace": "Lab/F", "MetricData": []any{map[string]any{"MetricName": "M", "Value": 1.5,
		"Timestamp": cbor.Tag{Number: 1, Content: float64(t0.Unix())}, "Values": []any{1.0, 2.0}}}}))
	f.Add(uint8(1), seed(map[string]any{"StartTime": cbor.Tag{Number: 1, Content: t0.Add(-time.Hour).Unix()}, "EndTime": cbor.Tag{Number: 1, Content: t0.Unix()},
		"MetricDataQueries": []any{map[string]any{"Id": "e", "Expression": "FILL(SUM(METRICS()), 0) * 2"}}}))
	f.Add(uint8(2), []byte{0xbf, 0x61, 0x61, 0xff})
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		svc := fuzzService()
		req := httptest.NewRequest(http.MethodPost, cborPath+fuzzOps[int(op)%len(fuzzOps)], bytes.NewReader(body))
		req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		req.Header.Set("Content-Type", "application/cbor")
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, req)
		checkFuzzResponse(t, rec)
	})
}

func FuzzJSONRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"Namespace":"Lab/F","MetricData":[{"MetricName":"M","Value":"NaN","Dimensions":[{"Name":"a","Value":"b"}]}]}`))
	f.Add(uint8(1), []byte(`{"StartTime":1772362800,"EndTime":1772366400,"MetricDataQueries":[{"Id":"m","MetricStat":{"Metric":{"Namespace":"N","MetricName":"M"},"Period":60,"Stat":"p99.9"}},{"Id":"e","Expression":"-(m/0)+ABS(m)"}]}`))
	f.Add(uint8(4), []byte(`{"AlarmName":"a","Namespace":"N","MetricName":"M","Statistic":"Sum","Period":60,"EvaluationPeriods":2,"Threshold":1,"ComparisonOperator":"LessThanThreshold","TreatMissingData":"ignore"}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		svc := fuzzService()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", serviceName+"."+fuzzOps[int(op)%len(fuzzOps)])
		req.Header.Set("Content-Type", jsonType)
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, req)
		checkFuzzResponse(t, rec)
		// describe once more so lazily evaluated alarms are exercised
		rec = httptest.NewRecorder()
		req = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(`{}`)))
		req.Header.Set("X-Amz-Target", serviceName+".DescribeAlarms")
		svc.ServeHTTP(rec, req)
		checkFuzzResponse(t, rec)
	})
}

func FuzzQueryRequest(f *testing.F) {
	f.Add([]byte("Action=PutMetricData&Version=2010-08-01&Namespace=Lab%2FF&MetricData.member.1.MetricName=M&MetricData.member.1.Value=2"))
	f.Add([]byte("Action=GetMetricStatistics&Namespace=N&MetricName=M&StartTime=2026-03-01T11:00:00Z&EndTime=2026-03-01T12:00:00Z&Period=60&ExtendedStatistics.member.1=p50"))
	f.Add([]byte("Action=ListMetrics&Dimensions.member.1.Name=a&Dimensions.member.1=x"))
	f.Fuzz(func(t *testing.T, body []byte) {
		svc := fuzzService()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, req)
		checkFuzzResponse(t, rec)
	})
}
