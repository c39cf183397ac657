// Package probetest builds the network fixtures HTTP probes and verifiers
// are tested against: a certificate authority with leaf certificates for
// chosen hostnames, HTTPS servers bound to distinct loopback addresses on one
// port (so that a DNS answer alone decides which one a client reaches), and
// a DNS server whose answers a test can change or weight.
package probetest

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/certs"
)

// CA is a throwaway certificate authority.
type CA struct {
	*certs.CA
}

// NewCA returns a fresh CA.
func NewCA(t testing.TB) *CA {
	t.Helper()
	ca, err := certs.New("cutover test CA", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{ca}
}

// Leaf issues a certificate for the given DNS names.
func (ca *CA) Leaf(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	c, err := ca.CA.Leaf(names...)
	if err != nil {
		t.Fatal(err)
	}
	return *c
}

// Edge is an HTTPS server on one loopback address.
type Edge struct {
	// IP is the loopback address it listens on.
	IP string
	// Addr is IP:port.
	Addr string
	// SNI records the server names clients asked for, for tests that check
	// the real hostname reached the edge.
	mu  sync.Mutex
	sni []string
}

// ServerNames returns the TLS server names the edge has seen.
func (e *Edge) ServerNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.sni...)
}

// Edges starts one HTTPS server per handler, each on its own address
// 127.0.0.2, 127.0.0.3, … and all on the same port, with a certificate for
// names issued by ca. It returns the edges and the shared port. Servers stop
// at the end of the test.
func Edges(t testing.TB, ca *CA, names []string, handlers ...http.Handler) ([]*Edge, int) {
	t.Helper()
	cert := ca.Leaf(t, names...)
	for attempt := 0; attempt < 20; attempt++ {
		edges, lns, port, err := listenAll(len(handlers))
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			t.Fatalf("listening on loopback addresses: %v", err)
		}
		for i, h := range handlers {
			e := edges[i]
			cfg := &tls.Config{
				Certificates: []tls.Certificate{cert},
				GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
					e.mu.Lock()
					e.sni = append(e.sni, hello.ServerName)
					e.mu.Unlock()
					return nil, nil
				},
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
			go func() { _ = srv.Serve(tls.NewListener(lns[i], cfg)) }()
			t.Cleanup(func() { _ = srv.Close() })
		}
		return edges, port
	}
	t.Fatal("no free port shared by all loopback addresses")
	return nil, 0
}

func listenAll(n int) ([]*Edge, []net.Listener, int, error) {
	var lns []net.Listener
	closeAll := func() {
		for _, l := range lns {
			_ = l.Close()
		}
	}
	first, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		return nil, nil, 0, err
	}
	lns = append(lns, first)
	port := first.Addr().(*net.TCPAddr).Port
	for i := 1; i < n; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0."+strconv.Itoa(i+2), strconv.Itoa(port)))
		if err != nil {
			closeAll()
			return nil, nil, 0, err
		}
		lns = append(lns, l)
	}
	edges := make([]*Edge, n)
	for i := range edges {
		ip := "127.0.0." + strconv.Itoa(i+2)
		edges[i] = &Edge{IP: ip, Addr: net.JoinHostPort(ip, strconv.Itoa(port))}
	}
	return edges, lns, port, nil
}

// Choice is one weighted alternative of a DNS answer.
type Choice struct {
	Weight int
	// CNAME, when set, answers with a CNAME to this name (resolved by the
	// same server, as a recursive resolver would).
	CNAME string
	// A are the addresses answered (for the CNAME target when CNAME is set).
	A []string
}

// DNS is a DNS server on 127.0.0.1 whose answers a test sets per name.
// A name with several choices is answered with one of them at random in
// proportion to the weights, like Route 53 weighted records.
type DNS struct {
	// Addr is host:port of the UDP server.
	Addr string

	mu      sync.Mutex
	records map[string][]Choice
	onlyCN  map[string]bool
	queries int
}

// NewDNS starts a DNS server that stops at the end of the test.
func NewDNS(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), records: map[string][]Choice{}, onlyCN: map[string]bool{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: d, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

// Set makes name answer with the given choices (replacing earlier ones).
func (d *DNS) Set(name string, choices ...Choice) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records[dns.Fqdn(strings.ToLower(name))] = choices
}

// CNAMEOnly makes answers for name stop at its CNAME, as an authoritative
// server for a zone that does not hold the target does: the client has to
// ask again for the target.
func (d *DNS) CNAMEOnly(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.onlyCN[dns.Fqdn(strings.ToLower(name))] = true
}

// Queries returns how many queries the server answered.
func (d *DNS) Queries() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.queries
}

// ServeDNS answers one query.
func (d *DNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	d.mu.Lock()
	d.queries++
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	for depth := 0; depth < 8; depth++ {
		choices, ok := d.records[name]
		if !ok {
			if depth == 0 {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		c := pick(choices)
		if c.CNAME != "" {
			target := dns.Fqdn(strings.ToLower(c.CNAME))
			m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 30}, Target: target})
			if d.onlyCN[name] {
				break
			}
			if len(c.A) == 0 {
				name = target
				continue
			}
			name = target
		}
		if q.Qtype == dns.TypeA {
			for _, a := range c.A {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.ParseIP(a)})
			}
		}
		break
	}
	d.mu.Unlock()
	_ = w.WriteMsg(m)
}

func pick(cs []Choice) Choice {
	total := 0
	for _, c := range cs {
		total += c.Weight
	}
	if total <= 0 || len(cs) == 1 {
		return cs[0]
	}
	n := mrand.IntN(total)
	for _, c := range cs {
		if n < c.Weight {
			return c
		}
		n -= c.Weight
	}
	return cs[len(cs)-1]
}
