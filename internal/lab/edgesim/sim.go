package edgesim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/certs"
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/lab/acm"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/elbv2"
)

// Distributions is the CloudFront control plane as the edges read it.
// *cloudfront.Service satisfies it.
type Distributions interface {
	List() []cloudfront.View
}

// LoadBalancers is the ELBv2 control plane as the edges read it.
// *elbv2.Service satisfies it. When it also implements HealthReporter, the
// edges report the health they observe through it.
type LoadBalancers interface {
	LoadBalancers() []elbv2.LB
}

// HealthReporter receives target health observed by the edges.
type HealthReporter interface {
	SetTargetHealth(tgARN, targetID, state, reason string) error
}

// Certificates looks up ACM certificates; *acm.Service satisfies it.
type Certificates interface {
	Certificate(arn string) (acm.Info, bool)
}

// Metrics receives the AWS-vended metrics the edges publish;
// *cloudwatch.Service satisfies it.
type Metrics interface {
	Put(account, ns, metric string, dims map[string]string, t time.Time, v float64, unit string) error
}

// Defaults.
const (
	DefaultEdges          = 4
	DefaultPropagationMin = time.Second
	DefaultPropagationMax = 5 * time.Second
	DefaultPollInterval   = 50 * time.Millisecond
	DefaultMetricsPeriod  = 60 * time.Second
	DefaultHealthInterval = 5 * time.Second
)

var (
	defaultFirstAddr   = netip.MustParseAddr("127.0.1.1")
	defaultLBFirstAddr = netip.MustParseAddr("127.0.2.1")
)

// Options configure a Sim. Only Distributions is required.
type Options struct {
	// Clock measures propagation delays and stamps metrics; the wall clock by
	// default. Tests move a fake clock and call Sync.
	Clock clock.Clock
	// Distributions and LoadBalancers are the control planes to follow.
	Distributions Distributions
	LoadBalancers LoadBalancers
	// Certificates adds a distribution's ACM domains to its edge
	// certificate; nil uses the aliases only.
	Certificates Certificates
	// Metrics receives CloudWatch metrics; nil publishes nothing.
	Metrics Metrics

	// Edges is how many edges run (default 4), on consecutive addresses
	// from FirstAddr (default 127.0.1.1; all of 127.0.0.0/8 is loopback
	// on Linux).
	Edges     int
	FirstAddr netip.Addr
	// LBFirstAddr is the first of the addresses handed to load balancers,
	// one each, in creation order (default 127.0.2.1).
	LBFirstAddr netip.Addr
	// HTTPPort and HTTPSPort default to 80 and 443.
	HTTPPort, HTTPSPort int
	// EphemeralPorts asks the kernel for the two ports on the first edge
	// and reuses them on every other address (retrying when one is
	// taken); HTTPPort and HTTPSPort are then ignored.
	EphemeralPorts bool

	// PropagationMin and PropagationMax bound each edge's delay in
	// applying a configuration version (default 1 s .. 5 s).
	PropagationMin, PropagationMax time.Duration
	// PollInterval is how often the control planes are read (50 ms).
	PollInterval time.Duration
	// MetricsPeriod is how often metrics are published (60 s).
	MetricsPeriod time.Duration
	// HealthInterval is how often load balancer targets are probed (5 s).
	HealthInterval time.Duration
	// OriginTimeout bounds the wait for an origin's response headers
	// (CloudFront's default origin response timeout is 30 s).
	OriginTimeout time.Duration

	// CAPath, when set, receives the lab CA certificate as PEM.
	CAPath string
	// Seed makes delays, edge names and weighted choices reproducible.
	Seed uint64
}

func (o *Options) defaults() error {
	if o.Distributions == nil {
		return errors.New("edgesim: Options.Distributions is required")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Edges == 0 {
		o.Edges = DefaultEdges
	}
	if o.Edges < 0 || o.Edges > 250 {
		return fmt.Errorf("edgesim: %d edges is outside 1..250", o.Edges)
	}
	if !o.FirstAddr.IsValid() {
		o.FirstAddr = defaultFirstAddr
	}
	if !o.LBFirstAddr.IsValid() {
		o.LBFirstAddr = defaultLBFirstAddr
	}
	if !o.FirstAddr.IsLoopback() || !o.LBFirstAddr.IsLoopback() {
		return errors.New("edgesim: edge and load balancer addresses must be loopback")
	}
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 443
	}
	if o.PropagationMin == 0 && o.PropagationMax == 0 {
		o.PropagationMin, o.PropagationMax = DefaultPropagationMin, DefaultPropagationMax
	}
	if o.PropagationMin < 0 || o.PropagationMax < o.PropagationMin {
		return fmt.Errorf("edgesim: propagation range %v..%v is invalid", o.PropagationMin, o.PropagationMax)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.MetricsPeriod <= 0 {
		o.MetricsPeriod = DefaultMetricsPeriod
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.OriginTimeout <= 0 {
		o.OriginTimeout = 30 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	return nil
}

// Sim is a running set of edges. It is safe for concurrent use.
type Sim struct {
	opts      Options
	ca        *certs.CA
	transport *http.Transport
	edgeNames []string
	edgeAddrs []netip.Addr
	httpPort  int
	httpsPort int

	mu     sync.Mutex
	rng    *rand.Rand
	dists  map[string]*history
	order  []string
	synced bool
	lbs    []elbv2.LB
	lbAddr map[string]netip.Addr // by load balancer ARN
	nextLB netip.Addr
	rr     map[string]uint64 // round-robin position per target group

	servers []*http.Server
	met     *meters
	cancel  context.CancelFunc
	done    sync.WaitGroup
	started bool
	closed  bool
}

// New prepares a Sim: it generates the lab CA (writing it to CAPath) but
// binds nothing until Start.
func New(opts Options) (*Sim, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	ca, err := certs.New("cutover lab CA", 10*365*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("edgesim: %w", err)
	}
	if opts.CAPath != "" {
		if err := os.WriteFile(opts.CAPath, ca.PEM, 0o644); err != nil {
			return nil, fmt.Errorf("edgesim: writing CA: %w", err)
		}
	}
	s := &Sim{
		opts:   opts,
		ca:     ca,
		rng:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5bd1e995)),
		dists:  map[string]*history{},
		lbAddr: map[string]netip.Addr{},
		nextLB: opts.LBFirstAddr,
		rr:     map[string]uint64{},
		met:    newMeters(),
		transport: &http.Transport{
			// Lab origins present self-signed certificates; CloudFront
			// would validate them, the lab cannot.
			TLSClientConfig:       &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // lab origins only
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			ResponseHeaderTimeout: opts.OriginTimeout,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       30 * time.Second,
		},
	}
	addr := opts.FirstAddr
	for k := range opts.Edges {
		if !addr.IsLoopback() {
			return nil, fmt.Errorf("edgesim: edge %d address %s is not loopback", k+1, addr)
		}
		s.edgeAddrs = append(s.edgeAddrs, addr)
		s.edgeNames = append(s.edgeNames, edgeName(opts.Seed, k+1))
		addr = addr.Next()
	}
	return s, nil
}

// Start binds every edge and starts following the control planes. The
// configuration present at Start counts as already applied on every edge:
// the lab's world has been running for a while.
func (s *Sim) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return errors.New("edgesim: already started")
	}
	s.started = true
	s.mu.Unlock()
	if err := s.bindEdges(); err != nil {
		return err
	}
	s.Sync()
	ctx, cancel := context.WithCancel(ctx)
	s.cancel = cancel
	s.loop(ctx, s.opts.PollInterval, s.Sync)
	s.loop(ctx, s.opts.MetricsPeriod, func() { _ = s.Flush() })
	s.loop(ctx, s.opts.HealthInterval, func() { s.CheckHealth(ctx) })
	return nil
}

func (s *Sim) loop(ctx context.Context, every time.Duration, f func()) {
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				f()
			}
		}
	}()
}

// Close stops every listener and loop.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.servers
	s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
	s.done.Wait()
	var errs []error
	for _, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.transport.CloseIdleConnections()
	return errors.Join(errs...)
}

// Addrs returns the edge addresses; every *.cloudfront.net name resolves
// to all of them.
func (s *Sim) Addrs() []netip.Addr { return append([]netip.Addr(nil), s.edgeAddrs...) }

// LBAddr returns the address that serves the load balancer with this DNS
// name. A real ALB has addresses of its own and ignores the Host header,
// so a name CNAME'd to it must lead to an address that means "this load
// balancer"; the edges also route the load balancer's own DNS name.
func (s *Sim) LBAddr(dnsName string) (netip.Addr, bool) {
	dnsName = normHost(dnsName)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range s.lbs {
		if normHost(lb.DNSName) == dnsName {
			a, ok := s.lbAddr[lb.ARN]
			return a, ok
		}
	}
	return netip.Addr{}, false
}

// AddrsFor returns what a DNS server should answer for name: a load
// balancer's own address for its DNS name, the edges for anything else.
func (s *Sim) AddrsFor(name string) []netip.Addr {
	if a, ok := s.LBAddr(name); ok {
		return []netip.Addr{a}
	}
	return s.Addrs()
}

// HTTPPort is the port every edge serves HTTP on.
func (s *Sim) HTTPPort() int { return s.httpPort }

// HTTPSPort is the port every edge serves HTTPS on.
func (s *Sim) HTTPSPort() int { return s.httpsPort }

// CA returns the lab CA certificate as PEM; clients trust it to reach the
// edges over HTTPS.
func (s *Sim) CA() []byte { return append([]byte(nil), s.ca.PEM...) }

// where names the listener a request arrived on: an edge (1-based) or a
// load balancer.
type where struct {
	edge int
	lb   string // load balancer ARN
}

func (s *Sim) bindEdges() error {
	for attempt := 0; ; attempt++ {
		err := s.tryBindEdges()
		if err == nil {
			return nil
		}
		if !s.opts.EphemeralPorts || attempt >= 20 {
			return fmt.Errorf("edgesim: binding edges: %w", err)
		}
	}
}

func (s *Sim) tryBindEdges() error {
	hp, sp := s.opts.HTTPPort, s.opts.HTTPSPort
	if s.opts.EphemeralPorts {
		hp, sp = 0, 0
	}
	var plain, secure []net.Listener
	closeAll := func() {
		for _, l := range append(plain, secure...) {
			l.Close()
		}
	}
	for _, a := range s.edgeAddrs {
		hl, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(hp)).String())
		if err != nil {
			closeAll()
			return err
		}
		plain = append(plain, hl)
		hp = hl.Addr().(*net.TCPAddr).Port
		sl, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(sp)).String())
		if err != nil {
			closeAll()
			return err
		}
		secure = append(secure, sl)
		sp = sl.Addr().(*net.TCPAddr).Port
	}
	s.httpPort, s.httpsPort = hp, sp
	for k := range s.edgeAddrs {
		s.serve(where{edge: k + 1}, plain[k], secure[k])
	}
	return nil
}

// bindLBLocked gives a new load balancer an address of its own, skipping
// addresses whose ports are taken.
func (s *Sim) bindLBLocked(lb elbv2.LB) {
	for range 64 {
		a := s.nextLB
		s.nextLB = s.nextLB.Next()
		if !a.IsLoopback() {
			return
		}
		hl, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(s.httpPort)).String())
		if err != nil {
			continue
		}
		sl, err := net.Listen("tcp", netip.AddrPortFrom(a, uint16(s.httpsPort)).String())
		if err != nil {
			hl.Close()
			continue
		}
		s.lbAddr[lb.ARN] = a
		s.serveLocked(where{lb: lb.ARN}, hl, sl)
		return
	}
}

func (s *Sim) serve(w where, plain, secure net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveLocked(w, plain, secure)
}

func (s *Sim) serveLocked(w where, plain, secure net.Listener) {
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { s.handle(w, rw, r) })
	tlsConf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return s.certificateFor(w, hello.ServerName)
		},
	}
	for _, ln := range []net.Listener{plain, tls.NewListener(secure, tlsConf)} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: quietLog}
		s.servers = append(s.servers, srv)
		go func() { _ = srv.Serve(ln) }()
	}
}

func edgeLabel(w where) string {
	if w.lb != "" {
		return "lb"
	}
	return strconv.Itoa(w.edge)
}
