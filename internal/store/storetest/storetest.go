package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/store"
)

// Opener returns a new handle onto one store's data each time it is called.
// Two handles stand for two processes sharing the store (`cutover apply` and
// `cutover pause`).
type Opener func() store.Store

// Factory makes a fresh, empty store whose handles all read time from clk.
// It registers any cleanup with t.
type Factory func(t *testing.T, clk clock.Clock) Opener

// Epoch is where every test clock starts.
var Epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the conformance suite against the stores newStore makes.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, clock *fakeclock.Clock, open Opener)
	}{
		{"CreateGetList", testCreateGetList},
		{"CreateInvalid", testCreateInvalid},
		{"CommitCAS", testCommitCAS},
		{"CommitFixedFields", testCommitFixedFields},
		{"CommitAtomic", testCommitAtomic},
		{"EventsGapFree", testEventsGapFree},
		{"RequestWhileLeased", testRequestWhileLeased},
		{"RequestRules", testRequestRules},
		{"LeaseLifecycle", testLeaseLifecycle},
		{"LeaseRelease", testLeaseRelease},
		{"LeasePerHostname", testLeasePerHostname},
		{"ConcurrentCommitters", testConcurrentCommitters},
		{"ConcurrentAcquire", testConcurrentAcquire},
		{"ClosedAndCanceled", testClosedAndCanceled},
		{"LeaseList", testLeaseList},
		{"FencedTakeover", testFencedTakeover},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := fakeclock.New(Epoch)
			tc.fn(t, clock, newStore(t, clock))
		})
	}
}

var ctx = context.Background()

func newRun(name string) store.Run {
	return store.Run{
		Name:       name,
		Hostname:   "www.example.com",
		PlanPath:   "plans/" + name + ".yaml",
		PlanDigest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Runbook:    json.RawMessage(`{"steps":[{"setWeights":{"old":90,"new":10}},{"wait":"5m"}]}`),
		Timers:     map[string]time.Time{"ttl-prep": Epoch.Add(time.Hour)},
		Data:       map[string]json.RawMessage{"zone": json.RawMessage(`"Z123"`)},
	}
}

func mustCreate(t *testing.T, s store.Store, r store.Run) store.Run {
	t.Helper()
	got, err := s.CreateRun(ctx, r)
	if err != nil {
		t.Fatalf("CreateRun(%s): %v", r.Name, err)
	}
	return got
}

func mustAcquire(t *testing.T, s store.Store, hostname, owner string, ttl time.Duration) store.Lease {
	t.Helper()
	l, err := s.Acquire(ctx, hostname, owner, ttl)
	if err != nil {
		t.Fatalf("Acquire(%s, %s): %v", hostname, owner, err)
	}
	return l
}

func mustCommit(t *testing.T, s store.Store, l store.Lease, r store.Run, evs ...store.Event) (store.Run, []store.Event) {
	t.Helper()
	got, stored, err := s.Commit(ctx, l, r, evs...)
	if err != nil {
		t.Fatalf("Commit(%s rev %d): %v", r.Name, r.Revision, err)
	}
	return got, stored
}

func mustGet(t *testing.T, s store.Store, name string) store.Run {
	t.Helper()
	r, err := s.GetRun(ctx, name)
	if err != nil {
		t.Fatalf("GetRun(%s): %v", name, err)
	}
	return r
}

func mustEvents(t *testing.T, s store.Store, name string, after int64) []store.Event {
	t.Helper()
	evs, err := s.Events(ctx, name, after)
	if err != nil {
		t.Fatalf("Events(%s, %d): %v", name, after, err)
	}
	return evs
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}

// sameRun compares the fields a reload must preserve.
func sameRun(t *testing.T, what string, got, want store.Run) {
	t.Helper()
	if got.Name != want.Name || got.Hostname != want.Hostname || got.PlanPath != want.PlanPath ||
		got.PlanDigest != want.PlanDigest || got.State != want.State || got.Reason != want.Reason ||
		got.Step != want.Step || got.StepPhase != want.StepPhase || got.Requested != want.Requested ||
		got.Revision != want.Revision || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
	if compactJSON(t, got.Runbook) != compactJSON(t, want.Runbook) {
		t.Fatalf("%s: runbook %s, want %s", what, got.Runbook, want.Runbook)
	}
	if len(got.Timers) != len(want.Timers) {
		t.Fatalf("%s: timers %v, want %v", what, got.Timers, want.Timers)
	}
	for k, v := range want.Timers {
		if !got.Timers[k].Equal(v) {
			t.Fatalf("%s: timer %s = %v, want %v", what, k, got.Timers[k], v)
		}
	}
	if len(got.Data) != len(want.Data) {
		t.Fatalf("%s: data %v, want %v", what, got.Data, want.Data)
	}
	for k, v := range want.Data {
		if compactJSON(t, got.Data[k]) != compactJSON(t, v) {
			t.Fatalf("%s: data %s = %s, want %s", what, k, got.Data[k], v)
		}
	}
}

func testCreateGetList(t *testing.T, clock *fakeclock.Clock, open Opener) {
	s := open()
	if runs, err := s.ListRuns(ctx); err != nil || len(runs) != 0 {
		t.Fatalf("ListRuns on an empty store = %v, %v; want none", runs, err)
	}
	for _, name := range []string{"run-b", "run-a", "run-c"} {
		in := newRun(name)
		got := mustCreate(t, s, in)
		if got.Revision != 1 || got.State != store.StatePending {
			t.Fatalf("created %s at revision %d state %q, want 1 and pending", name, got.Revision, got.State)
		}
		if !got.CreatedAt.Equal(clock.Now()) || !got.UpdatedAt.Equal(clock.Now()) {
			t.Fatalf("created %s at %v/%v, want the clock's %v", name, got.CreatedAt, got.UpdatedAt, clock.Now())
		}
		in.State, in.Revision, in.CreatedAt, in.UpdatedAt = store.StatePending, 1, clock.Now(), clock.Now()
		sameRun(t, "CreateRun result", got, in)
		sameRun(t, "GetRun after CreateRun", mustGet(t, open(), name), in)
		clock.Advance(time.Second)
	}
	runs, err := open().ListRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	if fmt.Sprint(names) != "[run-a run-b run-c]" {
		t.Fatalf("ListRuns names = %v, want sorted [run-a run-b run-c]", names)
	}
	_, err = s.CreateRun(ctx, newRun("run-b"))
	wantErr(t, "CreateRun with a taken name", err, store.ErrExists)
	if got := mustGet(t, s, "run-b"); got.CreatedAt.Equal(clock.Now()) {
		t.Fatal("a refused CreateRun overwrote the existing run")
	}
	_, err = s.GetRun(ctx, "nope")
	wantErr(t, "GetRun of a missing run", err, store.ErrNotFound)
}

func testCreateInvalid(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s := open()
	cases := map[string]func(r *store.Run){
		"empty name":      func(r *store.Run) { r.Name = "" },
		"empty hostname":  func(r *store.Run) { r.Hostname = "" },
		"unknown state":   func(r *store.Run) { r.State = "sleeping" },
		"unknown request": func(r *store.Run) { r.Requested = "explode" },
		"bad runbook":     func(r *store.Run) { r.Runbook = json.RawMessage(`{"steps":`) },
		"bad data":        func(r *store.Run) { r.Data = map[string]json.RawMessage{"x": json.RawMessage(`nope`)} },
		"control chars":   func(r *store.Run) { r.Name = "a\nb" },
	}
	for what, mutate := range cases {
		r := newRun("bad")
		mutate(&r)
		_, err := s.CreateRun(ctx, r)
		wantErr(t, "CreateRun with "+what, err, store.ErrInvalid)
	}
	if runs, _ := s.ListRuns(ctx); len(runs) != 0 {
		t.Fatalf("invalid runs were stored: %+v", runs)
	}
}

func testCommitCAS(t *testing.T, clock *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("cas"))
	created := r.CreatedAt
	lease := mustAcquire(t, s, r.Hostname, "engine-1", time.Minute)

	clock.Advance(time.Second)
	r.State, r.Step, r.StepPhase = store.StateRunning, 1, "applying"
	r.Timers = map[string]time.Time{"step-1/pause": clock.Now().Add(5 * time.Minute)}
	r.Data["change"] = json.RawMessage(`"C0001"`)
	next, evs := mustCommit(t, s, lease, r,
		store.Event{Type: store.EventWaitStarted, Step: 1},
		store.Event{Type: store.EventChangeIntent, Step: 1, Data: json.RawMessage(`{"id":"C0001"}`)})
	if next.Revision != 2 || !next.UpdatedAt.Equal(clock.Now()) || !next.CreatedAt.Equal(created) {
		t.Fatalf("after Commit: revision %d updated %v created %v; want 2, %v, %v",
			next.Revision, next.UpdatedAt, next.CreatedAt, clock.Now(), created)
	}
	if len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("Commit returned events %+v, want seq 1 and 2", evs)
	}
	sameRun(t, "GetRun after Commit", mustGet(t, open(), "cas"), next)

	// A writer still holding revision 1 must be told, and must change nothing.
	stale := r
	stale.Step, stale.StepPhase = 7, "bogus"
	_, _, err := s.Commit(ctx, lease, stale, store.Event{Type: store.EventWaitStarted, Step: 7})
	wantErr(t, "Commit at a stale revision", err, store.ErrStale)
	sameRun(t, "GetRun after a stale Commit", mustGet(t, s, "cas"), next)
	if evs := mustEvents(t, s, "cas", 0); len(evs) != 2 {
		t.Fatalf("a stale Commit appended events: %+v", evs)
	}

	// A revision from the future is as wrong as one from the past.
	ahead := next
	ahead.Revision = 5
	_, _, err = s.Commit(ctx, lease, ahead)
	wantErr(t, "Commit at a future revision", err, store.ErrStale)

	third, evs := mustCommit(t, s, lease, next, store.Event{Type: store.EventChangeApplied, Step: 1})
	if third.Revision != 3 || len(evs) != 1 || evs[0].Seq != 3 {
		t.Fatalf("third Commit: revision %d events %+v, want 3 and seq 3", third.Revision, evs)
	}

	_, _, err = s.Commit(ctx, lease, newRun("missing"))
	wantErr(t, "Commit of a missing run", err, store.ErrNotFound)
}

func testCommitFixedFields(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("fixed"))
	lease := mustAcquire(t, s, r.Hostname, "engine-1", time.Minute)
	cases := map[string]func(r *store.Run){
		"another runbook": func(r *store.Run) { r.Runbook = json.RawMessage(`{"steps":[]}`) },
		"another digest":  func(r *store.Run) { r.PlanDigest = "0000" },
		"another host":    func(r *store.Run) { r.Hostname = "api.example.com" },
		"unknown state":   func(r *store.Run) { r.State = "sleeping" },
		"bad data":        func(r *store.Run) { r.Data = map[string]json.RawMessage{"x": json.RawMessage(`{`)} },
	}
	for what, mutate := range cases {
		c := r
		mutate(&c)
		// The lease is checked against the stored hostname, so it is valid
		// here and the refusal is about the field itself.
		_, _, err := s.Commit(ctx, lease, c)
		wantErr(t, "Commit with "+what, err, store.ErrInvalid)
	}
	sameRun(t, "GetRun after refused Commits", mustGet(t, s, "fixed"), r)

	// Leaving the runbook and digest out keeps them (a reformatted but equal
	// runbook is accepted too).
	c := r
	c.Runbook, c.PlanDigest = nil, ""
	next, _ := mustCommit(t, s, lease, c)
	if compactJSON(t, next.Runbook) != compactJSON(t, r.Runbook) || next.PlanDigest != r.PlanDigest {
		t.Fatalf("Commit without runbook/digest lost them: %+v", next)
	}
	next.Runbook = json.RawMessage("{\n  \"steps\": [{\"setWeights\": {\"old\": 90, \"new\": 10}}, {\"wait\": \"5m\"}]\n}")
	mustCommit(t, s, lease, next)
}

func testCommitAtomic(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("atomic"))
	lease := mustAcquire(t, s, r.Hostname, "engine-1", time.Minute)
	r, _ = mustCommit(t, s, lease, r, store.Event{Type: store.EventRunStarted})

	// The second event is bad: neither the run nor the first event may land.
	c := r
	c.Step = 4
	_, _, err := s.Commit(ctx, lease, c,
		store.Event{Type: store.EventWaitStarted, Step: 4},
		store.Event{Type: store.EventChangeIntent, Step: 4, Data: json.RawMessage(`{"id":`)})
	wantErr(t, "Commit with an invalid event", err, store.ErrInvalid)
	_, _, err = s.Commit(ctx, lease, c, store.Event{Step: 4})
	wantErr(t, "Commit with an untyped event", err, store.ErrInvalid)
	sameRun(t, "GetRun after a refused Commit", mustGet(t, s, "atomic"), r)
	if evs := mustEvents(t, s, "atomic", 0); len(evs) != 1 {
		t.Fatalf("a refused Commit appended events: %+v", evs)
	}
	// The sequence continues without a hole where the refused events were.
	_, evs := mustCommit(t, s, lease, c, store.Event{Type: store.EventWaitStarted, Step: 4})
	if evs[0].Seq != 2 {
		t.Fatalf("next event after a refused Commit has seq %d, want 2", evs[0].Seq)
	}
}

func testEventsGapFree(t *testing.T, clock *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("log"))
	other := mustCreate(t, s, newRun("other-log"))
	lease := mustAcquire(t, s, r.Hostname, "engine-1", time.Hour)
	explicit := Epoch.Add(-time.Hour)
	total := 0
	for batch := 0; batch < 6; batch++ {
		clock.Advance(time.Second)
		var evs []store.Event
		for i := 0; i < batch%3; i++ { // batches of 0, 1 and 2 events
			evs = append(evs, store.Event{Type: store.EventGateMeasured, Step: batch, Message: fmt.Sprintf("b%d e%d", batch, i)})
		}
		if batch == 4 {
			evs[0].Time = explicit
		}
		var stored []store.Event
		r, stored = mustCommit(t, s, lease, r, evs...)
		for i, e := range stored {
			total++
			if e.Seq != int64(total) || e.Run != "log" || e.Message != evs[i].Message {
				t.Fatalf("batch %d event %d stored as %+v, want seq %d of run log", batch, i, e, total)
			}
			want := clock.Now()
			if batch == 4 && i == 0 {
				want = explicit
			}
			if !e.Time.Equal(want) {
				t.Fatalf("event %d time %v, want %v", e.Seq, e.Time, want)
			}
		}
		// Interleave another run's log: sequences are per run.
		other, _ = mustCommit(t, s, lease, other, store.Event{Type: store.EventWaitStarted})
	}
	all := mustEvents(t, open(), "log", 0)
	if len(all) != total || total != 6 {
		t.Fatalf("Events returned %d events, want %d (= 6)", len(all), total)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d: the log has a gap", i, e.Seq)
		}
	}
	tail := mustEvents(t, s, "log", 4)
	if len(tail) != 2 || tail[0].Seq != 5 || tail[1].Seq != 6 {
		t.Fatalf("Events after 4 = %+v, want seq 5 and 6", tail)
	}
	if evs := mustEvents(t, s, "log", 6); len(evs) != 0 {
		t.Fatalf("Events after the last = %+v, want none", evs)
	}
	if evs := mustEvents(t, s, "other-log", 0); len(evs) != 6 || evs[5].Seq != 6 {
		t.Fatalf("other run's log = %+v, want its own seq 1..6", evs)
	}
	_, err := s.Events(ctx, "missing", 0)
	wantErr(t, "Events of a missing run", err, store.ErrNotFound)
}

func testRequestWhileLeased(t *testing.T, clock *fakeclock.Clock, open Opener) {
	engine, operator := open(), open()
	r := mustCreate(t, engine, newRun("req"))
	lease := mustAcquire(t, engine, r.Hostname, "engine-1", time.Minute)
	r.State = store.StateRunning
	r, _ = mustCommit(t, engine, lease, r, store.Event{Type: store.EventRunStarted})

	clock.Advance(time.Second)
	got, err := operator.Request(ctx, "req", store.RequestPause)
	if err != nil {
		t.Fatalf("Request(pause) while the engine holds the lease: %v", err)
	}
	if got.Requested != store.RequestPause || got.Revision != r.Revision+1 || !got.UpdatedAt.Equal(clock.Now()) {
		t.Fatalf("Request returned %+v, want requested=pause at revision %d", got, r.Revision+1)
	}
	seen := mustGet(t, engine, "req")
	if seen.Requested != store.RequestPause {
		t.Fatalf("the engine does not see the request: %+v", seen)
	}
	evs := mustEvents(t, engine, "req", 1)
	if len(evs) != 1 || evs[0].Type != store.EventRequested || evs[0].Message != "pause" || evs[0].Seq != 2 {
		t.Fatalf("request event = %+v, want one %s event with seq 2", evs, store.EventRequested)
	}

	// The engine's copy predates the request: committing it would erase the
	// request, so it must be refused.
	r.Step = 3
	_, _, err = engine.Commit(ctx, lease, r, store.Event{Type: store.EventWaitStarted, Step: 3})
	wantErr(t, "Commit over an unseen request", err, store.ErrStale)

	// Reloaded, the engine acts on the request and clears it.
	seen.State, seen.Requested = store.StatePaused, ""
	done, _ := mustCommit(t, engine, lease, seen, store.Event{Type: store.EventRunPaused})
	if done.Requested != "" || done.State != store.StatePaused {
		t.Fatalf("after acting on the request: %+v", done)
	}
	// A later request replaces one not yet acted on.
	mustRequest := func(action string) store.Run {
		t.Helper()
		r, err := operator.Request(ctx, "req", action)
		if err != nil {
			t.Fatalf("Request(%s): %v", action, err)
		}
		return r
	}
	mustRequest(store.RequestResume)
	// The request event names who asked: the context's actor.
	if _, err := operator.Request(store.WithActor(ctx, "alice@ops-1"), "req", store.RequestPause); err != nil {
		t.Fatalf("Request(pause) as alice: %v", err)
	}
	evs = mustEvents(t, engine, "req", 0)
	last := evs[len(evs)-1]
	var by struct{ Action, By string }
	if err := json.Unmarshal(last.Data, &by); err != nil || last.Type != store.EventRequested || by.Action != "pause" || by.By != "alice@ops-1" {
		t.Fatalf("request event %s %s: want action pause by alice@ops-1 (%v)", last.Type, last.Data, err)
	}
	if got := mustRequest(store.RequestRollback); got.Requested != store.RequestRollback {
		t.Fatalf("second request left %q, want rollback", got.Requested)
	}
}

func testRequestRules(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("rules"))
	_, err := s.Request(ctx, "rules", "explode")
	wantErr(t, "Request of an unknown action", err, store.ErrInvalid)
	_, err = s.Request(ctx, "missing", store.RequestPause)
	wantErr(t, "Request on a missing run", err, store.ErrNotFound)
	if got := mustGet(t, s, "rules"); got.Revision != r.Revision {
		t.Fatalf("a refused Request wrote the run: %+v", got)
	}

	lease := mustAcquire(t, s, r.Hostname, "engine-1", time.Minute)
	r.State = store.StateDone
	r, _ = mustCommit(t, s, lease, r)
	_, err = s.Request(ctx, "rules", store.RequestRollback)
	wantErr(t, "Request on a finished run", err, store.ErrInvalid)
	if evs := mustEvents(t, s, "rules", 0); len(evs) != 0 {
		t.Fatalf("refused Requests appended events: %+v", evs)
	}
}

func lockedHolder(t *testing.T, what string, err error) store.Lease {
	t.Helper()
	wantErr(t, what, err, store.ErrLocked)
	var le *store.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("%s: error %v is not a *LockedError", what, err)
	}
	return le.Holder
}

func testLeaseLifecycle(t *testing.T, clock *fakeclock.Clock, open Opener) {
	a, b := open(), open()
	r := mustCreate(t, a, newRun("lease"))
	host := r.Hostname

	la := mustAcquire(t, a, host, "engine-a", 10*time.Second)
	if la.Token != 1 || la.Owner != "engine-a" || la.Hostname != host || !la.Expires.Equal(clock.Now().Add(10*time.Second)) {
		t.Fatalf("first lease = %+v, want token 1 for engine-a expiring in 10s", la)
	}
	r, _ = mustCommit(t, a, la, r)

	// Renewing keeps the token and pushes the expiry.
	clock.Advance(8 * time.Second)
	renewed := mustAcquire(t, a, host, "engine-a", 10*time.Second)
	if renewed.Token != la.Token || !renewed.Expires.Equal(clock.Now().Add(10*time.Second)) {
		t.Fatalf("renewed lease = %+v, want token %d expiring in 10s", renewed, la.Token)
	}

	// Another owner is refused while the lease is live, and told who holds it.
	clock.Advance(8 * time.Second) // past the first expiry, before the renewed one
	_, err := b.Acquire(ctx, host, "engine-b", 10*time.Second)
	if h := lockedHolder(t, "Acquire of a live lease", err); h.Owner != "engine-a" || h.Token != 1 {
		t.Fatalf("LockedError holder = %+v, want engine-a token 1", h)
	}
	r, _ = mustCommit(t, a, renewed, r)

	// Once it expires, the other owner takes over with a higher token.
	clock.Advance(3 * time.Second)
	_, _, err = a.Commit(ctx, renewed, r)
	lockedHolder(t, "Commit under an expired lease", err)
	lb := mustAcquire(t, b, host, "engine-b", 10*time.Second)
	if lb.Token != 2 {
		t.Fatalf("takeover lease token = %d, want 2", lb.Token)
	}

	// Fencing: the ex-owner's writes fail even though its revision is current.
	_, _, err = a.Commit(ctx, renewed, r, store.Event{Type: store.EventChangeApplied})
	if h := lockedHolder(t, "Commit with a superseded token", err); h.Owner != "engine-b" || h.Token != 2 {
		t.Fatalf("LockedError holder = %+v, want engine-b token 2", h)
	}
	_, err = a.Acquire(ctx, host, "engine-a", 10*time.Second)
	lockedHolder(t, "re-Acquire by the ex-owner", err)
	if evs := mustEvents(t, b, "lease", 0); len(evs) != 0 {
		t.Fatalf("fenced Commit appended events: %+v", evs)
	}
	cur := mustGet(t, b, "lease")
	if cur.Revision != r.Revision {
		t.Fatalf("fenced Commit wrote the run: revision %d, want %d", cur.Revision, r.Revision)
	}
	mustCommit(t, b, lb, cur, store.Event{Type: store.EventRunResumed})

	// A lease for another hostname does not cover this one.
	other := mustAcquire(t, b, "api.example.com", "engine-b", time.Minute)
	_, _, err = b.Commit(ctx, other, mustGet(t, b, "lease"))
	lockedHolder(t, "Commit under another hostname's lease", err)

	_, err = a.Acquire(ctx, host, "engine-a", 0)
	wantErr(t, "Acquire with a zero ttl", err, store.ErrInvalid)
	_, err = a.Acquire(ctx, host, "", time.Minute)
	wantErr(t, "Acquire with no owner", err, store.ErrInvalid)
}

func testLeaseRelease(t *testing.T, clock *fakeclock.Clock, open Opener) {
	s := open()
	r := mustCreate(t, s, newRun("release"))
	host := r.Hostname
	_, _, err := s.Commit(ctx, store.Lease{Hostname: host, Owner: "x", Token: 1}, r)
	lockedHolder(t, "Commit before any lease", err)

	l1 := mustAcquire(t, s, host, "engine-a", time.Hour)
	if err := s.Release(ctx, store.Lease{Hostname: host, Owner: "engine-b", Token: 1}); err == nil {
		t.Fatal("Release by a non-owner succeeded")
	} else {
		lockedHolder(t, "Release by a non-owner", err)
	}
	if err := s.Release(ctx, l1); err != nil {
		t.Fatalf("Release: %v", err)
	}
	_, _, err = s.Commit(ctx, l1, r)
	lockedHolder(t, "Commit after Release", err)
	err = s.Release(ctx, l1)
	lockedHolder(t, "second Release", err)

	// After a release anyone may take the lease at once, with a new token,
	// even the previous owner: its old token must stay dead.
	l2 := mustAcquire(t, s, host, "engine-b", time.Hour)
	if l2.Token != 2 {
		t.Fatalf("lease after release has token %d, want 2", l2.Token)
	}
	mustCommit(t, s, l2, r)
	clock.Advance(2 * time.Hour)
	l3 := mustAcquire(t, s, host, "engine-a", time.Hour)
	if l3.Token != 3 {
		t.Fatalf("lease after expiry has token %d, want 3", l3.Token)
	}
}

func testLeasePerHostname(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s := open()
	l1 := mustAcquire(t, s, "a.example.com", "engine-a", time.Minute)
	l2 := mustAcquire(t, s, "b.example.com", "engine-b", time.Minute)
	if l1.Token != 1 || l2.Token != 1 {
		t.Fatalf("tokens of independent hostnames = %d, %d; want 1, 1", l1.Token, l2.Token)
	}
}

func testConcurrentCommitters(t *testing.T, _ *fakeclock.Clock, open Opener) {
	const writers = 6
	handles := make([]store.Store, writers)
	for i := range handles {
		handles[i] = open()
	}
	r := mustCreate(t, handles[0], newRun("race"))
	lease := mustAcquire(t, handles[0], r.Hostname, "engine-1", time.Hour)
	for round := 0; round < 3; round++ {
		base := mustGet(t, handles[0], "race")
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			wins   []int
			others []error
		)
		start := make(chan struct{})
		for i := 0; i < writers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				c := base
				c.Step = i
				<-start
				_, _, err := handles[i].Commit(ctx, lease, c, store.Event{Type: store.EventWaitStarted, Step: i})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, i)
				case !errors.Is(err, store.ErrStale):
					others = append(others, err)
				}
			}(i)
		}
		close(start)
		wg.Wait()
		if len(others) > 0 || len(wins) != 1 {
			t.Fatalf("round %d: %d commits on revision %d succeeded (%v), other errors %v; want exactly one",
				round, len(wins), base.Revision, wins, others)
		}
		got := mustGet(t, handles[0], "race")
		if got.Revision != base.Revision+1 || got.Step != wins[0] {
			t.Fatalf("round %d: stored run rev %d step %d, want rev %d step %d (the winner's)",
				round, got.Revision, got.Step, base.Revision+1, wins[0])
		}
		evs := mustEvents(t, handles[0], "race", 0)
		if len(evs) != round+1 || evs[round].Step != wins[0] {
			t.Fatalf("round %d: events %+v, want %d with the winner's last", round, evs, round+1)
		}
	}
}

func testConcurrentAcquire(t *testing.T, _ *fakeclock.Clock, open Opener) {
	const owners = 6
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   []store.Lease
		other []error
	)
	for i := 0; i < owners; i++ {
		s := open()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l, err := s.Acquire(ctx, "race.example.com", fmt.Sprintf("engine-%d", i), time.Minute)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				got = append(got, l)
			case !errors.Is(err, store.ErrLocked):
				other = append(other, err)
			}
		}(i)
	}
	wg.Wait()
	if len(got) != 1 || len(other) > 0 || got[0].Token != 1 {
		t.Fatalf("concurrent Acquire: leases %+v, other errors %v; want exactly one with token 1", got, other)
	}
}

func testClosedAndCanceled(t *testing.T, _ *fakeclock.Clock, open Opener) {
	s, other := open(), open()
	mustCreate(t, s, newRun("closing"))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.GetRun(canceled, "closing"); !errors.Is(err, context.Canceled) {
		t.Fatalf("GetRun with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := s.CreateRun(canceled, newRun("late")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateRun with a canceled context: %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.GetRun(ctx, "closing")
	wantErr(t, "GetRun after Close", err, store.ErrClosed)
	_, err = s.Acquire(ctx, "www.example.com", "engine-1", time.Minute)
	wantErr(t, "Acquire after Close", err, store.ErrClosed)
	// Other handles are unaffected, and the canceled create left nothing.
	mustGet(t, other, "closing")
	_, err = other.GetRun(ctx, "late")
	wantErr(t, "GetRun of a run created with a canceled context", err, store.ErrNotFound)
}

func testLeaseList(t *testing.T, clock *fakeclock.Clock, open Opener) {
	s := open()
	ll, ok := s.(store.LeaseLister)
	if !ok {
		t.Fatalf("%T does not implement store.LeaseLister", s)
	}
	if ls, err := ll.Leases(ctx); err != nil || len(ls) != 0 {
		t.Fatalf("Leases of an empty store = %+v, %v; want none", ls, err)
	}
	b := mustAcquire(t, s, "b.example.com", "engine-b", time.Minute)
	a := mustAcquire(t, open(), "a.example.com", "engine-a", time.Minute)
	ls, err := ll.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same := func(got, want store.Lease) bool {
		return got.Hostname == want.Hostname && got.Owner == want.Owner && got.Token == want.Token && got.Expires.Equal(want.Expires)
	}
	if len(ls) != 2 || !same(ls[0], a) || !same(ls[1], b) || b.Owner != "engine-b" || !b.Expires.Equal(clock.Now().Add(time.Minute)) {
		t.Fatalf("Leases = %+v, want a (engine-a) then b (engine-b), token 1, as acquired", ls)
	}
	if err := s.Release(ctx, b); err != nil {
		t.Fatal(err)
	}
	ls, _ = ll.Leases(ctx)
	if len(ls) != 2 || ls[1].Owner != "" || ls[1].Token != 1 {
		t.Fatalf("Leases after releasing b = %+v, want b with no owner and its token kept", ls)
	}
}

// testFencedTakeover races an ex-owner's commits against a takeover, several
// times: the old owner keeps committing while its lease expires and another
// owner takes over and writes. The lease check, the revision check and the
// write are one transaction, so no write of the old owner may land after
// the new owner's, and the takeover token grows every round.
func testFencedTakeover(t *testing.T, clock *fakeclock.Clock, open Opener) {
	old, next := open(), open()
	r := mustCreate(t, old, newRun("fence"))
	host := r.Hostname
	owners := [2]string{"engine-a", "engine-b"}
	for round := 0; round < 5; round++ {
		la := mustAcquire(t, old, host, owners[round%2], 10*time.Second)
		before := int64(len(mustEvents(t, old, "fence", 0)))
		landed := make(chan struct{})
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			c := mustGet(t, old, "fence")
			first := true
			for {
				select {
				case <-stop:
					return
				default:
				}
				saved, _, err := old.Commit(ctx, la, c, store.Event{Type: store.EventChangeApplied, Message: "old"})
				if err == nil {
					c = saved
					if first {
						close(landed)
						first = false
					}
				} else if errors.Is(err, store.ErrStale) {
					if cur, gerr := old.GetRun(ctx, "fence"); gerr == nil {
						c = cur
					}
				}
			}
		}()
		<-landed
		clock.Advance(11 * time.Second) // the old owner stalled past its lease
		lb := mustAcquire(t, next, host, owners[(round+1)%2], 10*time.Second)
		if lb.Token <= la.Token {
			t.Fatalf("round %d: takeover token %d, want more than %d", round, lb.Token, la.Token)
		}
		_, _, err := store.Update(ctx, next, lb, "fence", 100, func(r *store.Run) ([]store.Event, error) {
			return []store.Event{{Type: store.EventRunResumed, Message: "new"}}, nil
		})
		if err != nil {
			t.Fatalf("round %d: new owner's commit: %v", round, err)
		}
		close(stop)
		<-done
		evs := mustEvents(t, next, "fence", before)
		seenNew := false
		for _, e := range evs {
			switch {
			case e.Message == "new":
				seenNew = true
			case e.Message == "old" && seenNew:
				t.Fatalf("round %d: the old owner's event %d landed after the new owner's write", round, e.Seq)
			}
		}
		if err := next.Release(ctx, lb); err != nil {
			t.Fatal(err)
		}
		// Mark this round done; the next round's old owner is this one's new.
		if _, _, err := store.Update(ctx, next, mustAcquire(t, next, host, "marker", time.Second), "fence", 100,
			func(r *store.Run) ([]store.Event, error) {
				return []store.Event{{Type: store.EventWaitDone, Message: "round"}}, nil
			}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Second)
		old, next = next, old
	}
}
