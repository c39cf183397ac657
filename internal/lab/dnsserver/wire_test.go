package dnsserver

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func startServer(t *testing.T, s *Server) string {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s.Addr()
}

func exchange(t *testing.T, network, addr, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
		c.UDPSize = edns
	}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s: %v", network, name, err)
	}
	return r
}

// A TXT set too big for 512 bytes is truncated over UDP and whole over
// TCP, and the same port serves both.
func TestTruncationAndTCPRetry(t *testing.T) {
	var values []string
	for i := range 10 {
		values = append(values, fmt.Sprintf(`"%02d-%s"`, i, strings.Repeat("x", 180)))
	}
	z := newFakeZones()
	z.add("Z1", "example.com.", rset("big.example.com.", "TXT", 300, values...), rset("www.example.com.", "A", 60, "192.0.2.1"))
	s := newTestServer(z, nil, 1)
	addr := startServer(t, s)
	if _, port, _ := net.SplitHostPort(addr); port == "0" {
		t.Fatalf("Addr() = %s, want the bound port", addr)
	}

	udp := exchange(t, "udp", addr, "big.example.com.", dns.TypeTXT, 0)
	if !udp.Truncated || len(udp.Answer) >= 10 {
		t.Fatalf("UDP without EDNS0: tc=%v answers=%d, want TC and fewer than 10", udp.Truncated, len(udp.Answer))
	}
	if b, _ := udp.Pack(); len(b) > 512 {
		t.Fatalf("UDP answer is %d bytes, over 512", len(b))
	}
	tcp := exchange(t, "tcp", addr, "big.example.com.", dns.TypeTXT, 0)
	if tcp.Truncated || len(tcp.Answer) != 10 || !tcp.Authoritative {
		t.Fatalf("TCP: tc=%v answers=%d aa=%v, want the whole set", tcp.Truncated, len(tcp.Answer), tcp.Authoritative)
	}
	// EDNS0 advertising 4096 bytes fits it over UDP, with an OPT back.
	big := exchange(t, "udp", addr, "big.example.com.", dns.TypeTXT, 4096)
	if big.Truncated || len(big.Answer) != 10 || big.IsEdns0() == nil {
		t.Fatalf("UDP with EDNS0 4096: tc=%v answers=%d opt=%v", big.Truncated, len(big.Answer), big.IsEdns0())
	}
	// EDNS0 advertising 1232 bytes is honoured too: truncated again.
	mid := exchange(t, "udp", addr, "big.example.com.", dns.TypeTXT, 1232)
	if !mid.Truncated {
		t.Fatalf("UDP with EDNS0 1232: not truncated (%d answers)", len(mid.Answer))
	}
	// Small answers are not truncated.
	if r := exchange(t, "udp", addr, "www.example.com.", dns.TypeA, 0); r.Truncated || len(r.Answer) != 1 {
		t.Fatalf("small UDP answer: %v", r)
	}
	if got := s.Stats().Queries; got != 5 {
		t.Errorf("Stats.Queries = %d, want 5", got)
	}
}

func TestStartTwiceAndClose(t *testing.T) {
	s := newTestServer(newFakeZones(), nil, 1)
	addr := startServer(t, s)
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	// Another server cannot take the same address.
	other := New(Options{Addr: addr})
	if err := other.Start(); err == nil {
		_ = other.Close()
		t.Fatalf("second server bound %s too", addr)
	}
}
