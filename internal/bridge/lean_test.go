package bridge

import (
	"bufio"
	"context"
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

// rawUpstream accepts connections and lets serve answer them byte by byte,
// for upstream behaviour net/http would never produce. It counts requests
// read (serve calls readReq) and connections accepted.
type rawUpstream struct {
	l        net.Listener
	requests atomic.Int64
	conns    atomic.Int64
	wg       sync.WaitGroup
}

func newRawUpstream(t *testing.T, serve func(u *rawUpstream, c net.Conn, br *bufio.Reader)) *rawUpstream {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{l: l}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			u.conns.Add(1)
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				serve(u, c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); u.wg.Wait() })
	return u
}

func (u *rawUpstream) url() string { return "http://" + u.l.Addr().String() }

// readReq reads one request with its body; nil at end of connection.
func (u *rawUpstream) readReq(br *bufio.Reader) *http.Request {
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil
	}
	_, _ = io.Copy(io.Discard, r.Body)
	u.requests.Add(1)
	return r
}

// leanUpstream returns the single upstream of the test route.
func leanUpstream(t *testing.T, s *Server) *Upstream {
	t.Helper()
	ups := s.table.Load().routes["cdn.example.com"].pool.upstreams
	if len(ups) != 1 || ups[0].conns == nil {
		t.Fatalf("want one upstream with a lean pool, got %d", len(ups))
	}
	return ups[0]
}

func doReq(t *testing.T, client *http.Client, method, url string, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "cdn.example.com"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestLeanPathReusesOneUpstreamConnection(t *testing.T) {
	var newConns atomic.Int64
	rec := &recorder{}
	up := httptest.NewUnstartedServer(rec.handler("m"))
	up.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			newConns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	base := "http://" + s.Addr("http").String()
	for i := range 20 {
		method, body := http.MethodGet, ""
		if i%2 == 1 {
			method, body = http.MethodPost, fmt.Sprintf("body-%d", i)
		}
		resp, got := doReq(t, http.DefaultClient, method, base+"/k", body)
		if resp.StatusCode != 200 || got != "m" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, got)
		}
		if _, b := rec.lastRequest(); b != body {
			t.Fatalf("request %d: upstream body %q, want %q", i, b, body)
		}
	}
	lp := leanUpstream(t, s).conns
	if d, r := lp.dials.Load(), lp.reuses.Load(); d != 1 || r != 19 {
		t.Fatalf("lean pool dialed %d and reused %d times, want 1 and 19", d, r)
	}
	if n := newConns.Load(); n != 1 {
		t.Fatalf("upstream accepted %d connections, want 1", n)
	}
	last, _ := rec.lastRequest()
	if last.Host != "cdn-new.example.com" || last.Header.Get("Content-Length") != "7" ||
		last.Header.Get("Via") != "1.1 cutover-bridge" || last.Header.Get("X-Bridge") != "1" {
		t.Fatalf("forwarded request: host %q headers %v", last.Host, last.Header)
	}

	// A chunked upload takes the ReverseProxy path and leaves the pool alone.
	req := "POST /c HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	if got := statusOf(t, rawExchange(t, s.Addr("http").String(), req)); got != 200 {
		t.Fatalf("chunked upload: %d", got)
	}
	if _, b := rec.lastRequest(); b != "abc" {
		t.Fatalf("chunked body %q", b)
	}
	if d, r := lp.dials.Load(), lp.reuses.Load(); d != 1 || r != 19 {
		t.Fatalf("chunked upload went through the lean pool (%d dials, %d reuses)", d, r)
	}
}

// oneShotUpstream answers one request per connection and then closes it
// without saying so, leaving a dead connection in the pool.
func oneShotUpstream(t *testing.T) *rawUpstream {
	return newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
}

func TestLeanPathSkipsPooledConnectionsTheUpstreamClosed(t *testing.T) {
	up := oneShotUpstream(t)
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	lp := leanUpstream(t, s).conns
	for i := range 3 {
		resp, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/", "")
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q (a dead pooled connection must not fail a request)", i, resp.StatusCode, body)
		}
	}
	// Whether the close is seen while idle or by the request that tried
	// the connection, each request needs a connection of its own.
	if d, n := lp.dials.Load(), up.requests.Load(); d != 3 || n != 3 {
		t.Fatalf("dials %d, upstream requests %d; want 3 and 3", d, n)
	}
}

// dropSecondUpstream answers the first request on each connection, reads the
// second and closes the connection without answering it: from the bridge's
// side, a kept-alive connection that died under a request.
func dropSecondUpstream(t *testing.T) *rawUpstream {
	return newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		u.readReq(br)
	})
}

func TestLeanPathRetriesIdempotentRequestOnceOnDeadConnection(t *testing.T) {
	up := dropSecondUpstream(t)
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	lp := leanUpstream(t, s).conns
	for i := range 2 {
		resp, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/", "")
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q, want a transparent retry", i, resp.StatusCode, body)
		}
	}
	if d, r, n := lp.dials.Load(), lp.reuses.Load(), up.requests.Load(); d != 2 || r != 1 || n != 3 {
		t.Fatalf("dials %d reuses %d upstream requests %d; want 2, 1 and 3", d, r, n)
	}
}

func TestLeanPathNeverReplaysRequestWithBody(t *testing.T) {
	up := dropSecondUpstream(t)
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	if resp, _ := doReq(t, http.DefaultClient, http.MethodGet, base+"/", ""); resp.StatusCode != 200 {
		t.Fatalf("first GET %d", resp.StatusCode)
	}
	// The upstream read the POST and may have acted on it, so it is
	// answered 502 rather than sent twice.
	resp, _ := doReq(t, http.DefaultClient, http.MethodPost, base+"/", "payload")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("POST on a connection that died: %d, want 502", resp.StatusCode)
	}
	if c, n := up.conns.Load(), up.requests.Load(); c != 1 || n != 2 {
		t.Fatalf("upstream saw %d connections and %d requests: the POST was replayed", c, n)
	}
}

func TestLeanPathDropsIdleConnectionWithUnsolicitedBytes(t *testing.T) {
	firstDone, sent := make(chan struct{}), make(chan struct{})
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for i := 0; ; i++ {
			r := u.readReq(br)
			if r == nil {
				return
			}
			body := r.URL.Path
			_, _ = io.WriteString(c, fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body))
			if i == 0 && u.conns.Load() == 1 {
				// A stray response arrives after the exchange ended.
				<-firstDone
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstolen")
				close(sent)
			}
		}
	})
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	if _, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/first", ""); body != "/first" {
		t.Fatalf("first body %q", body)
	}
	close(firstDone)
	<-sent
	lp := leanUpstream(t, s).conns
	// The stray bytes are on their way over loopback; wait until the kernel
	// has them so the idle check can see them (an event loop sees them
	// arrive and drops the connection at once).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strayArrived(lp) || lp.brokenIdle.Load() > 0 {
			break
		}
	}
	if _, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/second", ""); body != "/second" {
		t.Fatalf("second request got %q: a stray response was taken for its answer", body)
	}
	if b := lp.brokenIdle.Load(); b != 1 {
		t.Fatalf("broken idle connections %d, want 1", b)
	}
}

func TestLeanPathCloseDelimitedResponse(t *testing.T) {
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nread until the upstream closes")
	})
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	for range 2 {
		resp, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/", "")
		if resp.StatusCode != 200 || body != "read until the upstream closes" {
			t.Fatalf("%d %q", resp.StatusCode, body)
		}
	}
	lp := leanUpstream(t, s).conns
	if d, r, idle := lp.dials.Load(), lp.reuses.Load(), lp.idleCount(); d != 2 || r != 0 || idle != 0 {
		t.Fatalf("dials %d reuses %d idle %d: a close-delimited connection was pooled", d, r, idle)
	}
}

func TestLeanPathNoBodyResponsesKeepFraming(t *testing.T) {
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for {
			r := u.readReq(br)
			if r == nil {
				return
			}
			var resp string
			switch r.URL.Path {
			case "/head":
				// A HEAD response announces the length of a body it never sends.
				resp = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
			case "/204":
				resp = "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"
			case "/304":
				resp = "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 11\r\n\r\n"
			case "/hints":
				resp = "HTTP/1.1 100 Continue\r\n\r\n" +
					"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" +
					"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"
			default:
				resp = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
			}
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	})
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	cases := []struct {
		method, path string
		code         int
		body         string
	}{
		{http.MethodHead, "/head", 200, ""},
		{http.MethodGet, "/204", 204, ""},
		{http.MethodGet, "/304", 304, ""},
		{http.MethodGet, "/hints", 200, "final"},
		{http.MethodGet, "/after", 200, "hello world"},
	}
	for _, c := range cases {
		resp, body := doReq(t, http.DefaultClient, c.method, base+c.path, "")
		if resp.StatusCode != c.code || body != c.body {
			t.Fatalf("%s %s: %d %q, want %d %q", c.method, c.path, resp.StatusCode, body, c.code, c.body)
		}
		if c.path == "/head" && resp.ContentLength != 11 {
			t.Fatalf("HEAD lost the announced length: %d", resp.ContentLength)
		}
	}
	// Had any bodiless response been misframed, the next response on the
	// same connection would have been garbage or a second connection needed.
	if n := up.conns.Load(); n != 1 {
		t.Fatalf("upstream saw %d connections, want 1", n)
	}

	// The early hint reaches the client before the final response.
	raw := rawExchange(t, s.Addr("http").String(), "GET /hints HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(raw, "HTTP/1.1 103 Early Hints\r\n") || !strings.Contains(raw, "</s.css>; rel=preload") ||
		strings.Contains(raw, "100 Continue") {
		t.Fatalf("informational responses: %q", raw)
	}
}

func TestLeanPathUpstreamTimeoutIs504(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) })
	cfg := baseConfig(up.URL)
	cfg.Routes[0].Timeout = 100 * time.Millisecond
	s := startBridge(t, cfg)
	resp, _ := doReq(t, http.DefaultClient, http.MethodGet, "http://"+s.Addr("http").String()+"/", "")
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
}

// A body cut short never reaches the client as complete: either the
// connection breaks after the head, or (event loop) the client gets a 502.
func TestLeanPathCutUpstreamBodyAbortsClientConnection(t *testing.T) {
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
	})
	s := startBridge(t, baseConfig(up.url()))
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr("http").String()+"/", nil)
	req.Host = "cdn.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return // the connection broke before the headers even left
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusBadGateway {
		return // the event loop waits for the whole body: nothing was sent yet
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("a truncated upstream body reached the client as complete (status %d)", resp.StatusCode)
	}
}

func TestLeanPathForwardedHeaders(t *testing.T) {
	rec, up := newRecorderUpstream(t, "m")
	s := startBridge(t, baseConfig(up.URL))
	req := "GET /x?q=1 HTTP/1.1\r\nHost: cdn.example.com\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-For: 198.51.100.2\r\n" +
		"X-Forwarded-Host: spoofed\r\nForwarded: for=1.2.3.4\r\nVia: 1.0 lb\r\nX-Bridge: client\r\nTE: trailers, gzip\r\nConnection: close\r\n\r\n"
	if got := statusOf(t, rawExchange(t, s.Addr("http").String(), req)); got != 200 {
		t.Fatalf("status %d", got)
	}
	got, _ := rec.lastRequest()
	checks := []struct{ name, got, want string }{
		{"uri", got.RequestURI, "/x?q=1"},
		{"X-Forwarded-For", strings.Join(got.Header["X-Forwarded-For"], "|"), "198.51.100.1, 198.51.100.2, 127.0.0.1"},
		{"X-Forwarded-Host", strings.Join(got.Header["X-Forwarded-Host"], "|"), "cdn.example.com"},
		{"Forwarded", got.Header.Get("Forwarded"), ""},
		{"Via", strings.Join(got.Header["Via"], "|"), "1.0 lb|1.1 cutover-bridge"},
		{"X-Bridge", strings.Join(got.Header["X-Bridge"], "|"), "1"},
		{"Te", got.Header.Get("Te"), "trailers"},
		{"Connection", got.Header.Get("Connection"), ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if leanUpstream(t, s).conns.dials.Load() != 1 {
		t.Fatal("the request did not take the lean path")
	}
}

// strayArrived reports whether the pool's one idle connection has bytes
// waiting, without consuming them.
func strayArrived(lp *connPool) bool {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.idle) == 1 && lp.idle[0].ready != nil && lp.idle[0].ready.idleBroken()
}

func TestLeanPathBoundsResponseHeaders(t *testing.T) {
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		bw := bufio.NewWriter(c)
		_, _ = bw.WriteString("HTTP/1.1 200 OK\r\n")
		pad := strings.Repeat("p", 1000)
		for i := 0; i < 1200; i++ { // about 1.2 MB of header fields
			if _, err := fmt.Fprintf(bw, "X-Pad-%d: %s\r\n", i, pad); err != nil {
				return
			}
		}
		_, _ = bw.WriteString("Content-Length: 0\r\n\r\n")
		_ = bw.Flush()
	})
	s := startBridge(t, baseConfig(up.url()))
	resp, _ := doReq(t, http.DefaultClient, http.MethodGet, "http://"+s.Addr("http").String()+"/", "")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d for 1.2 MB of response headers, want 502", resp.StatusCode)
	}
}

func TestLeanPathClientLeavingReleasesUpstream(t *testing.T) {
	entered, upstreamSawClose := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // the bridge closed the connection
		close(upstreamSawClose)
	}))
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.Addr("http").String()+"/", nil)
	req.Host = "cdn.example.com"
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	<-done
	select {
	case <-upstreamSawClose:
	case <-time.After(5 * time.Second): // the route timeout is 30 s
		t.Fatal("the upstream request outlived the client that asked for it")
	}
}

// scriptedUpstream answers each request with the response scripted for its
// path, keeping the connection open unless the script ends it.
func scriptedUpstream(t *testing.T, script map[string]string) *rawUpstream {
	return newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for {
			r := u.readReq(br)
			if r == nil {
				return
			}
			resp, ok := script[r.URL.Path]
			if !ok {
				resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			}
			if _, err := io.WriteString(c, resp); err != nil {
				return
			}
		}
	})
}

func TestLeanPathChunkedResponseWithTrailers(t *testing.T) {
	up := scriptedUpstream(t, map[string]string{
		"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
			"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
	})
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	resp, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/chunked", "")
	if resp.StatusCode != 200 || body != "hello world" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if got := resp.Trailer.Get("X-Sum"); got != "42" {
		t.Fatalf("trailer X-Sum %q, want 42", got)
	}
	if _, body := doReq(t, http.DefaultClient, http.MethodGet, base+"/next", ""); body != "ok" {
		t.Fatalf("next request on the connection: %q", body)
	}
	if n := up.conns.Load(); n != 1 {
		t.Fatalf("upstream saw %d connections: the chunked body's end was misread", n)
	}
}

func TestLeanPathResponseFramingRules(t *testing.T) {
	up := scriptedUpstream(t, map[string]string{
		// Both framings: chunked wins and the connection is not reused.
		"/both": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		// HTTP/1.0 without keep-alive ends the connection after the body.
		"/http10":      "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold",
		"/folded":      "HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\nContent-Length: 2\r\n\r\nok",
		"/space":       "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok",
		"/two-lengths": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
		"/gzip":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok",
		"/status":      "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
		"/ctl":         "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok",
	})
	s := startBridge(t, baseConfig(up.url()))
	base := "http://" + s.Addr("http").String()
	lp := leanUpstream(t, s).conns
	for _, path := range []string{"/both", "/http10"} {
		resp, body := doReq(t, http.DefaultClient, http.MethodGet, base+path, "")
		if resp.StatusCode != 200 || (body != "abc" && body != "old") {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		if resp.ContentLength == 100 {
			t.Fatalf("%s: the ignored Content-Length reached the client", path)
		}
		before := lp.dials.Load()
		doReq(t, http.DefaultClient, http.MethodGet, base+"/after", "")
		if lp.dials.Load() != before+1 {
			t.Fatalf("%s: the connection was reused after a response that ends it", path)
		}
	}
	for _, path := range []string{"/folded", "/space", "/two-lengths", "/gzip", "/status", "/ctl"} {
		resp, _ := doReq(t, http.DefaultClient, http.MethodGet, base+path, "")
		if resp.StatusCode != http.StatusBadGateway {
			t.Errorf("%s: %d, want 502 for a malformed response", path, resp.StatusCode)
		}
		if resp.Header.Get("X-A") != "" {
			t.Errorf("%s: part of the malformed head reached the client", path)
		}
	}
}
