package bridge

import (
	"bufio"
	"crypto/tls"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/certs"
)

// loopEnv selects the plain listener's serving for a run of the suite.
const loopEnv = "CUTOVER_BRIDGE_TEST_LOOP"

// TestMain runs the suite twice on Linux: with the event loops in front
// (the default) and again with the goroutine loop alone, which also serves
// everything the event loops pass on.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && runtime.GOOS == "linux" && os.Getenv(loopEnv) == "" && !fuzzing() {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), loopEnv+"=goroutine")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			code = 1
		}
	}
	os.Exit(code)
}

// fuzzing reports whether the binary runs as a fuzzing coordinator or
// worker, which must not be run a second time.
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// withGoroutineLoop serves the plain listener without event loops.
func withGoroutineLoop() Option { return func(s *Server) { s.noEventLoop = true } }

// testOptions are the options every test server gets.
func testOptions(opts ...Option) []Option {
	opts = append([]Option{WithLogger(quietLogger())}, opts...)
	if os.Getenv(loopEnv) == "goroutine" {
		opts = append(opts, withGoroutineLoop())
	}
	return opts
}

// eventLoops reports whether s serves its plain listener with event loops.
func eventLoops(s *Server) bool { return len(s.fast) > 0 && s.fast[0].ev != nil }

// testCA issues leaf certificates for test servers.
type testCA struct {
	*certs.CA
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	ca, err := certs.New("bridge test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca}
}

// leaf returns a certificate for names plus its PEM encodings.
func (ca *testCA) leaf(t testing.TB, names ...string) (tls.Certificate, []byte, []byte) {
	t.Helper()
	certPEM, keyPEM, err := ca.LeafPEM(names...)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c, certPEM, keyPEM
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// recorder is an upstream that counts and remembers requests.
type recorder struct {
	hits atomic.Int64
	mu   sync.Mutex
	last *http.Request
	body string
}

func (rec *recorder) handler(marker string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			// A request whose body never arrived whole was not forwarded.
			return
		}
		rec.hits.Add(1)
		rec.mu.Lock()
		rec.last, rec.body = r, string(b)
		rec.mu.Unlock()
		w.Header().Set("X-Upstream", marker)
		_, _ = io.WriteString(w, marker)
	}
}

func (rec *recorder) lastRequest() (*http.Request, string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.last, rec.body
}

func newRecorderUpstream(t *testing.T, marker string) (*recorder, *httptest.Server) {
	rec := &recorder{}
	srv := httptest.NewServer(rec.handler(marker))
	t.Cleanup(srv.Close)
	return rec, srv
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// baseConfig routes cdn.example.com to upstreams with Host rewritten to
// cdn-new.example.com, all listeners on ephemeral loopback ports.
func baseConfig(upstreams ...string) *Config {
	return &Config{
		Listeners: Listeners{HTTP: "127.0.0.1:0"},
		Metrics:   "127.0.0.1:0",
		Routes: []Route{{
			Host:        "cdn.example.com",
			Upstreams:   upstreams,
			RewriteHost: "cdn-new.example.com",
			Headers:     map[string]string{"X-Bridge": "1"},
		}},
		ShutdownTimeout: 5 * time.Second,
	}
}

func startBridge(t testing.TB, cfg *Config, opts ...Option) *Server {
	t.Helper()
	s, err := New(cfg, testOptions(opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown() })
	return s
}

// rawExchange writes req on a fresh connection and returns everything the
// server sends until it closes the connection or the deadline passes.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// readResponses parses up to n responses from raw bytes.
func readResponses(t *testing.T, raw string, n int) []*http.Response {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(raw))
	var out []*http.Response
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

func statusOf(t *testing.T, raw string) int {
	t.Helper()
	rs := readResponses(t, raw, 1)
	if len(rs) == 0 {
		t.Fatalf("no HTTP response in %q", raw)
	}
	return rs[0].StatusCode
}

func get(t *testing.T, client *http.Client, url, host string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// eventually polls cond until it holds, and fails the test with what did not
// happen when it still does not after 5 s: a wait in a test never hangs.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s, %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
