package bridge

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/syncbuf"
)

// FuzzPlainListenerStream sends arbitrary bytes as one client connection to
// the plain listener (event loops and goroutine loop alike, depending on the
// suite's run). Whatever arrives, nothing panics, the upstream only ever sees
// the rewritten Host, and the bridge still answers a well-formed request on a
// new connection afterwards.
func FuzzPlainListenerStream(f *testing.F) {
	fuzzListenerStream(f, side{name: "plain"})
}

// FuzzTLSListenerStream is FuzzPlainListenerStream over TLS on both sides:
// the stream goes through the HTTPS listener (ended with a close_notify)
// to an HTTPS upstream verified for the rewritten name.
func FuzzTLSListenerStream(f *testing.F) {
	fuzzListenerStream(f, side{name: "tls", tls: true})
}

// listenerStreamSeeds are the seed corpus of both stream fuzzers.
var listenerStreamSeeds = []string{
	"GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
	"GET /a HTTP/1.1\r\nHost: cdn.example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
	"HEAD / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\nGET / HTTP/1.1\r\nHost: cdn.example.com\r\nConnection: close\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 5\r\n\r\nhel",
	"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: evil.example.net\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
	"GET /f HTTP/1.1\r\nHost: cdn.example.com\r\nX-A: a\r\n b\r\n\r\n",
	"GET http://evil.example.net/ HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nHost: evil.example.net\r\n\r\n",
	"GET / HTTP/1.0\r\nHost: cdn.example.com\r\n\r\n",
	"GET / HTTP/1.1\nHost: cdn.example.com\n\n",
	"CONNECT evil.example.net:443 HTTP/1.1\r\nHost: evil.example.net:443\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: CDN.example.com.:80\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	"\x16\x03\x01\x00\x05hello",
	"GET / HTTP/1.1\r\nHost: cdn.example.com\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	"GET /big HTTP/1.1\r\nHost: cdn.example.com\r\n\r\nGET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: cdn.example.com\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: evil.example.net\r\n\r\n",
}

func fuzzListenerStream(f *testing.F, sd side) {
	for _, seed := range listenerStreamSeeds {
		f.Add([]byte(seed))
	}
	var hostsMu sync.Mutex
	var wrongHost string
	e := sd.env(f)
	up := e.upstream(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "cdn-new.example.com" {
			hostsMu.Lock()
			wrongHost = r.Host
			hostsMu.Unlock()
		}
		_, _ = io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/big" {
			_, _ = io.WriteString(w, strings.Repeat("b", evMaxResponse+1))
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	logs := &syncbuf.Buffer{}
	cfg := e.config(up.URL)
	cfg.Limits.ReadHeaderTimeout = 200 * time.Millisecond
	cfg.Routes[0].Timeout = 2 * time.Second
	e.start(cfg, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	client := e.client()

	f.Fuzz(func(t *testing.T, stream []byte) {
		c := e.dialFor(t)
		defer c.Close()
		if _, err := c.Write(stream); err == nil {
			switch cc := c.(type) {
			case *net.TCPConn:
				_ = cc.CloseWrite()
			case *tls.Conn:
				_ = cc.CloseWrite() // close_notify
			}
		}
		// The bridge answers and closes, or closes after the read-header
		// timeout; it never keeps a connection whose client left.
		// (A close with unread bytes in the socket resets it.)
		if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading the answers: %v", err)
		}
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("the bridge panicked:\n%s", logs.String())
		}
		hostsMu.Lock()
		wrong := wrongHost
		hostsMu.Unlock()
		if wrong != "" {
			t.Fatalf("the upstream got a request for Host %q", wrong)
		}
		_, body := doReq(t, client, http.MethodGet, e.url("/after"), "")
		if body != "bridge: no route for host \"127.0.0.1\"\n" && body != "ok" {
			t.Fatalf("a request after the stream got %q", body)
		}
	})
}
