package awsread

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/awsconfig/mototest"
	"github.com/cutover/cutover/internal/dns"
	r53p "github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// TestReadersAgainstMoto reads, through the same SDK calls as against AWS,
// what moto_server (an emulator no one here wrote) holds: zones and every
// record of one, health checks and a requested certificate. (CloudWatch is
// left to the lab's tests: this SDK speaks Smithy RPC v2 CBOR to it, which
// moto does not serve.)
func TestReadersAgainstMoto(t *testing.T) {
	endpoint := mototest.Start(t)
	cfg := awstest.Config(endpoint)
	ctx := context.Background()
	conf := func(context.Context, string) (aws.Config, error) { return cfg, nil }

	rc := route53.NewFromConfig(cfg)
	z, err := rc.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("awsread")})
	if err != nil {
		t.Fatal(err)
	}
	prov := r53p.New(cfg, r53p.Options{Limiter: r53p.NewLimiter(1000, 1000, nil), Sleep: func(context.Context, time.Duration) error { return nil }})
	zoneID := aws.ToString(z.HostedZone.Id)
	w := int64(0)
	leftover := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", SetIdentifier: "old", Weight: &w, TTL: 60, Values: []string{"old-lb.example.net."}}
	if _, err := prov.Apply(ctx, dns.ChangeSet{Zone: zoneID, Changes: []dns.Change{{New: &leftover}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc"), HealthCheckConfig: &r53types.HealthCheckConfig{
		Type: r53types.HealthCheckTypeHttps, FullyQualifiedDomainName: aws.String("old-lb.example.net"), Port: aws.Int32(443), ResourcePath: aws.String("/")}}); err != nil {
		t.Fatal(err)
	}
	r := NewRoute53(cfg, prov)
	zones, err := r.HostedZones(ctx)
	if err != nil || len(zones) != 1 || zones[0].Name != "example.com." || zones[0].ID == "" || zones[0].ID[0] == '/' {
		t.Fatalf("zones %+v, %v", zones, err)
	}
	all, err := r.AllRecords(ctx, zones[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range all {
		found = found || s.Equal(leftover)
	}
	if !found {
		t.Fatalf("the weighted leftover is not among %v", all)
	}
	hcs, err := r.HealthChecks(ctx)
	if err != nil || len(hcs) != 1 || hcs[0].FQDN != "old-lb.example.net" || hcs[0].Type != "HTTPS" {
		t.Fatalf("health checks %+v, %v", hcs, err)
	}

	req, err := acm.NewFromConfig(cfg).RequestCertificate(ctx, &acm.RequestCertificateInput{DomainName: aws.String("api.example.com"), SubjectAlternativeNames: []string{"*.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	a := ACM{Config: conf}
	crt, err := a.Certificate(ctx, aws.ToString(req.CertificateArn))
	if err != nil || (crt.Status != "ISSUED" && crt.Status != "PENDING_VALIDATION") || len(crt.Domains) == 0 {
		t.Fatalf("certificate %+v, %v", crt, err)
	}
	cov, err := a.Covering(ctx, "us-east-1", "www.example.com")
	if err != nil || len(cov) != 1 || cov[0].ARN != aws.ToString(req.CertificateArn) {
		t.Fatalf("covering www.example.com: %+v, %v", cov, err)
	}
}
