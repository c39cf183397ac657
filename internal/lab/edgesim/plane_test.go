package edgesim

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/elbv2"
	"github.com/cutover/cutover/internal/lab/origin"
)

// views is a fake control plane the test edits directly.
type views struct {
	mu sync.Mutex
	vs []cloudfront.View
}

func (f *views) List() []cloudfront.View {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cloudfront.View(nil), f.vs...)
}

func stagingPair(prim, stag *origin.Origin, p *cloudfront.Policy) *views {
	primary := cloudfront.View{ID: "EPRIMARY", AccountID: awsapi.DefaultAccountID, DomainName: "dprimary.cloudfront.net", Enabled: true, Aliases: []string{"shop.example.com"}, Origins: originOf(prim), DefaultOrigin: "o", Version: 1, Policy: p}
	staging := cloudfront.View{ID: "ESTAGING", AccountID: awsapi.DefaultAccountID, DomainName: "dstaging.cloudfront.net", Enabled: true, Staging: true, Origins: originOf(stag), DefaultOrigin: "o", Version: 1}
	return &views{vs: []cloudfront.View{primary, staging}}
}

func TestStagingWeightHeaderAndStickiness(t *testing.T) {
	prim := startOrigin(t, "primary", "127.0.0.1:0")
	stag := startOrigin(t, "staging", "127.0.0.1:0")
	policy := &cloudfront.Policy{ID: "P1", Enabled: true, StagingDomainName: "dstaging.cloudfront.net", StagingDistributionID: "ESTAGING", Type: "SingleWeight", Weight: 0.15, ETag: "E1"}
	fake := stagingPair(prim, stag, policy)
	clock := fakeclock.New(t0)
	sim := startSim(t, Options{Clock: clock, Distributions: fake, Edges: 1, EphemeralPorts: true, Seed: 3})
	addr, port := sim.Addrs()[0], sim.HTTPPort()

	// Staging is never reachable directly.
	if resp, _ := fetch(t, addr, port, "dstaging.cloudfront.net", "/ruok", nil); resp.StatusCode != 403 {
		t.Fatalf("staging reachable directly: %d", resp.StatusCode)
	}
	const n = 2000
	toStaging := 0
	for range n {
		_, body := fetch(t, addr, port, "shop.example.com", "/ruok", nil)
		if body == "ok-staging" {
			toStaging++
		}
	}
	// Binomial(2000, 0.15): sd ≈ 16; allow 5 sd.
	if math.Abs(float64(toStaging)-0.15*n) > 80 {
		t.Fatalf("%d of %d went to staging, want ≈ %d", toStaging, n, int(0.15*n))
	}

	// Sticky: the cookie pins a session; a new policy ETag resets it.
	fake.mu.Lock()
	p2 := *policy
	p2.IdleTTL, p2.MaximumTTL, p2.ETag, p2.Weight = 300*time.Second, 600*time.Second, "E2", 0.5
	fake.vs[0].Policy, fake.vs[0].Version = &p2, 2
	fake.mu.Unlock()
	sim.Sync()
	clock.Advance(5 * time.Second)
	resp, first := fetch(t, addr, port, "shop.example.com", "/ruok", nil)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == StickyCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.MaxAge != 300 || !strings.HasPrefix(cookie.Value, "E2.") {
		t.Fatalf("no sticky cookie: %v", resp.Header)
	}
	for range 50 {
		if _, body := fetch(t, addr, port, "shop.example.com", "/ruok", map[string]string{"Cookie": cookie.String()}); body != first {
			t.Fatalf("sticky session moved from %q to %q", first, body)
		}
	}

	// SingleHeader: only requests carrying the header value go to staging.
	fake.mu.Lock()
	p3 := cloudfront.Policy{ID: "P1", Enabled: true, StagingDistributionID: "ESTAGING", StagingDomainName: "dstaging.cloudfront.net", Type: "SingleHeader", Header: "aws-cf-cd-test", HeaderValue: "yes", ETag: "E3"}
	fake.vs[0].Policy, fake.vs[0].Version = &p3, 3
	fake.mu.Unlock()
	sim.Sync()
	clock.Advance(5 * time.Second)
	for range 20 {
		if _, body := fetch(t, addr, port, "shop.example.com", "/ruok", nil); body != "ok-primary" {
			t.Fatalf("no header went to %q", body)
		}
		if _, body := fetch(t, addr, port, "shop.example.com", "/ruok", map[string]string{"aws-cf-cd-test": "yes"}); body != "ok-staging" {
			t.Fatalf("header went to %q", body)
		}
	}
	// A disabled policy (after promotion) sends everything to the primary.
	fake.mu.Lock()
	p4 := p3
	p4.Enabled = false
	fake.vs[0].Policy, fake.vs[0].Version = &p4, 4
	fake.mu.Unlock()
	sim.Sync()
	clock.Advance(5 * time.Second)
	if _, body := fetch(t, addr, port, "shop.example.com", "/ruok", map[string]string{"aws-cf-cd-test": "yes"}); body != "ok-primary" {
		t.Fatalf("disabled policy still routes to %q", body)
	}
}

func TestCloudFrontMetrics(t *testing.T) {
	w := newWorld(t)
	o := startOrigin(t, "m", "127.0.0.1:0")
	d := w.create(t, "m", true, o, "m.example.com")
	off := w.create(t, "off", false, o, "off.example.com")
	cw := &sink{}
	sim := w.start(t, Options{Edges: 2, Metrics: cw})
	for i := range 6 {
		fetch(t, sim.Addrs()[i%2], sim.HTTPPort(), "m.example.com", "/ruok", nil)
	}
	if err := o.SetFault(origin.Fault{ErrorRate: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if resp, _ := fetch(t, sim.Addrs()[0], sim.HTTPPort(), "m.example.com", "/x", nil); resp.StatusCode != 503 {
			t.Fatalf("origin 503 not passed through: %d", resp.StatusCode)
		}
	}
	fetch(t, sim.Addrs()[0], sim.HTTPPort(), "off.example.com", "/", nil)
	w.clock.Advance(time.Minute)
	if err := sim.Flush(); err != nil {
		t.Fatal(err)
	}
	dims := map[string]string{"DistributionId": d.ID, "Region": "Global"}
	want := map[string]float64{"Requests": 8, "5xxErrorRate": 25, "4xxErrorRate": 0, "TotalErrorRate": 25}
	for metric, v := range want {
		pts := cw.find(metric, dims)
		if len(pts) != 1 || pts[0].v != v || pts[0].ns != "AWS/CloudFront" || pts[0].account != awsapi.DefaultAccountID || !pts[0].t.Equal(t0.Add(time.Minute)) {
			t.Fatalf("%s: %+v, want one point %v", metric, pts, v)
		}
	}
	if p := cw.find("Requests", dims)[0]; p.unit != "None" {
		t.Fatalf("Requests unit %q", p.unit)
	}
	if p := cw.find("4xxErrorRate", map[string]string{"DistributionId": off.ID, "Region": "Global"}); len(p) != 1 || p[0].v != 100 {
		t.Fatalf("disabled distribution's 403 not counted: %+v", p)
	}
	// A quiet period publishes nothing for the distribution.
	n := len(cw.find("Requests", dims))
	if err := sim.Flush(); err != nil || len(cw.find("Requests", dims)) != n {
		t.Fatalf("quiet period published: %v", err)
	}
	// Prometheus sees the same traffic.
	rec := httptestRecorder(sim.MetricsHandler())
	if !strings.Contains(rec, `lab_edge_requests_total{code="5xx",edge="1",kind="distribution",target="`+d.ID+`"} 2`) {
		t.Fatalf("prometheus output lacks the 5xx counter:\n%s", rec)
	}
}

func httptestRecorder(h http.Handler) string {
	srv := &recorder{header: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	h.ServeHTTP(srv, req)
	return srv.body.String()
}

type recorder struct {
	header http.Header
	body   strings.Builder
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(int)             {}

func TestLoadBalancerRoutingHealthAndMetrics(t *testing.T) {
	clock := fakeclock.New(t0)
	elb := elbv2.New(awsapi.NewEnv(clock), elbv2.Options{})
	a := startOrigin(t, "blue", "127.0.0.1:0")
	b := startOrigin(t, "green", "127.0.0.2:0")
	lb, err := elb.CreateALB(awsapi.DefaultAccountID, "api", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	tg, err := elb.AddTargetGroup(lb.ARN, "api-tg", 80, []elbv2.Target{{ID: "127.0.0.1", Port: a.Port()}, {ID: "127.0.0.2", Port: b.Port()}})
	if err != nil {
		t.Fatal(err)
	}
	cw := &sink{}
	sim := startSim(t, Options{Clock: clock, Distributions: &views{}, LoadBalancers: elb, Metrics: cw, Edges: 2, EphemeralPorts: true, Seed: 5})
	lbAddr, ok := sim.LBAddr(lb.DNSName)
	if !ok || sim.AddrsFor(lb.DNSName)[0] != lbAddr || len(sim.AddrsFor("d1.cloudfront.net")) != 2 {
		t.Fatalf("LB address %v %v", lbAddr, ok)
	}
	// On its own address the LB ignores Host; on an edge its DNS name routes.
	seen := map[string]int{}
	for range 10 {
		resp, body := fetch(t, lbAddr, sim.HTTPPort(), "api.example.com", "/ruok", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		seen[body]++
	}
	if seen["ok-blue"] != 5 || seen["ok-green"] != 5 {
		t.Fatalf("round robin: %v", seen)
	}
	if _, body := fetch(t, sim.Addrs()[1], sim.HTTPPort(), lb.DNSName, "/ruok", nil); !strings.HasPrefix(body, "ok-") {
		t.Fatalf("LB DNS name on an edge: %q", body)
	}
	// HTTPS on the LB address presents a certificate for the asked name.
	if _, err := tlsDial(sim, lbAddr, "api.example.com"); err != nil {
		t.Fatalf("LB TLS: %v", err)
	}

	// Green goes down: until the health check notices, some requests 502.
	if err := b.SetFault(origin.Fault{Refuse: true}); err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{}
	for range 4 {
		resp, _ := fetch(t, lbAddr, sim.HTTPPort(), "api.example.com", "/ruok", nil)
		codes[resp.StatusCode]++
	}
	if codes[502] != 2 || codes[200] != 2 {
		t.Fatalf("before health check: %v", codes)
	}
	sim.CheckHealth(context.Background())
	sim.Sync()
	for _, l := range elb.LoadBalancers() {
		for _, tt := range l.TargetGroups[0].Targets {
			if want := map[string]string{"127.0.0.1": "healthy", "127.0.0.2": "unhealthy"}[tt.ID]; tt.State != want {
				t.Fatalf("target %s is %s (%s), want %s", tt.ID, tt.State, tt.Reason, want)
			}
		}
	}
	for range 4 {
		if _, body := fetch(t, lbAddr, sim.HTTPPort(), "api.example.com", "/ruok", nil); body != "ok-blue" {
			t.Fatalf("unhealthy target still used: %q", body)
		}
	}
	// Blue fails too: no healthy target, the load balancer answers 503.
	if err := a.SetFault(origin.Fault{Refuse: true}); err != nil {
		t.Fatal(err)
	}
	sim.CheckHealth(context.Background())
	sim.Sync()
	resp, body := fetch(t, lbAddr, sim.HTTPPort(), "api.example.com", "/ruok", nil)
	if resp.StatusCode != 503 || resp.Header.Get("Server") != "awselb/2.0" {
		t.Fatalf("no healthy targets: %d %q", resp.StatusCode, body)
	}

	if err := sim.Flush(); err != nil {
		t.Fatal(err)
	}
	lbDim := lbDimension(lb.ARN)
	tgDim := tgDimension(tg.ARN)
	if !strings.HasPrefix(lbDim, "app/api/") || !strings.HasPrefix(tgDim, "targetgroup/api-tg/") {
		t.Fatalf("dimensions %q %q", lbDim, tgDim)
	}
	one := func(metric string, dims map[string]string) float64 {
		pts := cw.find(metric, dims)
		if len(pts) != 1 {
			t.Fatalf("%s %v: %d points", metric, dims, len(pts))
		}
		return pts[0].v
	}
	lbDims := map[string]string{"LoadBalancer": lbDim}
	both := map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDim}
	// 10 + 1 (edge) + 4 + 4 + 1 = 20 requests; 2×502 and 1×503 by the ELB.
	if v := one("RequestCount", lbDims); v != 20 {
		t.Fatalf("RequestCount %v", v)
	}
	if v := one("HTTPCode_ELB_5XX_Count", lbDims); v != 3 {
		t.Fatalf("ELB 5XX %v", v)
	}
	if n := len(cw.find("TargetResponseTime", lbDims)); n != 17 {
		t.Fatalf("TargetResponseTime samples %d, want one per target response (17)", n)
	}
	if v := one("HealthyHostCount", both); v != 0 {
		t.Fatalf("HealthyHostCount %v", v)
	}
	if v := one("UnHealthyHostCount", both); v != 2 {
		t.Fatalf("UnHealthyHostCount %v", v)
	}
	if len(cw.find("HTTPCode_Target_5XX_Count", lbDims)) != 0 {
		t.Fatalf("target 5XX published without target errors")
	}
}
