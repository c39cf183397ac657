package rfc2136

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/plan"
)

// The UPDATE for a replace and a create: RFC 2136 §2.4.2 "RRset exists
// (value dependent)" for the old set (class IN, TTL 0, every value), §2.4.3
// "RRset does not exist" for the created one (class NONE, type, no rdata);
// then, in order, the old set deleted (class ANY) and the new one added
// with its TTL.
func TestUpdatePrerequisitesAreACompareAndSwap(t *testing.T) {
	old := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 300, Values: []string{"192.0.2.1", "192.0.2.2"}}
	nw := dns.RecordSet{Name: "api.example.com.", Type: "A", TTL: 30, Values: []string{"192.0.2.9"}}
	txt := dns.RecordSet{Name: "_api.example.com.", Type: "TXT", TTL: 60, Values: []string{`"proof"`}}
	m, err := Update(dns.ChangeSet{Zone: "example.com", Changes: []dns.Change{{Old: &old, New: &nw}, {New: &txt}}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Opcode != mdns.OpcodeUpdate || len(m.Question) != 1 || m.Question[0].Name != "example.com." || m.Question[0].Qtype != mdns.TypeSOA {
		t.Fatalf("zone section %v (opcode %d)", m.Question, m.Opcode)
	}
	// Prerequisites travel in the answer section.
	if len(m.Answer) != 3 {
		t.Fatalf("prerequisites %v", m.Answer)
	}
	for _, rr := range m.Answer[:2] {
		h := rr.Header()
		if h.Class != mdns.ClassINET || h.Ttl != 0 || h.Rrtype != mdns.TypeA {
			t.Errorf("value-dependent prerequisite %v", rr)
		}
	}
	if h := m.Answer[2].Header(); h.Class != mdns.ClassNONE || h.Rrtype != mdns.TypeTXT || h.Name != "_api.example.com." {
		t.Errorf("not-exists prerequisite %v", m.Answer[2])
	}
	// Updates travel in the authority section.
	if len(m.Ns) != 3 {
		t.Fatalf("updates %v", m.Ns)
	}
	if h := m.Ns[0].Header(); h.Class != mdns.ClassANY || h.Rrtype != mdns.TypeA {
		t.Errorf("delete %v", m.Ns[0])
	}
	if a, ok := m.Ns[1].(*mdns.A); !ok || a.Hdr.Ttl != 30 || a.A.String() != "192.0.2.9" {
		t.Errorf("add %v", m.Ns[1])
	}
	if x, ok := m.Ns[2].(*mdns.TXT); !ok || x.Txt[0] != "proof" {
		t.Errorf("add %v", m.Ns[2])
	}
}

func TestSerialArithmetic(t *testing.T) {
	for _, c := range []struct {
		a, b uint32
		want bool
	}{{5, 5, true}, {6, 5, true}, {4, 5, false}, {1, 0xfffffff0, true}, {0xfffffff0, 1, false}} {
		if got := serialAtLeast(c.a, c.b); got != c.want {
			t.Errorf("serialAtLeast(%d, %d) = %v", c.a, c.b, got)
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	for _, o := range []Options{
		{},
		{Server: "127.0.0.1", TSIG: &TSIG{Name: "k", Algorithm: "hmac-md5", Secret: "c2VjcmV0"}},
		{Server: "127.0.0.1", TSIG: &TSIG{Name: "k"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	p, err := New(Options{Server: "ns1.example.com", TSIG: &TSIG{Name: "k", Secret: "c2VjcmV0"}})
	if err != nil || p.opts.Server != "ns1.example.com:53" || p.opts.TSIG.Algorithm != DefaultAlgorithm {
		t.Fatalf("defaults: %+v, %v", p.opts, err)
	}
}

// The plan accepts exactly the algorithms the provider signs with.
func TestPlanAlgorithmsAreTheProvidersOwn(t *testing.T) {
	if got, want := strings.Join(plan.TSIGAlgorithms, ","), strings.Join(AlgorithmNames(), ","); got != want {
		t.Fatalf("plan accepts %s, the provider signs with %s", got, want)
	}
}

// miekg/dns reports a refused transfer by its rcode in the message; the
// provider then reads by queries instead.
func TestRefusedTransferIsRecognised(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dns: bad xfr rcode: %d", mdns.RcodeRefused), true},
		{fmt.Errorf("dns: bad xfr rcode: %d", mdns.RcodeNotAuth), true},
		{fmt.Errorf("dns: bad xfr rcode: %d", mdns.RcodeServerFailure), false},
		{mdns.ErrAuth, true},
		{errors.New("read tcp: connection reset"), false},
	} {
		if got := refusedTransfer(c.err); got != c.want {
			t.Errorf("refusedTransfer(%v) = %v", c.err, got)
		}
	}
}
