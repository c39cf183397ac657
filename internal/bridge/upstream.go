package bridge

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/clock"
)

// Upstream is one forwarding target of a route. It owns its connection pool
// and its passive health: it starts healthy (no evidence against it yet),
// goes down for Cooldown after Failures consecutive transport failures, and
// comes back on its own when the cooldown ends; the next failure after that
// takes it down again at once because the count is not reset by time alone.
type Upstream struct {
	URL       *url.URL
	transport *http.Transport // upgrades, chunked uploads, anything unusual
	conns     *connPool       // the lean path; nil in unit tests of health alone
	timeout   time.Duration   // wait for response headers
	policy    HealthPolicy
	clock     clock.Clock // health cooldowns

	consecutive atomic.Int32
	downUntil   atomic.Int64 // unix nanoseconds; 0 = never marked down
}

func newUpstream(u *url.URL, tr *http.Transport, policy HealthPolicy, clk clock.Clock) *Upstream {
	return &Upstream{URL: u, transport: tr, policy: policy, clock: clk}
}

// closeIdle releases idle upstream connections of both forwarding paths;
// with final set the upstream left the configuration and keeps none.
func (u *Upstream) closeIdle(final bool) {
	if u.transport != nil {
		u.transport.CloseIdleConnections()
	}
	if u.conns != nil {
		u.conns.closeIdle(final)
	}
}

// newConnPool builds the lean path's pool, sharing the dialer settings and
// TLS configuration of tr.
func newConnPool(u *url.URL, tr *http.Transport, timeout time.Duration) *connPool {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if timeout < dialer.Timeout {
		dialer.Timeout = timeout
	}
	p := &connPool{
		addr:        net.JoinHostPort(u.Hostname(), port),
		dialer:      dialer,
		maxIdle:     tr.MaxIdleConnsPerHost,
		idleTimeout: tr.IdleConnTimeout,
		now:         time.Now,
	}
	if u.Scheme == "https" {
		p.tlsConfig = tr.TLSClientConfig
	}
	return p
}

// Healthy reports whether requests may be sent to u now.
func (u *Upstream) Healthy() bool {
	until := u.downUntil.Load()
	return until == 0 || u.clock.Now().UnixNano() >= until
}

// ReportSuccess records a response received from u.
func (u *Upstream) ReportSuccess() {
	if u.consecutive.Load() != 0 {
		u.consecutive.Store(0)
	}
}

// ReportFailure records a transport failure (dial, TLS, timeout, reset).
// It returns true when this failure marked the upstream down.
func (u *Upstream) ReportFailure() bool {
	n := u.consecutive.Add(1)
	if int(n) < u.policy.Failures {
		return false
	}
	u.consecutive.Store(0)
	u.downUntil.Store(u.clock.Now().Add(u.policy.Cooldown).UnixNano())
	return true
}

// pool is a route's upstreams, picked round-robin among the healthy ones.
type pool struct {
	upstreams []*Upstream
	next      atomic.Uint32
}

// pick returns the next healthy upstream, or nil when all are down.
func (p *pool) pick() *Upstream {
	n := len(p.upstreams)
	if n == 1 {
		if u := p.upstreams[0]; u.Healthy() {
			return u
		}
		return nil
	}
	start := int(p.next.Add(1) - 1)
	for i := 0; i < n; i++ {
		u := p.upstreams[(start+i)%n]
		if u.Healthy() {
			return u
		}
	}
	return nil
}

// upstreamKey identifies an upstream whose pool and health can be carried
// over a reload: same address, same server name, same trust settings.
type upstreamKey struct {
	url, serverName string
	tls             UpstreamTLS
	timeout         time.Duration
	policy          HealthPolicy
}

// newTransport builds the pooled client side for one upstream. TLS uses the
// rewritten host as server name and verifies the certificate for it, which
// is what CloudFront needs to select the distribution by alternate domain
// name. Upstream connections speak HTTP/1.1: it keeps WebSocket upgrades
// possible and pools predictably.
func newTransport(serverName string, tlsCfg UpstreamTLS, roots *x509.CertPool, timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if timeout < dialer.Timeout {
		dialer.Timeout = timeout
	}
	return &http.Transport{
		Proxy:       nil, // never chain through an environment proxy
		DialContext: dialer.DialContext,
		TLSClientConfig: &tls.Config{
			ServerName:         serverName,
			RootCAs:            roots,
			InsecureSkipVerify: tlsCfg.InsecureSkipVerify, //nolint:gosec // explicit opt-in for labs
			MinVersion:         tls.VersionTLS12,
			NextProtos:         []string{"http/1.1"},
			ClientSessionCache: tls.NewLRUClientSessionCache(256),
		},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          0, // bounded per host below
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // pass encodings through untouched
		ForceAttemptHTTP2:     false,
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        32 << 10,
	}
}

func loadRoots(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil // system roots
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading upstream CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("upstream CA %s: no PEM certificates found", path)
	}
	return pool, nil
}
