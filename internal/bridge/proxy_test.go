package bridge

import (
	"bufio"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestHostRewriteAndSNIToTLSUpstream(t *testing.T) {
	ca := newTestCA(t)
	cert, _, _ := ca.leaf(t, "cdn-new.example.com")
	rec := &recorder{}
	var sni string
	var mu sync.Mutex
	up := httptest.NewUnstartedServer(rec.handler("new-distribution"))
	up.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			mu.Lock()
			sni = hello.ServerName
			mu.Unlock()
			return nil, nil
		},
	}
	up.StartTLS()
	t.Cleanup(up.Close)

	cfg := baseConfig(up.URL)
	cfg.UpstreamTLS.CA = writeFile(t, "ca.pem", ca.PEM)
	s := startBridge(t, cfg)

	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr("http").String()+"/ruok?x=1", nil)
	req.Host = "cdn.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "new-distribution" {
		t.Fatalf("got %d %q, want 200 new-distribution", resp.StatusCode, body)
	}
	got, _ := rec.lastRequest()
	mu.Lock()
	defer mu.Unlock()
	checks := []struct{ name, got, want string }{
		{"upstream Host", got.Host, "cdn-new.example.com"},
		{"SNI", sni, "cdn-new.example.com"},
		{"path", got.URL.RequestURI(), "/ruok?x=1"},
		{"X-Forwarded-For", got.Header.Get("X-Forwarded-For"), "203.0.113.9, 127.0.0.1"},
		{"X-Forwarded-Host", got.Header.Get("X-Forwarded-Host"), "cdn.example.com"},
		{"X-Forwarded-Proto", got.Header.Get("X-Forwarded-Proto"), "http"},
		{"Via", got.Header.Get("Via"), "1.1 cutover-bridge"},
		{"X-Bridge", got.Header.Get("X-Bridge"), "1"},
		{"response Via", resp.Header.Get("Via"), "1.1 cutover-bridge"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestUpstreamCertificateMustCoverRewrittenHost(t *testing.T) {
	ca := newTestCA(t)
	cert, _, _ := ca.leaf(t, "someone-else.example.com")
	rec := &recorder{}
	up := httptest.NewUnstartedServer(rec.handler("x"))
	up.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	up.StartTLS()
	t.Cleanup(up.Close)
	cfg := baseConfig(up.URL)
	cfg.UpstreamTLS.CA = writeFile(t, "ca.pem", ca.PEM)
	s := startBridge(t, cfg)
	resp, _ := get(t, http.DefaultClient, "http://"+s.Addr("http").String()+"/", "cdn.example.com")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502 for a certificate not covering the rewritten host", resp.StatusCode)
	}
	if rec.hits.Load() != 0 {
		t.Fatal("upstream handler ran despite a failed certificate check")
	}
}

func TestMisdirectedAndNonProxyRequestsAreNeverForwarded(t *testing.T) {
	eachSide(t, testMisdirectedAndNonProxyRequests)
}

func testMisdirectedAndNonProxyRequests(t *testing.T, e *sideEnv) {
	rec, up := e.recorder("m")
	e.start(e.config(up.URL))
	cases := []struct {
		name string
		req  string
		want int
	}{
		{"unknown host", "GET / HTTP/1.1\r\nHost: evil.example.net\r\n\r\n", 421},
		{"upstream's own name", "GET / HTTP/1.1\r\nHost: cdn-new.example.com\r\n\r\n", 421},
		{"absolute form for another host", "GET http://evil.example.net/x HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", 421},
		{"CONNECT", "CONNECT evil.example.net:443 HTTP/1.1\r\nHost: evil.example.net:443\r\n\r\n", 405},
		{"CONNECT to the routed host", "CONNECT cdn.example.com:443 HTTP/1.1\r\nHost: cdn.example.com:443\r\n\r\n", 405},
		{"no host on HTTP/1.0", "GET / HTTP/1.0\r\n\r\n", 421},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := statusOf(t, e.exchange(c.req)); got != c.want {
				t.Fatalf("status %d, want %d", got, c.want)
			}
		})
	}
	if n := rec.hits.Load(); n != 0 {
		t.Fatalf("upstream hit %d times by requests that must not be forwarded", n)
	}
	// The same listener forwards the routed host, also in absolute form and
	// with a port and different case.
	for _, req := range []string{
		"GET http://cdn.example.com/abs HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: close\r\n\r\n",
		"GET /p HTTP/1.1\r\nHost: CDN.Example.com:8080\r\nConnection: close\r\n\r\n",
	} {
		if got := statusOf(t, e.exchange(req)); got != 200 {
			t.Fatalf("routed request got %d", got)
		}
	}
	if n := rec.hits.Load(); n != 2 {
		t.Fatalf("upstream hits %d, want 2", n)
	}
}

func TestAmbiguousFramingIsRejectedAndNeverForwarded(t *testing.T) {
	eachSide(t, testAmbiguousFraming)
}

func testAmbiguousFraming(t *testing.T, e *sideEnv) {
	rec, up := e.recorder("m")
	e.start(e.config(up.URL))
	const h = "POST /upload HTTP/1.1\r\nHost: cdn.example.com\r\n"
	cases := []struct {
		name string
		req  string
		want int // Go's own server answers some of these itself
	}{
		{"CL and TE", h + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", 400},
		{"TE and CL, lower case", h + "transfer-encoding: chunked\r\ncontent-length: 30\r\n\r\n0\r\n\r\n", 400},
		{"duplicate identical CL", h + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
		{"conflicting CL", h + "Content-Length: 3\r\nContent-Length: 40\r\n\r\nabc", 400},
		{"CL list", h + "Content-Length: 3, 3\r\n\r\nabc", 400},
		{"bad chunk size", h + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400},
		{"chunked on HTTP/1.0", "POST / HTTP/1.0\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400},
		{"unknown transfer coding", h + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
		{"two TE fields", h + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
		{"folded TE", h + "Content-Length: 3\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := e.exchange(c.req)
			rs := readResponses(t, raw, 3)
			if len(rs) == 0 {
				t.Fatalf("no response: %q", raw)
			}
			if rs[0].StatusCode != c.want {
				t.Fatalf("status %d, want %d", rs[0].StatusCode, c.want)
			}
			if len(rs) > 1 {
				t.Fatalf("the connection answered %d responses; a smuggled request was processed", len(rs))
			}
		})
	}
	if n := rec.hits.Load(); n != 0 {
		t.Fatalf("upstream received %d ambiguous requests", n)
	}
}

func TestGuardFollowsFramingOnKeepAlive(t *testing.T) {
	eachSide(t, testGuardFollowsFramingOnKeepAlive)
}

func testGuardFollowsFramingOnKeepAlive(t *testing.T, e *sideEnv) {
	rec, up := e.recorder("m")
	e.start(e.config(up.URL))
	// Bodies that look like headers must not confuse the guard, and a
	// well-framed chunked request is forwarded intact.
	body := "x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	reqs := fmt.Sprintf("POST /a HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: %d\r\n\r\n%s", len(body), body) +
		"POST /b HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n" +
		"GET /c HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n" +
		"POST /d HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
	rs := readResponses(t, e.exchange(reqs), 5)
	var codes []int
	for _, r := range rs {
		codes = append(codes, r.StatusCode)
	}
	if fmt.Sprint(codes) != "[200 200 200 400]" {
		t.Fatalf("statuses %v, want [200 200 200 400]", codes)
	}
	if n := rec.hits.Load(); n != 3 {
		t.Fatalf("upstream hits %d, want 3", n)
	}
	last, _ := rec.lastRequest()
	if last.URL.Path != "/c" {
		t.Fatalf("last forwarded %s, want /c", last.URL.Path)
	}
}

func TestChunkedBodyIsForwardedWhole(t *testing.T) {
	eachSide(t, func(t *testing.T, e *sideEnv) {
		rec, up := e.recorder("m")
		e.start(e.config(up.URL))
		req := "POST /b HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
		if got := statusOf(t, e.exchange(req)); got != 200 {
			t.Fatalf("status %d", got)
		}
		if _, body := rec.lastRequest(); body != "hello world" {
			t.Fatalf("upstream body %q", body)
		}
	})
}

func TestHeaderLimits(t *testing.T) {
	eachSide(t, testHeaderLimits)
}

func testHeaderLimits(t *testing.T, e *sideEnv) {
	rec, up := e.recorder("m")
	cfg := e.config(up.URL)
	cfg.Limits.MaxHeaderBytes = 4096
	cfg.Limits.MaxHeaderCount = 20
	e.start(cfg)

	big := "GET / HTTP/1.1\r\nHost: cdn.example.com\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n"
	if got := statusOf(t, e.exchange(big)); got != 431 {
		t.Fatalf("oversize headers: status %d, want 431", got)
	}
	var many strings.Builder
	many.WriteString("GET / HTTP/1.1\r\nHost: cdn.example.com\r\n")
	for i := 0; i < 21; i++ {
		fmt.Fprintf(&many, "X-H%d: v\r\n", i)
	}
	many.WriteString("\r\n")
	if got := statusOf(t, e.exchange(many.String())); got != 431 {
		t.Fatalf("too many headers: status %d, want 431", got)
	}
	if n := rec.hits.Load(); n != 0 {
		t.Fatalf("upstream hit %d times", n)
	}
	ok := "GET / HTTP/1.1\r\nHost: cdn.example.com\r\nX-A: 1\r\nConnection: close\r\n\r\n"
	if got := statusOf(t, e.exchange(ok)); got != 200 {
		t.Fatalf("small request: status %d", got)
	}
}

func TestSlowlorisReadHeaderTimeout(t *testing.T) {
	eachSide(t, func(t *testing.T, e *sideEnv) {
		_, up := e.recorder("m")
		cfg := e.config(up.URL)
		cfg.Limits.ReadHeaderTimeout = 200 * time.Millisecond
		e.start(cfg)
		c := e.dial()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: cdn.example.com\r\nX-Slow: ")
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("connection not closed by the server: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("closed after %v", d)
		}
	})
}

func TestConcurrencyLimitAnswers503(t *testing.T) {
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "slow")
	}))
	t.Cleanup(up.Close)
	cfg := baseConfig(up.URL)
	cfg.Routes[0].MaxConcurrent = 2
	s := startBridge(t, cfg)
	url := "http://" + s.Addr("http").String() + "/"

	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", url, nil)
			req.Host = "cdn.example.com"
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	<-entered
	<-entered
	resp, body := get(t, http.DefaultClient, url, "cdn.example.com")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third request: %d Retry-After=%q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "concurrency limit") {
		t.Fatalf("body %q", body)
	}
	close(release)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("in-flight requests got %v", codes)
	}
	// Slots are returned: the route serves again.
	if resp, _ := get(t, http.DefaultClient, url, "cdn.example.com"); resp.StatusCode != 200 {
		t.Fatalf("after release: %d", resp.StatusCode)
	}
}

func TestStreamingResponseIsNotBuffered(t *testing.T) {
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first-chunk\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second-chunk\n")
	}))
	t.Cleanup(up.Close)
	defer close(release)
	s := startBridge(t, baseConfig(up.URL))
	req, _ := http.NewRequest("GET", "http://"+s.Addr("http").String()+"/stream", nil)
	req.Host = "cdn.example.com"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first-chunk\n" {
		t.Fatalf("first chunk %q, %v (the bridge buffered the stream)", line, err)
	}
}

func TestStreamingRequestBody(t *testing.T) {
	got := make(chan string, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line, _ := bufio.NewReader(r.Body).ReadString('\n')
		got <- line
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+s.Addr("http").String()+"/up", pr)
	req.Host = "cdn.example.com"
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	_, _ = io.WriteString(pw, "part-one\n")
	select {
	case line := <-got:
		if line != "part-one\n" {
			t.Fatalf("upstream read %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first part of the body never reached the upstream before the body ended")
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketEchoThroughBridge(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || r.Host != "cdn-new.example.com" {
			http.Error(w, "not an upgrade for the rewritten host", 400)
			return
		}
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		brw.Flush()
		_, _ = io.Copy(c, brw) // echo whatever the client sends
	}))
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	c, err := net.Dial("tcp", s.Addr("http").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(c, "GET /ws HTTP/1.1\r\nHost: cdn.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade response %d %v", resp.StatusCode, resp.Header)
	}
	for _, msg := range []string{"ping-1", "ping-2"} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(br, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo %q, %v", buf, err)
		}
	}
}

func TestHopByHopHeadersStripped(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var seen []string
		for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Authorization", "Te", "X-Private", "Upgrade", "Proxy-Connection"} {
			if r.Header.Get(h) != "" {
				seen = append(seen, h)
			}
		}
		w.Header().Set("X-Seen", strings.Join(seen, ","))
		w.Header().Set("Connection", "X-Upstream-Private")
		w.Header().Set("X-Upstream-Private", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	s := startBridge(t, baseConfig(up.URL))
	req := "GET / HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: keep-alive, X-Private\r\nX-Private: secret\r\n" +
		"Keep-Alive: timeout=5\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\nTE: gzip\r\nProxy-Connection: keep-alive\r\n\r\n"
	raw := rawExchange(t, s.Addr("http").String(), req+"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: close\r\n\r\n")
	rs := readResponses(t, raw, 1)
	if len(rs) != 1 {
		t.Fatalf("no response: %q", raw)
	}
	if seen := rs[0].Header.Get("X-Seen"); seen != "" {
		t.Fatalf("upstream saw hop-by-hop headers: %s", seen)
	}
	if rs[0].Header.Get("X-Upstream-Private") != "" || rs[0].Header.Get("Keep-Alive") != "" {
		t.Fatalf("client saw the upstream's hop-by-hop headers: %v", rs[0].Header)
	}
}

func TestMetricsAndHealthz(t *testing.T) {
	_, up := newRecorderUpstream(t, "m")
	cfg := baseConfig(up.URL)
	cfg.HealthHost = "bridge.internal"
	s := startBridge(t, cfg)
	addr := "http://" + s.Addr("http").String()
	get(t, http.DefaultClient, addr+"/", "cdn.example.com")
	get(t, http.DefaultClient, addr+"/", "nope.example.com")

	m := "http://" + s.Addr("metrics").String()
	resp, body := get(t, http.DefaultClient, m+"/metrics", "")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics %d", resp.StatusCode)
	}
	loop := "goroutine"
	if eventLoops(s) {
		loop = "event"
	}
	for _, want := range []string{
		`cutover_bridge_plain_requests_total{loop="` + loop + `"} 2`,
		`cutover_bridge_plain_passed_on_total{to="net_http"} 0`,
		`cutover_bridge_requests_total{code="200",route="cdn.example.com"} 1`,
		`cutover_bridge_requests_total{code="421",route="-"} 1`,
		`cutover_bridge_request_duration_seconds_count{route="cdn.example.com"} 1`,
		`cutover_bridge_in_flight_requests{route="cdn.example.com"} 0`,
		`cutover_bridge_upstream_errors_total{route="cdn.example.com"} 0`,
		`cutover_bridge_rejected_total{reason="misdirected"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if resp, body := get(t, http.DefaultClient, m+"/healthz", ""); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("metrics /healthz %d %q", resp.StatusCode, body)
	}
	if resp, body := get(t, http.DefaultClient, addr+"/healthz", "bridge.internal"); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("main /healthz with health host: %d %q", resp.StatusCode, body)
	}
	if got := statusOf(t, rawExchange(t, s.Addr("http").String(), "GET /healthz HTTP/1.0\r\n\r\n")); got != 200 {
		t.Fatalf("main /healthz without Host: %d", got)
	}
	// For a routed host, /healthz belongs to the site and is forwarded.
	if resp, body := get(t, http.DefaultClient, addr+"/healthz", "cdn.example.com"); resp.StatusCode != 200 || body != "m" {
		t.Fatalf("routed /healthz: %d %q", resp.StatusCode, body)
	}
}

func TestHTTPSListenerSNIAndHTTP2(t *testing.T) {
	rec, up := newRecorderUpstream(t, "m")
	ca := newTestCA(t)
	_, c1, k1 := ca.leaf(t, "cdn.example.com")
	_, c2, k2 := ca.leaf(t, "static.example.com")
	cfg := baseConfig(up.URL)
	cfg.Listeners = Listeners{HTTPS: &HTTPSListener{Addr: "127.0.0.1:0", Certificates: []CertificateFile{
		{Cert: writeFile(t, "c1.pem", c1), Key: writeFile(t, "k1.pem", k1)},
		{Cert: writeFile(t, "c2.pem", c2), Key: writeFile(t, "k2.pem", k2)},
	}}}
	cfg.Routes = append(cfg.Routes, Route{Host: "static.example.com", Upstreams: []string{up.URL}})
	s := startBridge(t, cfg)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	addr := s.Addr("https").String()

	for _, host := range []string{"cdn.example.com", "static.example.com"} {
		tr := &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: host},
			ForceAttemptHTTP2: true,
			DialTLSContext:    nil,
		}
		client := &http.Client{Transport: tr}
		resp, body := get(t, client, "https://"+addr+"/", host)
		tr.CloseIdleConnections()
		if resp.StatusCode != 200 || body != "m" {
			t.Fatalf("%s: %d %q", host, resp.StatusCode, body)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("%s: client protocol %s, want HTTP/2", host, resp.Proto)
		}
		if cn := resp.TLS.PeerCertificates[0].DNSNames[0]; cn != host {
			t.Errorf("SNI %s got certificate for %s", host, cn)
		}
		last, _ := rec.lastRequest()
		if p := last.Header.Get("X-Forwarded-Proto"); p != "https" {
			t.Errorf("X-Forwarded-Proto %q, want https", p)
		}
	}

	// HTTP/1.1 over TLS goes through the framing guard too.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "cdn.example.com", NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	before := rec.hits.Load()
	io.WriteString(conn, "POST / HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	raw, _ := io.ReadAll(conn)
	if got := statusOf(t, string(raw)); got != 400 {
		t.Fatalf("CL+TE over TLS: %d", got)
	}
	if rec.hits.Load() != before {
		t.Fatal("ambiguous request over TLS was forwarded")
	}
}
