package edgesim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfsdk "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/acm"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/origin"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const certArn = "arn:aws:acm:us-east-1:111111111111:certificate/lab-example"

var exampleDomains = []string{"example.com", "*.example.com"}

// fakeCerts serves both the CloudFront emulator's and the edges' view of one
// ACM certificate.
type fakeCerts struct{}

func (fakeCerts) Certificate(arn string) (acm.Info, bool) {
	if arn != certArn {
		return acm.Info{}, false
	}
	return acm.Info{ARN: arn, AccountID: awsapi.DefaultAccountID, Status: "ISSUED", Domains: exampleDomains}, true
}

type cfCerts struct{}

func (cfCerts) Certificate(arn string) (cloudfront.CertInfo, bool) {
	if arn != certArn {
		return cloudfront.CertInfo{}, false
	}
	return cloudfront.CertInfo{AccountID: awsapi.DefaultAccountID, Status: "ISSUED", Domains: exampleDomains}, true
}

// world is a CloudFront emulator on a fake clock with origins and edges.
type world struct {
	clock *fakeclock.Clock
	cf    *cloudfront.Service
	sdk   *cfsdk.Client
	sim   *Sim
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := fakeclock.New(t0)
	svc := cloudfront.New(awsapi.NewEnv(clock), cloudfront.Options{Certificates: cfCerts{}, DeployDelay: 6 * time.Second, Seed: 1})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return &world{clock: clock, cf: svc, sdk: cfsdk.NewFromConfig(awstest.Config(srv.URL))}
}

func (w *world) start(t *testing.T, opts Options) *Sim {
	t.Helper()
	opts.Clock = w.clock
	if opts.Distributions == nil {
		opts.Distributions = w.cf
	}
	opts.Certificates = fakeCerts{}
	opts.EphemeralPorts = true
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	sim := startSim(t, opts)
	w.sim = sim
	return sim
}

func startSim(t *testing.T, opts Options) *Sim {
	t.Helper()
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	return sim
}

func startOrigin(t *testing.T, name, addr string) *origin.Origin {
	t.Helper()
	o, err := origin.Start(name, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func originOf(o *origin.Origin) []cloudfront.Origin {
	host, port, _ := net.SplitHostPort(o.Addr())
	p, _ := strconv.Atoi(port)
	return []cloudfront.Origin{{ID: "o", DomainName: host, HTTPPort: p, HTTPSPort: p, ProtocolPolicy: "http-only"}}
}

func (w *world) create(t *testing.T, ref string, enabled bool, o *origin.Origin, aliases ...string) cloudfront.View {
	t.Helper()
	v, err := w.cf.CreateDistributionFor(awsapi.DefaultAccountID, cloudfront.DistributionInput{
		CallerReference: ref, Enabled: enabled, Aliases: aliases, Origins: originOf(o), CertificateArn: certArn,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setAliases replaces a distribution's aliases through the SDK, as an
// operator (or cutover) would.
func (w *world) setAliases(t *testing.T, id string, aliases ...string) {
	t.Helper()
	ctx := context.Background()
	got, err := w.sdk.GetDistributionConfig(ctx, &cfsdk.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := got.DistributionConfig
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(int32(len(aliases))), Items: aliases}
	if _, err := w.sdk.UpdateDistribution(ctx, &cfsdk.UpdateDistributionInput{Id: aws.String(id), IfMatch: got.ETag, DistributionConfig: cfg}); err != nil {
		t.Fatalf("UpdateDistribution %s: %v", id, err)
	}
}

// fetch sends GET path with Host host to addr:port over plain HTTP, on a
// fresh connection.
func fetch(t *testing.T, addr netip.Addr, port int, host, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+netip.AddrPortFrom(addr, uint16(port)).String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := oneShot.Do(req)
	if err != nil {
		t.Fatalf("GET %s Host %s: %v", addr, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

// tlsDial handshakes with SNI name against the lab CA.
func tlsDial(sim *Sim, addr netip.Addr, name string) (*tls.ConnectionState, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CA())
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", netip.AddrPortFrom(addr, uint16(sim.HTTPSPort())).String(), &tls.Config{ServerName: name, RootCAs: pool})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	st := c.ConnectionState()
	return &st, nil
}

// sink is a fake CloudWatch.
type sink struct {
	mu     sync.Mutex
	points []point
}

type point struct {
	account, ns, metric string
	dims                map[string]string
	t                   time.Time
	v                   float64
	unit                string
}

func (s *sink) Put(account, ns, metric string, dims map[string]string, t time.Time, v float64, unit string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.points = append(s.points, point{account, ns, metric, dims, t, v, unit})
	return nil
}

func (s *sink) find(metric string, dims map[string]string) []point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []point
	for _, p := range s.points {
		if p.metric != metric || len(p.dims) != len(dims) {
			continue
		}
		ok := true
		for k, v := range dims {
			ok = ok && p.dims[k] == v
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}
