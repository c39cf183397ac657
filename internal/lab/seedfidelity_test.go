package lab_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// TestSeedCertificateStatesAndAlarms: a seed can hold a certificate still
// PENDING_VALIDATION (no NotBefore/NotAfter yet, as ACM shows one), one
// close to expiry, and alarms scoped to a seed load balancer's and
// distribution's dimensions, all read back over the wire.
func TestSeedCertificateStatesAndAlarms(t *testing.T) {
	l := lab.New(lab.Options{DeployDelay: -1})
	s, err := lab.ParseSeed("seed", []byte(`
certificates:
  - {name: pending, domains: [api.example.com], status: PENDING_VALIDATION}
  - {name: expiring, domains: [cdn.example.com], valid_for: 48h}
distributions:
  - {name: cdn, aliases: [cdn.example.com], certificate: expiring, origin: {domain: 127.0.0.1}}
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:8081"]}
alarms:
  - {name: old-5xx, namespace: AWS/ApplicationELB, metric: HTTPCode_ELB_5XX_Count, load_balancer: api-old, threshold: 10}
  - {name: cdn-errors, namespace: AWS/CloudFront, metric: 5xxErrorRate, statistic: Average, distribution: cdn, threshold: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	defer srv.Close()
	ctx := context.Background()
	a := acm.NewFromConfig(awstest.Config(srv.URL))
	p, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(seeded.Certificates["pending"])})
	if err != nil {
		t.Fatal(err)
	}
	if p.Certificate.Status != "PENDING_VALIDATION" || p.Certificate.NotAfter != nil {
		t.Fatalf("pending certificate: %s NotAfter %v", p.Certificate.Status, p.Certificate.NotAfter)
	}
	x, err := a.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(seeded.Certificates["expiring"])})
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(aws.ToTime(x.Certificate.NotAfter)); x.Certificate.Status != "ISSUED" || left > 48*time.Hour || left < 47*time.Hour {
		t.Fatalf("expiring certificate: %s, %s left", x.Certificate.Status, left)
	}
	out, err := cloudwatch.NewFromConfig(awstest.Config(srv.URL)).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, al := range out.MetricAlarms {
		var dims []string
		for _, d := range al.Dimensions {
			dims = append(dims, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
		}
		got[aws.ToString(al.AlarmName)] = strings.Join(dims, ",")
	}
	lbDim := seeded.LoadBalancers["api-old"].ARN[strings.Index(seeded.LoadBalancers["api-old"].ARN, ":loadbalancer/")+len(":loadbalancer/"):]
	if got["old-5xx"] != "LoadBalancer="+lbDim || !strings.Contains(got["cdn-errors"], "DistributionId="+seeded.Distributions["cdn"].ID) {
		t.Fatalf("alarm dimensions %v", got)
	}
	bad, _ := lab.ParseSeed("x", []byte("certificates:\n  - {name: c, domains: [a.example.com], status: REVOKED}\n"))
	if _, err := lab.New(lab.Options{}).Apply(bad); err == nil || !strings.Contains(err.Error(), "want ISSUED or PENDING_VALIDATION") {
		t.Fatalf("a seed status the lab cannot create: %v", err)
	}
}
