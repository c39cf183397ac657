package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/http/pprof"
	"net/url"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cutover/cutover/internal/clock"
)

var discardLog = log.New(io.Discard, "", 0)

// Server is one bridge instance: listeners, a routing table swapped
// atomically on Reload, and the upstreams with their pools and health.
type Server struct {
	cfg     *Config // listeners and limits are fixed at New
	clock   clock.Clock
	logger  *slog.Logger
	metrics *metrics
	table   atomic.Pointer[table]

	mu        sync.Mutex // serialises Reload
	upstreams map[upstreamKey]*Upstream
	access    *accessLog // the access log's writer, once it was turned on
	// accessQueue overrides accessLogQueue (tests).
	accessQueue int
	limiters    map[string]*atomic.Int64

	draining atomic.Bool
	// noEventLoop serves the plain listener with the goroutine loop alone
	// (tests of that loop).
	noEventLoop bool
	startOnce   sync.Once
	startErr    error
	servers     []*http.Server
	fast        []*fastServer
	listeners   []net.Listener
	addrs       map[string]net.Addr
	serveErr    chan error
}

// Option adjusts a Server at construction.
type Option func(*Server)

// WithClock injects the time source used for upstream health cooldowns;
// tests inject a fake one.
func WithClock(c clock.Clock) Option { return func(s *Server) { s.clock = c } }

// WithLogger sets the logger for operational messages and the access log.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.logger = l } }

// New builds a server from cfg (defaults are applied to a copy if Load did
// not already). It binds nothing until Start or Run.
func New(cfg *Config, opts ...Option) (*Server, error) {
	if cfg == nil {
		return nil, errNoConfig
	}
	c, err := normalized(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       c,
		clock:     clock.Real{},
		logger:    slog.New(slog.NewJSONHandler(os.Stderr, nil)),
		metrics:   newMetrics(),
		upstreams: map[upstreamKey]*Upstream{},
		limiters:  map[string]*atomic.Int64{},
		addrs:     map[string]net.Addr{},
		serveErr:  make(chan error, 3),
	}
	for _, o := range opts {
		o(s)
	}
	t, _, err := s.build(c)
	if err != nil {
		return nil, err
	}
	s.table.Store(t)
	return s, nil
}

func normalized(cfg *Config) (*Config, error) {
	c := *cfg
	c.Routes = append([]Route(nil), cfg.Routes...)
	c.applyDefaults()
	if err := c.validate(map[string]position{}); err != nil {
		return nil, err
	}
	return &c, nil
}

// Handler is the client-facing handler, for tests and embedding.
func (s *Server) Handler() http.Handler { return s }

// MetricsHandler serves /metrics and /healthz as the metrics listener does.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if s.draining.Load() {
			plain(w, http.StatusServiceUnavailable, "draining\n")
			return
		}
		plain(w, http.StatusOK, "ok\n")
	})
	if s.cfg.DebugPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// build compiles cfg into a routing table, reusing upstreams (pools and
// health) whose identity did not change. It returns the upstreams no longer
// used so the caller can release their idle connections after the swap.
func (s *Server) build(cfg *Config) (*table, []*Upstream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	roots, err := loadRoots(cfg.UpstreamTLS.CA)
	if err != nil {
		return nil, nil, err
	}
	t := &table{
		routes:         map[string]*route{},
		maxHeaderCount: cfg.Limits.MaxHeaderCount,
		healthHost:     cfg.HealthHost,
	}
	if cfg.AccessLog {
		if s.access == nil {
			size := accessLogQueue
			if s.accessQueue > 0 {
				size = s.accessQueue
			}
			s.access = newAccessLog(s.logger.Handler(), size, s.metrics.accessDropped)
		}
		t.accessLog = slog.New(s.access)
	}
	used := map[upstreamKey]*Upstream{}
	for _, rc := range cfg.Routes {
		rt := &route{
			host:    rc.Host,
			rewrite: rc.RewriteHost,
			limit:   int64(rc.MaxConcurrent),
			pool:    &pool{},
			proxies: map[*Upstream]*httputil.ReverseProxy{},
			metrics: s.metrics.forRoute(rc.Host),
		}
		names := make([]string, 0, len(rc.Headers))
		for name := range rc.Headers {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			// Values are written to upstreams verbatim: a line break would
			// start a header of its own.
			value := strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' || r == 0 {
					return ' '
				}
				return r
			}, rc.Headers[name])
			rt.headers = append(rt.headers, [2]string{http.CanonicalHeaderKey(name), value})
		}
		if l := s.limiters[rc.Host]; l != nil {
			rt.inflight = l
		} else {
			rt.inflight = new(atomic.Int64)
			s.limiters[rc.Host] = rt.inflight
		}
		for _, raw := range rc.Upstreams {
			u, err := url.Parse(raw)
			if err != nil {
				return nil, nil, fmt.Errorf("route %s: upstream %q: %w", rc.Host, raw, err)
			}
			u.Path = ""
			key := upstreamKey{url: u.String(), serverName: rc.RewriteHost, tls: cfg.UpstreamTLS, timeout: rc.Timeout, policy: cfg.Health}
			up := used[key]
			if up == nil {
				up = s.upstreams[key]
			}
			if up == nil {
				tr := newTransport(rc.RewriteHost, cfg.UpstreamTLS, roots, rc.Timeout)
				up = newUpstream(u, tr, cfg.Health, s.clock)
				up.conns = newConnPool(u, tr, rc.Timeout)
				up.timeout = rc.Timeout
			}
			used[key] = up
			rt.pool.upstreams = append(rt.pool.upstreams, up)
			rt.proxies[up] = s.newReverseProxy(rt, up)
		}
		t.routes[rc.Host] = rt
	}
	var dropped []*Upstream
	for k, up := range s.upstreams {
		if _, ok := used[k]; !ok {
			dropped = append(dropped, up)
		}
	}
	s.upstreams = used
	return t, dropped, nil
}

// Reload swaps in the routes, upstreams, headers, limits on header count,
// health host and access log of cfg atomically: requests already in flight
// finish on the table they started with, new requests use the new one, and
// no listener or connection is closed. Listener addresses, TLS certificates,
// timeouts and the metrics address are fixed at start; a change to them is
// reported and ignored.
func (s *Server) Reload(cfg *Config) error {
	if cfg == nil {
		return errNoConfig
	}
	c, err := normalized(cfg)
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return err
	}
	t, dropped, err := s.build(c)
	if err != nil {
		s.metrics.reloads.WithLabelValues("error").Inc()
		return fmt.Errorf("reloading bridge config: %w", err)
	}
	s.table.Store(t)
	for _, up := range dropped {
		up.closeIdle(true)
	}
	if len(dropped) > 0 {
		for _, fs := range s.fast {
			if fs.ev != nil {
				fs.ev.scan() // the loops keep idle connections of their own
			}
		}
	}
	if !reflect.DeepEqual(c.Listeners, s.cfg.Listeners) || c.Metrics != s.cfg.Metrics ||
		c.Limits.ReadHeaderTimeout != s.cfg.Limits.ReadHeaderTimeout ||
		c.Limits.IdleTimeout != s.cfg.Limits.IdleTimeout ||
		c.Limits.MaxHeaderBytes != s.cfg.Limits.MaxHeaderBytes ||
		!reflect.DeepEqual(c.EventLoops, s.cfg.EventLoops) {
		s.logger.Warn("bridge reload: listeners, metrics address, listener limits and event_loops need a restart; kept the running ones")
	}
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.logger.Info("bridge reloaded", slog.Int("routes", len(t.routes)))
	return nil
}

// ReloadOnSignal reloads the file at path each time sig delivers, until ctx
// ends. A file that fails to load leaves the running table untouched.
func (s *Server) ReloadOnSignal(ctx context.Context, path string, sig <-chan os.Signal) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			cfg, err := Load(path)
			if err == nil {
				err = s.Reload(cfg)
			} else {
				s.metrics.reloads.WithLabelValues("error").Inc()
			}
			if err != nil {
				s.logger.Error("bridge reload failed; keeping the running config", slog.String("error", err.Error()))
			}
		}
	}
}

// Addr returns the bound address of a listener ("http", "https" or
// "metrics") after Start, or nil.
func (s *Server) Addr(name string) net.Addr { return s.addrs[name] }

// Start binds the listeners and starts serving in the background.
func (s *Server) Start() error {
	s.startOnce.Do(func() { s.startErr = s.start() })
	return s.startErr
}

func (s *Server) start() error {
	lim := s.cfg.Limits
	newHTTP := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: lim.ReadHeaderTimeout,
			IdleTimeout:       lim.IdleTimeout,
			MaxHeaderBytes:    lim.MaxHeaderBytes,
			ErrorLog:          discardLog,
			ConnContext:       connContext,
		}
	}
	var err error
	defer func() {
		if err != nil {
			for _, l := range s.listeners {
				_ = l.Close()
			}
		}
	}()
	if a := s.cfg.Listeners.HTTP; a != "" {
		var l net.Listener
		if l, err = net.Listen("tcp", a); err != nil {
			return fmt.Errorf("listening on %s: %w", a, err)
		}
		s.addrs["http"] = l.Addr()
		s.listeners = append(s.listeners, l)
		// Plain connections are served by the lean loop, which hands what
		// it does not take to a net/http server behind the framing guard.
		fallback := newHTTP(s)
		s.servers = append(s.servers, fallback)
		fs := newFastServer(s, l, fallback)
		if !s.noEventLoop && (s.cfg.EventLoops == nil || *s.cfg.EventLoops) {
			if fs.ev, err = newEvServer(fs); err != nil {
				s.logger.Info("bridge: serving without an event loop", "reason", err.Error())
				fs.ev, err = nil, nil
			}
		}
		s.fast = append(s.fast, fs)
		s.metrics.watchPlain(fs)
		go func() {
			if err := fs.serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.serveErr <- err
			}
		}()
	}
	if h := s.cfg.Listeners.HTTPS; h != nil {
		var tlsCfg *tls.Config
		if tlsCfg, err = serverTLS(h.Certificates); err != nil {
			return err
		}
		var l net.Listener
		if l, err = net.Listen("tcp", h.Addr); err != nil {
			return fmt.Errorf("listening on %s: %w", h.Addr, err)
		}
		s.addrs["https"] = l.Addr()
		s.listeners = append(s.listeners, l)
		// TLS is terminated by the listener's own loops as the plain
		// listener's requests are served; HTTP/2 connections and what the
		// loops pass on go to net/http (which needs TLSConfig for HTTP/2).
		srv := newHTTP(s)
		srv.TLSConfig = tlsCfg
		s.servers = append(s.servers, srv)
		fs := newFastServer(s, l, srv)
		fs.tlsConfig, fs.scheme = tlsCfg, "https"
		if !s.noEventLoop && (s.cfg.EventLoops == nil || *s.cfg.EventLoops) {
			if fs.ev, err = newEvServer(fs); err != nil {
				s.logger.Info("bridge: serving HTTPS without an event loop", "reason", err.Error())
				fs.ev, err = nil, nil
			}
		}
		s.fast = append(s.fast, fs)
		go func() {
			if err := fs.serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.serveErr <- err
			}
		}()
	}
	if a := s.cfg.Metrics; a != "off" {
		var l net.Listener
		if l, err = net.Listen("tcp", a); err != nil {
			return fmt.Errorf("listening on %s: %w", a, err)
		}
		s.addrs["metrics"] = l.Addr()
		s.listeners = append(s.listeners, l)
		srv := newHTTP(s.MetricsHandler())
		srv.ConnContext = nil
		s.goServe(srv, l)
	}
	return nil
}

func (s *Server) goServe(srv *http.Server, l net.Listener) {
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- err
		}
	}()
}

// connContext remembers the connection (for the framing guard) and the
// client-side scheme (TLS is terminated in the listener, so r.TLS can be nil
// on HTTPS connections served over HTTP/1.1).
func connContext(ctx context.Context, c net.Conn) context.Context {
	scheme := "http"
	switch cc := c.(type) {
	case *tls.Conn:
		scheme = "https"
	case *guardConn:
		inner := cc.Conn
		if rc, ok := inner.(*replayConn); ok {
			inner = rc.Conn
		}
		if _, ok := inner.(*tls.Conn); ok {
			scheme = "https"
		}
	}
	ctx = context.WithValue(ctx, schemeKey, scheme)
	return context.WithValue(ctx, connKey, c)
}

// Run serves until ctx ends, then stops accepting, lets in-flight requests
// finish within ShutdownTimeout, and returns. It returns an error when a
// listener fails or the drain does not finish in time.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Start(); err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-s.serveErr:
	}
	if err := s.Shutdown(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// Shutdown drains: /healthz turns 503 so load balancers stop sending, the
// listeners close, and in-flight requests get ShutdownTimeout to finish.
func (s *Server) Shutdown() error {
	s.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, srv := range s.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Shutdown(ctx); err != nil {
				_ = srv.Close()
				mu.Lock()
				errs = append(errs, fmt.Errorf("draining in-flight requests: %w", err))
				mu.Unlock()
			}
		}()
	}
	for _, fs := range s.fast {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fs.shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("draining in-flight requests: %w", err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.mu.Lock()
	for _, up := range s.upstreams {
		up.closeIdle(false)
	}
	access := s.access
	s.mu.Unlock()
	if access != nil {
		access.close() // what the drained requests logged is written out
	}
	return errors.Join(errs...)
}

// Check does what Start does short of binding: the configuration was
// validated by New; this loads the HTTPS certificates.
func (s *Server) Check() error {
	if h := s.cfg.Listeners.HTTPS; h != nil {
		if _, err := serverTLS(h.Certificates); err != nil {
			return err
		}
	}
	return nil
}

// Summary describes a configuration in one line: listeners and routes.
func Summary(cfg *Config) string {
	var parts []string
	if cfg.Listeners.HTTP != "" {
		parts = append(parts, "http "+cfg.Listeners.HTTP)
	}
	if h := cfg.Listeners.HTTPS; h != nil {
		parts = append(parts, fmt.Sprintf("https %s (%d certificates)", h.Addr, len(h.Certificates)))
	}
	routes := make([]string, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		routes = append(routes, fmt.Sprintf("%s -> %s (%d upstreams)", r.Host, r.RewriteHost, len(r.Upstreams)))
	}
	noun := "routes"
	if len(routes) == 1 {
		noun = "route"
	}
	parts = append(parts, fmt.Sprintf("%d %s: %s", len(routes), noun, strings.Join(routes, ", ")))
	return strings.Join(parts, "; ")
}

func serverTLS(files []CertificateFile) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
	}
	for _, f := range files {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("loading certificate %s: %w", f.Cert, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	return cfg, nil
}
