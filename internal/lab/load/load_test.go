package load

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/origin"
)

// fakeDNS answers www.example.com with a CNAME to edge.example.net (TTL 1)
// and edge.example.net with the current address (TTL 1), in two queries so
// clients must chase the chain.
type fakeDNS struct {
	addr    string
	current atomic.Value // netip.Addr
	queries atomic.Int64
}

func startDNS(t *testing.T, first netip.Addr) *fakeDNS {
	t.Helper()
	f := &fakeDNS{}
	f.current.Store(first)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: f}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	f.addr = pc.LocalAddr().String()
	return f
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	f.queries.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	q := r.Question[0]
	switch strings.ToLower(q.Name) {
	case "www.example.com.":
		m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 1}, Target: "edge.example.net."})
	case "edge.example.net.":
		a := f.current.Load().(netip.Addr)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 1}, A: a.AsSlice()})
	case "outside.example.com.":
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("10.1.2.3")})
	default:
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// twoOrigins starts old on 127.0.0.1 and new on 127.0.0.2 on one port, so
// an address alone decides which serves.
func twoOrigins(t *testing.T) (oldO, newO *origin.Origin) {
	t.Helper()
	for range 20 {
		o, err := origin.Start("old", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n, err := origin.Start("new", "127.0.0.2:"+strconv.Itoa(o.Port()))
		if err != nil {
			o.Close()
			continue
		}
		t.Cleanup(func() { o.Close(); n.Close() })
		return o, n
	}
	t.Fatal("no common port for two origins")
	return nil, nil
}

func TestClientsMoveWithinTTLAndOverstayersLater(t *testing.T) {
	oldO, newO := twoOrigins(t)
	d := startDNS(t, netip.MustParseAddr("127.0.0.1"))
	var mu sync.Mutex
	var results []Result
	cfg := Config{
		Host: "www.example.com", DNSServer: d.addr, Port: oldO.Port(),
		Clients: 10, Rate: 200, Duration: 3600 * time.Millisecond,
		OverstayFraction: 0.3, OverstayFactor: 3,
		OnResult: func(r Result) { mu.Lock(); results = append(results, r); mu.Unlock() },
	}
	begin := time.Now()
	flip := begin.Add(time.Second)
	timer := time.AfterFunc(time.Until(flip), func() { d.current.Store(netip.MustParseAddr("127.0.0.2")) })
	defer timer.Stop()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const slack = 200 * time.Millisecond
	var lateOverstay int
	for _, r := range results {
		if r.Class != ClassOK {
			t.Fatalf("request failed: %+v", r)
		}
		if r.At.Before(flip.Add(-slack)) && r.Origin != "old" {
			t.Fatalf("served by %q before the flip", r.Origin)
		}
		if r.Origin != "old" {
			continue
		}
		if !r.Overstay && r.At.After(flip.Add(time.Second+slack)) {
			t.Fatalf("client %d still on old %v after the flip (TTL 1s)", r.Client, r.At.Sub(flip))
		}
		if r.Overstay && r.At.After(flip.Add(3*time.Second+slack)) {
			t.Fatalf("overstaying client %d still on old %v after the flip", r.Client, r.At.Sub(flip))
		}
		if r.Overstay && r.At.After(flip.Add(1500*time.Millisecond)) {
			lateOverstay++
		}
	}
	if lateOverstay == 0 {
		t.Fatalf("no overstaying client kept the old answer past the TTL")
	}
	s := rep.Summary
	if s.Total != int64(len(results)) || s.Total < 500 || s.Total > 760 {
		t.Fatalf("total %d (results %d), want about 200/s × 3.6 s", s.Total, len(results))
	}
	if s.ByOrigin["old"]+s.ByOrigin["new"] != s.Total || s.ByClass[ClassOK] != s.Total || s.ByOrigin["new"] == 0 {
		t.Fatalf("summary does not add up: %+v", s)
	}
	var seriesTotal int64
	for _, sec := range rep.Series {
		seriesTotal += sec.Total
	}
	last := rep.Series[len(rep.Series)-1]
	if seriesTotal != s.Total || last.ByOrigin["new"] <= 10*last.ByOrigin["old"] {
		t.Fatalf("series %+v", rep.Series)
	}
	if oldO.Stats().Requests+newO.Stats().Requests != s.Total {
		t.Fatalf("origins saw %d+%d, report says %d", oldO.Stats().Requests, newO.Stats().Requests, s.Total)
	}
	// Caching works: about one lookup pair per client per TTL, not per request.
	if q := d.queries.Load(); q > 2*10*6 {
		t.Fatalf("%d DNS queries for %d requests: cache not honoured", q, s.Total)
	}
	if s.P50 <= 0 || s.P99 < s.P50 {
		t.Fatalf("percentiles %v %v", s.P50, s.P99)
	}
	text := rep.Text()
	if !strings.Contains(text, "second") || !strings.Contains(text, "new") || !strings.Contains(text, "failed") {
		t.Fatalf("text table:\n%s", text)
	}
	if _, err := rep.JSON(); err != nil {
		t.Fatal(err)
	}
}

func TestClassificationAndBudget(t *testing.T) {
	oldO, _ := twoOrigins(t)
	d := startDNS(t, netip.MustParseAddr("127.0.0.1"))
	base := Config{Host: "www.example.com", DNSServer: d.addr, Port: oldO.Port(), Clients: 4, Rate: 400, MaxRequests: 40}

	// The budget is exact.
	rep, err := Run(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Total != 40 || rep.Summary.ByOrigin["old"] != 40 {
		t.Fatalf("budget run: %+v", rep.Summary)
	}

	if err := oldO.SetFault(origin.Fault{ErrorRate: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	rep, _ = Run(context.Background(), base)
	if rep.Summary.ByClass[Class5xx] != 40 || rep.Summary.ByStatus[503] != 40 || rep.Summary.Errors["http_5xx: 503"] != 40 {
		t.Fatalf("5xx run: %+v", rep.Summary)
	}
	if err := oldO.SetFault(origin.Fault{Refuse: true}); err != nil {
		t.Fatal(err)
	}
	rep, _ = Run(context.Background(), base)
	if rep.Summary.ByClass[ClassConn] != 40 || len(rep.Summary.ByOrigin) != 0 || rep.Series[0].Failures == 0 {
		t.Fatalf("refused run: %+v", rep.Summary)
	}
	if err := oldO.SetFault(origin.Fault{}); err != nil {
		t.Fatal(err)
	}
	// TLS against an origin whose certificate the lab CA did not sign.
	tlsCfg := base
	tlsCfg.HTTPS = true
	rep, _ = Run(context.Background(), tlsCfg)
	if rep.Summary.ByClass[ClassTLS] != 40 {
		t.Fatalf("TLS run: %+v", rep.Summary)
	}
	// DNS failure and a non-loopback answer.
	nx := base
	nx.Host = "missing.example.com"
	rep, _ = Run(context.Background(), nx)
	if rep.Summary.ByClass[ClassDNS] != 40 || !strings.Contains(strings.Join(keys(rep.Summary.Errors), " "), "NXDOMAIN") {
		t.Fatalf("DNS run: %+v", rep.Summary)
	}
	out := base
	out.Host = "outside.example.com"
	rep, _ = Run(context.Background(), out)
	if rep.Summary.ByClass[ClassRejected] != 40 {
		t.Fatalf("non-loopback run: %+v", rep.Summary)
	}
	for _, bad := range []Config{
		{DNSServer: d.addr},
		{Host: "x", DNSServer: "8.8.8.8:53"},
		{Host: "x", DNSServer: d.addr, OverstayFraction: 2},
		{Host: "x", DNSServer: d.addr, Duration: 2 * time.Hour},
	} {
		if _, err := Run(context.Background(), bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Keep-alive clients stay on the old address after their cache moved on;
// fresh-connection clients follow DNS. Watched through the live form.
func TestKeepAliveOutlivesDNSChange(t *testing.T) {
	oldO, _ := twoOrigins(t)
	for _, keep := range []float64{1, 0} {
		d := startDNS(t, netip.MustParseAddr("127.0.0.1"))
		clock := fakeclock.New(time.Now())
		var afterFlip, newAfterFlip atomic.Int64
		var flipped atomic.Bool
		live, err := Start(context.Background(), Config{
			Host: "www.example.com", DNSServer: d.addr, Port: oldO.Port(), Clients: 2, Rate: 100, Duration: time.Minute,
			KeepAliveFraction: keep, Clock: clock,
			OnResult: func(r Result) {
				if flipped.Load() {
					afterFlip.Add(1)
					if r.Origin == "new" {
						newAfterFlip.Add(1)
					}
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return live.Snapshot().Summary.Total >= 10 })
		d.current.Store(netip.MustParseAddr("127.0.0.2"))
		clock.Advance(2 * time.Second) // every cached answer is now stale
		flipped.Store(true)
		waitFor(t, func() bool { return afterFlip.Load() >= 30 })
		rep := live.Stop()
		select {
		case <-live.Done():
		default:
			t.Fatal("Stop returned before the clients stopped")
		}
		if rep.Summary.ByClass[ClassOK] != rep.Summary.Total {
			t.Fatalf("keep=%v: %+v", keep, rep.Summary)
		}
		if keep == 1 && newAfterFlip.Load() != 0 {
			t.Fatalf("kept-alive clients moved to the new address (%d requests)", newAfterFlip.Load())
		}
		if keep == 0 && newAfterFlip.Load() < afterFlip.Load()-2 {
			t.Fatalf("fresh clients stayed on old: %d of %d moved", newAfterFlip.Load(), afterFlip.Load())
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A maintenance page's 503 is an answer: counted by origin, not as a
// failure; the same status from a faulty origin is one.
func TestMaintenancePageIsAnAnswer(t *testing.T) {
	page, err := origin.StartPage("maintenance", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { page.Close() })
	d := startDNS(t, netip.MustParseAddr("127.0.0.1"))
	rep, err := Run(context.Background(), Config{Host: "www.example.com", DNSServer: d.addr, Port: page.Port(), Clients: 2, Rate: 200, MaxRequests: 20})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary
	if s.ByClass[ClassMaintenance] != 20 || s.ByOrigin["maintenance"] != 20 || s.ByStatus[503] != 20 || len(s.Errors) != 0 {
		t.Fatalf("page run: %+v", s)
	}
	for _, sec := range rep.Series {
		if sec.Failures != 0 {
			t.Fatalf("second %d counts %d failures", sec.Second, sec.Failures)
		}
	}
	if ClassMaintenance.Failed() || !Class5xx.Failed() {
		t.Fatal("maintenance must not count as failed, 5xx must")
	}
}
