package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

func TestThresholdOfEachGateKind(t *testing.T) {
	for _, c := range []struct {
		spec string
		want float64
		ok   bool
	}{
		{`{"expression":"100*e/r","threshold":1.5,"comparison":">"}`, 1.5, true},
		{`{"threshold":5,"window":"15m0s"}`, 5, true},
		{`{"url":"https://api.example.com/health"}`, 0, false},
		{`not json`, 0, false},
	} {
		got, ok := server.Threshold(runbook.Gate{Name: "g", Spec: json.RawMessage(c.spec)})
		if got != c.want || ok != c.ok {
			t.Errorf("Threshold(%s) = %g %v, want %g %v", c.spec, got, ok, c.want, c.ok)
		}
	}
}

func TestIntendedSplitFollowsTheChanges(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := func(typ store.EventType, data string, s int) store.Event {
		e := store.Event{Type: typ, Time: at.Add(time.Duration(s) * time.Second)}
		if data != "" {
			e.Data = json.RawMessage(data)
		}
		return e
	}
	v, err := server.IntendedSplit(context.Background(), store.Run{}, nil, []store.Event{
		ev(store.EventRunStarted, "", 0),
		ev(store.EventChangeApplied, `{"change_id":"C1"}`, 1), // TTL prep: no weights
		ev(store.EventChangeApplied, `{"weights":{"old":90,"new":10}}`, 2),
		ev(store.EventGateMeasured, `{"gate":"g","value":1}`, 3),
		ev(store.EventChangeReconciled, `{"weights":{"old":1,"new":3}}`, 4),
		ev(store.EventChangeApplied, `{"weights":{"old":1,"new":3}}`, 5), // same split: no point
		ev(store.EventChangeApplied, `{"weights":{"old":100,"new":0}}`, 6),
		ev(store.EventBulkApplied, `{"step_id":"01-bulk-change","weights":{"old":50,"new":50},"batches":[]}`, 7), // a bulk run's step
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(v)
	want := `{"points":[{"at":"2026-01-02T03:04:05Z","intended_new":0,"observed_new":null},{"at":"2026-01-02T03:04:07Z","intended_new":10,"observed_new":null},{"at":"2026-01-02T03:04:09Z","intended_new":75,"observed_new":null},{"at":"2026-01-02T03:04:11Z","intended_new":0,"observed_new":null},{"at":"2026-01-02T03:04:12Z","intended_new":50,"observed_new":null}]}`
	if string(got) != want {
		t.Fatalf("split\n got %s\nwant %s", got, want)
	}
}

// TestSplitFuncIsInjected: the split endpoint serves what Options.Split
// computes, from the run, its runbook and its events.
func TestSplitFuncIsInjected(t *testing.T) {
	st := memstore.New(memstore.Options{})
	rb, _ := json.Marshal(runbook.Runbook{Name: "r", Hostname: "h.example.com", Strategy: "weighted"})
	if _, err := st.CreateRun(context.Background(), store.Run{Name: "r", Hostname: "h.example.com", Runbook: rb}); err != nil {
		t.Fatal(err)
	}
	var seen string
	srv, err := server.New(server.Options{Store: st, Token: testToken, Split: func(_ context.Context, run store.Run, rb *runbook.Runbook, _ []store.Event) (any, error) {
		seen = run.Name + " " + rb.Strategy
		obs := 42.0
		return server.Split{Points: []server.SplitPoint{{At: time.Unix(0, 0).UTC(), IntendedNew: 50, ObservedNew: &obs}}}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close) // after the stream below is closed
	code, body := call(t, "GET", hs.URL+"/api/v1/runs/r/split", "", "")
	pts, _ := body["points"].([]any)
	if code != 200 || len(pts) != 1 || pts[0].(map[string]any)["observed_new"] != 42.0 || seen != "r weighted" {
		t.Fatalf("split: %d %v (split func saw %q)", code, body, seen)
	}
	if code, _ := call(t, "GET", hs.URL+"/api/v1/runs/nope/split", "", ""); code != 404 {
		t.Fatalf("split of an unknown run: %d", code)
	}
	// A stream of an unknown run is 404; the stream of every run starts with
	// the events logged so far.
	if code, _ := call(t, "GET", hs.URL+"/api/v1/events?run=nope", "", ""); code != 404 {
		t.Fatalf("stream of an unknown run: %d", code)
	}
	if _, err := st.Request(context.Background(), "r", store.RequestPause); err != nil {
		t.Fatal(err)
	}
	s := openStream(t, hs.URL+"/api/v1/events")
	if got := s.until(t, string(store.EventRequested)); len(got) != 1 {
		t.Fatalf("stream of every run: %v", got)
	}
	// A request recorded later wakes the stream.
	if code, _ := call(t, "POST", hs.URL+"/api/v1/runs/r/resume", testToken, ""); code != http.StatusAccepted {
		t.Fatalf("resume: %d", code)
	}
	if got := s.until(t, string(store.EventRequested)); len(got) != 1 {
		t.Fatalf("stream after a request: %v", got)
	}
	// Reconnecting after event 1 replays only event 2.
	req, _ := http.NewRequest("GET", hs.URL+"/api/v1/events?run=r", nil)
	req.Header.Set("Last-Event-ID", "r/1")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	r := &sse{types: make(chan string, 10)}
	go r.read(resp.Body)
	if got := r.until(t, string(store.EventRequested)); len(got) != 1 {
		t.Fatalf("stream after Last-Event-ID: %v", got)
	}
	select {
	case extra := <-r.types:
		t.Fatalf("stream after Last-Event-ID replayed %s", extra)
	default:
	}
}

func TestShowOnlyRefusesPlans(t *testing.T) {
	srv, err := server.New(server.Options{Store: memstore.New(memstore.Options{}), Token: testToken, ShowOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	code, body := call(t, "POST", hs.URL+"/api/v1/runs", testToken, "name: x\n")
	if code != http.StatusMethodNotAllowed || !strings.Contains(body["error"].(string), "accepts no plans") {
		t.Fatalf("submit to a show-only server: %d %v", code, body)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:8080": true, "[::1]:0": true, "localhost:1": true, "0.0.0.0:8080": false, ":8080": false, "10.0.0.1:80": false, "nonsense": false} {
		if got := server.Loopback(addr); got != want {
			t.Errorf("Loopback(%q) = %v", addr, got)
		}
	}
}

// A bulk run's row says how many hostnames it moves and where they are.
func TestBulkRunSummaryNamesItsHostnames(t *testing.T) {
	st := memstore.New(memstore.Options{})
	var hosts []runbook.ObservedHost
	for _, h := range []struct{ name, zone string }{{"a.x.example.com.", "ZX"}, {"b.x.example.com.", "ZX"}, {"c.y.example.com.", "ZY"}} {
		r := dns.RecordSet{Name: h.name, Type: "CNAME", TTL: 30, Values: []string{"old.example.net."}}
		hosts = append(hosts, runbook.ObservedHost{Name: h.name, Zone: h.zone, Records: []dns.RecordSet{r}})
	}
	rb, err := runbook.Compile(runbook.Spec{
		Name: "many", Strategy: "weighted", CutoverTTL: 30,
		Hosts: []runbook.HostSelector{{Zone: "ZX", Match: "*.x.example.com"}, {Zone: "ZY", Match: "*.y.example.com"}},
		Steps: []runbook.WeightStep{{Weight: 100}},
	}, runbook.Observed{Hosts: hosts,
		From: runbook.Target{Kind: runbook.TargetEndpoint, ID: "old", DNSName: "old.example.net"},
		To:   runbook.Target{Kind: runbook.TargetEndpoint, ID: "new", DNSName: "new.example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Create(context.Background(), st, rb, "many.yaml", "digest", time.Now()); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	code, body := call(t, "GET", hs.URL+"/api/v1/runs", "", "")
	runs, _ := body["runs"].([]any)
	if code != 200 || len(runs) != 1 {
		t.Fatalf("runs: %d %v", code, body)
	}
	row := runs[0].(map[string]any)
	bulk, _ := row["bulk"].(map[string]any)
	if row["subject"] != "3 hostnames in 2 zones" || bulk == nil || bulk["hosts"] != 3.0 || bulk["zones"] != 2.0 || bulk["at_step"] != 3.0 {
		t.Fatalf("row = %v, want the subject and where the 3 hostnames are", row)
	}
}
