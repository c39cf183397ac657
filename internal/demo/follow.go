package demo

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/lab/load"
	"github.com/cutover/cutover/internal/lab/origin"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// clientTally counts, as client results arrive, the failures the injected
// fault caused and the requests the old origin served after the run was
// done. Results arrive on the load's goroutines, so it locks.
type clientTally struct {
	newAddr string

	mu          sync.Mutex
	faultAt     time.Time
	doneAt      time.Time
	faultCaused int64
	lateOld     int64
}

func (c *clientTally) result(r load.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// A 5xx from the new side answered after the fault was set is the
	// fault's (the request may have started before): the origin's own
	// 503, or the new load balancer's once its health check marks the
	// origin unhealthy.
	answered := r.At.Add(r.Latency)
	if !c.faultAt.IsZero() && answered.After(c.faultAt) && r.Class == load.Class5xx && (r.Origin == "new" || addrHost(r.Addr) == c.newAddr) {
		c.faultCaused++
	}
	if !c.doneAt.IsZero() && r.At.After(c.doneAt) && r.Origin == "old" {
		c.lateOld++
	}
}

func (c *clientTally) faultInjected(at time.Time) {
	c.mu.Lock()
	c.faultAt = at
	c.mu.Unlock()
}

func (c *clientTally) runDone(at time.Time) {
	c.mu.Lock()
	c.doneAt = at
	c.mu.Unlock()
}

// counts returns the failures the fault caused, the requests the old
// origin served after the run was done, and when the fault was injected.
func (c *clientTally) counts() (faultCaused, lateOld int64, faultAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.faultCaused, c.lateOld, c.faultAt
}

// follower follows the run's events as the engine commits them: it prints
// them, records how far the plan got and what each gate measured, notes
// when the rollback change was submitted, and injects the fault once the
// run shifted half the traffic. Events arrive on the engine's goroutine
// only; read the follower after the run returns.
type follower struct {
	say     func(format string, args ...any)
	live    *load.Live
	clients *clientTally
	// injectFault, when set, is started once the change that sends 50% to
	// the new edge is applied.
	injectFault func()

	rollingBack       bool
	reached           int
	gateValues        map[int][]string
	rollbackSubmitted time.Time
}

// newFollower returns a follower that prints with say and counts with
// clients; set live before the first event arrives.
func newFollower(say func(string, ...any), clients *clientTally) *follower {
	return &follower{say: say, clients: clients, reached: -1, gateValues: map[int][]string{}}
}

// faultInjector returns the rollback scenario's fault: a second after it
// starts, the new origin answers 503 to every request.
func faultInjector(newOrigin *origin.Origin, clients *clientTally, say func(string, ...any)) func() {
	return func() {
		time.Sleep(time.Second)
		// Noted before it is set, so that no answer of the fault comes
		// before the time it is counted from.
		clients.faultInjected(time.Now())
		_ = newOrigin.SetFault(origin.Fault{ErrorRate: 1, Status: 503})
		say("FAULT injected: origin %q now answers 503 to every request", "new")
	}
}

func (f *follower) event(ev store.Event) {
	if ev.Type == store.EventRollbackStarted {
		f.rollingBack = true
	}
	if ev.Type == store.EventRunDone {
		f.clients.runDone(ev.Time)
	}
	if !f.rollingBack && ev.Step > f.reached {
		f.reached = ev.Step
	}
	switch ev.Type {
	case store.EventGateMeasured:
		f.gateValues[ev.Step] = append(f.gateValues[ev.Step], ev.Message)
		return
	case store.EventChangeIntent:
		// Once the run rolls back, every change it submits is the
		// rollback's.
		if f.rollingBack {
			f.rollbackSubmitted = ev.Time
		}
	case store.EventChangeApplied:
		if f.injectFault != nil && appliedWeights(ev).New == 50 {
			go f.injectFault()
		}
	}
	f.say("%-18s %s", ev.Type, ev.Message)
	switch ev.Type {
	case store.EventChangeApplied, store.EventWaitDone, store.EventVerifyPassed, store.EventChangeInSync:
		snap := f.live.Snapshot().Summary
		failed := snap.Total - snap.ByClass[load.ClassOK] - snap.ByClass[load.ClassMaintenance]
		if page := snap.ByOrigin[pageOrigin]; page > 0 {
			f.say("                   clients so far: %d requests, old %d, maintenance page %d, failed %d", snap.Total, snap.ByOrigin["old"], page, failed)
			return
		}
		f.say("                   clients so far: %d requests, old %d, new %d, failed %d", snap.Total, snap.ByOrigin["old"], snap.ByOrigin["new"], failed)
	}
}

// steps lists the runbook's steps as the run saw them.
func (f *follower) steps(rb *runbook.Runbook) []Step {
	var steps []Step
	for i, s := range rb.Steps {
		st := Step{Index: i + 1, Title: s.Title, Gates: f.gateValues[i], Reached: i <= f.reached}
		if s.Change != nil && s.Change.Weights != nil {
			st.Weights = fmt.Sprintf("old %d%% / new %d%%", s.Change.Weights.Old, s.Change.Weights.New)
		}
		steps = append(steps, st)
	}
	return steps
}

// appliedWeights reads the weights a change.applied event records; zero
// when the change carries none.
func appliedWeights(ev store.Event) runbook.Weights {
	var d struct {
		Weights *runbook.Weights `json:"weights"`
	}
	if json.Unmarshal(ev.Data, &d) != nil || d.Weights == nil {
		return runbook.Weights{}
	}
	return *d.Weights
}
