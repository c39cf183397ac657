package bridge

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cutover/cutover/internal/clock/fakeclock"
)

func TestUpstreamHealthBeforeFirstRequestAndCooldown(t *testing.T) {
	clk := fakeclock.New(time.Unix(1_700_000_000, 0))
	u, _ := url.Parse("http://127.0.0.1:1")
	up := newUpstream(u, nil, HealthPolicy{Failures: 3, Cooldown: 10 * time.Second}, clk)
	if !up.Healthy() {
		t.Fatal("an upstream never tried must be healthy")
	}
	up.ReportFailure()
	up.ReportFailure()
	up.ReportSuccess() // a success resets the consecutive count
	up.ReportFailure()
	up.ReportFailure()
	if !up.Healthy() {
		t.Fatal("non-consecutive failures marked the upstream down")
	}
	if !up.ReportFailure() || up.Healthy() {
		t.Fatal("three consecutive failures did not mark the upstream down")
	}
	clk.Advance(9 * time.Second)
	if up.Healthy() {
		t.Fatal("up again before the cooldown ended")
	}
	clk.Advance(time.Second)
	if !up.Healthy() {
		t.Fatal("still down after the cooldown")
	}
}

func TestRoundRobinSkipsDownUpstreamAndAllDownIs502(t *testing.T) {
	recA, a := newRecorderUpstream(t, "a")
	recB, b := newRecorderUpstream(t, "b")
	// An upstream that closes every connection at once. (A closed
	// listener's port would do too, but another test process may bind it
	// meanwhile.)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	go func() {
		for {
			c, err := dead.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	deadURL := "http://" + dead.Addr().String()

	clk := fakeclock.New(time.Unix(1_700_000_000, 0))
	cfg := baseConfig(a.URL, b.URL)
	cfg.Health = HealthPolicy{Failures: 1, Cooldown: time.Minute}
	s := startBridge(t, cfg, WithClock(clk))
	base := "http://" + s.Addr("http").String() + "/"
	for range 10 {
		if resp, _ := get(t, http.DefaultClient, base, "cdn.example.com"); resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if recA.hits.Load() != 5 || recB.hits.Load() != 5 {
		t.Fatalf("round robin split %d/%d, want 5/5", recA.hits.Load(), recB.hits.Load())
	}

	cfg2 := baseConfig(deadURL, b.URL)
	cfg2.Health = HealthPolicy{Failures: 1, Cooldown: time.Minute}
	if err := s.Reload(cfg2); err != nil {
		t.Fatal(err)
	}
	codes := map[int]int{}
	for range 6 {
		resp, _ := get(t, http.DefaultClient, base, "cdn.example.com")
		codes[resp.StatusCode]++
	}
	// At most one request meets the dead upstream before it is marked down.
	if codes[502] > 1 || codes[200] < 5 {
		t.Fatalf("codes %v: the dead upstream was not skipped", codes)
	}

	cfg3 := baseConfig(deadURL)
	cfg3.Health = HealthPolicy{Failures: 1, Cooldown: time.Minute}
	if err := s.Reload(cfg3); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, http.DefaultClient, base, "cdn.example.com")
	if resp.StatusCode != 502 || !strings.Contains(body, "all upstreams for cdn.example.com are down") {
		t.Fatalf("all down: %d %q", resp.StatusCode, body)
	}
	clk.Advance(time.Minute)
	resp, body = get(t, http.DefaultClient, base, "cdn.example.com")
	if resp.StatusCode != 502 || strings.Contains(body, "are down") {
		t.Fatalf("after cooldown the upstream must be tried again: %d %q", resp.StatusCode, body)
	}
}

func TestReloadUnderLoadFailsNoRequest(t *testing.T) {
	_, a := newRecorderUpstream(t, "old")
	_, b := newRecorderUpstream(t, "new")
	s := startBridge(t, baseConfig(a.URL))
	base := "http://" + s.Addr("http").String() + "/"
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	client := &http.Client{Transport: tr}
	// A connection the client dialled but never used is "new" to the
	// server, and Shutdown waits up to 5 s for new connections to speak.
	t.Cleanup(tr.CloseIdleConnections)

	const total, workers = 2000, 8
	var next, failed, sawNew atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	reloadAt := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				if i == total/2 {
					close(reloadAt)
				}
				req, _ := http.NewRequest("GET", base, nil)
				req.Host = "cdn.example.com"
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, errors.New(resp.Status))
				}
				if string(body) == "new" {
					sawNew.Add(1)
				}
			}
		}()
	}
	<-reloadAt
	if err := s.Reload(baseConfig(b.URL)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed across the reload (first: %v)", n, total, firstErr.Load())
	}
	if sawNew.Load() == 0 {
		t.Fatal("no request reached the new upstream after the reload")
	}
	if _, body := get(t, client, base, "cdn.example.com"); body != "new" {
		t.Fatalf("after reload got %q", body)
	}
}

func TestReloadOnSignalReadsFileAndKeepsOldOnError(t *testing.T) {
	_, a := newRecorderUpstream(t, "old")
	_, b := newRecorderUpstream(t, "new")
	dir := t.TempDir()
	path := filepath.Join(dir, "bridge.yaml")
	write := func(body string) {
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yamlFor := func(up string) string {
		return "listeners: {http: 127.0.0.1:0}\nmetrics: off\nroutes:\n  - host: cdn.example.com\n    upstreams: [" + up + "]\n    rewrite_host: cdn-new.example.com\n"
	}
	write(yamlFor(a.URL))
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	s := startBridge(t, cfg)
	base := "http://" + s.Addr("http").String() + "/"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal)
	go s.ReloadOnSignal(ctx, path, sig)

	write("routes: [{host: cdn.example.com, bogus: 1}]\n")
	sig <- syscall.SIGHUP
	// The reload reads the file after taking the signal: the good file is
	// written only once the bad one was refused.
	eventually(t, "the bad file was never refused", func() bool {
		return testutil.ToFloat64(s.metrics.reloads.WithLabelValues("error")) >= 1
	})
	write(yamlFor(b.URL)) // only read on the next signal
	if _, body := get(t, http.DefaultClient, base, "cdn.example.com"); body != "old" {
		t.Fatalf("a bad file replaced the running config: %q", body)
	}
	sig <- syscall.SIGHUP
	sig <- syscall.SIGHUP // returns once the previous reload finished
	if _, body := get(t, http.DefaultClient, base, "cdn.example.com"); body != "new" {
		t.Fatalf("after SIGHUP got %q, want new", body)
	}
}

func TestGracefulShutdownCompletesInFlightRequest(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	}))
	t.Cleanup(up.Close)
	s, err := New(baseConfig(up.URL), testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- s.Run(ctx) }()

	addr := s.Addr("http").String()
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Host = "cdn.example.com"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-entered
	cancel() // SIGTERM in the command
	// The listener stops accepting while the request is still running.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("listener still accepting after shutdown began")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-runDone:
		t.Fatalf("Run returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	r := <-res
	if r.err != nil || r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %d %q %v", r.code, r.body, r.err)
	}
	if err := <-runDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestShutdownTimeoutReportsUnfinishedRequests(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	t.Cleanup(up.Close)
	cfg := baseConfig(up.URL)
	cfg.ShutdownTimeout = 50 * time.Millisecond
	s := startBridge(t, cfg)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("http").String()+"/", nil)
		req.Host = "cdn.example.com"
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	if err := s.Shutdown(); err == nil {
		t.Fatal("Shutdown returned nil although a request outlived the drain timeout")
	}
}
