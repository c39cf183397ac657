package cloudfront

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type fakeCerts struct {
	mu    sync.Mutex
	certs map[string]CertInfo
}

func (f *fakeCerts) Certificate(arn string) (CertInfo, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.certs[arn]
	return c, ok
}

func (f *fakeCerts) add(arn string, c CertInfo) {
	f.mu.Lock()
	f.certs[arn] = c
	f.mu.Unlock()
}

type fakeDNS struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (f *fakeDNS) LookupTXT(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.txt[name]
}

func (f *fakeDNS) set(name string, values ...string) {
	f.mu.Lock()
	f.txt[name] = values
	f.mu.Unlock()
}

// Certificates every test can use: one per account for example.com
// (apex + one-label wildcard), a pending one, and one for domain.com.
const (
	certA       = "arn:aws:acm:us-east-1:111111111111:certificate/aaaa"
	certB       = "arn:aws:acm:us-east-1:222222222222:certificate/bbbb"
	certPending = "arn:aws:acm:us-east-1:111111111111:certificate/pend"
	certDomain  = "arn:aws:acm:us-east-1:111111111111:certificate/dom1"
	certDomainB = "arn:aws:acm:us-east-1:222222222222:certificate/dom2"
)

type lab struct {
	svc    *Service
	env    awsapi.Env
	clock  *fakeclock.Clock
	certs  *fakeCerts
	dns    *fakeDNS
	url    string
	cf     *cf.Client // default account
	cfB    *cf.Client // the other account
	client *http.Client
}

func newLab(t testing.TB) *lab {
	t.Helper()
	clock := fakeclock.New(t0)
	env := awsapi.NewEnv(clock)
	certs := &fakeCerts{certs: map[string]CertInfo{
		certA:       {AccountID: awsapi.DefaultAccountID, Status: "ISSUED", Domains: []string{"example.com", "*.example.com"}},
		certB:       {AccountID: awsapi.OtherAccountID, Status: "ISSUED", Domains: []string{"example.com", "*.example.com"}},
		certPending: {AccountID: awsapi.DefaultAccountID, Status: "PENDING_VALIDATION", Domains: []string{"*.example.com"}},
		certDomain:  {AccountID: awsapi.DefaultAccountID, Status: "ISSUED", Domains: []string{"www.domain.com", "*.domain.com"}},
		certDomainB: {AccountID: awsapi.OtherAccountID, Status: "ISSUED", Domains: []string{"www.domain.com", "*.domain.com"}},
	}}
	dns := &fakeDNS{txt: map[string][]string{}}
	svc := New(env, Options{Certificates: certs, DNS: dns, Seed: 42})
	srv := httptest.NewServer(awstest.Authenticate(env, awstest.XMLErrors(Namespace), nil, svc))
	t.Cleanup(srv.Close)
	return &lab{
		svc: svc, env: env, clock: clock, certs: certs, dns: dns, url: srv.URL, client: srv.Client(),
		cf:  cf.NewFromConfig(awstest.Config(srv.URL)),
		cfB: cf.NewFromConfig(awstest.ConfigAs(srv.URL, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "")),
	}
}

// distConfig is a minimal, valid SDK DistributionConfig.
func sdkConfig(ref, cert string, enabled bool, aliases ...string) *types.DistributionConfig {
	c := &types.DistributionConfig{
		CallerReference: aws.String(ref),
		Comment:         aws.String("lab " + ref),
		Enabled:         aws.Bool(enabled),
		Aliases:         &types.Aliases{Quantity: aws.Int32(int32(len(aliases))), Items: aliases},
		Origins: &types.Origins{Quantity: aws.Int32(1), Items: []types.Origin{{
			Id: aws.String("app"), DomainName: aws.String("app.origin.test"),
			CustomOriginConfig: &types.CustomOriginConfig{HTTPPort: aws.Int32(8080), HTTPSPort: aws.Int32(8443), OriginProtocolPolicy: types.OriginProtocolPolicyHttpOnly},
		}}},
		DefaultCacheBehavior: &types.DefaultCacheBehavior{
			TargetOriginId: aws.String("app"), ViewerProtocolPolicy: types.ViewerProtocolPolicyRedirectToHttps,
			CachePolicyId: aws.String("658327ea-f89d-4fab-a63d-7e88639e58f6"),
		},
		PriceClass: types.PriceClassPriceClass100,
	}
	if cert != "" {
		c.ViewerCertificate = &types.ViewerCertificate{ACMCertificateArn: aws.String(cert), SSLSupportMethod: types.SSLSupportMethodSniOnly, MinimumProtocolVersion: types.MinimumProtocolVersionTLSv122021}
	} else {
		c.ViewerCertificate = &types.ViewerCertificate{CloudFrontDefaultCertificate: aws.Bool(true)}
	}
	return c
}

func (l *lab) create(t testing.TB, c *cf.Client, cfg *types.DistributionConfig) *cf.CreateDistributionOutput {
	t.Helper()
	out, err := c.CreateDistribution(context.Background(), &cf.CreateDistributionInput{DistributionConfig: cfg})
	if err != nil {
		t.Fatalf("CreateDistribution %s: %v", aws.ToString(cfg.CallerReference), err)
	}
	return out
}

func (l *lab) getConfig(t testing.TB, c *cf.Client, id string) (*types.DistributionConfig, string) {
	t.Helper()
	out, err := c.GetDistributionConfig(context.Background(), &cf.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		t.Fatalf("GetDistributionConfig %s: %v", id, err)
	}
	return out.DistributionConfig, aws.ToString(out.ETag)
}

// update applies edit to the current config with the current ETag.
func (l *lab) update(t testing.TB, c *cf.Client, id string, edit func(*types.DistributionConfig)) *cf.UpdateDistributionOutput {
	t.Helper()
	cfg, etag := l.getConfig(t, c, id)
	edit(cfg)
	out, err := c.UpdateDistribution(context.Background(), &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: aws.String(etag), DistributionConfig: cfg})
	if err != nil {
		t.Fatalf("UpdateDistribution %s: %v", id, err)
	}
	return out
}

// wantAPIError asserts the exact error code, HTTP status and (when msg is
// not empty) the message a client sees.
func wantAPIError(t testing.TB, err error, code string, status int, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Fatalf("want message %q, got %q", msg, ae.ErrorMessage())
	}
	var re interface{ HTTPStatusCode() int }
	if status != 0 && errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("want HTTP %d for %s, got %d", status, code, re.HTTPStatusCode())
	}
}

// rawConfigXML is a minimal DistributionConfig document for raw HTTP tests
// and fuzz seeds.
func rawConfigXML(ref string, extra string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">
<CallerReference>` + ref + `</CallerReference>
<Aliases><Quantity>0</Quantity></Aliases>
<Origins><Quantity>1</Quantity><Items><Origin><Id>o</Id><DomainName>o.test</DomainName>
<CustomOriginConfig><HTTPPort>80</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>
</Origin></Items></Origins>
<DefaultCacheBehavior><TargetOriginId>o</TargetOriginId><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy></DefaultCacheBehavior>
<Comment>raw</Comment><Enabled>true</Enabled>` + extra + `
</DistributionConfig>`
}

func historyOps(env awsapi.Env) []string {
	var ops []string
	for _, c := range env.History.List(awsapi.Filter{Service: "cloudfront"}) {
		ops = append(ops, c.Operation+" "+c.Resource[strings.LastIndexByte(c.Resource, '/')+1:])
	}
	return ops
}
