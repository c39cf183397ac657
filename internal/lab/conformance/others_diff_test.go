package conformance

import "testing"

// otherDifferences are the ways moto departs from STS, ACM, ELBv2 and
// CloudWatch in the calls cutover makes.
var otherDifferences = []difference{
	{
		Step: "cw/put-metric-data",
		Ref:  "0. Wire protocols: aws-sdk-go-v2's CloudWatch client speaks Smithy RPC v2 CBOR only",
		Why:  "moto 5.2 does not serve CloudWatch over RPC v2 CBOR (404), so the Go SDK cannot reach it",
		Lab:  `{"accepted":true}`,
		Moto: `{"error":"transport","status":404,"message":""}`,
	},
	{
		Step: "cw/get-metric-statistics",
		Ref:  "C1 GetMetricStatistics; 0. Wire protocols (CBOR)",
		Why:  "moto 5.2 does not serve CloudWatch over RPC v2 CBOR (404)",
		Lab:  `{"label":"Requests","points":[{"at":"0s","max":4,"n":2,"sum":7}]}`,
		Moto: `{"error":"transport","status":404,"message":""}`,
	},
	{
		Step: "cw/get-metric-data",
		Ref:  "C1 GetMetricData: MetricDataResults[{Id, Label, Timestamps, Values, StatusCode}]; 0. Wire protocols (CBOR)",
		Why:  "moto 5.2 does not serve CloudWatch over RPC v2 CBOR (404)",
		Lab:  `[{"at":["0s"],"id":"requests","label":"Requests","status":"Complete","values":[7]}]`,
		Moto: `{"error":"transport","status":404,"message":""}`,
	},
}

func TestOtherServicesMatchMoto(t *testing.T) {
	w := startMoto(t)
	w.differ(t, otherBasics, otherDifferences)
}
