package load

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dnsquery"
)

// Config describes one load run. Host and DNSServer are required, and at
// least one of Duration and MaxRequests bounds the run.
type Config struct {
	// Host is the name clients resolve and send as Host and SNI.
	Host string `json:"host"`
	// Path defaults to /ruok.
	Path string `json:"path,omitempty"`
	// HTTPS selects TLS, verified against CAPEM.
	HTTPS bool   `json:"https,omitempty"`
	CAPEM []byte `json:"-"`
	// Port defaults to 80 or 443.
	Port int `json:"port,omitempty"`
	// DNSServer is host:port of the resolver clients ask (loopback).
	DNSServer string `json:"dns_server"`

	// Clients is the number of virtual clients (default 10); Rate the
	// total requests per second across them (default 50).
	Clients int     `json:"clients"`
	Rate    float64 `json:"rate"`
	// Duration and MaxRequests bound the run; with neither, 30 s.
	Duration    time.Duration `json:"duration,omitempty"`
	MaxRequests int64         `json:"max_requests,omitempty"`
	// Timeout bounds one request (default 2 s).
	Timeout time.Duration `json:"timeout,omitempty"`

	// OverstayFraction of clients keep answers past the TTL: for
	// TTL×OverstayFactor (when > 1) plus OverstayExtra.
	OverstayFraction float64       `json:"overstay_fraction,omitempty"`
	OverstayFactor   float64       `json:"overstay_factor,omitempty"`
	OverstayExtra    time.Duration `json:"overstay_extra,omitempty"`
	// KeepAliveFraction of clients reuse connections across requests
	// (and so across DNS changes); the others open a fresh one each time.
	KeepAliveFraction float64 `json:"keepalive_fraction,omitempty"`

	// Clock reads TTL expiry (real time by default).
	Clock clock.Clock `json:"-"`
	// Seed makes the choice of addresses reproducible.
	Seed uint64 `json:"seed,omitempty"`
	// OnResult, when set, sees every result as it happens (from many
	// goroutines at once).
	OnResult func(Result) `json:"-"`
}

const maxDuration = time.Hour

func (c *Config) defaults() error {
	if c.Host == "" {
		return errors.New("load: Host is required")
	}
	if c.DNSServer == "" {
		return errors.New("load: DNSServer is required")
	}
	ap, err := netip.ParseAddrPort(c.DNSServer)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("load: DNS server %q must be a loopback ip:port", c.DNSServer)
	}
	if c.Path == "" {
		c.Path = "/ruok"
	}
	if c.Port == 0 {
		c.Port = 80
		if c.HTTPS {
			c.Port = 443
		}
	}
	if c.Clients == 0 {
		c.Clients = 10
	}
	if c.Rate == 0 {
		c.Rate = 50
	}
	if c.Clients < 0 || c.Clients > 10000 || c.Rate < 0 || c.Rate > 100000 {
		return fmt.Errorf("load: %d clients at %v/s is out of bounds", c.Clients, c.Rate)
	}
	if c.Duration == 0 && c.MaxRequests == 0 {
		c.Duration = 30 * time.Second
	}
	if c.Duration < 0 || c.Duration > maxDuration || c.MaxRequests < 0 {
		return fmt.Errorf("load: duration %v / budget %d out of bounds", c.Duration, c.MaxRequests)
	}
	if c.Duration == 0 {
		c.Duration = maxDuration
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	for _, f := range []float64{c.OverstayFraction, c.KeepAliveFraction} {
		if f < 0 || f > 1 {
			return fmt.Errorf("load: fraction %v outside [0, 1]", f)
		}
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	return nil
}

// Class is how one request ended.
type Class string

// Classes.
const (
	ClassOK       Class = "ok"        // 2xx or 3xx
	Class4xx      Class = "http_4xx"  // answered with a 4xx
	Class5xx      Class = "http_5xx"  // answered with a 5xx
	ClassTLS      Class = "tls_error" // handshake or certificate failure
	ClassConn     Class = "conn_error"
	ClassDNS      Class = "dns_error"
	ClassRejected Class = "rejected" // resolved to a non-loopback address
	// ClassMaintenance is a planned 503 from a maintenance page (it sends
	// X-Lab-Maintenance): an answer, not a failure.
	ClassMaintenance Class = "maintenance"
)

// Result is one request's outcome.
type Result struct {
	At     time.Time `json:"at"`
	Client int       `json:"client"`
	// Overstay marks a client that keeps DNS answers past their TTL.
	Overstay bool          `json:"overstay,omitempty"`
	Addr     string        `json:"addr,omitempty"`
	Class    Class         `json:"class"`
	Status   int           `json:"status,omitempty"`
	Origin   string        `json:"origin,omitempty"`
	Edge     string        `json:"edge,omitempty"`
	Latency  time.Duration `json:"latency"`
	Error    string        `json:"error,omitempty"`
}

// Live is a load run in progress.
type Live struct {
	cfg    Config
	start  time.Time
	cancel context.CancelFunc
	done   chan struct{}
	issued atomic.Int64

	mu  sync.Mutex
	agg *aggregate
}

// Start begins a run in the background; Snapshot watches it and Stop (or
// the deadline, or the budget) ends it.
func Start(ctx context.Context, cfg Config) (*Live, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	// Requests run on the caller's context: the deadline, the budget and
	// Stop only end the issuing of new requests, so the last ones are not
	// misreported as failures.
	reqCtx := ctx
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	r := &Live{cfg: cfg, start: time.Now(), cancel: cancel, done: make(chan struct{}), agg: newAggregate()}
	var pool *x509.CertPool
	if cfg.HTTPS {
		pool = x509.NewCertPool()
		if len(cfg.CAPEM) > 0 && !pool.AppendCertsFromPEM(cfg.CAPEM) {
			cancel()
			return nil, errors.New("load: CAPEM holds no certificate")
		}
	}
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) * float64(cfg.Clients) / cfg.Rate)
	nOverstay := int(cfg.OverstayFraction*float64(cfg.Clients) + 0.5)
	nKeep := int(cfg.KeepAliveFraction*float64(cfg.Clients) + 0.5)
	for i := range cfg.Clients {
		c := &client{
			id: i, run: r, overstay: i < nOverstay, keepAlive: i >= cfg.Clients-nKeep,
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i))),
		}
		c.http = c.newHTTP(pool)
		wg.Add(1)
		// Spread the clients' first requests over one interval so the
		// total rate is smooth from the start.
		phase := time.Duration(float64(interval) * float64(i) / float64(cfg.Clients))
		go func() {
			defer wg.Done()
			c.loop(ctx, reqCtx, interval, phase)
		}()
	}
	go func() {
		wg.Wait()
		cancel()
		close(r.done)
	}()
	return r, nil
}

// Run runs a load to its end and reports.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	<-r.done
	return r.Snapshot(), nil
}

// Done is closed when every client has stopped.
func (r *Live) Done() <-chan struct{} { return r.done }

// Stop ends the run, waits for in-flight requests and reports.
func (r *Live) Stop() *Report {
	r.cancel()
	<-r.done
	return r.Snapshot()
}

// Snapshot reports what happened so far.
func (r *Live) Snapshot() *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.agg.report(r.cfg, r.start)
}

func (r *Live) record(res Result) {
	if r.cfg.OnResult != nil {
		r.cfg.OnResult(res)
	}
	r.mu.Lock()
	r.agg.add(res, r.start)
	r.mu.Unlock()
}

type dialKey struct{}

// client is one virtual client with its own cache and connections.
type client struct {
	id        int
	run       *Live
	overstay  bool
	keepAlive bool
	rng       *rand.Rand
	http      *http.Client

	cache struct {
		addrs   []netip.Addr
		expires time.Time
	}
}

func (c *client) newHTTP(pool *x509.CertPool) *http.Client {
	cfg := c.run.cfg
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	tr := &http.Transport{
		// Dial the address the client resolved, whatever the URL says:
		// the URL carries the real name for Host and SNI.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			addr, ok := ctx.Value(dialKey{}).(netip.Addr)
			if !ok {
				return nil, errors.New("no resolved address for this request")
			}
			return dialer.DialContext(ctx, network, netip.AddrPortFrom(addr, uint16(cfg.Port)).String())
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool, ServerName: cfg.Host},
		DisableKeepAlives:   !c.keepAlive,
		MaxIdleConnsPerHost: 1,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		// A redirect is an answer: classify it, do not follow it.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (c *client) loop(ctx, reqCtx context.Context, interval, phase time.Duration) {
	defer c.http.CloseIdleConnections()
	next := time.Now().Add(phase)
	for {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if b := c.run.cfg.MaxRequests; b > 0 && c.run.issued.Add(1) > b {
			c.run.cancel()
			return
		}
		c.run.record(c.once(reqCtx))
		next = next.Add(interval)
		if now := time.Now(); next.Before(now) {
			next = now // a slow request delays, never bursts
		}
	}
}

// once resolves (from cache when fresh), connects and fetches.
func (c *client) once(ctx context.Context) Result {
	cfg := c.run.cfg
	began := time.Now()
	res := Result{At: began, Client: c.id, Overstay: c.overstay}
	addrs, err := c.resolve(ctx)
	if err != nil {
		res.Class, res.Error, res.Latency = ClassDNS, err.Error(), time.Since(began)
		return res
	}
	addr := addrs[c.rng.IntN(len(addrs))]
	res.Addr = addr.String()
	if !addr.IsLoopback() {
		res.Class, res.Error = ClassRejected, "resolved to a non-loopback address"
		return res
	}
	scheme := "http"
	if cfg.HTTPS {
		scheme = "https"
	}
	// The address travels in the request context to the dialer; a kept
	// alive connection ignores it, which is the point.
	req, err := http.NewRequestWithContext(context.WithValue(ctx, dialKey{}, addr), http.MethodGet, scheme+"://"+net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))+cfg.Path, nil)
	if err != nil {
		res.Class, res.Error = ClassConn, err.Error()
		return res
	}
	if (cfg.HTTPS && cfg.Port == 443) || (!cfg.HTTPS && cfg.Port == 80) {
		req.Host = cfg.Host
	}
	resp, err := c.http.Do(req)
	if err != nil {
		res.Latency = time.Since(began)
		res.Class, res.Error = classifyErr(err), shortErr(err)
		return res
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	res.Latency = time.Since(began)
	if rerr != nil {
		res.Class, res.Error = ClassConn, shortErr(rerr)
		return res
	}
	res.Status = resp.StatusCode
	res.Edge = resp.Header.Get("X-Lab-Edge")
	res.Origin = resp.Header.Get("X-Lab-Origin")
	if res.Origin == "" {
		if name, ok := strings.CutPrefix(strings.TrimSpace(string(body)), "ok-"); ok && !strings.ContainsAny(name, " \n") {
			res.Origin = name
		}
	}
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("X-Lab-Maintenance") != "":
		res.Class = ClassMaintenance
		if res.Origin == "" {
			res.Origin = "maintenance"
		}
	case resp.StatusCode >= 500:
		res.Class = Class5xx
	case resp.StatusCode >= 400:
		res.Class = Class4xx
	default:
		res.Class = ClassOK
	}
	return res
}

func classifyErr(err error) Class {
	var (
		recErr   tls.RecordHeaderError
		alert    tls.AlertError
		certErr  *tls.CertificateVerificationError
		hostErr  x509.HostnameError
		authErr  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		echErr   *tls.ECHRejectionError
		isTLSErr = errors.As(err, &recErr) || errors.As(err, &alert) || errors.As(err, &certErr) || errors.As(err, &hostErr) || errors.As(err, &authErr) || errors.As(err, &invalid) || errors.As(err, &echErr)
	)
	if isTLSErr || strings.Contains(err.Error(), "tls: ") {
		return ClassTLS
	}
	return ClassConn
}

// shortErr keeps the cause without the URL noise, so the breakdown groups.
func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		tail := s[i+2:]
		if strings.Contains(s, "tls: ") && !strings.Contains(tail, "tls") {
			return s
		}
		return tail
	}
	return s
}

// resolve returns the cached answer while it is fresh, else asks the DNS
// server, following CNAMEs to A records.
func (c *client) resolve(ctx context.Context) ([]netip.Addr, error) {
	cfg := c.run.cfg
	now := cfg.Clock.Now()
	if len(c.cache.addrs) > 0 && now.Before(c.cache.expires) {
		return c.cache.addrs, nil
	}
	addrs, ttl, err := lookup(ctx, cfg.DNSServer, cfg.Host, cfg.Timeout)
	if err != nil {
		c.cache.addrs = nil
		return nil, err
	}
	keep := ttl
	if c.overstay {
		if cfg.OverstayFactor > 1 {
			keep = time.Duration(float64(ttl) * cfg.OverstayFactor)
		}
		keep += cfg.OverstayExtra
	}
	c.cache.addrs, c.cache.expires = addrs, cfg.Clock.Now().Add(keep)
	return addrs, nil
}

// maxChain bounds CNAME chains (real resolvers stop around 8–16).
const maxChain = 8

// lookup asks server for name's A records, following CNAMEs across
// queries when the server does not chase them itself. The TTL is the
// smallest along the chain, as a caching resolver would serve it.
func lookup(ctx context.Context, server, name string, timeout time.Duration) ([]netip.Addr, time.Duration, error) {
	qname := dns.Fqdn(name)
	minTTL := uint32(1<<31 - 1)
	for hop := 0; hop < maxChain; hop++ {
		in, err := dnsquery.Exchange(ctx, server, qname, dns.TypeA, timeout)
		if err != nil {
			return nil, 0, fmt.Errorf("querying %s for %s: %w", server, qname, err)
		}
		if in.Rcode != dns.RcodeSuccess {
			return nil, 0, fmt.Errorf("resolving %s: %s", qname, dns.RcodeToString[in.Rcode])
		}
		// Walk the chain inside this answer.
		target := qname
		var addrs []netip.Addr
		for range maxChain {
			moved := false
			for _, rr := range in.Answer {
				if !strings.EqualFold(rr.Header().Name, target) {
					continue
				}
				switch v := rr.(type) {
				case *dns.CNAME:
					minTTL = min(minTTL, v.Hdr.Ttl)
					target, moved = v.Target, true
				case *dns.A:
					if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
						addrs = append(addrs, a)
						minTTL = min(minTTL, v.Hdr.Ttl)
					}
				}
				if moved {
					break
				}
			}
			if !moved || len(addrs) > 0 {
				break
			}
		}
		if len(addrs) > 0 {
			return addrs, time.Duration(minTTL) * time.Second, nil
		}
		if strings.EqualFold(target, qname) {
			return nil, 0, fmt.Errorf("resolving %s: no A records", qname)
		}
		qname = target
	}
	return nil, 0, fmt.Errorf("resolving %s: CNAME chain longer than %d", name, maxChain)
}
