package cloudfront

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// clientFault asserts err is an AWS-shaped 4xx error.
func clientFault(t *testing.T, err error) {
	t.Helper()
	var ae *awsapi.Error
	if !errors.As(err, &ae) || ae.Status < 400 || ae.Status >= 500 {
		t.Fatalf("decoder error is not an AWS client fault: %#v", err)
	}
}

// FuzzDistributionConfig feeds arbitrary bodies to the XML reader and the
// DistributionConfig decoder: they must answer a 4xx or a config whose
// re-encoding decodes to the same tree, never panic.
func FuzzDistributionConfig(f *testing.F) {
	f.Add([]byte(rawConfigXML("seed", "")))
	f.Add([]byte(rawConfigXML("seed", "<Aliases><Quantity>1</Quantity><Items><CNAME>www.example.com</CNAME></Items></Aliases>")))
	f.Add([]byte("<DistributionConfig><CallerReference>&amp;&lt;</CallerReference></DistributionConfig>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		tree, err := parseXML(body)
		if err != nil {
			clientFault(t, err)
			return
		}
		again, err := parseXML(tree.marshal(Namespace))
		if err != nil || again.String() != tree.String() {
			t.Fatalf("tree does not round-trip: %v\n%s\n%s", err, tree.String(), again)
		}
		if _, err := parseDistConfig(tree); err != nil {
			clientFault(t, err)
		}
	})
}

// FuzzPolicyConfig does the same for ContinuousDeploymentPolicyConfig.
func FuzzPolicyConfig(f *testing.F) {
	f.Add([]byte(`<ContinuousDeploymentPolicyConfig><StagingDistributionDnsNames><Quantity>1</Quantity><Items><DnsName>d1.cloudfront.net</DnsName></Items></StagingDistributionDnsNames><Enabled>true</Enabled><TrafficConfig><Type>SingleWeight</Type><SingleWeightConfig><Weight>0.1</Weight><SessionStickinessConfig><IdleTTL>300</IdleTTL><MaximumTTL>600</MaximumTTL></SessionStickinessConfig></SingleWeightConfig></TrafficConfig></ContinuousDeploymentPolicyConfig>`))
	f.Add([]byte(`<ContinuousDeploymentPolicyConfig><StagingDistributionDnsNames><Quantity>1</Quantity><Items><DnsName>d1.cloudfront.net</DnsName></Items></StagingDistributionDnsNames><Enabled>true</Enabled><TrafficConfig><Type>SingleHeader</Type><SingleHeaderConfig><Header>aws-cf-cd-x</Header><Value>1</Value></SingleHeaderConfig></TrafficConfig></ContinuousDeploymentPolicyConfig>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tree, err := parseXML(body)
		if err != nil {
			clientFault(t, err)
			return
		}
		p, err := parsePolicyConfig(tree)
		if err != nil {
			clientFault(t, err)
			return
		}
		if p.Weight < 0 || p.Weight > 0.15 || (p.IdleTTL > p.MaximumTTL) {
			t.Fatalf("accepted an out-of-range policy: %+v", p)
		}
	})
}

// FuzzCreateDistributionHTTP drives the handler itself: whatever the body,
// the answer is a success or an AWS-shaped 4xx, never a 500.
func FuzzCreateDistributionHTTP(f *testing.F) {
	f.Add([]byte(rawConfigXML("seed", "")), false)
	f.Add([]byte(`<DistributionConfigWithTags><DistributionConfig></DistributionConfig><Tags><Items><Tag><Key>k</Key></Tag></Items></Tags></DistributionConfigWithTags>`), true)
	svc := New(awsapi.NewEnv(fakeclock.New(t0)), Options{Seed: 1})
	f.Fuzz(func(t *testing.T, body []byte, withTags bool) {
		path := "/2020-05-31/distribution"
		if withTags {
			path += "?WithTags"
		}
		awstest.NoServerFault(t, svc, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body)), strconv.Quote(string(body)))
	})
}
