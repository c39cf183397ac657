package bridge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tlsRecorder is an HTTPS upstream that records, per request, the Host it
// was asked for, the server name the client's handshake carried and
// whether that handshake resumed a session.
type tlsRecorder struct {
	mu         sync.Mutex
	seen       []tlsSeen
	handshakes atomic.Int64 // TLS connections accepted
	srv        *httptest.Server
}

type tlsSeen struct {
	host, sni, proto string
	resumed          bool
}

func (rec *tlsRecorder) start(t *testing.T, e *sideEnv, names ...string) *httptest.Server {
	t.Helper()
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, tlsSeen{host: r.Host, sni: r.TLS.ServerName, proto: r.Header.Get("X-Forwarded-Proto"), resumed: r.TLS.DidResume})
		rec.mu.Unlock()
		switch r.URL.Path {
		case "/big":
			w.Header().Set("Content-Length", fmt.Sprint(evMaxResponse+1))
			_, _ = io.WriteString(w, strings.Repeat("b", evMaxResponse+1))
		case "/chunked":
			_, _ = io.WriteString(w, "hello")
			w.(http.Flusher).Flush()
			_, _ = io.WriteString(w, " world")
		default:
			_, _ = io.WriteString(w, "ok-"+r.URL.Path[1:])
		}
	}))
	cert, _, _ := e.ca.leaf(t, names...)
	up.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	up.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			rec.handshakes.Add(1)
		}
	}
	up.StartTLS()
	t.Cleanup(up.Close)
	rec.srv = up
	return up
}

func (rec *tlsRecorder) requests() []tlsSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]tlsSeen(nil), rec.seen...)
}

// clientSides are the two ways a client reaches a TLS upstream: over the
// plain listener and over the HTTPS listener.
func clientSides(t *testing.T, f func(t *testing.T, e *sideEnv, cfg *Config, up *tlsRecorder, upURL string)) {
	for _, https := range []bool{false, true} {
		name := "http client"
		if https {
			name = "https client"
		}
		t.Run(name, func(t *testing.T) {
			e := side{name: name, tls: true}.env(t)
			rec := &tlsRecorder{}
			up := rec.start(t, e, "cdn-new.example.com")
			cfg := e.config(up.URL)
			if !https {
				cfg.Listeners = Listeners{HTTP: "127.0.0.1:0"}
				e.tls = false // the client side is plain; upstreams stay verified by the CA
			}
			f(t, e, cfg, rec, up.URL)
		})
	}
}

// The server name and Host an HTTPS upstream sees are the rewritten name,
// on every request of a kept-alive connection, from the event loop itself;
// a connection dialed after the first resumes its TLS session.
func TestTLSUpstreamSeesRewrittenSNIAndHostOnTheWire(t *testing.T) {
	clientSides(t, func(t *testing.T, e *sideEnv, cfg *Config, rec *tlsRecorder, _ string) {
		s := e.start(cfg)
		c := e.dial()
		br := bufio.NewReader(c)
		req := "GET /%d HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"
		if _, err := fmt.Fprintf(c, req+req+req, 0, 1, 2); err != nil { // pipelined
			t.Fatal(err)
		}
		for i := range 3 {
			if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != fmt.Sprintf("ok-%d", i) {
				t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
			}
		}
		seen := rec.requests()
		if len(seen) != 3 {
			t.Fatalf("upstream saw %d requests, want 3", len(seen))
		}
		for i, r := range seen {
			if r.host != "cdn-new.example.com" || r.sni != "cdn-new.example.com" || r.proto != e.scheme() {
				t.Errorf("request %d: Host %q SNI %q X-Forwarded-Proto %q; want cdn-new.example.com twice and %s", i, r.host, r.sni, r.proto, e.scheme())
			}
		}
		if n := rec.handshakes.Load(); n != 1 {
			t.Fatalf("upstream accepted %d connections for three kept-alive requests, want 1", n)
		}
		fs := e.listener()
		if fs.ev != nil && (fs.evServed.Load() != 3 || fs.escaped.Load() != 0) {
			t.Fatalf("event loop served %d and passed on %d; want 3 and 0", fs.evServed.Load(), fs.escaped.Load())
		}
		if n := leanUpstream(t, s).conns.dials.Load(); n != 1 {
			t.Fatalf("bridge dialed %d upstream connections, want 1", n)
		}

		// The upstream drops its connections: the next request goes on a
		// new one, whose handshake resumes the first one's session.
		rec.srv.CloseClientConnections()
		if _, err := io.WriteString(c, "GET /again HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != "ok-again" {
			t.Fatalf("after the upstream closed: %d %q", resp.StatusCode, body)
		}
		seen = rec.requests()
		if last := seen[len(seen)-1]; !last.resumed || last.sni != "cdn-new.example.com" {
			t.Fatalf("request on the second upstream connection: resumed %v, SNI %q; want a resumed session for cdn-new.example.com", last.resumed, last.sni)
		}
		if n := rec.handshakes.Load(); n != 2 {
			t.Fatalf("upstream accepted %d connections, want 2", n)
		}
	})
}

// An upstream whose certificate does not cover the rewritten name, or is
// signed by a CA the bridge does not trust, is refused: 502, and nothing
// reaches its handler.
func TestUpstreamCertificateMismatchOrUnknownCAIs502(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		ca    bool // issued by a CA of its own, not the configured one
	}{
		{"name mismatch", []string{"someone-else.example.com"}, false},
		{"public name only", []string{"cdn.example.com"}, false},
		{"unknown CA", []string{"cdn-new.example.com"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clientSides(t, func(t *testing.T, e *sideEnv, cfg *Config, _ *tlsRecorder, _ string) {
				issuer := e
				if tc.ca {
					issuer = side{tls: true}.env(t)
				}
				bad := &tlsRecorder{}
				badUp := bad.start(t, issuer, tc.names...)
				cfg.Routes[0].Upstreams = []string{badUp.URL}
				e.start(cfg)
				client := e.client()
				for range 2 { // the second after a failure, on a fresh dial
					resp, body := get(t, client, e.url("/"), "cdn.example.com")
					if resp.StatusCode != http.StatusBadGateway {
						t.Fatalf("status %d (%q), want 502", resp.StatusCode, body)
					}
				}
				if n := len(bad.requests()); n != 0 {
					t.Fatalf("the unverified upstream received %d requests", n)
				}
				if bad.handshakes.Load() == 0 {
					t.Fatal("the bridge never tried the upstream")
				}
				fs := e.listener()
				if fs.ev != nil && fs.evServed.Load() != 2 {
					t.Fatalf("event loop answered %d requests, want 2", fs.evServed.Load())
				}
			})
		})
	}
}

// What the loop does not relay itself over TLS (large and chunked
// responses, chunked uploads) is passed on with the TLS connection, answered
// exactly, and the connection keeps working.
func TestTLSLoopPassesOnWhatItDoesNotRelay(t *testing.T) {
	clientSides(t, func(t *testing.T, e *sideEnv, cfg *Config, rec *tlsRecorder, _ string) {
		e.start(cfg)
		fs := e.listener()
		cases := []struct{ name, send, want string }{
			{"response over the loop's bound", "GET /big HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", strings.Repeat("b", evMaxResponse+1)},
			{"chunked response", "GET /chunked HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", "hello world"},
			{"chunked upload", "POST /up HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "ok-up"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := fs.escaped.Load()
				c := e.dial()
				br := bufio.NewReader(c)
				if _, err := io.WriteString(c, tc.send); err != nil {
					t.Fatal(err)
				}
				if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != tc.want {
					t.Fatalf("status %d, body of %d bytes, want %d", resp.StatusCode, len(body), len(tc.want))
				}
				if fs.ev != nil && fs.escaped.Load() == before {
					t.Fatal("the event loop did not pass the connection on")
				}
				for i := range 2 {
					if _, err := fmt.Fprintf(c, "GET /after%d HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", i); err != nil {
						t.Fatal(err)
					}
					if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != fmt.Sprintf("ok-after%d", i) {
						t.Fatalf("after %d: %d %q", i, resp.StatusCode, body)
					}
				}
			})
		}
		for i, r := range rec.requests() {
			if r.host != "cdn-new.example.com" || r.sni != "cdn-new.example.com" {
				t.Errorf("request %d reached the upstream as Host %q SNI %q", i, r.host, r.sni)
			}
		}
	})
}

// HTTP/2 clients of the HTTPS listener are served by net/http while
// HTTP/1.1 clients of the same listener are served by the loops.
func TestHTTPSListenerServesHTTP2AndHTTP1Alike(t *testing.T) {
	e := side{name: "tls", tls: true}.env(t)
	rec := &tlsRecorder{}
	up := rec.start(t, e, "cdn-new.example.com")
	e.start(e.config(up.URL))
	h2 := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots, ServerName: "cdn.example.com"}, ForceAttemptHTTP2: true}
	t.Cleanup(h2.CloseIdleConnections)
	for _, c := range []struct {
		client *http.Client
		major  int
	}{{&http.Client{Transport: h2}, 2}, {e.client(), 1}} {
		resp, body := get(t, c.client, e.url("/x"), "cdn.example.com")
		if resp.StatusCode != 200 || body != "ok-x" || resp.ProtoMajor != c.major {
			t.Fatalf("%s: %d %q, want HTTP/%d 200", resp.Proto, resp.StatusCode, body, c.major)
		}
	}
	fs := e.listener()
	if fs.ev != nil && fs.evServed.Load() != 1 {
		t.Fatalf("event loop served %d requests, want the HTTP/1.1 one", fs.evServed.Load())
	}
	for _, r := range rec.requests() {
		if r.proto != "https" || r.host != "cdn-new.example.com" {
			t.Fatalf("upstream saw X-Forwarded-Proto %q Host %q", r.proto, r.host)
		}
	}
}

// holdConn passes writes through until the peer's first bytes were read,
// then holds them until release: the end of a client's handshake and its
// first request then reach the server in one segment.
type holdConn struct {
	net.Conn
	mu   sync.Mutex
	read bool
	held []byte
}

func (h *holdConn) Read(p []byte) (int, error) {
	n, err := h.Conn.Read(p)
	h.mu.Lock()
	h.read = h.read || n > 0
	h.mu.Unlock()
	return n, err
}

func (h *holdConn) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.read {
		return h.Conn.Write(p)
	}
	h.held = append(h.held, p...)
	return len(p), nil
}

func (h *holdConn) release() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.Conn.Write(h.held)
	h.held, h.read = nil, false
	return err
}

// A request that arrives together with the end of the client's handshake
// is read by the handshake already, not from the socket: the loop that
// takes the connection must serve it without waiting for the socket to
// turn readable.
func TestHTTPSRequestInTheHandshakesLastSegmentIsServed(t *testing.T) {
	e := side{name: "tls", tls: true}.env(t)
	rec := &tlsRecorder{}
	up := rec.start(t, e, "cdn-new.example.com")
	e.start(e.config(up.URL))
	raw, err := net.Dial("tcp", e.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	hc := &holdConn{Conn: raw}
	cfg := e.clientTLS()
	cfg.MinVersion = tls.VersionTLS13 // the client's handshake ends with its own flight
	c := tls.Client(hc, cfg)
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET /first HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := hc.release(); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResp(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 || body != "ok-first" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}
