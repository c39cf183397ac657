package bridge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dialBridge opens a raw client connection to the plain listener.
func dialBridge(t *testing.T, s *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr("http").String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	return c, bufio.NewReader(c)
}

func readResp(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestPlainLoopServesKeepAliveAndPipelinedRequests(t *testing.T) {
	rec, up := newRecorderUpstream(t, "ok-new")
	s := startBridge(t, baseConfig(up.URL))
	c, br := dialBridge(t, s)
	req := "GET /a?x=1 HTTP/1.1\r\nHost: cdn.example.com\r\nUser-Agent: t\r\n\r\n"
	// Two requests in one write, then a third on the same connection.
	if _, err := io.WriteString(c, req+strings.Replace(req, "/a?x=1", "/b", 1)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/a", "/b"} {
		resp, body := readResp(t, br, "GET")
		if resp.StatusCode != 200 || body != "ok-new" || resp.ContentLength != 6 || resp.Header.Get("Date") == "" {
			t.Fatalf("%s: %d %q cl=%d %v", want, resp.StatusCode, body, resp.ContentLength, resp.Header)
		}
		if got := resp.Header.Get("Via"); got != viaValue {
			t.Fatalf("Via %q", got)
		}
	}
	r, _ := rec.lastRequest()
	if r.URL.Path != "/b" || r.Host != "cdn-new.example.com" || r.Header.Get("User-Agent") != "t" {
		t.Fatalf("upstream saw %s %s %v", r.Host, r.URL, r.Header)
	}
	if _, err := io.WriteString(c, "HEAD /c HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResp(t, br, "HEAD"); resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD: %d %q", resp.StatusCode, body)
	}
	fs := s.fast[0]
	if fs.served.Load() != 3 || fs.handedOver.Load() != 0 {
		t.Fatalf("loop served %d, handed over %d; want 3 and 0", fs.served.Load(), fs.handedOver.Load())
	}
}

func TestPlainLoopForwardsSmallBodyAndHonoursClose(t *testing.T) {
	rec, up := newRecorderUpstream(t, "ok-new")
	s := startBridge(t, baseConfig(up.URL))
	c, br := dialBridge(t, s)
	_, _ = io.WriteString(c, "POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
	resp, body := readResp(t, br, "POST")
	if resp.StatusCode != 200 || body != "ok-new" || !resp.Close {
		t.Fatalf("%d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if _, b := rec.lastRequest(); b != "hello" {
		t.Fatalf("upstream body %q", b)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after Connection: close (err %v)", err)
	}
	if s.fast[0].handedOver.Load() != 0 {
		t.Fatal("a plain POST was handed over")
	}
}

// Requests outside the loop's narrow shape move the connection to net/http
// and the framing guard, with the bytes already read replayed.
func TestPlainLoopHandsOverUnusualRequests(t *testing.T) {
	cases := []struct {
		name, req string
		status    int
		forwarded bool
	}{
		{"chunked upload", "POST /c HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, true},
		{"CL and TE", "POST /s HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, false},
		{"repeated CL", "POST /s HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400, false},
		{"obs-fold", "GET /f HTTP/1.1\r\nHost: cdn.example.com\r\nX-A: a\r\n b\r\n\r\n", 200, true}, // net/http joins the lines, as before
		{"absolute form", "GET http://cdn.example.com/abs HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", 200, true},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400, false},
		{"HTTP/1.0", "GET /old HTTP/1.0\r\nHost: cdn.example.com\r\n\r\n", 200, true},
		{"large head", "GET /big HTTP/1.1\r\nHost: cdn.example.com\r\nX-Big: " + strings.Repeat("a", 12<<10) + "\r\n\r\n", 200, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, up := newRecorderUpstream(t, "ok-new")
			s := startBridge(t, baseConfig(up.URL))
			c, br := dialBridge(t, s)
			// A plain request first, so the hand-over happens mid-connection.
			_, _ = io.WriteString(c, "GET /first HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n")
			if resp, _ := readResp(t, br, "GET"); resp.StatusCode != 200 {
				t.Fatalf("first: %d", resp.StatusCode)
			}
			_, _ = io.WriteString(c, tc.req)
			resp, _ := readResp(t, br, "GET")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := rec.hits.Load() == 2; got != tc.forwarded {
				t.Fatalf("forwarded=%v (hits %d), want %v", got, rec.hits.Load(), tc.forwarded)
			}
			if s.fast[0].handedOver.Load() != 1 {
				t.Fatalf("handed over %d connections, want 1", s.fast[0].handedOver.Load())
			}
		})
	}
}

func TestPlainLoopRejectsUnknownHostWithoutForwarding(t *testing.T) {
	rec, up := newRecorderUpstream(t, "ok-new")
	s := startBridge(t, baseConfig(up.URL))
	c, br := dialBridge(t, s)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: evil.example.net\r\n\r\n")
	resp, body := readResp(t, br, "GET")
	if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(body, "no route") || !resp.Close {
		t.Fatalf("%d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if rec.hits.Load() != 0 || s.fast[0].served.Load() != 1 {
		t.Fatalf("hits %d served %d", rec.hits.Load(), s.fast[0].served.Load())
	}
}

func TestPlainLoopTimeouts(t *testing.T) {
	_, up := newRecorderUpstream(t, "ok-new")
	cfg := baseConfig(up.URL)
	cfg.Limits.ReadHeaderTimeout = 150 * time.Millisecond
	cfg.Limits.IdleTimeout = 400 * time.Millisecond
	s := startBridge(t, cfg)

	// A kept-alive connection idle past the read-header timeout but within
	// the idle timeout still serves its next request.
	c, br := dialBridge(t, s)
	req := "GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"
	_, _ = io.WriteString(c, req)
	readResp(t, br, "GET")
	time.Sleep(250 * time.Millisecond) // the timeouts under test are wall-clock socket deadlines
	_, _ = io.WriteString(c, req)
	if resp, _ := readResp(t, br, "GET"); resp.StatusCode != 200 {
		t.Fatalf("after idle: %d", resp.StatusCode)
	}
	// Past the idle timeout the connection is closed.
	start := time.Now()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle connection not closed")
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Fatalf("idle close after %v, want about 400ms", d)
	}

	// A head that never completes is cut at the read-header timeout.
	c2, br2 := dialBridge(t, s)
	_, _ = io.WriteString(c2, "GET / HTTP/1.1\r\nHost: cdn.ex")
	start = time.Now()
	_, _ = io.ReadAll(br2)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("partial head kept the connection for %v", d)
	}
}

func TestPlainLoopShutdownClosesIdleConnections(t *testing.T) {
	_, up := newRecorderUpstream(t, "ok-new")
	s := startBridge(t, baseConfig(up.URL))
	c, br := dialBridge(t, s)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n")
	readResp(t, br, "GET")
	done := make(chan error, 1)
	go func() { done <- s.Shutdown() }()
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("idle connection survived shutdown")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestFastWriterFraming(t *testing.T) {
	run := func(method string, h func(w http.ResponseWriter)) (*http.Response, string) {
		t.Helper()
		var out strings.Builder
		bw := bufio.NewWriter(&out)
		var w fastWriter
		w.reset(bw, &http.Request{Method: method})
		h(&w)
		if err := w.finish(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out.String())), &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%v in %q", err, out.String())
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%v in %q", err, out.String())
		}
		return resp, string(b)
	}
	resp, body := run("GET", func(w http.ResponseWriter) { io.WriteString(w, "small") })
	if resp.ContentLength != 5 || body != "small" || len(resp.TransferEncoding) != 0 {
		t.Fatalf("unflushed: cl=%d te=%v %q", resp.ContentLength, resp.TransferEncoding, body)
	}
	resp, body = run("GET", func(w http.ResponseWriter) {
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
		w.Header()[http.TrailerPrefix+"X-Sum"] = []string{"7"}
	})
	if body != "ab" || len(resp.TransferEncoding) != 1 || resp.Trailer.Get("X-Sum") != "7" {
		t.Fatalf("flushed: te=%v trailer=%v %q", resp.TransferEncoding, resp.Trailer, body)
	}
	big := strings.Repeat("x", 3*maxPending)
	resp, body = run("GET", func(w http.ResponseWriter) { io.WriteString(w, big) })
	if body != big || len(resp.TransferEncoding) != 1 {
		t.Fatalf("large: te=%v len=%d", resp.TransferEncoding, len(body))
	}
	resp, body = run("GET", func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", "3")
		w.WriteHeader(201)
		io.WriteString(w, "abc")
	})
	if resp.StatusCode != 201 || resp.ContentLength != 3 || body != "abc" {
		t.Fatalf("declared: %d cl=%d %q", resp.StatusCode, resp.ContentLength, body)
	}
	resp, body = run("HEAD", func(w http.ResponseWriter) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "ignored")
	})
	if resp.ContentLength != 10 || body != "" {
		t.Fatalf("HEAD: cl=%d %q", resp.ContentLength, body)
	}
	resp, _ = run("GET", func(w http.ResponseWriter) {
		w.Header().Set("X-Bad", "a\r\nInjected: yes")
		w.WriteHeader(204)
	})
	if resp.StatusCode != 204 || resp.Header.Get("Injected") != "" {
		t.Fatalf("204: %d %v", resp.StatusCode, resp.Header)
	}

	// A declared length the handler does not fill cannot end cleanly.
	var out strings.Builder
	var w fastWriter
	w.reset(bufio.NewWriter(&out), &http.Request{Method: "GET"})
	w.Header().Set("Content-Length", "10")
	io.WriteString(&w, "short")
	if err := w.finish(); err == nil {
		t.Fatal("short body finished cleanly")
	}
}

// The loop must not be slower to notice a client that left than net/http.
func TestPlainLoopCancelsWhenClientLeaves(t *testing.T) {
	entered, sawClose := make(chan struct{}), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		close(sawClose)
	}))
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	c, _ := dialBridge(t, s)
	_, _ = io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n")
	<-entered
	c.Close()
	select {
	case <-sawClose:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request outlived the client")
	}
	if s.fast[0].served.Load() != 1 || s.fast[0].handedOver.Load() != 0 {
		t.Fatal("request did not take the plain loop")
	}
}

// dialSmallWindow connects with a small receive buffer, so that what the
// client does not read soon fills the bridge's socket.
func dialSmallWindow(t *testing.T, s *Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", s.Addr("http").String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c, bufio.NewReader(c)
}

// A client that does not read its responses holds up its own connection
// only: the bridge stops taking its pipelined requests while the answers
// wait, and delivers every one in order once the client reads.
func TestPlainSlowReaderIsHeldBackAndGetsEveryResponseInOrder(t *testing.T) {
	body := strings.Repeat("x", 60<<10)
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for {
			r := u.readReq(br)
			if r == nil {
				return
			}
			b := r.URL.Path + body
			if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(b), b); err != nil {
				return
			}
		}
	})
	s := startBridge(t, baseConfig(up.url()))
	c, br := dialSmallWindow(t, s)
	const n = 150 // 9 MB of answers, more than the socket buffers hold
	var reqs strings.Builder
	for i := range n {
		fmt.Fprintf(&reqs, "GET /%03d HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", i)
	}
	if _, err := io.WriteString(c, reqs.String()); err != nil {
		t.Fatal(err)
	}
	// Wait until the bridge stops asking the upstream for more.
	for last := int64(-1); ; {
		time.Sleep(50 * time.Millisecond)
		got := up.requests.Load()
		if got == last {
			break
		}
		last = got
	}
	if got := up.requests.Load(); got >= n {
		t.Fatalf("the upstream got all %d requests while the client read nothing", got)
	}
	for i := range n {
		resp, got := readResp(t, br, "GET")
		if want := fmt.Sprintf("/%03d", i) + body; resp.StatusCode != 200 || got != want {
			t.Fatalf("response %d: status %d, %d bytes starting %q", i, resp.StatusCode, len(got), got[:min(len(got), 4)])
		}
	}
	if eventLoops(s) && s.fast[0].escaped.Load() != 0 {
		t.Fatalf("the event loop passed the connection on")
	}
}

// A client that closes its side after sending still gets its answers:
// those of requests already sent, then the end of the connection.
func TestPlainClientClosingItsSideGetsItsAnswers(t *testing.T) {
	_, up := newRecorderUpstream(t, "m")
	s := startBridge(t, baseConfig(up.URL))
	for _, reqs := range []int{1, 3} {
		c, br := dialBridge(t, s)
		req := strings.Repeat("GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", reqs)
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		for i := range reqs {
			if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != "m" {
				t.Fatalf("%d requests, answer %d: %d %q", reqs, i, resp.StatusCode, body)
			}
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("%d requests: after the answers got %v, want the connection closed", reqs, err)
		}
	}
}

// A client that closes its side while its only request waits on a slow
// upstream has left: the exchange is given up (watchDelay after it
// started) and the upstream connection closed.
func TestPlainClientClosingItsSideAbortsASlowExchange(t *testing.T) {
	closed := make(chan struct{})
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = br.ReadByte() // never answers; returns when the bridge closes
		close(closed)
	})
	s := startBridge(t, baseConfig(up.url()))
	c, br := dialBridge(t, s)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the upstream never received the request", func() bool { return up.requests.Load() > 0 })
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream exchange went on after the client left")
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the client got bytes for an abandoned exchange")
	}
}
