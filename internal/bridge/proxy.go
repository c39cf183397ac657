package bridge

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const viaValue = "1.1 cutover-bridge"

// table is one immutable routing configuration; Reload swaps it whole.
type table struct {
	routes         map[string]*route
	maxHeaderCount int
	healthHost     string
	accessLog      *slog.Logger // nil: off
}

type route struct {
	host     string
	rewrite  string
	headers  [][2]string // canonical name, value
	limit    int64
	inflight *atomic.Int64 // shared across reloads for the same host
	pool     *pool
	proxies  map[*Upstream]*httputil.ReverseProxy
	metrics  *routeMetrics
}

type ctxKey int

const (
	connKey ctxKey = iota
	schemeKey
	fastConnKey // the plain loop's *fastConn
)

// hopByHop are the headers that describe one connection, never forwarded
// (RFC 9110 7.6.1); ReverseProxy strips them and any named in Connection.
var hopByHop = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

func isHopByHop(canonical string) bool { return hopByHop[canonical] }

// bufferPool recycles the 32 KiB copy buffers of both forwarding paths. It
// pools pointers so that returning a buffer allocates nothing; Get and Put
// are the ReverseProxy interface, get and put the lean path's.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) get() *[]byte {
	if v := b.p.Get(); v != nil {
		return v.(*[]byte)
	}
	buf := make([]byte, 32<<10)
	return &buf
}

func (b *bufferPool) put(buf *[]byte) { b.p.Put(buf) }

func (b *bufferPool) Get() []byte { return *b.get() }

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

var copyBuffers = &bufferPool{}

// newReverseProxy builds the forwarding path for one upstream of one route.
func (s *Server) newReverseProxy(rt *route, up *Upstream) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = up.URL.Scheme
			pr.Out.URL.Host = up.URL.Host
			pr.Out.Host = rt.rewrite
			// Append to the chain the load balancer in front already started.
			if xff := pr.In.Header["X-Forwarded-For"]; len(xff) > 0 {
				pr.Out.Header["X-Forwarded-For"] = xff
			}
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Host", pr.In.Host)
			if scheme, _ := pr.In.Context().Value(schemeKey).(string); scheme != "" {
				pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			}
			pr.Out.Header.Add("Via", viaValue)
			for _, h := range rt.headers {
				pr.Out.Header[h[0]] = []string{h[1]}
			}
		},
		Transport:     up.transport,
		FlushInterval: 0, // chunked and event-stream responses are flushed per write regardless
		BufferPool:    copyBuffers,
		ErrorLog:      discardLog,
		ModifyResponse: func(resp *http.Response) error {
			up.ReportSuccess()
			resp.Header.Add("Via", viaValue)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.upstreamFailed(w, r, rt, up, err)
		},
	}
}

// ServeHTTP is the client-facing entry point of the main listeners.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.serveWith(&statusWriter{ResponseWriter: w}, r)
}

// serveWith is ServeHTTP with the status recorder supplied by the caller:
// the plain loop keeps one per client connection instead of allocating one
// per request. sw must wrap the response writer and be otherwise zero.
func (s *Server) serveWith(sw *statusWriter, r *http.Request) {
	start := time.Now()
	t := s.table.Load()
	rt := s.serve(t, sw, r)
	s.record(t, rt, sw, r, start)
}

// record counts a finished request in its route's metrics and writes its
// access log line. rt is nil when no route took the request.
func (s *Server) record(t *table, rt *route, sw *statusWriter, r *http.Request, start time.Time) {
	if sw.status == 0 {
		sw.status = http.StatusOK
	}
	var rm *routeMetrics
	name := "-"
	if rt != nil {
		rm, name = rt.metrics, rt.host
	} else {
		rm = s.metrics.forRoute(name)
	}
	rm.count(sw.status)
	rm.duration.Observe(time.Since(start).Seconds())
	if t.accessLog != nil {
		t.accessLog.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("remote", r.RemoteAddr),
			slog.String("method", r.Method),
			slog.String("host", r.Host),
			slog.String("uri", r.RequestURI),
			slog.String("proto", r.Proto),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.String("route", name),
			slog.String("upstream", sw.upstream),
			slog.Duration("duration", time.Since(start)),
		)
	}
}

func (s *Server) reject(w http.ResponseWriter, reason string, code int, body string) {
	s.metrics.rejected.WithLabelValues(reason).Inc()
	if code != http.StatusServiceUnavailable && code != http.StatusBadGateway {
		// A client that reached the wrong place, or misbehaved, gets a
		// fresh connection for whatever it tries next.
		w.Header().Set("Connection", "close")
	}
	plain(w, code, body)
}

// serve does the work of ServeHTTP and returns the route used, if any.
func (s *Server) serve(t *table, w *statusWriter, r *http.Request) *route {
	if g, ok := r.Context().Value(connKey).(*guardConn); ok && r.ProtoMajor == 1 {
		if v, ok := g.pop(); ok && v.reason != "" {
			w.Header().Set("Connection", "close")
			s.reject(w, "framing", http.StatusBadRequest, "bridge: ambiguous request framing: "+v.reason+"\n")
			return nil
		}
	}
	if r.Method == http.MethodConnect {
		w.Header().Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
		s.reject(w, "connect", http.StatusMethodNotAllowed, "bridge: CONNECT is not supported\n")
		return nil
	}
	rt, up := s.admit(t, w, r)
	if up == nil {
		return rt
	}
	defer rt.release()
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// Read the first chunk before contacting the upstream: a malformed
		// chunked body is refused here instead of half-forwarded.
		if !peekBody(w, r) {
			s.reject(w, "framing", http.StatusBadRequest, "bridge: malformed chunked body\n")
			return rt
		}
	}
	if up.conns != nil && leanEligible(r) {
		s.forwardLean(w, r, rt, up)
	} else {
		rt.proxies[up].ServeHTTP(w, r)
	}
	return rt
}

// admit does the checks every request passes before it is forwarded:
// header count, /healthz, the route for its Host, the route's concurrency
// bound and a healthy upstream. When it returns an upstream, the request
// counts against the route's bound (and in-flight gauge) until the caller
// releases it; otherwise the answer is written already.
func (s *Server) admit(t *table, w *statusWriter, r *http.Request) (*route, *Upstream) {
	if countHeaders(r.Header) > t.maxHeaderCount {
		w.Header().Set("Connection", "close")
		s.reject(w, "header_count", http.StatusRequestHeaderFieldsTooLarge, "bridge: too many header fields\n")
		return nil, nil
	}
	host := r.Host
	if r.URL.IsAbs() {
		// Absolute form: the URI's authority is the target (RFC 9112 3.2.2).
		if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
			s.reject(w, "misdirected", http.StatusMisdirectedRequest, "bridge: unsupported scheme\n")
			return nil, nil
		}
		host = r.URL.Host
	}
	host = normalizeHost(host)
	if r.URL.Path == "/healthz" && (host == "" || host == t.healthHost) {
		plain(w, http.StatusOK, "ok\n")
		return nil, nil
	}
	rt := t.routes[host]
	if rt == nil {
		s.reject(w, "misdirected", http.StatusMisdirectedRequest, "bridge: no route for host "+quoteHost(host)+"\n")
		return nil, nil
	}
	if rt.inflight.Add(1) > rt.limit {
		rt.inflight.Add(-1)
		w.Header().Set("Retry-After", "1")
		s.reject(w, "concurrency", http.StatusServiceUnavailable, "bridge: route "+rt.host+" is at its concurrency limit\n")
		return rt, nil
	}
	rt.metrics.inFlight.Inc()

	up := rt.pool.pick()
	if up == nil {
		rt.release()
		s.reject(w, "no_upstream", http.StatusBadGateway, "bridge: all upstreams for "+rt.host+" are down\n")
		return rt, nil
	}
	w.upstream = up.URL.Host
	return rt, up
}

// release ends a request's count against the route's bound.
func (rt *route) release() {
	rt.inflight.Add(-1)
	rt.metrics.inFlight.Dec()
}

// peekBody reads the first byte of the body and puts it back. It reports
// false when the body is malformed.
func peekBody(w http.ResponseWriter, r *http.Request) bool {
	var b [1]byte
	n, err := io.ReadFull(r.Body, b[:])
	if err != nil && !errors.Is(err, io.EOF) {
		w.Header().Set("Connection", "close")
		return false
	}
	if n == 0 {
		r.Body = http.NoBody
		r.ContentLength = 0
		r.TransferEncoding = nil
		return true
	}
	r.Body = &prefixedBody{prefix: b[0], has: true, ReadCloser: r.Body}
	return true
}

type prefixedBody struct {
	prefix byte
	has    bool
	io.ReadCloser
}

func (p *prefixedBody) Read(b []byte) (int, error) {
	if p.has && len(b) > 0 {
		b[0] = p.prefix
		p.has = false
		return 1, nil
	}
	return p.ReadCloser.Read(b)
}

func countHeaders(h http.Header) int {
	n := 0
	for _, v := range h {
		n += len(v)
	}
	return n
}

// normalizeHost lower-cases and strips the port and a trailing dot, without
// allocating in the common already-lower case.
func normalizeHost(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100]
	}
	return "\"" + strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' {
			return '?'
		}
		return r
	}, h) + "\""
}

func plain(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// statusWriter records what was sent for metrics and the access log. It
// exposes the underlying writer through Unwrap so ReverseProxy can still
// flush and hijack (WebSockets) via http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	upstream string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack records the protocol switch before handing the connection over.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

func (w *statusWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}
