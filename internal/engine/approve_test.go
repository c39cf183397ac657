package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

func approvalSpec(a *runbook.ApproveSpec) runbook.Spec {
	spec := weightedSpec()
	spec.Hold = time.Hour
	spec.Steps = []runbook.WeightStep{{Weight: 10, Pause: 10 * time.Minute}, {Approve: a}, {Weight: 100}}
	return spec
}

func (w *world) events(t *testing.T) []store.Event {
	t.Helper()
	evs, err := w.store.Events(context.Background(), "api", 0)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func firstEvent(evs []store.Event, typ store.EventType) (store.Event, bool) {
	for _, e := range evs {
		if e.Type == typ {
			return e, true
		}
	}
	return store.Event{}, false
}

func countEvents(evs []store.Event, typ store.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestApprovalWaitsForPromote(t *testing.T) {
	w := newWorld(t, approvalSpec(&runbook.ApproveSpec{}))
	w.gates["errors"] = gate.Func(passing)
	var waitingAt, promotedAt time.Time
	appliedBefore := -1
	w.clock.OnSleep = func(now time.Time) {
		run, _ := w.store.GetRun(context.Background(), "api")
		if run.StepPhase != phaseAwaiting || !promotedAt.IsZero() {
			return
		}
		if waitingAt.IsZero() {
			waitingAt = now
		}
		// Nothing moves on its own, however long nobody answers.
		if now.Sub(waitingAt) >= 6*time.Hour {
			promotedAt = now
			appliedBefore = len(w.dns.Applied)
			if _, err := w.store.Request(context.Background(), "api", store.RequestPromote); err != nil {
				t.Error(err)
			}
		}
	}
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	if promotedAt.IsZero() {
		t.Fatal("the run never waited for approval")
	}
	// Before the promote: TTL lowered and 10 % shifted, nothing more.
	if appliedBefore != 2 {
		t.Fatalf("%d changes applied before approval, want 2 (lower TTL, shift 10%%)", appliedBefore)
	}
	evs := w.events(t)
	granted, ok := firstEvent(evs, store.EventApprovalGranted)
	if !ok {
		t.Fatal("no approval.granted event")
	}
	for _, e := range evs {
		if e.Type == store.EventChangeApplied && strings.Contains(e.Message, "shift 100%") && e.Time.Before(granted.Time) {
			t.Fatalf("shift to 100%% at %s, before the approval at %s", e.Time, granted.Time)
		}
	}
	// Gates stay watched while the run waits.
	waiting, _ := firstEvent(evs, store.EventApprovalWaiting)
	measured := 0
	for _, e := range evs {
		if e.Type == store.EventGateMeasured && e.Time.After(waiting.Time) && e.Time.Before(granted.Time) {
			measured++
		}
	}
	if measured == 0 {
		t.Fatal("no gate measured while waiting for approval")
	}
}

func TestApprovalTimeoutRollsBackAtStoredDeadline(t *testing.T) {
	w := newWorld(t, approvalSpec(&runbook.ApproveSpec{Timeout: 4 * time.Hour, OnTimeout: "rollback"}))
	w.gates["errors"] = gate.Func(passing)
	ctx, cancel := context.WithCancel(context.Background())
	var waitingAt time.Time
	w.clock.OnSleep = func(now time.Time) {
		run, _ := w.store.GetRun(context.Background(), "api")
		if run.StepPhase == phaseAwaiting && waitingAt.IsZero() {
			waitingAt = now
		}
		if !waitingAt.IsZero() && now.Sub(waitingAt) >= time.Hour {
			cancel() // the process dies one hour into the wait
		}
	}
	if _, err := w.engine().Run(ctx, "api"); err == nil {
		t.Fatal("first run was not interrupted")
	}
	w.clock.OnSleep = nil
	w.clock.Advance(2 * time.Hour) // down for two hours
	run := w.run(t)
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s (%s), want rolled-back", run.State, run.Reason)
	}
	evs := w.events(t)
	waiting, _ := firstEvent(evs, store.EventApprovalWaiting)
	timeout, ok := firstEvent(evs, store.EventApprovalTimeout)
	if !ok {
		t.Fatal("no approval.timeout event")
	}
	// The restart did not extend the deadline set when the wait began.
	if d := timeout.Time.Sub(waiting.Time); d < 4*time.Hour || d > 4*time.Hour+time.Minute {
		t.Fatalf("timed out %s after the wait began, want 4h", d)
	}
	if got := w.managed(); len(got) != 1 || !got[0].Equal(oldCNAME(30)) {
		t.Fatalf("records after rollback %v", got)
	}
}

func TestApprovalTimeoutPausesThenPromoteApproves(t *testing.T) {
	w := newWorld(t, approvalSpec(&runbook.ApproveSpec{Timeout: 4 * time.Hour, OnTimeout: "pause"}))
	w.gates["errors"] = gate.Func(passing)
	run := w.run(t)
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "not approved within 4h") {
		t.Fatalf("state %s (%s), want paused for the approval timeout", run.State, run.Reason)
	}
	if _, ok := firstEvent(w.events(t), store.EventApprovalTimeout); !ok {
		t.Fatal("no approval.timeout event")
	}
	// A promote approves the paused approval: the run goes on to 100 %.
	if _, err := w.store.Request(context.Background(), "api", store.RequestPromote); err != nil {
		t.Fatal(err)
	}
	run = w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
}

func TestInconclusiveLimitThenPause(t *testing.T) {
	for _, tc := range []struct {
		name       string
		limit      int
		noData     int // inconclusive measurements before data arrives
		wantPaused bool
	}{
		{"late data within the limit", 4, 4, false},
		{"no data past the limit", 4, 1 << 30, true},
		{"default limit: the first pauses", 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := weightedSpec()
			spec.Gates[0].InconclusiveLimit = tc.limit
			w := newWorld(t, spec)
			n := 0
			w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
				n++
				if n <= tc.noData {
					return gate.Measurement{Phase: gate.Inconclusive, Detail: "no datapoints yet"}
				}
				return gate.Measurement{Phase: gate.Successful}
			})
			run := w.run(t)
			if !tc.wantPaused {
				if run.State != store.StateDone {
					t.Fatalf("state %s (%s), want done: inconclusive within the limit", run.State, run.Reason)
				}
				return
			}
			if run.State != store.StatePaused || !strings.Contains(run.Reason, "inconclusive") {
				t.Fatalf("state %s (%s), want paused as inconclusive", run.State, run.Reason)
			}
			evs := w.events(t)
			if got := countEvents(evs, store.EventGateMeasured); got != tc.limit+1 {
				t.Fatalf("%d measurements before the pause, want limit+1 = %d", got, tc.limit+1)
			}
			if _, ok := firstEvent(evs, store.EventGateInconclusive); !ok {
				t.Fatal("no gate.inconclusive event")
			}
		})
	}
}

func TestDryRunGateRecordsWithoutActing(t *testing.T) {
	spec := weightedSpec()
	spec.Gates[0].DryRun = true
	w := newWorld(t, spec)
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		return gate.Measurement{Phase: gate.Failed, Value: 12, Detail: "5xx rate 12%"}
	})
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s): a dry-run gate must not act", run.State, run.Reason)
	}
	evs := w.events(t)
	dry, ok := firstEvent(evs, store.EventGateDryRun)
	if !ok || !strings.Contains(dry.Message, "would have rolled the run back") {
		t.Fatalf("dry-run verdict not recorded: %+v", dry)
	}
	if _, ok := firstEvent(evs, store.EventRollbackStarted); ok {
		t.Fatal("a dry-run gate started a rollback")
	}
	if countEvents(evs, store.EventGateMeasured) == 0 {
		t.Fatal("no measurement recorded")
	}
}

func TestSkipCurrentStepPastUndecidableGate(t *testing.T) {
	w := newWorld(t, weightedSpec())
	decided := false
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		run, _ := w.store.GetRun(context.Background(), "api")
		if !decided && strings.Contains(fmt.Sprint(run.Timers), "observe") {
			return gate.Measurement{Phase: gate.Inconclusive, Detail: "no datapoints"}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run := w.run(t)
	if run.State != store.StatePaused {
		t.Fatalf("state %s, want paused", run.State)
	}
	rb, _ := Runbook(run)
	pausedAt := rb.Steps[run.Step]
	if pausedAt.Observe == nil {
		t.Fatalf("paused at a %s step, want observe", pausedAt.Kind())
	}
	if _, err := w.store.Request(context.Background(), "api", store.RequestSkip); err != nil {
		t.Fatal(err)
	}
	decided = true
	run = w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	skipped, ok := firstEvent(w.events(t), store.EventStepSkipped)
	if !ok || !strings.Contains(skipped.Message, pausedAt.ID) {
		t.Fatalf("skip not recorded for step %s: %+v", pausedAt.ID, skipped)
	}
}

func TestSkipIgnoredOnAChange(t *testing.T) {
	s := runbook.Step{Change: &runbook.Change{}}
	if skippable(s) {
		t.Fatal("a DNS change must not be skippable")
	}
}

func TestResumeAfterAPauseInTheRollbackKeepsRollingBack(t *testing.T) {
	w := newWorld(t, weightedSpec())
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		return gate.Measurement{Phase: gate.Failed, Value: 9, Detail: "5xx"}
	})
	failed := false
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "roll back") && !failed {
			failed = true
			return errors.New("throttled")
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StatePaused || !failed {
		t.Fatalf("state %s (%s), want paused by the failed rollback change", run.State, run.Reason)
	}
	if _, err := w.store.Request(context.Background(), "api", store.RequestResume); err != nil {
		t.Fatal(err)
	}
	run = w.run(t)
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s (%s), want rolled-back", run.State, run.Reason)
	}
	if got := w.managed(); len(got) != 1 || !got[0].Equal(oldCNAME(30)) {
		t.Fatalf("records %v, want the original", got)
	}
}
