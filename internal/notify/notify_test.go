package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// run compiles a small weighted move, runs it on a fake clock with the
// notifier subscribed to the engine's events, and returns the final run
// and how much real time the run took.
func run(t *testing.T, receivers []runbook.Notify, opts notify.Options) (store.Run, time.Duration, *notify.Notifier) {
	t.Helper()
	clk := fakeclock.New(t0)
	st := memstore.New(memstore.Options{Clock: clk, OwnerGone: func(string) bool { return true }})
	p := memdns.New()
	p.Put("Z1", dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 30, Values: []string{"old.example.net."}})
	recs, _ := p.Records(context.Background(), "Z1", "api.example.com")
	rb, err := runbook.Compile(runbook.Spec{
		Name: "api", Hostname: "api.example.com", Zone: "Z1", Strategy: "weighted", CutoverTTL: 30, Hold: time.Hour,
		Steps:  []runbook.WeightStep{{Weight: 10, Pause: 10 * time.Minute}, {Weight: 100}},
		Notify: receivers,
	}, runbook.Observed{
		Records: recs,
		From:    runbook.Target{Kind: runbook.TargetEndpoint, ID: "old", DNSName: "old.example.net"},
		To:      runbook.Target{Kind: runbook.TargetEndpoint, ID: "new", DNSName: "new.example.net"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Create(context.Background(), st, rb, "plan.yaml", "d", t0); err != nil {
		t.Fatal(err)
	}
	n := notify.New(rb, opts)
	e := engine.New(engine.Options{Store: st, Provider: p, Clock: clk, Owner: "test:1", Poll: time.Minute, LeaseTTL: 5 * time.Minute, OnEvent: n.Notify})
	start := time.Now()
	r, err := e.Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	return r, time.Since(start), n
}

type sink struct {
	mu     sync.Mutex
	bodies [][]byte
	fail   int // answer 500 this many times first
}

func (s *sink) handler(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	s.bodies = append(s.bodies, b)
}

func (s *sink) got() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

func TestSlackAndJSONReceiversHearWhatHappened(t *testing.T) {
	slack, generic := &sink{}, &sink{fail: 2}
	ss, gs := httptest.NewServer(http.HandlerFunc(slack.handler)), httptest.NewServer(http.HandlerFunc(generic.handler))
	defer ss.Close()
	defer gs.Close()
	t.Setenv("SLACK_URL", ss.URL)
	backoff := fakeclock.New(t0)
	r, _, n := run(t, []runbook.Notify{{Name: "ops", Kind: "slack", URLEnv: "SLACK_URL"}, {Name: "pager", Kind: "webhook", URL: gs.URL}},
		notify.Options{Clock: backoff})
	if r.State != store.StateDone {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.Close(ctx)
	texts := ""
	for _, b := range slack.got() {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil || m["text"] == "" {
			t.Fatalf("slack body %s", b)
		}
		texts += m["text"] + "\n"
	}
	for _, want := range []string{"run started", "step 3 completed", "weights: old 90% / new 10%", "done", "next: "} {
		if !strings.Contains(texts, want) {
			t.Errorf("slack messages lack %q:\n%s", want, texts)
		}
	}
	var last notify.Message
	msgs := generic.got()
	if len(msgs) != len(slack.got()) {
		t.Fatalf("generic receiver got %d messages, slack %d: the two 500s were not retried", len(msgs), len(slack.got()))
	}
	if err := json.Unmarshal(msgs[len(msgs)-1], &last); err != nil {
		t.Fatal(err)
	}
	if last.Event != store.EventRunDone || last.Run != "api" || last.Weights == nil || last.Weights.New != 100 || last.Next == "" {
		t.Fatalf("last message %+v", last)
	}
	if len(backoff.Sleeps()) != 2 {
		t.Fatalf("backoff sleeps %v, want 2 (one per 500)", backoff.Sleeps())
	}
}

func TestReceiverDownNeverDelaysTheRun(t *testing.T) {
	// One receiver refuses connections, one accepts and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	hang := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hs.Close()
	defer close(hang)

	_, baseline, _ := run(t, nil, notify.Options{})
	r, took, n := run(t, []runbook.Notify{{Name: "down", Kind: "webhook", URL: refused}, {Name: "hung", Kind: "slack", URL: hs.URL}},
		notify.Options{Queue: 4, Timeout: time.Hour, Attempts: 1})
	if r.State != store.StateDone {
		t.Fatalf("state %s (%s)", r.State, r.Reason)
	}
	t.Logf("run with a refusing and a hung receiver: %s (without receivers: %s); %d events dropped", took, baseline, n.Dropped())
	// The engine ran as fast as without receivers: no step waited on them.
	if took > baseline+2*time.Second {
		t.Fatalf("run took %s with dead receivers, %s without", took, baseline)
	}
	if n.Dropped() == 0 {
		t.Fatal("a queue of 4 behind a hung receiver dropped nothing: Notify must have blocked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	n.Close(ctx) // gives up on the hung receiver when ctx ends
}

// BenchmarkNotifyBehindAHungReceiver is the engine's cost of one event
// when the receiver never answers: the queue is full, the event dropped.
func BenchmarkNotifyBehindAHungReceiver(b *testing.B) {
	hang := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer hs.Close()
	defer close(hang)
	rb := &runbook.Runbook{Name: "api", Hostname: "api.example.com.", Notify: []runbook.Notify{{Name: "hung", Kind: "slack", URL: hs.URL}}}
	n := notify.New(rb, notify.Options{Queue: 16, Timeout: time.Hour, Attempts: 1})
	e := store.Event{Type: store.EventWaitStarted, Message: "step 04-observe: observe"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.Notify(e)
	}
	b.StopTimer()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n.Close(ctx)
}
