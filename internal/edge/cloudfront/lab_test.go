package cloudfront

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	r53 "github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
)

// newFakeClock returns the tests' clock: it moves only when slept on, and
// OnSleep lets a test act at a given moment of the watched timeline. It
// also serves as the lab's clock, so deploy delays and the adapter's waits
// share one timeline.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC))
}

const baseSeed = `
certificates:
  - name: cert
    domains: [example.com, "*.example.com"]
  - name: theirs
    account: "222222222222"
    domains: ["*.example.com"]
distributions:
  - name: old
    aliases: [www.example.com]
    certificate: cert
    origin: {domain: old.example.net}
  - name: new
    certificate: cert
    origin: {domain: new.example.net}
  - name: other
    account: "222222222222"
    aliases: [shop.example.com]
    certificate: theirs
    origin: {domain: shop.example.net}
%s
zones:
  - name: example.com
records:
  - {zone: example.com, name: www.example.com, type: A, alias: {distribution: old}}
`

// world is a lab over HTTP with the adapter and a raw SDK client (the
// "other writer") pointed at it.
type world struct {
	lab    *lab.Lab
	seeded *lab.Seeded
	url    string
	clock  *fakeclock.Clock
	cfg    aws.Config
	raw    *cf.Client
	client *Client
	zone   string
	// throttle, while positive, makes the next CloudFront requests fail
	// with Throttling (decremented per request).
	throttle atomic.Int64
	// cfRequests counts CloudFront requests that reached the lab.
	cfRequests atomic.Int64
}

func (w *world) old() string { return w.seeded.Distributions["old"].ID }
func (w *world) new() string { return w.seeded.Distributions["new"].ID }

// newWorld starts the lab; extraSeed adds distribution entries.
func newWorld(t *testing.T, extraSeed string, deployDelay time.Duration) *world {
	t.Helper()
	w := &world{clock: newFakeClock()}
	w.lab = lab.New(lab.Options{Clock: w.clock, Propagation: -1, DeployDelay: deployDelay, RateLimit: labr53.RateLimitOff, Seed: 7})
	s, err := lab.ParseSeed("seed", []byte(fmt.Sprintf(baseSeed, extraSeed)))
	if err != nil {
		t.Fatal(err)
	}
	if w.seeded, err = w.lab.Apply(s); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/2020-05-31/") {
			if w.throttle.Add(-1) >= 0 {
				awsapi.WriteXMLError(rw, "http://cloudfront.amazonaws.com/doc/2020-05-31/", awsapi.ErrThrottling)
				return
			}
			w.cfRequests.Add(1)
		}
		w.lab.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	w.cfg = awstest.Config(srv.URL)
	w.raw = cf.NewFromConfig(w.cfg)
	w.client = New(w.cfg, Options{Clock: w.clock, Limiter: NewLimiter(DefaultRequestsPerSecond, DefaultBurst, w.clock), Rand: func() float64 { return 1 }})
	w.zone = w.seeded.Zones["example.com"]
	return w
}

// dnsProvider is the Route 53 provider on the lab, with a budget of its
// own so tests never wait on the process-wide one.
func (w *world) dnsProvider() *r53.Provider {
	return r53.New(w.cfg, r53.Options{Limiter: r53.NewLimiter(1000, 1000, nil)})
}

func (w *world) history(op string) []awsapi.Change {
	var out []awsapi.Change
	for _, c := range w.lab.Env.History.List(awsapi.Filter{Service: "cloudfront"}) {
		if op == "" || c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

// prove creates the `_<alias>` TXT record for a move to target.
func (w *world) prove(t *testing.T, alias, target string) dns.RecordSet {
	t.Helper()
	d, ok := w.lab.CloudFront.Get(target)
	if !ok {
		t.Fatalf("no distribution %s", target)
	}
	rec := ProofRecord(alias, d.DomainName)
	if _, err := w.dnsProvider().Apply(context.Background(), dns.ChangeSet{Zone: w.zone, Changes: []dns.Change{{New: &rec}}}); err != nil {
		t.Fatal(err)
	}
	return rec
}

func aliasesSeed(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    certificate: cert\n    origin: {domain: %s.example.net}\n    aliases: [", name, name)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s-%03d.example.com", name, i)
	}
	b.WriteString("]\n")
	return b.String()
}
