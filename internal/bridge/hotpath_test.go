package bridge

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIsTokenByteMatchesTchar(t *testing.T) {
	// RFC 9110 5.6.2: tchar is ALPHA, DIGIT or one of these.
	const extra = "!#$%&'*+-.^_`|~"
	for c := 0; c < 256; c++ {
		b := byte(c)
		want := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
			strings.IndexByte(extra, b) >= 0
		if got := isTokenByte(b); got != want {
			t.Errorf("isTokenByte(%#x) = %v, want %v", c, got, want)
		}
	}
}

// deadlineConn records the deadline set on it.
type deadlineConn struct {
	net.Conn
	deadline time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error { c.deadline = t; return nil }

func TestAbortOnLeave(t *testing.T) {
	newFC := func() *fastConn {
		fc := &fastConn{}
		fc.ctx, fc.cancel = context.WithCancel(context.Background())
		fc.stopAbort = fc.releaseAbort
		return fc
	}

	// Released before the client leaves: the connection is left alone.
	fc := newFC()
	c := &deadlineConn{}
	if stop := fc.abortOnLeave(c); !stop() {
		t.Fatal("stop reported an abort that did not happen")
	}
	fc.cancel()
	if !c.deadline.IsZero() || fc.abortConn != nil {
		t.Fatal("a released connection was still cut")
	}

	// Registered on a connection whose client already left: cut at once.
	c = &deadlineConn{}
	if stop := fc.abortOnLeave(c); stop() {
		t.Fatal("stop did not report the abort")
	}
	if !c.deadline.Equal(aLongTimeAgo) {
		t.Fatalf("deadline %v, want it cut short", c.deadline)
	}
}

// The plain loop keeps one backing for response header values per client
// connection; each response on the connection must carry exactly its own
// fields, however many the one before it had.
func TestPlainLoopResponseHeadersDoNotLeakBetweenRequests(t *testing.T) {
	many := "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"
	for i := range 12 {
		many += fmt.Sprintf("X-F%d: many-%d\r\n", i, i)
	}
	many += "\r\nmany"
	up := scriptedUpstream(t, map[string]string{
		"/many": many,
		"/few":  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-F1: few\r\n\r\nfew",
		"/103":  "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-F0: late\r\n\r\nlate",
	})
	s := startBridge(t, baseConfig(up.url()))
	c, br := dialBridge(t, s)
	get := func(path string) *http.Response {
		t.Helper()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, _ := readResp(t, br, "GET")
		return resp
	}
	if r := get("/many"); r.Header.Get("X-F0") != "many-0" || r.Header.Get("X-F11") != "many-11" {
		t.Fatalf("/many: %v", r.Header)
	}
	r := get("/few")
	if r.Header.Get("X-F1") != "few" {
		t.Fatalf("/few: %v", r.Header)
	}
	for k := range r.Header {
		if strings.HasPrefix(k, "X-F") && k != "X-F1" {
			t.Fatalf("/few carries %s from an earlier response: %v", k, r.Header)
		}
	}
	// The interim response is read into the same backing before the
	// final one.
	if r := get("/103"); r.StatusCode != 103 || r.Header.Get("Link") != "</a.css>" || r.Header.Get("X-F1") != "" {
		t.Fatalf("/103 interim: %d %v", r.StatusCode, r.Header)
	}
	if r, _ := readResp(t, br, "GET"); r.StatusCode != 200 || r.Header.Get("X-F0") != "late" || r.Header.Get("Link") != "" {
		t.Fatalf("/103 final: %d %v", r.StatusCode, r.Header)
	}
	if r := get("/few"); r.Header.Get("X-F1") != "few" || r.Header.Get("X-F0") != "" {
		t.Fatalf("/few again: %v", r.Header)
	}
	if s.fast[0].served.Load() != 4 {
		t.Fatalf("loop served %d requests, want 4", s.fast[0].served.Load())
	}
}
