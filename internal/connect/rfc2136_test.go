package connect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/rfc2136/knottest"
	"github.com/cutover/cutover/internal/dnsquery"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab/dnsserver/unboundtest"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/verify"
)

// knotWorld is a zone on Knot DNS, two edges (one loopback address each,
// the same port) that answer with their name, and unbound resolving the
// zone for clients, caching answers for their TTL.
type knotWorld struct {
	knot    *knottest.Server
	unbound string
	port    int
	plan    string // the plan file
	secret  string
}

func newKnotWorld(t *testing.T) *knotWorld {
	t.Helper()
	w := &knotWorld{}
	w.knot = knottest.Start(t, knottest.Options{Zone: "example.com", Records: []string{
		"api 2 IN CNAME old.edge.example.com.",
		"old.edge 60 IN A 127.0.0.2",
		"new.edge 60 IN A 127.0.0.3",
	}})
	w.port = edges(t)
	w.unbound = unboundtest.Start(t, []string{"example.com"}, w.knot.Addr)
	dir := t.TempDir()
	w.secret = w.knot.Secret
	if err := os.WriteFile(filepath.Join(dir, "tsig.secret"), []byte(w.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.plan = filepath.Join(dir, "plan.yaml")
	body := fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-knot
hostname: api.example.com
zone:
  provider: rfc2136
  name: example.com
  server: %s
  tsig:
    name: %s
    secret_file: tsig.secret
from:
  endpoint: old.edge.example.com
to:
  endpoint: new.edge.example.com
ttl:
  cutover: 1
verify:
  samples: 2
  expect:
    old: old-edge
    new: new-edge
hold: 2s
`, w.knot.Addr, knottest.KeyName)
	if err := os.WriteFile(w.plan, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// edges serves old-edge on 127.0.0.2 and new-edge on 127.0.0.3 at one
// free port, and returns it.
func edges(t *testing.T) int {
	t.Helper()
	for range 20 {
		a, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("no 127.0.0.2 on this machine: %v", err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", net.JoinHostPort("127.0.0.3", strconv.Itoa(port)))
		if err != nil {
			a.Close()
			continue
		}
		for ln, name := range map[net.Listener]string{a: "old-edge", b: "new-edge"} {
			srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(rw, "%s for %s\n", name, r.Host)
			})}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { _ = srv.Close() })
		}
		return port
	}
	t.Fatal("no port free on both 127.0.0.2 and 127.0.0.3")
	return 0
}

// tally counts what clients got.
type tally struct {
	mu        sync.Mutex
	old, new_ int
	failed    []string
	last      []string // the side of each request, in order
}

// settle waits until the last 8 requests all reached side, for at most
// limit.
func (tl *tally) settle(side string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		tl.mu.Lock()
		n := len(tl.last)
		ok := n >= 8
		for i := max(0, n-8); i < n && ok; i++ {
			ok = tl.last[i] == side
		}
		tl.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// clients resolve through unbound and fetch from the address they get,
// with the real Host, until ctx ends.
func (w *knotWorld) clients(ctx context.Context, n int) (*tally, func()) {
	tl := &tally{}
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				side, err := w.request(ctx, hc)
				tl.mu.Lock()
				switch {
				case ctx.Err() != nil:
				case err != nil:
					tl.failed = append(tl.failed, err.Error())
				case side == "old-edge":
					tl.old++
				case side == "new-edge":
					tl.new_++
				}
				if err == nil {
					tl.last = append(tl.last, side)
				}
				tl.mu.Unlock()
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Millisecond):
				}
			}
		}()
	}
	return tl, wg.Wait
}

func (w *knotWorld) request(ctx context.Context, hc *http.Client) (string, error) {
	m, err := dnsquery.Exchange(ctx, w.unbound, "api.example.com.", mdns.TypeA, time.Second)
	if err != nil {
		return "", fmt.Errorf("resolving: %w", err)
	}
	var ip string
	for _, rr := range m.Answer {
		if a, ok := rr.(*mdns.A); ok {
			ip = a.A.String()
		}
	}
	if ip == "" {
		return "", fmt.Errorf("no address for api.example.com (rcode %s)", mdns.RcodeToString[m.Rcode])
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, strconv.Itoa(w.port))+"/", nil)
	req.Host = "api.example.com"
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	side, _, _ := strings.Cut(string(body), " ")
	return side, nil
}

// run compiles the plan against Knot, as `cutover plan` does, and runs it
// with the adapters connect builds, as `cutover apply` does.
func (w *knotWorld) start(t *testing.T, onEvent func(store.Event)) (*engine.Engine, store.Store, *observe.Compiled) {
	t.Helper()
	ctx := context.Background()
	p, err := plan.Load(w.plan)
	if err != nil {
		t.Fatal(err)
	}
	c, err := observe.Compile(ctx, p, connect.ObserveDeps(observe.Access(p)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := connect.EngineOptions(ctx, c.Runbook)
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New(memstore.Options{})
	o.Store, o.Poll, o.OnEvent = st, 50*time.Millisecond, onEvent
	o.Verifier = verify.New(verify.Options{Scheme: "http", Port: w.port, Resolvers: []string{w.unbound},
		NewMarker: "new-edge", OldMarker: "old-edge", Timeout: time.Second})
	o.VerifyTimeout = 10 * time.Second
	if _, err := engine.Create(ctx, st, c.Runbook, w.plan, "digest", time.Now()); err != nil {
		t.Fatal(err)
	}
	return engine.New(o), st, c
}

func (w *knotWorld) records(t *testing.T) []dns.RecordSet {
	t.Helper()
	prov, err := connect.RFC2136(observe.Access(mustLoad(t, w.plan)).ZoneServer)
	if err != nil {
		t.Fatal(err)
	}
	sets, err := prov.Records(context.Background(), "example.com", "api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

func mustLoad(t *testing.T, path string) *plan.Plan {
	t.Helper()
	p, err := plan.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// noSecret fails when the TSIG secret appears in the stored run or its
// events.
func noSecret(t *testing.T, st store.Store, secret string) {
	t.Helper()
	run, err := st.GetRun(context.Background(), "api-knot")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := st.Events(context.Background(), "api-knot", 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(struct {
		Run    store.Run
		Events []store.Event
	}{run, evs})
	if strings.Contains(string(raw), secret) {
		t.Fatal("the TSIG secret is in the run's state or events")
	}
	if !strings.Contains(string(raw), "tsig.secret") {
		t.Fatal("the runbook does not say where the secret is read from")
	}
}

// TestFlipOnKnot moves api.example.com from one edge to the other on a
// real Knot DNS with clients resolving through unbound: TTL prep, the
// flip, propagation to every name server, a TTL, verify, hold, TTL
// restore; no request fails, and the last ones all reach the new edge.
func TestFlipOnKnot(t *testing.T) {
	w := newKnotWorld(t)
	e, st, c := w.start(t, nil)
	if c.Runbook.ZoneServer == nil || c.Runbook.Zone != "example.com" {
		t.Fatalf("runbook zone %q server %+v", c.Runbook.Zone, c.Runbook.ZoneServer)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tl, wait := w.clients(ctx, 4)
	run, err := e.Run(context.Background(), "api-knot")
	converged := tl.settle("new-edge", 3*time.Second)
	cancel()
	wait()
	if !converged {
		t.Fatal("clients still reach the old edge 3s after the run (cutover TTL 1s)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("run %s: %s", run.State, run.Reason)
	}
	if len(tl.failed) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(tl.failed), tl.failed[0])
	}
	if tl.old == 0 || tl.new_ == 0 {
		t.Fatalf("old %d, new %d: clients should have reached both", tl.old, tl.new_)
	}
	for _, side := range tl.last[len(tl.last)-8:] {
		if side != "new-edge" {
			t.Fatalf("a request after the run reached %s", side)
		}
	}
	got := w.records(t)
	want := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 2, Values: []string{"new.edge.example.com."}}
	if len(got) != 1 || !got[0].Equal(want) {
		t.Fatalf("zone holds %v, want %v (TTL restored)", got, want)
	}
	noSecret(t, st, w.secret)
	t.Logf("requests: old %d, new %d, failed 0", tl.old, tl.new_)
}

// TestConflictOnKnotPauses edits the record with knsupdate after the run
// lowered its TTL: the flip's prerequisites fail, the run pauses, and the
// edit stands.
func TestConflictOnKnotPauses(t *testing.T) {
	w := newKnotWorld(t)
	var once sync.Once
	e, st, _ := w.start(t, func(ev store.Event) {
		if ev.Type == store.EventChangeApplied {
			once.Do(func() {
				w.knot.Knsupdate(t, "update delete api.example.com. CNAME", "update add api.example.com. 1 CNAME intruder.example.com.")
			})
		}
	})
	run, err := e.Run(context.Background(), "api-knot")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused {
		t.Fatalf("run %s (%s), want paused", run.State, run.Reason)
	}
	evs, _ := st.Events(context.Background(), "api-knot", 0)
	var conflict *store.Event
	for i := range evs {
		if evs[i].Type == store.EventChangeConflict {
			conflict = &evs[i]
		}
	}
	if conflict == nil || !strings.Contains(conflict.Message, "intruder.example.com") {
		t.Fatalf("no conflict event naming what the zone holds: %+v", conflict)
	}
	got := w.records(t)
	if len(got) != 1 || got[0].Values[0] != "intruder.example.com." {
		t.Fatalf("the edit made behind the run's back was clobbered: %v", got)
	}
	noSecret(t, st, w.secret)
}

// TestRollbackOnKnot asks for a rollback during the hold: the record goes
// back to the old edge, clients follow, none fails.
func TestRollbackOnKnot(t *testing.T) {
	w := newKnotWorld(t)
	var st store.Store
	var requested atomic.Bool
	e, s, _ := w.start(t, func(ev store.Event) {
		if ev.Type == store.EventWaitStarted && strings.Contains(ev.Message, "-hold: hold until") && !requested.Swap(true) {
			go func() { _, _ = st.Request(context.Background(), "api-knot", store.RequestRollback) }()
		}
	})
	st = s
	ctx, cancel := context.WithCancel(context.Background())
	tl, wait := w.clients(ctx, 4)
	run, err := e.Run(context.Background(), "api-knot")
	// The rollback is done when the zone serves the original records;
	// resolvers follow within the cutover TTL (unbound counts in whole
	// seconds, so up to one more).
	converged := tl.settle("old-edge", 3*time.Second)
	cancel()
	wait()
	if !converged {
		t.Fatal("clients still reach the new edge 3s after the rollback (cutover TTL 1s)")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !requested.Load() {
		t.Fatal("the hold never started")
	}
	if run.State != store.StateRolledBack {
		t.Fatalf("run %s (%s), want rolled back", run.State, run.Reason)
	}
	if len(tl.failed) > 0 {
		t.Fatalf("%d requests failed, first: %s", len(tl.failed), tl.failed[0])
	}
	if tl.new_ == 0 {
		t.Fatal("no client reached the new edge before the rollback")
	}
	for _, side := range tl.last[len(tl.last)-8:] {
		if side != "old-edge" {
			t.Fatalf("a request after the rollback reached %s", side)
		}
	}
	got := w.records(t)
	if len(got) != 1 || got[0].Values[0] != "old.edge.example.com." {
		t.Fatalf("zone holds %v after the rollback", got)
	}
}
