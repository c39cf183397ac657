package dnsserver

import (
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/route53"
)

// labInternet is one zone with aliases, CNAMEs, a wildcard and two
// CloudFront distributions.
func labInternet() (*fakeZones, *fakeTargets) {
	z := newFakeZones()
	z.add("Z1", "example.com.",
		alias("example.com.", "A", route53.CloudFrontZoneID, "d111.cloudfront.net.", false),
		alias("example.com.", "AAAA", route53.CloudFrontZoneID, "d111.cloudfront.net.", false),
		rset("lb.example.com.", "A", 30, "203.0.113.1", "203.0.113.2"),
		alias("app.example.com.", "A", "Z1", "lb.example.com.", false),
		alias("www.example.com.", "A", "Z1", "app.example.com.", false),
		rset("cdn.example.com.", "CNAME", 300, "cdn-new.example.com"),
		rset("cdn-new.example.com.", "CNAME", 300, "d222.cloudfront.net."),
		rset("ext.example.com.", "CNAME", 300, "www.example.org."),
		rset("loop.example.com.", "CNAME", 300, "loop.example.com."),
		rset("_www.example.com.", "TXT", 300, `"d111.cloudfront.net"`),
		rset("v6.example.com.", "AAAA", 300, "2001:db8::1"),
		rset("deep.a.b.example.com.", "A", 300, "192.0.2.9"),
		rset("*.wild.example.com.", "A", 120, "192.0.2.77"),
		rset("mx.example.com.", "MX", 300, "10 mail.example.com."),
	)
	tg := newFakeTargets()
	tg.add("d111.cloudfront.net.", 60, "10.1.0.1", "10.1.0.2", "fd00::1")
	tg.add("d222.cloudfront.net.", 60, "10.2.0.1")
	return z, tg
}

func TestAliasToCloudFront(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	m := ask(t, s, "Example.COM.", dns.TypeA)
	want := []string{"Example.COM. 60 IN A 10.1.0.1", "Example.COM. 60 IN A 10.1.0.2"}
	if got := answerStrings(m); !reflect.DeepEqual(got, want) || !m.Authoritative || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("apex alias A = %v (aa=%v rcode=%d), want %v", got, m.Authoritative, m.Rcode, want)
	}
	m = ask(t, s, "example.com.", dns.TypeAAAA)
	if got := answerStrings(m); !reflect.DeepEqual(got, []string{"example.com. 60 IN AAAA fd00::1"}) {
		t.Fatalf("apex alias AAAA = %v", got)
	}
	// The distribution's own name, as a resolver following it asks.
	m = ask(t, s, "d111.cloudfront.net.", dns.TypeA)
	if len(m.Answer) != 2 || m.Answer[0].Header().Ttl != 60 || !m.Authoritative {
		t.Fatalf("d111.cloudfront.net A = %v aa=%v", m.Answer, m.Authoritative)
	}
	// An unknown distribution is NXDOMAIN, not REFUSED: the lab is
	// cloudfront.net's authority.
	m = ask(t, s, "d999.cloudfront.net.", dns.TypeA)
	if m.Rcode != dns.RcodeNameError || !m.Authoritative {
		t.Fatalf("unknown distribution: rcode %s aa=%v", dns.RcodeToString[m.Rcode], m.Authoritative)
	}
	if soa := soaOf(t, m); soa.Hdr.Name != "cloudfront.net." || soa.Hdr.Ttl != 900 {
		t.Errorf("unknown distribution SOA %v", soa)
	}
	// A known distribution has no TXT: NODATA.
	m = ask(t, s, "d111.cloudfront.net.", dns.TypeTXT)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 {
		t.Fatalf("distribution TXT: %v", m)
	}
}

func TestAliasChainInZone(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	m := ask(t, s, "www.example.com.", dns.TypeA)
	want := []string{"www.example.com. 30 IN A 203.0.113.1", "www.example.com. 30 IN A 203.0.113.2"}
	if got := answerStrings(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("alias chain www→app→lb = %v, want %v (target's TTL, alias's name)", got, want)
	}
	// No AAAA at the end of the chain: NODATA, not the A records.
	m = ask(t, s, "www.example.com.", dns.TypeAAAA)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Fatalf("www AAAA = %v", m)
	}
}

func TestCNAMEChase(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	m := ask(t, s, "cdn.example.com.", dns.TypeA)
	want := []string{
		"cdn.example.com. 300 IN CNAME cdn-new.example.com.",
		"cdn-new.example.com. 300 IN CNAME d222.cloudfront.net.",
		"d222.cloudfront.net. 60 IN A 10.2.0.1",
	}
	if got := answerStrings(m); !reflect.DeepEqual(got, want) || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("CNAME chase = %v, want %v", got, want)
	}
	// A CNAME query is not chased.
	m = ask(t, s, "cdn.example.com.", dns.TypeCNAME)
	if got := answerStrings(m); !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("CNAME query = %v", got)
	}
	// Type mismatch at a CNAME: the CNAME, then NODATA at the target.
	m = ask(t, s, "cdn.example.com.", dns.TypeTXT)
	if len(m.Answer) != 2 || m.Answer[0].Header().Rrtype != dns.TypeCNAME || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("TXT at a CNAME = %v", m)
	}
	// A target outside every lab zone is left for the resolver.
	m = ask(t, s, "ext.example.com.", dns.TypeA)
	if got := answerStrings(m); !reflect.DeepEqual(got, []string{"ext.example.com. 300 IN CNAME www.example.org."}) || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("external CNAME = %v rcode %d", got, m.Rcode)
	}
	// A loop ends with the CNAME once, not a hang.
	m = ask(t, s, "loop.example.com.", dns.TypeA)
	if len(m.Answer) != 1 {
		t.Fatalf("CNAME loop = %v", m.Answer)
	}
}

func TestNegativeAnswers(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	cases := []struct {
		name  string
		qtype uint16
		rcode int
	}{
		{"nope.example.com.", dns.TypeA, dns.RcodeNameError},
		{"v6.example.com.", dns.TypeA, dns.RcodeSuccess},       // NODATA
		{"b.example.com.", dns.TypeA, dns.RcodeSuccess},        // empty non-terminal
		{"a.b.example.com.", dns.TypeA, dns.RcodeSuccess},      // empty non-terminal
		{"x.wild.example.com.", dns.TypeTXT, dns.RcodeSuccess}, // wildcard, other type
		{"x.deep.a.b.example.com.", dns.TypeA, dns.RcodeNameError},
	}
	for _, c := range cases {
		m := ask(t, s, c.name, c.qtype)
		if m.Rcode != c.rcode || len(m.Answer) != 0 || !m.Authoritative {
			t.Errorf("%s %s: rcode %s answers %v aa=%v, want %s", c.name, dns.TypeToString[c.qtype],
				dns.RcodeToString[m.Rcode], m.Answer, m.Authoritative, dns.RcodeToString[c.rcode])
			continue
		}
		// Route 53's default SOA: TTL 900, MINIMUM 86400 → 900.
		if soa := soaOf(t, m); soa.Hdr.Name != "example.com." || soa.Hdr.Ttl != 900 || soa.Minttl != 86400 {
			t.Errorf("%s: SOA %v", c.name, soa)
		}
	}

	// A zone whose SOA MINIMUM is below its TTL caches negatives for MINIMUM.
	z2 := newFakeZones()
	zz := z2.add("Z2", "example.net.")
	z2.replace(zz, "example.net.", "SOA", rset("example.net.", "SOA", 900, "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 60"))
	m := ask(t, newTestServer(z2, nil, 1), "gone.example.net.", dns.TypeA)
	if soa := soaOf(t, m); m.Rcode != dns.RcodeNameError || soa.Hdr.Ttl != 60 {
		t.Errorf("negative TTL = %d (rcode %d), want min(900, 60) = 60", soa.Hdr.Ttl, m.Rcode)
	}
	// And one whose SOA TTL is below MINIMUM uses the TTL.
	z2.replace(zz, "example.net.", "SOA", rset("example.net.", "SOA", 30, "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"))
	m = ask(t, newTestServer(z2, nil, 1), "gone.example.net.", dns.TypeA)
	if soa := soaOf(t, m); soa.Hdr.Ttl != 30 {
		t.Errorf("negative TTL = %d, want min(30, 86400) = 30", soa.Hdr.Ttl)
	}
}

func TestWildcard(t *testing.T) {
	z, tg := labInternet()
	m := ask(t, newTestServer(z, tg, 1), "Anything.wild.example.com.", dns.TypeA)
	if got := answerStrings(m); !reflect.DeepEqual(got, []string{"Anything.wild.example.com. 120 IN A 192.0.2.77"}) {
		t.Fatalf("wildcard = %v", got)
	}
}

func TestRefusedOutsideLab(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	for _, name := range []string{"www.example.org.", "com.", "."} {
		m := ask(t, s, name, dns.TypeA)
		if m.Rcode != dns.RcodeRefused || m.Authoritative || len(m.Answer) != 0 {
			t.Errorf("%s: rcode %s aa=%v, want REFUSED without AA", name, dns.RcodeToString[m.Rcode], m.Authoritative)
		}
	}
	if st := s.Stats(); st.Rcodes["REFUSED"] != 3 {
		t.Errorf("Stats.Rcodes = %v", st.Rcodes)
	}
	// Non-IN classes and non-QUERY opcodes.
	m := new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeA)
	m.Question[0].Qclass = dns.ClassCHAOS
	if r := s.Reply(m); r.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS class: rcode %s", dns.RcodeToString[r.Rcode])
	}
	m = new(dns.Msg)
	m.SetNotify("example.com.")
	if r := s.Reply(m); r.Rcode != dns.RcodeNotImplemented {
		t.Errorf("NOTIFY: rcode %s", dns.RcodeToString[r.Rcode])
	}
}

func TestApexAndOtherTypes(t *testing.T) {
	z, tg := labInternet()
	s := newTestServer(z, tg, 1)
	m := ask(t, s, "example.com.", dns.TypeSOA)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.SOA).Mbox != "awsdns-hostmaster.amazon.com." || m.Answer[0].Header().Ttl != 900 {
		t.Fatalf("SOA = %v", m.Answer)
	}
	m = ask(t, s, "example.com.", dns.TypeNS)
	if len(m.Answer) != 2 || m.Answer[0].Header().Ttl != 172800 {
		t.Fatalf("NS = %v", m.Answer)
	}
	m = ask(t, s, "_www.example.com.", dns.TypeTXT)
	if len(m.Answer) != 1 || strings.Join(m.Answer[0].(*dns.TXT).Txt, "") != "d111.cloudfront.net" {
		t.Fatalf("TXT proof = %v", m.Answer)
	}
	m = ask(t, s, "v6.example.com.", dns.TypeAAAA)
	if got := answerStrings(m); !reflect.DeepEqual(got, []string{"v6.example.com. 300 IN AAAA 2001:db8::1"}) {
		t.Fatalf("AAAA = %v", got)
	}
	m = ask(t, s, "mx.example.com.", dns.TypeMX)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.MX).Mx != "mail.example.com." {
		t.Fatalf("MX = %v", m.Answer)
	}
	// ANY gets RFC 8482's minimal answer, not the whole name.
	m = ask(t, s, "example.com.", dns.TypeANY)
	if len(m.Answer) != 1 || m.Answer[0].(*dns.HINFO).Cpu != "RFC8482" {
		t.Fatalf("ANY = %v", m.Answer)
	}
}

// The most specific zone answers, even when a parent zone is also served.
func TestMostSpecificZone(t *testing.T) {
	z := newFakeZones()
	z.add("ZP", "example.com.", rset("www.sub.example.com.", "A", 60, "192.0.2.1"))
	z.add("ZC", "sub.example.com.", rset("www.sub.example.com.", "A", 60, "192.0.2.2"))
	s := newTestServer(z, nil, 1)
	if got := firstA(t, ask(t, s, "www.sub.example.com.", dns.TypeA)); got != "192.0.2.2" {
		t.Fatalf("answered %s from the parent zone", got)
	}
	if soa := soaOf(t, ask(t, s, "nope.sub.example.com.", dns.TypeA)); soa.Hdr.Name != "sub.example.com." {
		t.Fatalf("SOA owner %s, want the child zone", soa.Hdr.Name)
	}
	want := []string{"cloudfront.net.", "elb.amazonaws.com.", "example.com.", "sub.example.com."}
	if got := s.ForwardZones(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ForwardZones = %v, want %v", got, want)
	}
}

func TestNameSpellings(t *testing.T) {
	for _, c := range []struct{ in, raw, r53, pres string }{
		{"WWW.Example.com", "www.example.com.", "www.example.com.", "www.example.com."},
		{`a\032b.example.com.`, "a b.example.com.", `a\040b.example.com.`, `a\032b.example.com.`},
		{`\*.example.com.`, "*.example.com.", "*.example.com.", "*.example.com."},
	} {
		raw, ok := toRaw(c.in)
		if !ok || raw != c.raw || route53Name(raw) != c.r53 || toPresentation(raw) != c.pres {
			t.Errorf("%q: raw %q ok=%v r53 %q pres %q", c.in, raw, ok, route53Name(raw), toPresentation(raw))
		}
	}
	if _, ok := toRaw(`a\.b.example.com.`); ok {
		t.Error("escaped dot accepted")
	}
}
