//go:build linux

package bridge

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// needEventLoops skips in the suite's goroutine-loop run: these tests are
// about what the event loops do themselves.
func needEventLoops(t *testing.T, s *Server) {
	t.Helper()
	if !eventLoops(s) {
		if s.noEventLoop {
			t.Skip("the goroutine-loop run of the suite")
		}
		t.Fatal("no event loops on Linux")
	}
}

func TestEventLoopServesCommonExchangesOnOneUpstreamConnection(t *testing.T) {
	rec, up := newRecorderUpstream(t, "ok-new")
	s := startBridge(t, baseConfig(up.URL))
	needEventLoops(t, s)
	c, br := dialBridge(t, s)
	req := "GET /%d HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"
	// Three pipelined requests in one write, then two more one by one.
	if _, err := fmt.Fprintf(c, req+req+req, 0, 1, 2); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if i >= 3 {
			if _, err := fmt.Fprintf(c, req, i); err != nil {
				t.Fatal(err)
			}
		}
		resp, body := readResp(t, br, "GET")
		if resp.StatusCode != 200 || body != "ok-new" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if r, _ := rec.lastRequest(); r.URL.Path != "/4" || r.Host != "cdn-new.example.com" {
		t.Fatalf("upstream last saw %s %s", r.Host, r.URL)
	}
	fs, lp := s.fast[0], leanUpstream(t, s).conns
	if fs.evServed.Load() != 5 || fs.escaped.Load() != 0 || fs.handedOver.Load() != 0 {
		t.Fatalf("event loop served %d, passed on %d, handed over %d; want 5, 0, 0",
			fs.evServed.Load(), fs.escaped.Load(), fs.handedOver.Load())
	}
	if d, r := lp.dials.Load(), lp.reuses.Load(); d != 1 || r != 4 {
		t.Fatalf("upstream dials %d reuses %d; want 1 and 4", d, r)
	}
}

// What the loop does not relay itself is passed on with the bytes read so
// far, answered exactly, and the connection keeps working afterwards.
func TestEventLoopPassesOnWhatItDoesNotRelay(t *testing.T) {
	big := strings.Repeat("b", evMaxResponse+1)
	up := scriptedUpstream(t, map[string]string{
		"/chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
		"/big":     fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(big), big),
		"/103":     "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate",
	})
	s := startBridge(t, baseConfig(up.url()))
	needEventLoops(t, s)
	fs := s.fast[0]
	cases := []struct {
		name, send string
		want       []string // bodies, in order (interim responses have none)
	}{
		{"chunked response", "GET /chunked HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", []string{"hello world"}},
		{"response over the loop's bound", "GET /big HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", []string{big}},
		{"interim response", "GET /103 HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n", []string{"", "late"}},
		{"unusual request", "GET /x HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"ok"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fs.escaped.Load() + fs.handedOver.Load()
			c, br := dialBridge(t, s)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if resp, body := readResp(t, br, "GET"); body != want {
					t.Fatalf("status %d, body of %d bytes, want %d", resp.StatusCode, len(body), len(want))
				}
			}
			if fs.escaped.Load()+fs.handedOver.Load() == before {
				t.Fatal("the connection was not passed on")
			}
			// The connection carries on with the goroutine loop.
			if _, err := io.WriteString(c, "GET /after HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != "ok" {
				t.Fatalf("after: %d %q", resp.StatusCode, body)
			}
		})
	}
}

// A body that arrives after its head is not waited for in the loop: the
// connection goes to the goroutine loop, which streams it.
func TestEventLoopPassesOnBodyStillArriving(t *testing.T) {
	rec, up := newRecorderUpstream(t, "m")
	s := startBridge(t, baseConfig(up.URL))
	needEventLoops(t, s)
	c, br := dialBridge(t, s)
	if _, err := io.WriteString(c, "POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 10\r\n\r\nhello"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the event loop never passed the connection on", func() bool { return s.fast[0].escaped.Load() > 0 })
	if _, err := io.WriteString(c, "world"); err != nil {
		t.Fatal(err)
	}
	if resp, body := readResp(t, br, "POST"); resp.StatusCode != 200 || body != "m" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if _, body := rec.lastRequest(); body != "helloworld" {
		t.Fatalf("upstream got body %q", body)
	}
}

// The loop's upstream deadline covers the whole small response: one that
// stops half way gets 504 within the route timeout.
func TestEventLoopUpstreamStallingMidBodyIs504(t *testing.T) {
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		if u.readReq(br) == nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
		_, _ = br.ReadByte() // until the bridge gives up on the connection
	})
	cfg := baseConfig(up.url())
	cfg.Routes[0].Timeout = 150 * time.Millisecond
	s := startBridge(t, cfg)
	needEventLoops(t, s)
	start := time.Now()
	resp, _ := doReq(t, http.DefaultClient, http.MethodGet, "http://"+s.Addr("http").String()+"/", "")
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504", resp.StatusCode)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("answered after %v; the timeout is 150ms", d)
	}
}

// Shutdown closes idle client connections of the loops and lets a running
// exchange finish.
func TestEventLoopShutdownDrains(t *testing.T) {
	release := make(chan struct{})
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for {
			r := u.readReq(br)
			if r == nil {
				return
			}
			if r.URL.Path == "/slow" {
				<-release
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	s := startBridge(t, baseConfig(up.url()))
	needEventLoops(t, s)
	idle, ibr := dialBridge(t, s)
	if _, err := io.WriteString(idle, "GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	readResp(t, ibr, "GET")
	busy, bbr := dialBridge(t, s)
	if _, err := io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the upstream never received both requests", func() bool { return up.requests.Load() >= 2 })
	done := make(chan error, 1)
	go func() { done <- s.Shutdown() }()
	// The idle connection is closed without an answer.
	if _, err := ibr.ReadByte(); err == nil {
		t.Fatal("idle connection got bytes instead of being closed")
	}
	close(release)
	resp, body := readResp(t, bbr, "GET")
	if resp.StatusCode != 200 || body != "ok" || !resp.Close {
		t.Fatalf("running exchange: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The event loops and the goroutine loop answer alike: the same requests,
// sent to a bridge with event loops and to one without, against one
// upstream whose answers vary in status, fields, framing and size, get the
// same responses (status, fields except Date, body, framing, close). Half
// of the connections send their requests one at a time; the other half
// pipeline them as one stream cut at random places, so heads and bodies
// arrive in pieces.
func TestEventLoopAnswersLikeTheGoroutineLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	answers := map[string]string{}
	statuses := []int{200, 201, 204, 301, 304, 404, 500, 503}
	for i := range 120 {
		code := statuses[rng.IntN(len(statuses))]
		var h strings.Builder
		if rng.IntN(5) == 0 {
			h.WriteString("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n")
		}
		fmt.Fprintf(&h, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
		for _, f := range []string{"Content-Type: text/plain", "Cache-Control: max-age=60", "Set-Cookie: a=1",
			"Set-Cookie: b=2", "X-Custom: v", "Connection: keep-alive, X-Drop", "X-Drop: gone", "Keep-Alive: timeout=5",
			"Via: 1.1 upstream", "Server: origin", "Etag: \"x\""} {
			if rng.IntN(2) == 0 {
				h.WriteString(f + "\r\n")
			}
		}
		size := rng.IntN(3000)
		if rng.IntN(8) == 0 {
			size = evMaxResponse + rng.IntN(8000) - 4000 // both sides of the loop's bound
		}
		body := strings.Repeat(string(rune('a'+i%26)), size)
		bodyless := code == 204 || code == 304
		switch k := rng.IntN(6); {
		case bodyless:
			h.WriteString("\r\n")
		case k == 0:
			h.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			for rest := body; rest != ""; {
				n := min(len(rest), 1+rng.IntN(1000))
				fmt.Fprintf(&h, "%x\r\n%s\r\n", n, rest[:n])
				rest = rest[n:]
			}
			h.WriteString("0\r\n\r\n")
		default:
			fmt.Fprintf(&h, "Content-Length: %d\r\n\r\n%s", len(body), body)
		}
		answers[fmt.Sprintf("/c%d", i)] = h.String()
	}
	up := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for {
			r := u.readReq(br)
			if r == nil {
				return
			}
			a := answers[r.URL.Path]
			if r.Method == http.MethodHead {
				// No body after the head, whatever the head announces.
				if i := strings.LastIndex(a, "\r\n\r\n"); i >= 0 && !strings.Contains(a, "chunked") {
					a = a[:i+4]
				} else if strings.Contains(a, "chunked") {
					a = a[:strings.Index(a, "Transfer-Encoding")] + "Transfer-Encoding: chunked\r\n\r\n"
				}
			}
			if _, err := io.WriteString(c, a); err != nil {
				return
			}
		}
	})
	evs := startBridge(t, baseConfig(up.url()))
	needEventLoops(t, evs)
	gos := startBridge(t, baseConfig(up.url()), withGoroutineLoop())

	type seen struct {
		code    int
		header  http.Header
		body    string
		close   bool
		chunked bool
	}
	exchange := func(s *Server, reqs []string, methods []string, cuts []int) []seen {
		c, br := dialBridge(t, s)
		if cuts != nil {
			stream := strings.Join(reqs, "")
			go func() {
				for _, n := range cuts {
					if _, err := io.WriteString(c, stream[:n]); err != nil {
						return
					}
					stream = stream[n:]
					time.Sleep(200 * time.Microsecond)
				}
				_, _ = io.WriteString(c, stream)
			}()
		}
		var out []seen
		for i, r := range reqs {
			if cuts == nil {
				if _, err := io.WriteString(c, r); err != nil {
					t.Fatal(err)
				}
			}
			for {
				resp, body := readResp(t, br, methods[i])
				h := resp.Header.Clone()
				h.Del("Date")
				out = append(out, seen{resp.StatusCode, h, body, resp.Close, len(resp.TransferEncoding) > 0})
				if resp.StatusCode >= 200 {
					break
				}
			}
			if out[len(out)-1].close {
				break
			}
		}
		return out
	}
	methods := []string{http.MethodGet, http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}
	for conn := range 120 {
		split := conn >= 60
		var reqs, ms []string
		n := 1 + rng.IntN(4)
		for k := range n {
			m := methods[rng.IntN(len(methods))]
			path := fmt.Sprintf("/c%d", rng.IntN(len(answers)))
			var r strings.Builder
			fmt.Fprintf(&r, "%s %s HTTP/1.1\r\nHost: cdn.example.com\r\n", m, path)
			if rng.IntN(3) == 0 {
				r.WriteString("X-Forwarded-For: 198.51.100.7\r\n")
			}
			// Pipelined requests after a close would meet a closed
			// connection: only the last one may ask for it.
			if rng.IntN(6) == 0 && (!split || k == n-1) {
				r.WriteString("Connection: close\r\n")
			}
			if m == http.MethodPost {
				r.WriteString("Content-Length: 5\r\n\r\nhello")
			} else {
				r.WriteString("\r\n")
			}
			reqs, ms = append(reqs, r.String()), append(ms, m)
		}
		var cuts []int
		if split {
			for rest := len(strings.Join(reqs, "")); rest > 0; {
				c := 1 + rng.IntN(min(rest, 90))
				cuts = append(cuts, c)
				rest -= c
			}
		}
		a, b := exchange(evs, reqs, ms, cuts), exchange(gos, reqs, ms, cuts)
		if len(a) != len(b) {
			t.Fatalf("connection %d: %d responses from the event loop, %d from the goroutine loop", conn, len(a), len(b))
		}
		for i := range a {
			x, y := a[i], b[i]
			if x.code != y.code || x.body != y.body || x.close != y.close || x.chunked != y.chunked || !reflect.DeepEqual(x.header, y.header) {
				t.Fatalf("connection %d response %d (%q):\nevent loop:     %d close=%v chunked=%v %v body %d bytes\ngoroutine loop: %d close=%v chunked=%v %v body %d bytes",
					conn, i, reqs[min(i, len(reqs)-1)], x.code, x.close, x.chunked, x.header, len(x.body), y.code, y.close, y.chunked, y.header, len(y.body))
			}
		}
	}
	if evs.fast[0].evServed.Load() == 0 || evs.fast[0].escaped.Load() == 0 {
		t.Fatalf("the cases did not cover both paths: event loop served %d, passed on %d",
			evs.fast[0].evServed.Load(), evs.fast[0].escaped.Load())
	}
}

// A reload that drops an upstream closes the loops' idle connections to
// it at once, as it does the goroutine path's pool.
func TestEventLoopReloadClosesDroppedUpstreamConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	old := newRawUpstream(t, func(u *rawUpstream, c net.Conn, br *bufio.Reader) {
		for u.readReq(br) != nil {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nold")
		}
		closed <- struct{}{}
	})
	_, next := newRecorderUpstream(t, "new")
	s := startBridge(t, baseConfig(old.url()))
	needEventLoops(t, s)
	base := "http://" + s.Addr("http").String() + "/"
	if _, body := get(t, http.DefaultClient, base, "cdn.example.com"); body != "old" {
		t.Fatalf("before the reload: %q", body)
	}
	if err := s.Reload(baseConfig(next.URL)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection to the dropped upstream is still open")
	}
	if _, body := get(t, http.DefaultClient, base, "cdn.example.com"); body != "new" {
		t.Fatalf("after the reload: %q", body)
	}
}

// event_loops: false turns the loops off (a restart setting).
func TestEventLoopsCanBeTurnedOff(t *testing.T) {
	_, up := newRecorderUpstream(t, "m")
	for _, tc := range []struct {
		yaml string
		want bool
	}{{"", true}, {"event_loops: true\n", true}, {"event_loops: false\n", false}} {
		cfg, err := Parse([]byte("listeners: {http: 127.0.0.1:0}\nmetrics: off\n" + tc.yaml +
			"routes: [{host: cdn.example.com, upstreams: [" + up.URL + "], rewrite_host: cdn-new.example.com}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(cfg, WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		got := eventLoops(s)
		_, body := get(t, http.DefaultClient, "http://"+s.Addr("http").String()+"/", "cdn.example.com")
		_ = s.Shutdown()
		if got != tc.want || body != "m" {
			t.Fatalf("%q: event loops %v (want %v), body %q", tc.yaml, got, tc.want, body)
		}
	}
}
