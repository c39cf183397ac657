package origin

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/certs"
)

// HeaderOrigin names the origin that produced a response.
const HeaderOrigin = "X-Lab-Origin"

// MarkerPath is the path of the marker object.
const MarkerPath = "/ruok"

// Marker returns the body an origin named name serves at MarkerPath.
func Marker(name string) string { return "ok-" + name }

// HeaderMaintenance marks a response as a maintenance page: a planned 503,
// an answer rather than a failure (load clients classify it so).
const HeaderMaintenance = "X-Lab-Maintenance"

// PageRetryAfter is the Retry-After, in seconds, a maintenance page sends.
const PageRetryAfter = 300

// Fault is the misbehaviour an origin is told to show.
type Fault struct {
	// ErrorRate is the fraction of requests (0..1) answered with Status.
	ErrorRate float64
	// Status is the injected error status; zero means 500.
	Status int
	// Latency is added before every response.
	Latency time.Duration
	// Refuse resets every connection as soon as it is accepted (and the
	// ones already open), the way a crashed process behind a live port
	// looks to a client: the connect succeeds, the first read fails.
	Refuse bool
}

func (f Fault) validate() error {
	if f.ErrorRate < 0 || f.ErrorRate > 1 || f.ErrorRate != f.ErrorRate {
		return fmt.Errorf("error rate %v is outside [0, 1]", f.ErrorRate)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		return fmt.Errorf("fault status %d is not a 4xx or 5xx code", f.Status)
	}
	if f.Latency < 0 || f.Latency > time.Minute {
		return fmt.Errorf("latency %v is outside [0, 1m]", f.Latency)
	}
	return nil
}

// Stats counts what an origin did since it started.
type Stats struct {
	// Requests is every request that reached the handler.
	Requests int64 `json:"requests"`
	// Injected is how many of them got the fault status.
	Injected int64 `json:"injected"`
	// Refused is how many connections were reset by a Refuse fault.
	Refused int64 `json:"refused"`
}

// Origin is one running origin. It is safe for concurrent use.
type Origin struct {
	name string
	ln   net.Listener
	srv  *http.Server

	mu    sync.Mutex
	fault Fault
	conns map[net.Conn]struct{}

	requests, injected, refused atomic.Int64
	closed                      chan struct{}
	// page makes the origin a maintenance page: every path answers 503
	// with an HTML page carrying the marker.
	page bool
}

// Start listens on addr (host:port; port 0 picks one) and serves until
// Close.
func Start(name, addr string) (*Origin, error) { return startOrigin(name, addr, false) }

// StartPage starts a maintenance page origin: every path, the marker path
// included, answers 503 Service Unavailable with Retry-After and an HTML
// page that carries the marker, the way a maintenance page behind
// CloudFront answers (seed 002: an S3 page whose status CloudFront turns
// into 503). Faults apply as to any origin.
func StartPage(name, addr string) (*Origin, error) { return startOrigin(name, addr, true) }

func startOrigin(name, addr string, page bool) (*Origin, error) {
	if name == "" {
		return nil, errors.New("starting origin: empty name")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("starting origin %s: %w", name, err)
	}
	cert, err := selfSigned(name)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("starting origin %s: %w", name, err)
	}
	o := &Origin{name: name, ln: ln, conns: map[net.Conn]struct{}{}, closed: make(chan struct{}), page: page}
	o.srv = &http.Server{
		Handler:           o,
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         o.track,
	}
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}}
	go func() { _ = o.srv.Serve(&sniffListener{Listener: ln, origin: o, tls: tlsConf}) }()
	return o, nil
}

// Name returns the origin's name.
func (o *Origin) Name() string { return o.name }

// Page reports whether the origin is a maintenance page.
func (o *Origin) Page() bool { return o.page }

// Addr returns the listening address as host:port.
func (o *Origin) Addr() string { return o.ln.Addr().String() }

// Port returns the listening port.
func (o *Origin) Port() int { return o.ln.Addr().(*net.TCPAddr).Port }

// Fault returns the current fault.
func (o *Origin) Fault() Fault {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fault
}

// SetFault replaces the current fault. Turning Refuse on also resets the
// connections already open, so keep-alive clients notice at once.
func (o *Origin) SetFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("setting fault on origin %s: %w", o.name, err)
	}
	o.mu.Lock()
	o.fault = f
	var open []net.Conn
	if f.Refuse {
		for c := range o.conns {
			open = append(open, c)
		}
	}
	o.mu.Unlock()
	for _, c := range open {
		reset(c)
	}
	return nil
}

// Stats returns the counters.
func (o *Origin) Stats() Stats {
	return Stats{Requests: o.requests.Load(), Injected: o.injected.Load(), Refused: o.refused.Load()}
}

// Close stops the origin and drops its connections.
func (o *Origin) Close() error {
	select {
	case <-o.closed:
		return nil
	default:
		close(o.closed)
	}
	return o.srv.Close()
}

func (o *Origin) track(c net.Conn, st http.ConnState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch st {
	case http.StateNew:
		o.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(o.conns, c)
	}
}

// ServeHTTP answers the marker object and every other path, applying the
// current fault.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	f := o.Fault()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set(HeaderOrigin, o.name)
	w.Header().Set("Cache-Control", "no-store")
	if f.ErrorRate > 0 && mrand.Float64() < f.ErrorRate {
		o.injected.Add(1)
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "origin %s: injected %d\n", o.name, status)
		return
	}
	if o.page && strings.HasPrefix(r.UserAgent(), "ELB-HealthChecker/") {
		// The page server is up: its load balancer's health check must
		// pass, or the load balancer would answer 503 itself with no
		// page (on AWS: a health check path or a matcher that accepts
		// the page's server).
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("maintenance page up\n"))
		return
	}
	if o.page {
		body := PageBody(o.name)
		w.Header().Set(HeaderMaintenance, "on")
		w.Header().Set("Retry-After", strconv.Itoa(PageRetryAfter))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(body))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if r.URL.Path == MarkerPath {
		body := Marker(o.name)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write([]byte(body))
		return
	}
	fmt.Fprintf(w, "origin %s: %s %s (host %s)\n", o.name, r.Method, r.URL.Path, r.Host)
}

// PageBody is the maintenance page an origin named name serves: HTML with
// the origin's marker, so a verifier looking for the marker in the body
// recognises the page.
func PageBody(name string) string {
	return "<!doctype html>\n<html><head><title>Down for maintenance</title></head>\n" +
		"<body><h1>Down for maintenance</h1><p>We will be back shortly.</p><!-- " + Marker(name) + " --></body></html>\n"
}

// reset closes c with an RST instead of a FIN, so the peer sees
// "connection reset" rather than a clean end of stream.
func reset(c net.Conn) {
	raw := c
	if lc, ok := raw.(*lazyConn); ok {
		raw = lc.peekConn.Conn
	}
	if tc, ok := raw.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// sniffListener hands the HTTP server plain connections as they are and TLS
// connections (first byte 0x16, a handshake record) wrapped in tls.Server.
// It also applies the Refuse fault at accept time.
type sniffListener struct {
	net.Listener
	origin *Origin
	tls    *tls.Config
}

func (l *sniffListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.origin.Fault().Refuse {
			l.origin.refused.Add(1)
			reset(c)
			continue
		}
		return &lazyConn{peekConn: &peekConn{Conn: c, r: bufio.NewReader(c)}, tlsConf: l.tls}, nil
	}
}

// peekConn lets the first byte be read without losing it.
type peekConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// lazyConn decides on its first Read whether it speaks TLS. Deciding in
// Accept would block the accept loop on a slow client.
type lazyConn struct {
	*peekConn
	tlsConf *tls.Config
	once    sync.Once
	inner   net.Conn
}

func (c *lazyConn) decide() {
	c.once.Do(func() {
		c.inner = c.peekConn
		_ = c.peekConn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, err := c.r.Peek(1)
		_ = c.peekConn.SetReadDeadline(time.Time{})
		if err == nil && b[0] == 0x16 {
			c.inner = tls.Server(c.peekConn, c.tlsConf)
		}
	})
}

func (c *lazyConn) Read(p []byte) (int, error) {
	c.decide()
	return c.inner.Read(p)
}

func (c *lazyConn) Write(p []byte) (int, error) {
	c.decide()
	return c.inner.Write(p)
}

// Close closes the socket itself: a TLS close_notify is a courtesy the lab
// can skip, and reading inner here would race with decide.
func (c *lazyConn) Close() error { return c.peekConn.Close() }

// selfSigned is the origin's own certificate; edges do not verify origin
// certificates, so a throwaway authority signs it.
func selfSigned(name string) (tls.Certificate, error) {
	ca, err := certs.New(name+" origin CA", 365*24*time.Hour)
	if err != nil {
		return tls.Certificate{}, err
	}
	c, err := ca.Leaf(name+".origin.lab", "localhost")
	if err != nil {
		return tls.Certificate{}, err
	}
	return *c, nil
}
