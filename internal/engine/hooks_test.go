package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/webhook"
)

// receiver is an httptest webhook receiver that checks every signature.
type receiver struct {
	t      *testing.T
	secret []byte
	mu     sync.Mutex
	got    []webhook.Payload
	status int // answer; 0 means 200
	srv    *httptest.Server
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: []byte(secret)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if !webhook.Verify(r.secret, body, req.Header.Get(webhook.HeaderSignature)) {
			t.Errorf("bad signature %q on %s", req.Header.Get(webhook.HeaderSignature), body)
		}
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload: %v", err)
		}
		if req.Header.Get(webhook.HeaderEvent) != p.Type || req.Header.Get(webhook.HeaderDelivery) != p.Delivery {
			t.Errorf("headers %v do not match the payload %+v", req.Header, p)
		}
		r.mu.Lock()
		r.got = append(r.got, p)
		status := r.status
		r.mu.Unlock()
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) payloads() []webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webhook.Payload(nil), r.got...)
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

func hookSpec(url string) runbook.Spec {
	spec := weightedSpec()
	spec.Hold = time.Hour
	for _, typ := range runbook.HookTypes {
		spec.Webhooks = append(spec.Webhooks, runbook.Webhook{Name: "ci", Type: typ, URL: url, Timeout: runbook.Duration(2 * time.Second), SecretEnv: "HOOK_SECRET"})
	}
	return spec
}

func hookClient(secret string) *webhook.Client {
	return &webhook.Client{Getenv: func(k string) string {
		if k == "HOOK_SECRET" {
			return secret
		}
		return ""
	}}
}

func TestWebhooksGetSignedDocumentsAroundEveryStep(t *testing.T) {
	rcv := newReceiver(t, "s3cret")
	w := newWorld(t, hookSpec(rcv.srv.URL))
	w.gates["errors"] = gate.Func(passing)
	run, err := w.engine(func(o *Options) { o.Webhooks = hookClient("s3cret") }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	got := rcv.payloads()
	pre, post, confirm := map[string]bool{}, map[string]bool{}, 0
	for _, p := range got {
		if p.Run != "api" || p.Hostname != "api.example.com" || p.Strategy != "weighted" || p.Step == nil || p.Weights == nil {
			t.Fatalf("incomplete payload %+v", p)
		}
		switch p.Type {
		case runbook.HookPreStep:
			pre[p.Step.ID] = true
		case runbook.HookPostStep:
			post[p.Step.ID] = true
		case runbook.HookConfirmPromotion:
			confirm++
			if !strings.Contains(p.Step.Title, "shift 100%") || p.Weights.New != 50 {
				t.Errorf("confirm-promotion for %q at weights %+v, want before shift 100%% at 50", p.Step.Title, p.Weights)
			}
		case runbook.HookRollback:
			t.Errorf("rollback webhook on a run that did not roll back")
		}
	}
	for _, s := range w.rb.Steps {
		if !pre[s.ID] || !post[s.ID] {
			t.Errorf("step %s: pre-step %v, post-step %v", s.ID, pre[s.ID], post[s.ID])
		}
	}
	if confirm != 1 {
		t.Errorf("confirm-promotion called %d times, want 1", confirm)
	}
	// post-step of a step comes before the pre-step of the next.
	if got[0].Type != runbook.HookPreStep || got[1].Type != runbook.HookPostStep || got[1].Step.ID != got[0].Step.ID {
		t.Errorf("first calls %s %s, %s %s", got[0].Type, got[0].Step.ID, got[1].Type, got[1].Step.ID)
	}
	// The secret is never stored.
	evs := w.events(t)
	stored, _ := json.Marshal(evs)
	final, _ := w.store.GetRun(context.Background(), "api")
	state, _ := json.Marshal(final)
	if strings.Contains(string(stored)+string(state), "s3cret") {
		t.Fatal("the webhook secret reached the state or the events")
	}
}

func TestFailingWebhookHoldsTheRun(t *testing.T) {
	rcv := newReceiver(t, "s3cret")
	w := newWorld(t, hookSpec(rcv.srv.URL))
	w.gates["errors"] = gate.Func(passing)
	rcv.answer(http.StatusServiceUnavailable)
	run, err := w.engine(func(o *Options) { o.Webhooks = hookClient("s3cret") }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || run.Step != 0 || !strings.Contains(run.Reason, "503") {
		t.Fatalf("state %s at step %d (%s), want paused before step 1 on the 503", run.State, run.Step, run.Reason)
	}
	if len(w.dns.Applied) != 0 {
		t.Fatalf("%d changes applied while the webhook rejected", len(w.dns.Applied))
	}
	evs := w.events(t)
	if n := countEvents(evs, store.EventWebhookRejected); n != 3 {
		t.Fatalf("%d webhook.rejected events, want ErrorLimit-1 = 3 before the pause", n)
	}
	if _, ok := firstEvent(evs, store.EventWebhookFailed); !ok {
		t.Fatal("no webhook.failed event")
	}
	// The receiver recovers: a resume goes on.
	rcv.answer(http.StatusOK)
	if _, err := w.store.Request(context.Background(), "api", store.RequestResume); err != nil {
		t.Fatal(err)
	}
	run, err = w.engine(func(o *Options) { o.Webhooks = hookClient("s3cret") }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("after recovery: state %s (%s)", run.State, run.Reason)
	}
}

func TestRollbackWebhookNeverHoldsTheRollback(t *testing.T) {
	rcv := newReceiver(t, "s3cret")
	spec := hookSpec(rcv.srv.URL)
	w := newWorld(t, spec)
	breach := false
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		if breach {
			return gate.Measurement{Phase: gate.Failed, Value: 9, Detail: "5xx"}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	w.clock.OnSleep = func(time.Time) {
		if len(w.dns.Applied) >= 2 && !breach { // after the 1 % shift
			breach = true
			rcv.answer(http.StatusInternalServerError)
		}
	}
	run, err := w.engine(func(o *Options) { o.Webhooks = hookClient("s3cret") }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s (%s), want rolled-back despite the failing receiver", run.State, run.Reason)
	}
	var rollback *webhook.Payload
	for _, p := range rcv.payloads() {
		if p.Type == runbook.HookRollback {
			p := p
			rollback = &p
		}
	}
	if rollback == nil || !strings.Contains(rollback.Reason, "breached") || rollback.Weights.New != 0 {
		t.Fatalf("rollback payload %+v", rollback)
	}
}

func TestWebhookTimeoutHoldsTheRun(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer srv.Close()
	defer close(hang) // before Close, which waits for the handlers
	spec := weightedSpec()
	spec.Webhooks = []runbook.Webhook{{Name: "slow", Type: runbook.HookPreStep, URL: srv.URL, Timeout: runbook.Duration(50 * time.Millisecond), SecretEnv: "HOOK_SECRET"}}
	w := newWorld(t, spec)
	w.gates["errors"] = gate.Func(passing)
	run, err := w.engine(func(o *Options) { o.Webhooks = hookClient("s3cret") }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "no answer within 50ms") {
		t.Fatalf("state %s (%s), want paused on the webhook timeout", run.State, run.Reason)
	}
	if len(w.dns.Applied) != 0 {
		t.Fatalf("%d changes applied while the webhook timed out", len(w.dns.Applied))
	}
}
