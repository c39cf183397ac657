package cloudwatch

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The classic query protocol: form-encoded POSTs answered with XML.

func queryPost(t *testing.T, l *lab, form url.Values) (int, []byte) {
	t.Helper()
	form.Set("Version", "2010-08-01")
	resp, err := http.Post(l.url+"/", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

type xmlErrorDoc struct {
	XMLName xml.Name `xml:"http://monitoring.amazonaws.com/doc/2010-08-01/ ErrorResponse"`
	Error   struct{ Type, Code, Message string }
}

func TestQueryProtocol(t *testing.T) {
	l := newLab(t, Options{})
	form := url.Values{"Action": {"PutMetricData"}, "Namespace": {"Lab/Q"}}
	for i, v := range []string{"3", "5", "100"} {
		p := "MetricData.member." + string(rune('1'+i)) + "."
		form.Set(p+"MetricName", "Requests")
		form.Set(p+"Value", v)
		form.Set(p+"Unit", "Count")
		form.Set(p+"Timestamp", t0.Add(time.Duration(i-3)*time.Minute).Format(time.RFC3339))
		form.Set(p+"Dimensions.member.1.Name", "Edge")
		form.Set(p+"Dimensions.member.1.Value", "blue")
	}
	status, body := queryPost(t, l, form)
	if status != 200 || !strings.Contains(string(body), `<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>`) {
		t.Fatalf("PutMetricData: %d %s", status, body)
	}

	status, body = queryPost(t, l, url.Values{"Action": {"GetMetricStatistics"}, "Namespace": {"Lab/Q"}, "MetricName": {"Requests"},
		"Dimensions.member.1.Name": {"Edge"}, "Dimensions.member.1.Value": {"blue"},
		"StartTime": {t0.Add(-3 * time.Minute).Format(time.RFC3339)}, "EndTime": {t0.Format(time.RFC3339)}, "Period": {"120"},
		"Statistics.member.1": {"Sum"}, "Statistics.member.2": {"Maximum"}})
	var gms struct {
		XMLName xml.Name `xml:"http://monitoring.amazonaws.com/doc/2010-08-01/ GetMetricStatisticsResponse"`
		Result  struct {
			Label      string
			Datapoints []struct {
				Timestamp    time.Time
				Sum, Maximum float64
				Unit         string
			} `xml:"Datapoints>member"`
		} `xml:"GetMetricStatisticsResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &gms); err != nil || status != 200 {
		t.Fatalf("GetMetricStatistics: %d %v\n%s", status, err, body)
	}
	// Buckets of 2 minutes from the epoch: 11:56 holds 11:57 (3); 11:58
	// holds 11:58 (5) and 11:59 (100).
	dps := gms.Result.Datapoints
	if gms.Result.Label != "Requests" || gms.RequestID == "" || len(dps) != 2 ||
		!dps[0].Timestamp.Equal(t0.Add(-4*time.Minute)) || dps[0].Sum != 3 ||
		!dps[1].Timestamp.Equal(t0.Add(-2*time.Minute)) || dps[1].Sum != 105 || dps[1].Maximum != 100 || dps[1].Unit != "Count" {
		t.Errorf("GetMetricStatistics result %+v", gms.Result)
	}

	status, body = queryPost(t, l, url.Values{"Action": {"GetMetricData"},
		"StartTime": {t0.Add(-3 * time.Minute).Format(time.RFC3339)}, "EndTime": {t0.Format(time.RFC3339)}, "ScanBy": {"TimestampAscending"},
		"MetricDataQueries.member.1.Id":                                          {"r"},
		"MetricDataQueries.member.1.ReturnData":                                  {"false"},
		"MetricDataQueries.member.1.MetricStat.Metric.Namespace":                 {"Lab/Q"},
		"MetricDataQueries.member.1.MetricStat.Metric.MetricName":                {"Requests"},
		"MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name":  {"Edge"},
		"MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": {"blue"},
		"MetricDataQueries.member.1.MetricStat.Period":                           {"60"},
		"MetricDataQueries.member.1.MetricStat.Stat":                             {"Sum"},
		"MetricDataQueries.member.2.Id":                                          {"half"},
		"MetricDataQueries.member.2.Expression":                                  {"r / 2"},
	})
	var gmd struct {
		Results []struct {
			Id, Label, StatusCode string
			Timestamps            []time.Time `xml:"Timestamps>member"`
			Values                []float64   `xml:"Values>member"`
		} `xml:"GetMetricDataResult>MetricDataResults>member"`
	}
	if err := xml.Unmarshal(body, &gmd); err != nil || status != 200 {
		t.Fatalf("GetMetricData: %d %v\n%s", status, err, body)
	}
	if len(gmd.Results) != 1 || gmd.Results[0].Id != "half" || len(gmd.Results[0].Values) != 3 ||
		gmd.Results[0].Values[0] != 1.5 || gmd.Results[0].Values[2] != 50 || !gmd.Results[0].Timestamps[0].Equal(t0.Add(-3*time.Minute)) {
		t.Errorf("GetMetricData results %+v", gmd.Results)
	}

	status, body = queryPost(t, l, url.Values{"Action": {"PutMetricAlarm"}, "AlarmName": {"hot"}, "Namespace": {"Lab/Q"}, "MetricName": {"Requests"},
		"Dimensions.member.1.Name": {"Edge"}, "Dimensions.member.1.Value": {"blue"},
		"Statistic": {"Sum"}, "Period": {"60"}, "EvaluationPeriods": {"1"}, "Threshold": {"50"}, "ComparisonOperator": {"GreaterThanThreshold"}})
	if status != 200 {
		t.Fatalf("PutMetricAlarm: %d %s", status, body)
	}
	status, body = queryPost(t, l, url.Values{"Action": {"DescribeAlarms"}})
	var da struct {
		Alarms []struct {
			AlarmName, StateValue string
			Threshold             float64
			Dimensions            []Dimension `xml:"Dimensions>member"`
		} `xml:"DescribeAlarmsResult>MetricAlarms>member"`
	}
	if err := xml.Unmarshal(body, &da); err != nil || status != 200 {
		t.Fatalf("DescribeAlarms: %d %v\n%s", status, err, body)
	}
	// The last complete minute (11:59) summed 100 > 50.
	if len(da.Alarms) != 1 || da.Alarms[0].StateValue != StateAlarm || da.Alarms[0].Threshold != 50 || da.Alarms[0].Dimensions[0].Value != "blue" {
		t.Errorf("DescribeAlarms %+v", da)
	}

	for _, tc := range []struct {
		form          url.Values
		status        int
		code, message string
	}{
		{url.Values{"Action": {"PutMetricData"}, "MetricData.member.1.MetricName": {"M"}, "MetricData.member.1.Value": {"1"}},
			400, "MissingParameter", "The parameter Namespace is required."},
		{url.Values{"Action": {"PutMetricData"}, "Namespace": {"Lab/Q"}, "MetricData.member.1.MetricName": {"M"}, "MetricData.member.1.Value": {"NaN"}},
			400, "InvalidParameterValue", "The value NaN for parameter MetricData.member.1.Value is invalid."},
		{url.Values{"Action": {"PutMetricData"}, "Namespace": {"Lab/Q"}, "MetricData.member.1.MetricName": {"M"}, "MetricData.member.1.Dimensions.member.1.Name": {"Edge"}},
			400, "MissingParameter", "The parameter MetricData.member.1.Dimensions.member.1.Value is required."},
		{url.Values{"Action": {"GetMetricStatistics"}, "Namespace": {"Lab/Q"}, "MetricName": {"M"}, "StartTime": {t0.Format(time.RFC3339)},
			"EndTime": {t0.Add(-time.Hour).Format(time.RFC3339)}, "Period": {"60"}, "Statistics.member.1": {"Sum"}},
			400, "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."},
		{url.Values{"Action": {"Frobnicate"}}, 400, "InvalidAction", "Could not find operation Frobnicate for version 2010-08-01"},
		{url.Values{"Action": {"DeleteAlarms"}, "AlarmNames.member.1": {"ghost"}}, 404, "ResourceNotFound", "Alarm(s) not found: ghost"},
	} {
		status, body := queryPost(t, l, tc.form)
		var e xmlErrorDoc
		if err := xml.Unmarshal(body, &e); err != nil {
			t.Errorf("%s: %v\n%s", tc.form.Get("Action"), err, body)
			continue
		}
		if status != tc.status || e.Error.Code != tc.code || e.Error.Message != tc.message || e.Error.Type != "Sender" {
			t.Errorf("%s: %d %+v\nwant %d %s %q", tc.form.Get("Action"), status, e.Error, tc.status, tc.code, tc.message)
		}
	}
}
