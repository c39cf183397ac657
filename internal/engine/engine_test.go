package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

const zone = "Z1"

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type world struct {
	clock *fakeclock.Clock
	store *memstore.Store
	dns   *memdns.Provider
	rb    *runbook.Runbook
	gates map[string]gate.Gate
}

func oldCNAME(ttl int64) dns.RecordSet {
	return dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: ttl, Values: []string{"old-lb.example.net."}}
}

func newWorld(t *testing.T, spec runbook.Spec) *world {
	t.Helper()
	w := emptyWorld(2)
	w.dns.Put(zone, oldCNAME(300), dns.RecordSet{Name: "api.example.com.", Type: "TXT", TTL: 300, Values: []string{`"keep me"`}})
	recs, _ := w.dns.Records(context.Background(), zone, "api.example.com")
	w.create(t, spec, runbook.Observed{Records: recs})
	return w
}

// emptyWorld is a world without zones or run: its changes are INSYNC after
// insyncAfter checks.
func emptyWorld(insyncAfter int) *world {
	w := &world{clock: fakeclock.New(t0), dns: memdns.New(), gates: map[string]gate.Gate{}}
	w.store = memstore.New(memstore.Options{Clock: w.clock, OwnerGone: func(string) bool { return true }})
	w.dns.InSyncAfter = insyncAfter
	return w
}

// create compiles spec against obs, moving from the old to the new load
// balancer, and stores the run.
func (w *world) create(t *testing.T, spec runbook.Spec, obs runbook.Observed) {
	t.Helper()
	obs.From = runbook.Target{Kind: runbook.TargetEndpoint, ID: "old-lb", DNSName: "old-lb.example.net"}
	obs.To = runbook.Target{Kind: runbook.TargetEndpoint, ID: "new-lb", DNSName: "new-lb.example.net"}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		t.Fatal(err)
	}
	w.rb = rb
	if _, err := Create(context.Background(), w.store, rb, "plan.yaml", "digest", t0); err != nil {
		t.Fatal(err)
	}
	knownEventsOnly(t, w.store, rb.Name)
}

func weightedSpec() runbook.Spec {
	return runbook.Spec{
		Name: "api", Hostname: "api.example.com", Zone: zone, Strategy: "weighted",
		CutoverTTL: 30, Prepare: 48 * time.Hour, Hold: 72 * time.Hour,
		Steps: []runbook.WeightStep{{Weight: 1, Pause: 10 * time.Minute}, {Weight: 50, Pause: 10 * time.Minute}, {Weight: 100}},
		Gates: []runbook.Gate{{Name: "errors", Interval: runbook.Duration(30 * time.Second), For: runbook.Duration(3 * time.Minute), OnFailure: "rollback", Kind: "probe"}},
	}
}

func (w *world) engine(opts ...func(*Options)) *Engine {
	o := Options{Store: w.store, Provider: w.dns, Clock: w.clock, Gates: w.gates, Owner: "test:1", Verifier: okVerifier{}, Poll: time.Minute, LeaseTTL: 5 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	return New(o)
}

type okVerifier struct{}

func (okVerifier) Verify(context.Context, *runbook.Runbook, runbook.Verify) VerifyResult {
	return VerifyResult{OK: true, Detail: "all paths reached new"}
}

func passing(context.Context, time.Time) gate.Measurement {
	return gate.Measurement{Phase: gate.Successful, Value: 0}
}

// run runs the run api on a new engine until it ends or stops; an error
// fails the test.
func (w *world) run(t *testing.T) store.Run {
	t.Helper()
	run, err := w.engine().Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (w *world) managed() []dns.RecordSet {
	recs, _ := w.dns.Records(context.Background(), zone, "api.example.com")
	return managedOnly(recs, "api.example.com")
}

func TestWeightedRunCompletesOnFakeClock(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(passing)
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state = %s (%s), want done", run.State, run.Reason)
	}
	got := w.managed()
	want := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"new-lb.example.net."}}
	if len(got) != 1 || !got[0].Equal(want) {
		t.Fatalf("final records = %v, want %v", got, want)
	}
	// The TXT record the run does not manage is untouched.
	all, _ := w.dns.Records(context.Background(), zone, "api.example.com")
	if len(all) != 2 {
		t.Fatalf("unmanaged record lost: %v", all)
	}
	// 48h prepare + pauses + 72h hold passed on the fake clock, in far less real time.
	elapsed := w.clock.Now().Sub(t0)
	if elapsed < 120*time.Hour {
		t.Fatalf("fake time elapsed %s, want at least prepare+hold (120h)", elapsed)
	}
	// Every weight step was applied once, in order.
	var weights []string
	for _, cs := range w.dns.Applied {
		weights = append(weights, cs.Comment)
	}
	joined := strings.Join(weights, "|")
	for _, want := range []string{"lower TTL 300s", "shift 1%", "shift 50%", "shift 100%", "collapse", "restore TTL 30s → 300s"} {
		if !strings.Contains(joined, want) {
			t.Errorf("applied changes %q lack %q", joined, want)
		}
	}
	if len(w.dns.Applied) != 6 {
		t.Errorf("applied %d change sets, want 6", len(w.dns.Applied))
	}
}

func TestTTLPrepWaitsAtLeastOldTTLAfterInSync(t *testing.T) {
	spec := weightedSpec()
	spec.Prepare = 0
	spec.Gates = nil
	w := newWorld(t, spec)
	var loweredAt, firstShiftAt time.Time
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		switch {
		case strings.Contains(cs.Comment, "lower TTL"):
			loweredAt = w.clock.Now()
		case strings.Contains(cs.Comment, "shift 1%"):
			firstShiftAt = w.clock.Now()
		}
		return nil
	}
	if _, err := w.engine().Run(context.Background(), "api"); err != nil {
		t.Fatal(err)
	}
	if gap := firstShiftAt.Sub(loweredAt); gap < 300*time.Second {
		t.Fatalf("first shift %s after lowering the TTL, want ≥ old TTL 300s", gap)
	}
}

func TestGateBreachRollsBackFromEveryObserveStep(t *testing.T) {
	for _, breachAtWeight := range []string{"1%", "50%"} {
		t.Run(breachAtWeight, func(t *testing.T) {
			w := newWorld(t, weightedSpec())
			var breaching bool
			var breachStart time.Time
			w.dns.AfterApply = func(cs dns.ChangeSet) error {
				if strings.Contains(cs.Comment, "shift "+breachAtWeight) {
					breaching = true
					breachStart = w.clock.Now()
				}
				return nil
			}
			w.gates["errors"] = gate.Func(func(_ context.Context, now time.Time) gate.Measurement {
				if breaching {
					return gate.Measurement{Phase: gate.Failed, Value: 7.5, Detail: "5xx rate 7.5% > 1%"}
				}
				return gate.Measurement{Phase: gate.Successful}
			})
			var rollbackAt time.Time
			w.dns.BeforeApply = func(cs dns.ChangeSet) error {
				if strings.Contains(cs.Comment, "roll back") {
					rollbackAt = w.clock.Now()
				}
				return nil
			}
			run := w.run(t)
			if run.State != store.StateRolledBack {
				t.Fatalf("state %s (%s), want rolled-back", run.State, run.Reason)
			}
			got := w.managed()
			want := oldCNAME(30) // original target, TTL kept low
			if len(got) != 1 || !got[0].Equal(want) {
				t.Fatalf("records after rollback = %v, want %v", got, want)
			}
			// Detection is bounded by the TTL wait + `for` + one interval.
			if d := rollbackAt.Sub(breachStart); d > 30*time.Second+3*time.Minute+30*time.Second+2*time.Minute {
				t.Fatalf("rollback %s after the breach began", d)
			}
			if !strings.Contains(run.Reason, "gate errors breached") {
				t.Fatalf("reason %q does not name the gate", run.Reason)
			}
		})
	}
}

func TestBriefBreachShorterThanForDoesNotRollBack(t *testing.T) {
	w := newWorld(t, weightedSpec())
	var calls int
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		calls++
		if calls%4 == 0 { // one failed measurement in four: never 3 minutes in a row
			return gate.Measurement{Phase: gate.Failed, Value: 2}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
}

func TestRollbackDuringHoldByOperator(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(passing)
	requested := false
	w.clock.OnSleep = func(now time.Time) {
		run, _ := w.store.GetRun(context.Background(), "api")
		if !requested && run.Timers != nil && strings.Contains(fmt.Sprint(run.Timers), "hold") {
			requested = true
			if _, err := w.store.Request(context.Background(), "api", "rollback"); err != nil {
				t.Error(err)
			}
		}
	}
	run := w.run(t)
	if !requested {
		t.Fatal("never reached the hold")
	}
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s, want rolled-back", run.State)
	}
	if got := w.managed(); len(got) != 1 || !got[0].Equal(oldCNAME(30)) {
		t.Fatalf("records %v", got)
	}
}

func TestConcurrentEditPausesRun(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(passing)
	edited := false
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if !edited && strings.Contains(cs.Comment, "shift 50%") {
			edited = true
			// Someone changes the weight by hand.
			w.dns.Delete(zone, *cs.Changes[0].Old)
			hand := *cs.Changes[0].Old
			nw := int64(77)
			hand.Weight = &nw
			w.dns.Put(zone, hand)
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StatePaused {
		t.Fatalf("state %s, want paused", run.State)
	}
	if !strings.Contains(run.Reason, "record changed outside cutover") || !strings.Contains(run.Reason, "weight 77") {
		t.Fatalf("reason %q must show both versions", run.Reason)
	}
}

// crashingStore fails every Commit after n of them, as if the process died.
type crashingStore struct {
	store.Store
	left int
}

var errCrash = errors.New("simulated crash")

func (c *crashingStore) Commit(ctx context.Context, l store.Lease, r store.Run, evs ...store.Event) (store.Run, []store.Event, error) {
	if c.left <= 0 {
		return store.Run{}, nil, errCrash
	}
	c.left--
	return c.Store.Commit(ctx, l, r, evs...)
}

// TestCrashAtEveryCommitResumesExactlyOnce kills the engine at every commit
// point of a run (and once more between Apply and its outcome) and resumes
// it each time: the final records match a clean run and no change is applied
// twice.
func TestCrashAtEveryCommitResumesExactlyOnce(t *testing.T) {
	spec := weightedSpec()
	spec.Gates = nil
	for n := 0; n < 80; n++ {
		w := newWorld(t, spec)
		cs := &crashingStore{Store: w.store, left: n}
		e := New(Options{Store: cs, Provider: w.dns, Clock: w.clock, Owner: "crash:1", Verifier: okVerifier{}, Poll: time.Minute, LeaseTTL: 5 * time.Minute})
		run, err := e.Run(context.Background(), "api")
		if err == nil {
			if run.State != store.StateDone {
				t.Fatalf("n=%d: state %s", n, run.State)
			}
			if n < 20 {
				t.Fatalf("n=%d: the run needed fewer commits than expected", n)
			}
			return
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("n=%d: %v", n, err)
		}
		run, err = w.engine(func(o *Options) { o.Owner = "resume:2" }).Run(context.Background(), "api")
		if err != nil {
			t.Fatalf("n=%d: resume: %v", n, err)
		}
		if run.State != store.StateDone {
			t.Fatalf("n=%d: resumed run state %s (%s)", n, run.State, run.Reason)
		}
		if got := w.managed(); len(got) != 1 || got[0].Values[0] != "new-lb.example.net." {
			t.Fatalf("n=%d: final records %v", n, got)
		}
		seen := map[string]int{}
		for _, c := range w.dns.Applied {
			seen[c.Comment]++
			if seen[c.Comment] > 1 {
				t.Fatalf("n=%d: change %q applied twice", n, c.Comment)
			}
		}
		evs, _ := w.store.Events(context.Background(), "api", 0)
		applied := 0
		for _, e := range evs {
			if e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled {
				applied++
			}
		}
		if applied != len(w.dns.Applied) {
			t.Fatalf("n=%d: event log shows %d changes, provider saw %d", n, applied, len(w.dns.Applied))
		}
	}
	t.Fatal("run never completed within 80 commits")
}

func TestLostApplyResponseIsReconciled(t *testing.T) {
	spec := weightedSpec()
	spec.Gates = nil
	w := newWorld(t, spec)
	lost := false
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		if !lost && strings.Contains(cs.Comment, "shift 50%") {
			lost = true
			return errors.New("connection reset")
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "connection reset") {
		t.Fatalf("state %s (%s), want paused with the error", run.State, run.Reason)
	}
	if _, err := w.store.Request(context.Background(), "api", "resume"); err != nil {
		t.Fatal(err)
	}
	run = w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	n := 0
	for _, c := range w.dns.Applied {
		if strings.Contains(c.Comment, "shift 50%") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("shift 50%% applied %d times", n)
	}
}

func TestInconclusiveGatePausesForHuman(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		return gate.Measurement{Phase: gate.Inconclusive, Detail: "no datapoints"}
	})
	run := w.run(t)
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "inconclusive") {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
}

func TestVerifyWithoutVerifierPauses(t *testing.T) {
	spec := weightedSpec()
	spec.Gates = nil
	spec.Verify = &runbook.Verify{Path: "/ruok"}
	w := newWorld(t, spec)
	run, err := w.engine(func(o *Options) { o.Verifier = nil }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "no verifier") {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
}

// TestBreachDuringTTLWaitIsCaughtWithinOneInterval: once traffic moved, a
// breach during the propagation and TTL waits after a shift rolls back
// within one gate interval, not after the waits.
func TestBreachDuringTTLWaitIsCaughtWithinOneInterval(t *testing.T) {
	spec := weightedSpec()
	spec.CutoverTTL = 600 // a long TTL wait after each shift
	w := newWorld(t, spec)
	var shiftAt, rollbackAt time.Time
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "shift 50%") {
			shiftAt = w.clock.Now()
		}
		if strings.Contains(cs.Comment, "roll back") {
			rollbackAt = w.clock.Now()
		}
		return nil
	}
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		if !shiftAt.IsZero() {
			return gate.Measurement{Phase: gate.Failed, Value: 5, Detail: "5xx"}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run := w.run(t)
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s", run.State)
	}
	// for (3m) + one interval (30s), far less than the 600s TTL wait.
	if d := rollbackAt.Sub(shiftAt); d > 3*time.Minute+30*time.Second+time.Minute {
		t.Fatalf("rollback %s after the breach began; the TTL wait hid it", d)
	}
}

// TestLongWaitKeepsTheLease: a run waiting out a 48h prepare keeps its
// lease, so another process cannot take the run over mid-wait.
func TestLongWaitKeepsTheLease(t *testing.T) {
	spec := weightedSpec()
	spec.Gates = nil
	w := newWorld(t, spec)
	tried := false
	w.store = memstore.New(memstore.Options{Clock: w.clock}) // owners are never "gone"
	if _, err := Create(context.Background(), w.store, w.rb, "plan.yaml", "d", t0); err != nil {
		t.Fatal(err)
	}
	w.clock.OnSleep = func(now time.Time) {
		if !tried && now.Sub(t0) > 24*time.Hour {
			tried = true
			if _, err := w.store.Acquire(context.Background(), "api.example.com.", "intruder:2", time.Minute); err == nil {
				t.Error("another owner acquired the lease in the middle of the wait")
			}
		}
	}
	run := w.run(t)
	if !tried || run.State != store.StateDone {
		t.Fatalf("tried %v, state %s", tried, run.State)
	}
}
