package conformance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
)

// signingNames are the services the lab's one endpoint dispatches to.
var signingNames = []string{"route53", "cloudfront", "monitoring", "acm", "elasticloadbalancing", "sts"}

// FuzzLabEndpoint sends arbitrary signed requests through the lab's single
// endpoint, dispatcher included, which the per-service fuzz targets do not
// reach. Whatever arrives, the lab must not panic, must not answer 5xx to
// a client's mistake, and must refuse in the error shape of the service's
// protocol with a non-empty code, since that is all an SDK can parse.
func FuzzLabEndpoint(f *testing.F) {
	seeds := []struct {
		svc                         uint8
		method, path, target, ctype string
		body                        string
	}{
		{0, "GET", "/2013-04-01/hostedzone", "", "", ""},
		{0, "POST", "/2013-04-01/hostedzone", "", "text/xml", `<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>example.com</Name><CallerReference>r</CallerReference></CreateHostedZoneRequest>`},
		{0, "POST", "/2013-04-01/hostedzone/Z1/rrset/", "", "text/xml", `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes/></ChangeBatch></ChangeResourceRecordSetsRequest>`},
		{0, "GET", "/2013-04-01/change/C1", "", "", ""},
		{1, "GET", "/2020-05-31/distribution", "", "", ""},
		{1, "PUT", "/2020-05-31/distribution/E1/config", "", "text/xml", `<DistributionConfig/>`},
		{1, "POST", "/2020-05-31/distribution", "", "text/xml", `<DistributionConfig><CallerReference>x</CallerReference></DistributionConfig>`},
		{2, "POST", "/", "GraniteServiceVersion20100801.GetMetricData", "application/x-amz-json-1.0", `{"MetricDataQueries":[]}`},
		{2, "POST", "/", "", "application/x-www-form-urlencoded", "Action=ListMetrics&Version=2010-08-01"},
		{2, "POST", "/service/GraniteServiceVersion20100801/operation/GetMetricData", "", "application/cbor", "\xa0"},
		{3, "POST", "/", "CertificateManager.DescribeCertificate", "application/x-amz-json-1.1", `{"CertificateArn":"x"}`},
		{3, "POST", "/", "CertificateManager.Nope", "application/x-amz-json-1.1", `{`},
		{4, "POST", "/", "", "application/x-www-form-urlencoded", "Action=DescribeLoadBalancers&Version=2015-12-01"},
		{4, "POST", "/", "", "application/x-www-form-urlencoded", "Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=%ZZ"},
		{5, "POST", "/", "", "application/x-www-form-urlencoded", "Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=y"},
		{5, "POST", "/", "", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15"},
	}
	for _, s := range seeds {
		f.Add(s.svc, s.method, s.path, s.target, s.ctype, []byte(s.body))
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: awsapi.DefaultAccessKeyID, SecretAccessKey: awsapi.DefaultSecretAccessKey}
	f.Fuzz(func(t *testing.T, svc uint8, method, path, target, ctype string, body []byte) {
		name := signingNames[int(svc)%len(signingNames)]
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://lab.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request any client could send
		}
		if target != "" {
			req.Header.Set("X-Amz-Target", target)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if name == "monitoring" && strings.HasPrefix(path, "/service/") {
			req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
		}
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), name, "us-east-1", time.Now()); err != nil {
			return
		}
		// A fresh lab per input, so that a failure replays from its input
		// alone.
		l := lab.New(lab.Options{Clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), RateLimit: labr53.RateLimitOff, Seed: 1})
		rec := httptest.NewRecorder()
		l.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %s to %s: status %d for a client's request\n%s", method, path, target, name, rec.Code, rec.Body.String())
		}
		if rec.Code < 400 {
			return
		}
		if code := errorCode(name, rec); code == "" {
			t.Fatalf("%s %s %s to %s: status %d without an error code the SDK can read (Content-Type %q)\n%s",
				method, path, target, name, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
		}
	})
}

// errorCode reads the error code from a refusal the way the service's SDK
// client would.
func errorCode(service string, rec *httptest.ResponseRecorder) string {
	body := rec.Body.Bytes()
	switch service {
	case "acm":
		var e struct {
			Type string `json:"__type"`
		}
		if json.Unmarshal(body, &e) != nil {
			return ""
		}
		return e.Type
	case "monitoring":
		// Three protocols, each with its own shape; query-compatible
		// errors also carry the code in a header.
		if h := rec.Header().Get("X-Amzn-Query-Error"); h != "" {
			return h
		}
		if c := xmlErrorCode(body); c != "" {
			return c
		}
		var e struct {
			Type string `json:"__type"`
		}
		if json.Unmarshal(body, &e) == nil {
			return e.Type
		}
		return ""
	}
	return xmlErrorCode(body)
}

func xmlErrorCode(body []byte) string {
	var e struct {
		XMLName xml.Name
		Code    string `xml:"Error>Code"`
	}
	if xml.Unmarshal(body, &e) != nil || e.XMLName.Local != "ErrorResponse" {
		return ""
	}
	return e.Code
}
