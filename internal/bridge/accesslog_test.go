package bridge

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/syncbuf"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// withAccessQueue sets how many access log lines may wait for the sink.
func withAccessQueue(n int) Option { return func(s *Server) { s.accessQueue = n } }

func TestAccessLogWritesOneLinePerRequest(t *testing.T) {
	_, up := newRecorderUpstream(t, "m")
	logs := &syncbuf.Buffer{}
	cfg := baseConfig(up.URL)
	cfg.AccessLog = true
	s := startBridge(t, cfg, WithLogger(slog.New(slog.NewJSONHandler(logs, nil))))
	base := "http://" + s.Addr("http").String()
	get(t, http.DefaultClient, base+"/a?b=1", "cdn.example.com")
	get(t, http.DefaultClient, base+"/x", "nope.example.net")
	if err := s.Shutdown(); err != nil { // writes out what is queued
		t.Fatal(err)
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d access log lines, want 2:\n%s", len(lines), logs.String())
	}
	upHost := strings.TrimPrefix(up.URL, "http://")
	for i, want := range []map[string]any{
		{"method": "GET", "host": "cdn.example.com", "uri": "/a?b=1", "status": 200.0, "route": "cdn.example.com", "upstream": upHost, "bytes": 1.0, "proto": "HTTP/1.1"},
		{"method": "GET", "host": "nope.example.net", "uri": "/x", "status": 421.0, "route": "-", "upstream": ""},
	} {
		for k, v := range want {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v", i, k, lines[i][k], v)
			}
		}
		if _, ok := lines[i]["duration"]; !ok {
			t.Errorf("line %d has no duration", i)
		}
	}
}

// gateWriter blocks every write until it is opened.
type gateWriter struct {
	open chan struct{}
	buf  syncbuf.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.buf.Write(p)
}

// A log sink that stops taking lines never holds up requests: what does not
// fit in the queue is dropped and counted, the rest is written once the sink
// moves again.
func TestAccessLogSinkThatBlocksDoesNotHoldUpRequests(t *testing.T) {
	_, up := newRecorderUpstream(t, "m")
	sink := &gateWriter{open: make(chan struct{})}
	cfg := baseConfig(up.URL)
	cfg.AccessLog = true
	s := startBridge(t, cfg, WithLogger(slog.New(slog.NewJSONHandler(sink, nil))), withAccessQueue(4))
	c, br := dialBridge(t, s) // 5 s deadline for all of it
	const n = 50
	for i := range n {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if resp, body := readResp(t, br, "GET"); resp.StatusCode != 200 || body != "m" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	dropped := testutil.ToFloat64(s.metrics.accessDropped)
	if dropped < n-4-1 {
		t.Fatalf("dropped %v lines, want at least %d", dropped, n-4-1)
	}
	close(sink.open)
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(sink.buf.String(), `"msg":"request"`); float64(got)+dropped != n {
		t.Fatalf("%d lines written and %v dropped, want %d in all", got, dropped, n)
	}
}
