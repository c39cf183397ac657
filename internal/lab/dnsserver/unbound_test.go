package dnsserver

import (
	"math/rand"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/dnsserver/unboundtest"
	"github.com/cutover/cutover/internal/lab/route53"
)

// resolve asks the caching resolver at addr, with recursion desired.
func resolve(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Timeout: 3 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("resolving %s via unbound: %v", name, err)
	}
	return r
}

func aValues(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

// TestUnboundEndToEnd puts a real caching resolver in front of the server:
// answers match, a changed record reaches clients only once the change is
// INSYNC and the cached answer's TTL has run out, and a name queried
// before it existed stays NXDOMAIN for the negative TTL.
func TestUnboundEndToEnd(t *testing.T) {
	svc, clock, zid := realLab(t)
	tg := newFakeTargets()
	tg.add("d111.cloudfront.net.", 60, "10.1.0.1")
	tg.add("d222.cloudfront.net.", 60, "10.2.0.1")
	const ttl = 2
	apply(t, svc, zid,
		upsert(rset("www.example.com", "A", ttl, "192.0.2.1")),
		upsert(alias("cdn.example.com", "A", route53.CloudFrontZoneID, "d111.cloudfront.net", false)),
		upsert(rset("old.example.com", "CNAME", 300, "d222.cloudfront.net")),
	)
	clock.Advance(propagation)

	srv := New(Options{Addr: "127.0.0.1:0", Zones: svc, Targets: tg, Rand: rand.New(rand.NewSource(1))})
	addr := startServer(t, srv)
	ub := unboundtest.Start(t, srv.ForwardZones(), addr)

	// Fill the cache, then change the record at once so the cached copy
	// is still fresh when it is read back.
	m := resolve(t, ub, "www.example.com.", dns.TypeA)
	filled := time.Now()
	if got := aValues(m); len(got) != 1 || got[0] != "192.0.2.1" || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("www via unbound = %v (%s)", m.Answer, dns.RcodeToString[m.Rcode])
	}
	apply(t, svc, zid, upsert(rset("www.example.com", "A", ttl, "192.0.2.2")))
	clock.Advance(propagation)
	if got := firstA(t, ask(t, srv, "www.example.com.", dns.TypeA)); got != "192.0.2.2" {
		t.Fatalf("server itself answers %s after INSYNC", got)
	}
	m = resolve(t, ub, "www.example.com.", dns.TypeA)
	if got := aValues(m); len(got) != 1 || got[0] != "192.0.2.1" {
		if time.Since(filled) < time.Second {
			t.Fatalf("unbound answered %v within the TTL, want the cached 192.0.2.1", got)
		}
		t.Skipf("machine too slow: %v passed before the cached read", time.Since(filled))
	}
	if m.Answer[0].Header().Ttl > ttl {
		t.Errorf("cached TTL %d above the record's %d", m.Answer[0].Header().Ttl, ttl)
	}
	// Only one query reached the server for www: the rest came from cache.
	if n := srv.Stats().Chosen["www.example.com. A"][""]; n != 2 { // unbound's + the direct ask
		t.Errorf("server answered www %d times, want 2 (one from unbound, one direct)", n)
	}
	// After the TTL, unbound asks again and gets the new answer.
	deadline := time.Now().Add(ttl*time.Second + 4*time.Second)
	for {
		if got := aValues(resolve(t, ub, "www.example.com.", dns.TypeA)); len(got) == 1 && got[0] == "192.0.2.2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("unbound still serves the old answer %v after the TTL", time.Since(filled))
		}
		time.Sleep(50 * time.Millisecond) // unbound's cache runs on the wall clock
	}
	if el := time.Since(filled); el < (ttl-1)*time.Second {
		t.Errorf("new answer after %v, before the %ds TTL could expire", el, ttl)
	}

	// Alias to CloudFront through unbound: the edge addresses, TTL ≤ 60.
	m = resolve(t, ub, "cdn.example.com.", dns.TypeA)
	if got := aValues(m); len(got) != 1 || got[0] != "10.1.0.1" || m.Answer[0].Header().Ttl > 60 {
		t.Fatalf("alias via unbound = %v", m.Answer)
	}
	// A CNAME to a distribution: unbound ends at the distribution.
	m = resolve(t, ub, "old.example.com.", dns.TypeA)
	if got := aValues(m); len(got) != 1 || got[0] != "10.2.0.1" || m.Answer[0].Header().Rrtype != dns.TypeCNAME {
		t.Fatalf("CNAME via unbound = %v", m.Answer)
	}
	// The distribution name directly.
	if got := aValues(resolve(t, ub, "d111.cloudfront.net.", dns.TypeA)); len(got) != 1 || got[0] != "10.1.0.1" {
		t.Fatalf("d111.cloudfront.net via unbound = %v", got)
	}

	// Negative caching: a name resolved before it exists stays NXDOMAIN
	// after it is created, for min(SOA TTL, MINIMUM) = 900 s.
	if m := resolve(t, ub, "new.example.com.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("new.example.com before creation: %s", dns.RcodeToString[m.Rcode])
	}
	apply(t, svc, zid, upsert(rset("new.example.com", "A", 60, "192.0.2.5")))
	clock.Advance(propagation)
	if got := firstA(t, ask(t, srv, "new.example.com.", dns.TypeA)); got != "192.0.2.5" {
		t.Fatalf("server answers %s for new.example.com", got)
	}
	m = resolve(t, ub, "new.example.com.", dns.TypeA)
	if m.Rcode != dns.RcodeNameError {
		t.Fatalf("unbound forgot the cached NXDOMAIN: %v", m)
	}
	if soa, ok := m.Ns[0].(*dns.SOA); !ok || soa.Hdr.Ttl > 900 || soa.Hdr.Ttl < 890 {
		t.Errorf("cached negative answer's SOA %v, want TTL just under 900", m.Ns)
	}
}
