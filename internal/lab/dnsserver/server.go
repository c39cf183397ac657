package dnsserver

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cutover/cutover/internal/lab/route53"
)

// DefaultAddr is where the lab's DNS server listens unless told otherwise.
const DefaultAddr = "127.0.0.1:5353"

// Zones is the lab's Route 53 as the DNS server sees it. *route53.Service
// implements it.
type Zones interface {
	// Served finds the most specific public hosted zone containing name
	// and returns the record sets served at name (wildcard-expanded), as
	// of the newest INSYNC change. ok is false when no zone contains name.
	Served(name string) (zone route53.ZoneView, sets []route53.RecordSet, ok bool)
	// ServedRecords returns every served record set of a zone; the server
	// uses it to tell NXDOMAIN from NODATA (empty non-terminals exist).
	ServedRecords(zoneID string) ([]route53.RecordSet, bool)
	// ServedZones lists the zones being served.
	ServedZones() []route53.ZoneView
	// HealthCheckHealthy reports the status Route 53 acts on.
	HealthCheckHealthy(id string) bool
}

// Targets resolves the AWS-managed names alias and CNAME records point at.
type Targets interface {
	// Addrs returns the IPv4 and IPv6 addresses an AWS-managed name
	// (dXXXX.cloudfront.net, *.elb.amazonaws.com) resolves to and their
	// TTL (0 means 60 s). name is lower-case with a trailing dot. ok is
	// false when the name is not one the lab knows.
	Addrs(name string) (v4, v6 []netip.Addr, ttl uint32, ok bool)
}

// TargetHealth is an optional capability of a Targets: the health an
// alias with EvaluateTargetHealth sees for an ELB name. Without it every
// target is healthy.
type TargetHealth interface {
	TargetHealthy(name string) bool
}

// DefaultTargetDomains are the AWS domains the server answers for as if
// it were their authority: a name below them that Targets does not know
// gets NXDOMAIN instead of REFUSED, so a resolver can follow and cache
// d123.cloudfront.net like on the internet.
var DefaultTargetDomains = []string{"cloudfront.net.", "elb.amazonaws.com."}

// Options configure a Server. Every field is optional.
type Options struct {
	// Addr is the UDP and TCP address to listen on; DefaultAddr when
	// empty. A zero port picks a free one, the same for both.
	Addr string
	// Zones are the hosted zones to serve; nil serves none.
	Zones Zones
	// Targets resolves AWS-managed names; nil knows none.
	Targets Targets
	// TargetDomains replace DefaultTargetDomains when non-nil.
	TargetDomains []string
	// Rand draws weighted choices; seed it for reproducible tests. Nil
	// seeds one from the time.
	Rand *rand.Rand
	// Logger receives one debug line per query; nil discards.
	Logger *slog.Logger
}

// Server is the lab's authoritative DNS server. It is also a dns.Handler,
// usable in-process without Start.
type Server struct {
	opts    Options
	domains []string
	log     *slog.Logger

	rndMu sync.Mutex
	rnd   *rand.Rand

	statsMu sync.Mutex
	stats   Stats

	runMu sync.Mutex
	udp   *dns.Server
	tcp   *dns.Server
	addr  string
}

// Stats count what the server answered.
type Stats struct {
	// Queries is the number of queries handled.
	Queries uint64
	// Rcodes counts responses by rcode name ("NOERROR", "NXDOMAIN", …).
	Rcodes map[string]uint64
	// Chosen counts, per "name TYPE" (raw name, e.g. "www.example.com. A"),
	// how often each record set was picked by routing; the key of the
	// inner map is the set identifier ("" for simple routing).
	Chosen map[string]map[string]uint64
}

// New returns a server; call Start to listen, or use it as a dns.Handler.
func New(opts Options) *Server {
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewSource(time.Now().UnixNano()))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	domains := opts.TargetDomains
	if domains == nil {
		domains = DefaultTargetDomains
	}
	norm := make([]string, 0, len(domains))
	for _, d := range domains {
		norm = append(norm, dns.Fqdn(strings.ToLower(d)))
	}
	return &Server{
		opts: opts, domains: norm, log: log, rnd: rnd,
		stats: Stats{Rcodes: map[string]uint64{}, Chosen: map[string]map[string]uint64{}},
	}
}

// Start binds UDP and TCP on the same address and serves until Close.
func (s *Server) Start() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.udp != nil {
		return errors.New("dns server already started")
	}
	pc, ln, err := listenPair(s.opts.Addr)
	if err != nil {
		return err
	}
	udpUp, tcpUp := make(chan struct{}), make(chan struct{})
	s.udp = &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: func() { close(udpUp) }}
	s.tcp = &dns.Server{Listener: ln, Handler: s, NotifyStartedFunc: func() { close(tcpUp) }}
	s.addr = pc.LocalAddr().String()
	errc := make(chan error, 2)
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() { errc <- srv.ActivateAndServe() }()
	}
	// Wait until both loops run so that Close never races ActivateAndServe
	// and a query sent right after Start is answered.
	for _, up := range []chan struct{}{udpUp, tcpUp} {
		select {
		case <-up:
		case err := <-errc:
			_ = pc.Close()
			_ = ln.Close()
			s.udp, s.tcp = nil, nil
			return fmt.Errorf("serving dns on %s: %w", s.addr, err)
		}
	}
	return nil
}

// listenPair binds UDP then TCP on the same port. With port 0 the kernel
// picks the UDP port, which may be taken for TCP; a few attempts make that
// race irrelevant.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("listening on tcp %s: %w", addr, lastErr)
}

// Addr returns the bound address (host:port), or the configured one
// before Start.
func (s *Server) Addr() string {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.addr != "" {
		return s.addr
	}
	return s.opts.Addr
}

// Close stops both listeners.
func (s *Server) Close() error {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.udp == nil {
		return nil
	}
	err := errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	s.udp, s.tcp = nil, nil
	if err != nil {
		return fmt.Errorf("stopping dns server: %w", err)
	}
	return nil
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := Stats{Queries: s.stats.Queries, Rcodes: map[string]uint64{}, Chosen: map[string]map[string]uint64{}}
	for k, v := range s.stats.Rcodes {
		out.Rcodes[k] = v
	}
	for k, m := range s.stats.Chosen {
		c := make(map[string]uint64, len(m))
		for id, n := range m {
			c[id] = n
		}
		out.Chosen[k] = c
	}
	return out
}

// ResetStats zeroes the counters, e.g. between phases of a demo.
func (s *Server) ResetStats() {
	s.statsMu.Lock()
	s.stats = Stats{Rcodes: map[string]uint64{}, Chosen: map[string]map[string]uint64{}}
	s.statsMu.Unlock()
}

// ForwardZones lists the domains a resolver should send to this server:
// the served hosted zones and the target domains, sorted, each once.
func (s *Server) ForwardZones() []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		n = dns.Fqdn(strings.ToLower(n))
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if s.opts.Zones != nil {
		for _, z := range s.opts.Zones.ServedZones() {
			add(z.Name)
		}
	}
	for _, d := range s.domains {
		add(d)
	}
	sort.Strings(out)
	return out
}

func (s *Server) countChoice(name, typ string, chosen []route53.RecordSet) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	k := name + " " + typ
	m := s.stats.Chosen[k]
	if m == nil {
		m = map[string]uint64{}
		s.stats.Chosen[k] = m
	}
	for _, rs := range chosen {
		m[rs.SetIdentifier]++
	}
}

func (s *Server) countReply(rcode int) {
	s.statsMu.Lock()
	s.stats.Queries++
	s.stats.Rcodes[dns.RcodeToString[rcode]]++
	s.statsMu.Unlock()
}

// choose applies the routing policy under the lock that guards rnd
// (math/rand sources are not safe for concurrent use).
func (s *Server) choose(sets []route53.RecordSet, healthy func(string) bool) []route53.RecordSet {
	s.rndMu.Lock()
	defer s.rndMu.Unlock()
	return route53.Select(sets, healthy, s.rnd)
}

var (
	queriesDesc = prometheus.NewDesc("lab_dns_queries_total",
		"Queries answered by the lab's DNS server, by response code.", []string{"rcode"}, nil)
	chosenDesc = prometheus.NewDesc("lab_dns_answers_chosen_total",
		"Record sets picked by routing, by name, type and set identifier.", []string{"name", "type", "set"}, nil)
)

// Describe implements prometheus.Collector.
func (s *Server) Describe(ch chan<- *prometheus.Desc) {
	ch <- queriesDesc
	ch <- chosenDesc
}

// Collect implements prometheus.Collector from the same counters as Stats,
// so a demo dashboard shows the share each weighted set gets.
func (s *Server) Collect(ch chan<- prometheus.Metric) {
	st := s.Stats()
	for rcode, n := range st.Rcodes {
		ch <- prometheus.MustNewConstMetric(queriesDesc, prometheus.CounterValue, float64(n), rcode)
	}
	for key, m := range st.Chosen {
		name, typ, _ := strings.Cut(key, " ")
		for set, n := range m {
			ch <- prometheus.MustNewConstMetric(chosenDesc, prometheus.CounterValue, float64(n), name, typ, set)
		}
	}
}
