package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// Verifier proves which side serves the hostname.
type Verifier interface {
	Verify(ctx context.Context, rb *runbook.Runbook, v runbook.Verify) VerifyResult
}

// VerifyResult is one verification: OK when every sampled path reached the
// expected side. It lives in package runbook, so a verifier satisfies
// Verifier without importing the engine.
type VerifyResult = runbook.VerifyResult

// HealthChecks sets the Inverted flag of a Route 53 health check, with a
// compare-and-swap on its version (the route53 provider implements it).
type HealthChecks interface {
	SetHealthCheckInverted(ctx context.Context, id string, inverted bool) error
}

// execHealthCheck sets a health check's Inverted flag; doing it twice
// (after an interruption) is harmless.
func (e *Engine) execHealthCheck(ctx context.Context, run *store.Run, s runbook.Step) error {
	hc := s.HealthCheck
	if e.o.HealthChecks == nil {
		return e.pause(ctx, run, store.EventHealthCheckFailed, "step %s: no health check client configured: set health check %s inverted=%v by hand, then resume", s.ID, hc.ID, hc.Inverted)
	}
	if err := e.o.HealthChecks.SetHealthCheckInverted(ctx, hc.ID, hc.Inverted); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return e.pause(ctx, run, store.EventHealthCheckFailed, "step %s: setting health check %s inverted=%v: %v", s.ID, hc.ID, hc.Inverted, err)
	}
	data := mustJSON(hc)
	return e.advance(ctx, run, evData(store.EventHealthCheckUpdated, data, "step %s: health check %s inverted=%v", s.ID, hc.ID, hc.Inverted))
}

// Options configure an Engine. Store, Provider and Clock are required.
type Options struct {
	Store    store.Store
	Provider dns.Provider
	Clock    clock.Clock
	// Gates by name, built from the runbook's gate specs by the caller.
	Gates map[string]gate.Gate
	// CDN runs the CloudFront steps of the alias-move and bridge strategies.
	CDN CDN
	// HealthChecks runs HealthCheck steps (maintenance in failover mode);
	// without it such a step pauses the run.
	HealthChecks HealthChecks
	// Verifier checks Verify steps; without one a Verify step pauses the
	// run: the engine never calls a cutover done on faith.
	Verifier Verifier
	// Owner identifies this process in leases ("host:pid").
	Owner string
	// LeaseTTL is how long the run's lease lasts without renewal. Default 30s.
	LeaseTTL time.Duration
	// Poll is how often propagation and operator requests are checked
	// during waits. Default 2s.
	Poll time.Duration
	// ErrorLimit is how many consecutive gate errors pause the run. Default 4.
	ErrorLimit int
	// VerifyTimeout is how long a failing verification is retried before the
	// run pauses. Default 5m.
	VerifyTimeout time.Duration
	// UnknownChangeSettle is how long to wait for propagation when a change
	// was found applied after a crash and its change id was lost. Default 60s
	// (Route 53: "generally within 60 seconds").
	UnknownChangeSettle time.Duration
	// WaitWhenPaused keeps Run waiting for a resume or rollback request
	// instead of returning when the run pauses.
	WaitWhenPaused bool
	// Webhooks calls the runbook's webhooks; a runbook with webhooks and
	// no client pauses before its first step.
	Webhooks Webhooks
	// OnEvent receives every committed event (progress output,
	// notifications). It must not block: the engine calls it inline.
	OnEvent func(store.Event)
	// Decommission, when set, runs the decommission checklist as each
	// hold ends and records it (EventDecommissionChecked).
	Decommission Decommissioner
}

// Engine executes runs.
type Engine struct {
	o     Options
	lease store.Lease
	// gate breach bookkeeping for the current process
	breachSince map[string]time.Time
	errors      map[string]int
	// inconclusive counts inconclusive measurements in a row, per gate.
	inconclusive map[string]int
	nextDue      map[string]time.Time
	// pending are events to write with the next commit.
	pending []store.Event
}

// New returns an engine with defaults filled in.
func New(o Options) *Engine {
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	if o.ErrorLimit == 0 {
		o.ErrorLimit = 4
	}
	if o.VerifyTimeout == 0 {
		o.VerifyTimeout = 5 * time.Minute
	}
	if o.UnknownChangeSettle == 0 {
		o.UnknownChangeSettle = 60 * time.Second
	}
	if o.Owner == "" {
		o.Owner = DefaultOwner()
	}
	return &Engine{o: o}
}

// Data keys the engine keeps in the run.
const (
	keyLive     = "live"      // []dns.RecordSet the engine believes the zone serves
	keyChangeID = "change_id" // id of the last applied change
	keyRollback = "rollback"  // []runbook.Step compiled when rollback started
)

// Create stores a new run for rb. It fails with store.ErrExists when a run
// of that name exists.
func Create(ctx context.Context, s store.Store, rb *runbook.Runbook, planPath, digest string, now time.Time) (store.Run, error) {
	raw, err := json.Marshal(rb)
	if err != nil {
		return store.Run{}, fmt.Errorf("encoding runbook: %w", err)
	}
	live, _ := json.Marshal(rb.Original)
	r := store.Run{
		Name:       rb.Name,
		Hostname:   rb.Hostname,
		PlanPath:   planPath,
		PlanDigest: digest,
		Runbook:    raw,
		State:      store.StatePending,
		Timers:     map[string]time.Time{},
		Data:       map[string]json.RawMessage{keyLive: live},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	return s.CreateRun(ctx, r)
}

// Runbook decodes a run's stored runbook.
func Runbook(r store.Run) (*runbook.Runbook, error) {
	var rb runbook.Runbook
	if err := json.Unmarshal(r.Runbook, &rb); err != nil {
		return nil, fmt.Errorf("decoding runbook of run %s: %w", r.Name, err)
	}
	return &rb, nil
}

// Terminal reports whether a run can make no further progress.
func Terminal(s store.RunState) bool {
	switch s {
	case store.StateDone, store.StateRolledBack, store.StateFailed, store.StateAborted:
		return true
	}
	return false
}

// errPaused ends Run when the run paused and WaitWhenPaused is off.
var errPaused = errors.New("paused")

// Run executes the named run from its recorded position until it is done,
// rolled back, failed, or paused (when WaitWhenPaused is off). It returns
// the run as last committed.
func (e *Engine) Run(ctx context.Context, name string) (store.Run, error) {
	run, err := e.o.Store.GetRun(ctx, name)
	if err != nil {
		return run, fmt.Errorf("loading run %s: %w", name, err)
	}
	run = normalize(run)
	rb, err := Runbook(run)
	if err != nil {
		return run, err
	}
	if Terminal(run.State) {
		return run, nil
	}
	e.lease, err = e.o.Store.Acquire(ctx, run.Hostname, e.o.Owner, e.o.LeaseTTL)
	if err != nil {
		return run, fmt.Errorf("run %s: %w", name, err)
	}
	defer func() { _ = e.o.Store.Release(context.WithoutCancel(ctx), e.lease) }()
	e.resetGates()
	e.nextDue = map[string]time.Time{}

	if run.State == store.StatePending {
		run.State = store.StateRunning
		if err := e.commit(ctx, &run, ev(store.EventRunStarted, "run %s started: %s %s (%d steps)", run.Name, rb.Strategy, rb.Subject(), len(rb.Steps))); err != nil {
			return run, err
		}
	} else {
		if err := e.commit(ctx, &run, ev(store.EventRunResumed, "run %s resumed at step %d (%s, phase %q)", run.Name, run.Step, run.State, run.StepPhase)); err != nil {
			return run, err
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		if err := e.handleRequest(ctx, rb, &run); err != nil {
			return run, err
		}
		if Terminal(run.State) {
			return run, nil
		}
		if run.State == store.StatePaused {
			if !e.o.WaitWhenPaused {
				return run, nil
			}
			if err := e.o.Clock.Sleep(ctx, e.o.Poll); err != nil {
				return run, err
			}
			if err := e.refresh(ctx, &run); err != nil {
				return run, err
			}
			continue
		}
		steps, err := e.steps(rb, run)
		if err != nil {
			return run, err
		}
		if err := e.hooks(ctx, rb, &run, steps); err != nil {
			if errors.Is(err, errPaused) {
				continue
			}
			return run, err
		}
		if run.Step >= len(steps) {
			if err := e.finish(ctx, rb, &run); err != nil {
				return run, err
			}
			continue
		}
		if err := e.exec(ctx, rb, &run, steps[run.Step]); err != nil {
			if errors.Is(err, errPaused) {
				continue
			}
			return run, err
		}
	}
}

// hooks runs the webhooks due before the current step.
func (e *Engine) hooks(ctx context.Context, rb *runbook.Runbook, run *store.Run, steps []runbook.Step) error {
	if err := e.rollbackHooks(ctx, rb, run, steps); err != nil {
		return err
	}
	return e.entryHooks(ctx, rb, run)
}

// Standby runs the named run as Run does, except that while another
// controller holds the run's lease it waits, trying again every interval,
// instead of failing: a second controller started with Standby takes the run
// over within the lease TTL plus one interval of its owner dying, or
// stalling past its lease, and continues from the recorded position (an
// interrupted change is reconciled against the provider first). A controller
// that loses the lease while running goes back to waiting. It returns what
// Run returns otherwise.
func (e *Engine) Standby(ctx context.Context, name string, interval time.Duration) (store.Run, error) {
	if interval <= 0 {
		interval = e.o.Poll
	}
	for {
		run, err := e.Run(ctx, name)
		if !errors.Is(err, store.ErrLocked) {
			return run, err
		}
		if err := e.o.Clock.Sleep(ctx, interval); err != nil {
			return run, err
		}
	}
}

// steps returns the runbook being executed: the plan's, or the rollback's.
func (e *Engine) steps(rb *runbook.Runbook, run store.Run) ([]runbook.Step, error) {
	if run.State != store.StateRollingBack {
		return rb.Steps, nil
	}
	var steps []runbook.Step
	if raw, ok := run.Data[keyRollback]; ok {
		if err := json.Unmarshal(raw, &steps); err != nil {
			return nil, fmt.Errorf("decoding rollback steps of run %s: %w", run.Name, err)
		}
	}
	return steps, nil
}

func (e *Engine) finish(ctx context.Context, rb *runbook.Runbook, run *store.Run) error {
	if rb.IsBulk() && run.State == store.StateRunning {
		if stopped, err := e.bulkFinish(ctx, rb, run); stopped || err != nil {
			if errors.Is(err, errPaused) {
				return nil
			}
			return err
		}
	}
	if run.State == store.StateRollingBack {
		run.State = store.StateRolledBack
		return e.commit(ctx, run, ev(store.EventRunRolledBack, "run %s rolled back: %s serves the original records", run.Name, rb.Subject()))
	}
	run.State = store.StateDone
	switch rb.Strategy {
	case "maintenance":
		data := mustJSON(map[string]any{"run": run.Name, "original": rb.Original})
		return e.commit(ctx, run,
			evData(store.EventMaintenanceOn, data, "maintenance on: %s answers with the maintenance page; `cutover maintenance off` restores the record sets it found (%d)", rb.Hostname, len(rb.Original)),
			ev(store.EventRunDone, "run %s done: %s is behind the maintenance page", run.Name, rb.Hostname))
	case runbook.StrategyMaintenanceOff:
		data := mustJSON(map[string]any{"maintenance_run": rb.MaintenanceOf, "restored": rb.EndState()})
		return e.commit(ctx, run,
			evData(store.EventMaintenanceOff, data, "maintenance off: %s serves the records from before run %s again", rb.Hostname, rb.MaintenanceOf),
			ev(store.EventRunDone, "run %s done: %s is out of maintenance", run.Name, rb.Hostname))
	}
	return e.commit(ctx, run, ev(store.EventRunDone, "run %s done: %s moved to the new edge", run.Name, rb.Subject()))
}

// handleRequest acts on an operator request recorded by another process.
func (e *Engine) handleRequest(ctx context.Context, rb *runbook.Runbook, run *store.Run) error {
	req := run.Requested
	if req == "" {
		return nil
	}
	run.Requested = ""
	switch req {
	case "pause":
		if run.State == store.StateRunning {
			run.State = store.StatePaused
			run.Reason = "paused by operator"
			return e.commit(ctx, run, ev(store.EventRunPaused, "paused by operator at step %d", run.Step))
		}
	case "resume":
		if run.State == store.StatePaused {
			run.State = store.StateRunning
			if _, rolling := run.Data[keyRollback]; rolling {
				// Paused during its rollback: it goes on rolling back,
				// never back to the plan's steps.
				run.State = store.StateRollingBack
			}
			run.Reason = ""
			return e.commit(ctx, run, ev(store.EventRunResumed, "resumed by operator at step %d", run.Step))
		}
	case "rollback":
		if run.State == store.StateRunning || run.State == store.StatePaused {
			return e.startRollback(ctx, rb, run, "rollback requested by operator", false)
		}
	case store.RequestSkip:
		if s, ok := e.current(rb, *run); ok && skippable(s) {
			return e.skip(ctx, run, s)
		}
	case "promote":
		if s, ok := e.current(rb, *run); ok && s.Approve != nil {
			return e.approve(ctx, run, s)
		}
		if run.State == store.StateRunning {
			// Skip the remaining time of the current observe or hold.
			for k := range run.Timers {
				run.Timers[k] = e.o.Clock.Now()
			}
			return e.commit(ctx, run, ev(store.EventRunPromoted, "promoted by operator at step %d: current wait skipped", run.Step))
		}
	}
	return e.commit(ctx, run, ev(store.EventRequestIgnored, "request %q ignored in state %s", req, run.State))
}

// startRollback compiles the rollback runbook from what is live and switches
// the run to it.
func (e *Engine) startRollback(ctx context.Context, rb *runbook.Runbook, run *store.Run, reason string, exact bool) error {
	live, err := liveOf(*run)
	if err != nil {
		return err
	}
	done := run.Step
	if done < len(rb.Steps) && (rb.Steps[done].Aliases != nil || rb.Steps[done].Associate != nil) {
		// The alias call may have happened before the interruption; its
		// inverse is harmless if it did not.
		done++
	}
	if run.State == store.StateRollingBack {
		done = 0
	}
	var steps []runbook.Step
	if rb.IsBulk() {
		steps = runbook.UnwindBulk(rb)
		prog := loadBulk(*run)
		if run.State != store.StateRollingBack {
			prog.From = done
		}
		prog.Exact = exact
		saveBulk(run, prog)
	} else {
		steps = runbook.Unwind(rb, done, live, exact)
	}
	raw, _ := json.Marshal(steps)
	run.Data[keyRollback] = raw
	run.State = store.StateRollingBack
	run.Reason = reason
	run.Step = 0
	run.StepPhase = ""
	run.Timers = map[string]time.Time{}
	return e.commit(ctx, run, ev(store.EventRollbackStarted, "rollback: %s (%d steps)", reason, len(steps)))
}

func liveOf(run store.Run) ([]dns.RecordSet, error) {
	var live []dns.RecordSet
	if raw, ok := run.Data[keyLive]; ok {
		if err := json.Unmarshal(raw, &live); err != nil {
			return nil, fmt.Errorf("decoding live records of run %s: %w", run.Name, err)
		}
	}
	return live, nil
}

// pause stops the run with a reason.
func (e *Engine) pause(ctx context.Context, run *store.Run, typ store.EventType, format string, args ...any) error {
	run.State = store.StatePaused
	run.Reason = fmt.Sprintf(format, args...)
	if err := e.commit(ctx, run, ev(typ, "%s", run.Reason)); err != nil {
		return err
	}
	return errPaused
}

// advance moves to the next step.
func (e *Engine) advance(ctx context.Context, run *store.Run, events ...store.Event) error {
	run.Step++
	run.StepPhase = ""
	return e.commit(ctx, run, events...)
}

func (e *Engine) timerKey(run store.Run, s runbook.Step) string {
	if run.State == store.StateRollingBack {
		return "rollback/" + s.ID
	}
	return s.ID
}

// exec runs one step from its recorded phase.
func (e *Engine) exec(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	switch {
	case s.Change != nil:
		return e.execChange(ctx, rb, run, s)
	case s.BulkChange != nil:
		return e.execBulkChange(ctx, rb, run, s)
	case s.InSync != nil:
		return e.execInSync(ctx, rb, run, s)
	case s.Wait != nil:
		return e.execWait(ctx, rb, run, s, s.Wait.Duration.D(), e.watching(rb, *run), s.Wait.Reason)
	case s.Observe != nil:
		return e.execWait(ctx, rb, run, s, s.Observe.Duration.D(), s.Observe.Gates, "observe")
	case s.Hold != nil:
		return e.execHold(ctx, rb, run, s)
	case s.Verify != nil:
		return e.execVerify(ctx, rb, run, s)
	case s.Aliases != nil:
		return e.execAliases(ctx, rb, run, s)
	case s.Associate != nil:
		return e.execAssociate(ctx, rb, run, s)
	case s.WatchAlias != nil:
		return e.execWatchAlias(ctx, rb, run, s)
	case s.Deployed != nil:
		return e.execDeployed(ctx, rb, run, s)
	case s.HealthCheck != nil:
		return e.execHealthCheck(ctx, run, s)
	case s.Drain != nil:
		return e.execDrain(ctx, rb, run, s)
	case s.Staging != nil:
		return e.execStaging(ctx, rb, run, s)
	case s.Approve != nil:
		return e.execApprove(ctx, rb, run, s)
	}
	return fmt.Errorf("step %s: no action set", s.ID)
}

// execChange applies a change set exactly once across crashes: the intent
// is committed first; a resumed run that finds the intent without an outcome
// reconciles against the provider before doing anything.
func (e *Engine) execChange(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	cs := s.Change.Set
	after, err := applyToLive(mustLive(*run), cs)
	if err != nil {
		return e.pause(ctx, run, store.EventChangeFailed, "step %s: %v", s.ID, err)
	}
	if run.StepPhase == "applying" {
		// The process stopped between recording the intent and recording
		// the outcome: ask the provider what it serves.
		current, err := e.o.Provider.Records(ctx, cs.Zone, rb.Hostname)
		if err != nil {
			return e.pause(ctx, run, store.EventChangeFailed, "step %s: reading %s to reconcile an interrupted change: %v", s.ID, rb.Hostname, err)
		}
		current = managedOnly(current, rb.Hostname)
		switch {
		case sameSets(current, after):
			return e.changeDone(ctx, run, s, after, "", store.EventChangeReconciled, "step %s: %s was applied before the interruption", s.ID, s.Title)
		case sameSets(current, mustLive(*run)):
			// Not applied: fall through and apply.
		default:
			ce := &dns.ConflictError{Zone: cs.Zone, Expected: mustLive(*run), Actual: current}
			return e.pause(ctx, run, store.EventChangeConflict, "step %s: %v", s.ID, ce)
		}
	} else {
		run.StepPhase = "applying"
		raw, _ := json.Marshal(cs)
		if err := e.commit(ctx, run, evData(store.EventChangeIntent, raw, "step %s: %s", s.ID, s.Title)); err != nil {
			return err
		}
	}
	if err := e.fence(ctx, run.Hostname); err != nil {
		return err
	}
	id, err := e.o.Provider.Apply(ctx, cs)
	if err != nil {
		if errors.Is(err, dns.ErrConflict) {
			// An earlier owner of the run may have applied this very change
			// after this process read the records (it stalled between its
			// intent and its call): then the change is done, not conflicting.
			if current, rerr := e.o.Provider.Records(ctx, cs.Zone, rb.Hostname); rerr == nil && sameSets(managedOnly(current, rb.Hostname), after) {
				return e.changeDone(ctx, run, s, after, "", store.EventChangeReconciled, "step %s: %s was applied by an earlier owner of the run", s.ID, s.Title)
			}
			return e.pause(ctx, run, store.EventChangeConflict, "step %s: %v", s.ID, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Outcome unknown or refused: pause; a resume reconciles first.
		return e.pause(ctx, run, store.EventChangeFailed, "step %s: applying change to zone %s: %v", s.ID, cs.Zone, err)
	}
	return e.changeDone(ctx, run, s, after, id, store.EventChangeApplied, "step %s: %s (change %s)", s.ID, s.Title, id)
}

func (e *Engine) changeDone(ctx context.Context, run *store.Run, s runbook.Step, after []dns.RecordSet, id string, typ store.EventType, format string, args ...any) error {
	live, _ := json.Marshal(after)
	run.Data[keyLive] = live
	cid, _ := json.Marshal(id)
	run.Data[keyChangeID] = cid
	// before/after are the record sets the change set replaced and
	// created (its Olds and News): what the provider's own change log
	// shows for this change id, for the audit report.
	var olds, news []dns.RecordSet
	for _, c := range s.Change.Set.Changes {
		if c.Old != nil {
			olds = append(olds, *c.Old)
		}
		if c.New != nil {
			news = append(news, *c.New)
		}
	}
	data, _ := json.Marshal(map[string]any{"change_id": id, "weights": s.Change.Weights, "live": after,
		"step_id": s.ID, "zone": s.Change.Set.Zone, "before": nonNilSets(olds), "after": nonNilSets(news)})
	return e.advance(ctx, run, evData(typ, data, format, args...))
}

func nonNilSets(s []dns.RecordSet) []dns.RecordSet {
	if s == nil {
		return []dns.RecordSet{}
	}
	return s
}

func (e *Engine) execInSync(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	if rb.IsBulk() {
		return e.execBulkInSync(ctx, rb, run, s)
	}
	key := e.timerKey(*run, s)
	deadline, err := e.deadline(ctx, run, key, s.InSync.Timeout.D())
	if err != nil {
		return err
	}
	var id string
	_ = json.Unmarshal(run.Data[keyChangeID], &id)
	checker, can := e.o.Provider.(dns.InSyncChecker)
	if !can {
		delete(run.Timers, key)
		return e.advance(ctx, run, ev(store.EventChangeInSync, "step %s: provider applies changes synchronously", s.ID))
	}
	if id == "" {
		// Change id lost in a crash: allow the documented propagation time.
		settle := e.o.Clock.Now().Add(e.o.UnknownChangeSettle)
		if err := e.sleepUntil(ctx, rb, run, settle, e.watching(rb, *run)); err != nil {
			return err
		}
		delete(run.Timers, key)
		return e.advance(ctx, run, ev(store.EventChangeInSync, "step %s: change id unknown after an interruption; waited %s for propagation", s.ID, e.o.UnknownChangeSettle))
	}
	start := e.o.Clock.Now()
	for {
		ok, err := checker.InSync(ctx, id)
		if err == nil && ok {
			delete(run.Timers, key)
			return e.advance(ctx, run, ev(store.EventChangeInSync, "step %s: change %s is INSYNC (%s)", s.ID, id, e.o.Clock.Now().Sub(start).Round(time.Millisecond)))
		}
		if !e.o.Clock.Now().Before(deadline) {
			return e.pause(ctx, run, store.EventChangeTimeout, "step %s: change %s not INSYNC after %s (last error: %v)", s.ID, id, s.InSync.Timeout.D(), err)
		}
		next := e.o.Clock.Now().Add(e.o.Poll)
		if next.After(deadline) {
			next = deadline
		}
		if err := e.sleepUntil(ctx, rb, run, next, e.watching(rb, *run)); err != nil {
			return err
		}
	}
}

// deadline is the stored deadline under key, set d from now (and
// committed, so a restart keeps it) the first time.
func (e *Engine) deadline(ctx context.Context, run *store.Run, key string, d time.Duration) (time.Time, error) {
	if t, ok := run.Timers[key]; ok {
		return t, nil
	}
	t := e.o.Clock.Now().Add(d)
	run.Timers[key] = t
	return t, e.commit(ctx, run)
}

// watching lists the gates to keep evaluating during waits that are not
// observations (propagation, TTL): once a shift has sent traffic to the
// new edge, a breach must be caught within one gate interval, not after
// the wait. Drain gates are waited on, never watched.
func (e *Engine) watching(rb *runbook.Runbook, run store.Run) []string {
	if run.State != store.StateRunning {
		return nil
	}
	moved := false
	for i := 0; i < run.Step && i < len(rb.Steps); i++ {
		if c := rb.Steps[i].Change; c != nil && c.Weights != nil && c.Weights.New > 0 {
			moved = true
		}
		if c := rb.Steps[i].BulkChange; c != nil && c.Weights != nil && c.Weights.New > 0 {
			moved = true
		}
	}
	if !moved {
		return nil
	}
	var names []string
	for _, g := range rb.Gates {
		if g.Kind != runbook.KindDrain {
			names = append(names, g.Name)
		}
	}
	return names
}

// execWait waits until the step's stored deadline, evaluating gates.
func (e *Engine) execWait(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step, d time.Duration, gates []string, what string) error {
	key := e.timerKey(*run, s)
	deadline, ok := run.Timers[key]
	if !ok {
		deadline = e.o.Clock.Now().Add(d)
		run.Timers[key] = deadline
		if err := e.commit(ctx, run, evData(store.EventWaitStarted, mustJSON(map[string]any{"until": deadline, "duration": d.String(), "gates": gates}), "step %s: %s until %s (%s)", s.ID, what, deadline.UTC().Format(time.RFC3339), d)); err != nil {
			return err
		}
	}
	if err := e.sleepUntil(ctx, rb, run, deadline, gates); err != nil {
		return err
	}
	if run.State != store.StateRunning && run.State != store.StateRollingBack {
		return errPaused
	}
	delete(run.Timers, key)
	return e.advance(ctx, run, ev(store.EventWaitDone, "step %s: %s complete", s.ID, what))
}

// sleepUntil waits for deadline in Poll slices, checking operator requests
// and evaluating gates as they fall due. It returns errPaused when the run
// left the running state (paused, rolling back) while waiting.
func (e *Engine) sleepUntil(ctx context.Context, rb *runbook.Runbook, run *store.Run, deadline time.Time, gates []string) error {
	state, at := run.State, run.Step
	for {
		now := e.o.Clock.Now()
		if len(gates) > 0 {
			if err := e.evaluate(ctx, rb, run, gates, now); err != nil {
				return err
			}
		}
		if !now.Before(deadline) {
			return nil
		}
		step := deadline.Sub(now)
		if step > e.o.Poll {
			step = e.o.Poll
		}
		if step > e.o.LeaseTTL/2 {
			step = e.o.LeaseTTL / 2 // wake in time to renew the lease
		}
		if due := e.nextGateDue(gates); !due.IsZero() && due.After(now) && due.Sub(now) < step {
			step = due.Sub(now)
		}
		if err := e.o.Clock.Sleep(ctx, step); err != nil {
			return err
		}
		if err := e.renew(ctx, run.Hostname); err != nil {
			return err
		}
		if err := e.refresh(ctx, run); err != nil {
			return err
		}
		if run.Requested != "" {
			if err := e.handleRequest(ctx, rb, run); err != nil {
				return err
			}
			if run.State != state || run.Step != at {
				return errPaused // paused, rolling back, or the step was skipped
			}
			if run.StepPhase == phaseApproved {
				return nil
			}
			if d, ok := run.Timers[currentKey(run)]; ok && d.Before(deadline) {
				deadline = d // promoted
			}
		}
	}
}

func currentKey(run *store.Run) string {
	// The engine keeps at most one timer per step; when promoted, every
	// timer was moved to now, so any of them tells the new deadline.
	keys := make([]string, 0, len(run.Timers))
	for k := range run.Timers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

func (e *Engine) nextGateDue(gates []string) time.Time {
	var next time.Time
	for _, g := range gates {
		if d, ok := e.nextDue[g]; ok && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}

// evaluate measures the gates that are due and acts on a breach.
func (e *Engine) evaluate(ctx context.Context, rb *runbook.Runbook, run *store.Run, names []string, now time.Time) error {
	for _, name := range names {
		if due, ok := e.nextDue[name]; ok && now.Before(due) {
			continue
		}
		spec, ok := gateSpec(rb, name)
		if !ok {
			return fmt.Errorf("gate %s: not in the runbook", name)
		}
		interval := spec.Interval.D()
		if interval <= 0 {
			interval = 30 * time.Second
		}
		e.nextDue[name] = now.Add(interval)
		g, ok := e.o.Gates[name]
		if !ok {
			return e.pause(ctx, run, store.EventGateMissing, "gate %s has no provider configured", name)
		}
		m := g.Measure(ctx, now)
		m.Gate, m.At = name, now
		data, _ := json.Marshal(m)
		// The measurement rides on the next commit: the one that acts on
		// it (pause, rollback) or, when nothing happens, the flush below —
		// one fsync between a breach and the revert instead of two.
		measured := evData(store.EventGateMeasured, data, "gate %s: %s value=%g %s", name, m.Phase, m.Value, m.Detail)
		measured.Step = run.Step
		e.pending = append(e.pending, measured)
		if err := e.judge(ctx, rb, run, spec, m, now); err != nil {
			return err
		}
		if err := e.commit(ctx, run); err != nil {
			return err
		}
	}
	return nil
}

func gateSpec(rb *runbook.Runbook, name string) (runbook.Gate, bool) {
	for _, g := range rb.Gates {
		if g.Name == name {
			return g, true
		}
	}
	return runbook.Gate{}, false
}

func (e *Engine) execVerify(ctx context.Context, rb *runbook.Runbook, run *store.Run, s runbook.Step) error {
	if e.o.Verifier == nil {
		return e.pause(ctx, run, store.EventVerifyUnavailable, "step %s: no verifier configured: cannot prove %s reaches the %s; check by hand, then resume", s.ID, rb.Hostname, rb.Side(s.Verify.Expect))
	}
	key := e.timerKey(*run, s)
	deadline, ok := run.Timers[key]
	if !ok {
		deadline = e.o.Clock.Now().Add(e.o.VerifyTimeout)
		run.Timers[key] = deadline
		if err := e.commit(ctx, run); err != nil {
			return err
		}
	}
	last := ""
	for {
		res := e.verify(ctx, rb, *run, *s.Verify)
		data, _ := json.Marshal(res)
		if res.OK {
			delete(run.Timers, key)
			return e.advance(ctx, run, evData(store.EventVerifyPassed, data, "step %s: %s", s.ID, res.Detail))
		}
		// Log a failed verification when what it found changes, not on
		// every retry.
		if res.Detail != last {
			last = res.Detail
			if err := e.commit(ctx, run, evData(store.EventVerifyFailed, data, "step %s: %s", s.ID, res.Detail)); err != nil {
				return err
			}
		}
		if !e.o.Clock.Now().Before(deadline) {
			return e.pause(ctx, run, store.EventVerifyTimeout, "step %s: %s still not served only by the %s after %s: %s", s.ID, rb.Hostname, rb.Side(s.Verify.Expect), e.o.VerifyTimeout, res.Detail)
		}
		if err := e.sleepUntil(ctx, rb, run, e.o.Clock.Now().Add(e.o.Poll), nil); err != nil {
			return err
		}
	}
}

// refresh re-reads the run to see operator requests. The engine holds the
// lease, so the only foreign writes are requests.
func (e *Engine) refresh(ctx context.Context, run *store.Run) error {
	cur, err := e.o.Store.GetRun(ctx, run.Name)
	if err != nil {
		return fmt.Errorf("reading run %s: %w", run.Name, err)
	}
	if cur.Revision != run.Revision {
		*run = normalize(cur)
	}
	return nil
}

// commit writes the run and events atomically under the lease, renewing the
// lease when half of it has passed.
func (e *Engine) commit(ctx context.Context, run *store.Run, events ...store.Event) error {
	now := e.o.Clock.Now()
	if err := e.renew(ctx, run.Hostname); err != nil {
		return err
	}
	run.UpdatedAt = now
	for i := range events {
		events[i].Run = run.Name
		events[i].Time = now
		events[i].Step = run.Step
	}
	if len(e.pending) > 0 {
		// Queued events keep the step they were recorded at.
		for i := range e.pending {
			e.pending[i].Run = run.Name
			e.pending[i].Time = now
		}
		events = append(e.pending, events...)
		e.pending = nil
	}
	for attempt := 0; ; attempt++ {
		// The runbook is fixed at creation; sending it empty lets the store
		// keep the stored one instead of re-checking it on every commit.
		r := *run
		r.Runbook = nil
		saved, stored, err := e.o.Store.Commit(ctx, e.lease, r, events...)
		if err == nil {
			*run = normalize(saved)
			if e.o.OnEvent != nil {
				for _, x := range stored {
					e.o.OnEvent(x)
				}
			}
			return nil
		}
		if !errors.Is(err, store.ErrStale) || attempt > 0 {
			return fmt.Errorf("saving run %s: %w", run.Name, err)
		}
		// An operator request landed meanwhile: keep it, write ours on top.
		cur, gerr := e.o.Store.GetRun(ctx, run.Name)
		if gerr != nil {
			return fmt.Errorf("saving run %s: %w", run.Name, gerr)
		}
		run.Revision = cur.Revision
		if run.Requested == "" {
			run.Requested = cur.Requested
		}
	}
}

func ev(typ store.EventType, format string, args ...any) store.Event {
	return store.Event{Type: typ, Message: fmt.Sprintf(format, args...)}
}

func evData(typ store.EventType, data json.RawMessage, format string, args ...any) store.Event {
	return store.Event{Type: typ, Message: fmt.Sprintf(format, args...), Data: data}
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func mustLive(run store.Run) []dns.RecordSet {
	live, _ := liveOf(run)
	return live
}

// normalize gives a run loaded from a store non-nil maps.
func normalize(r store.Run) store.Run {
	if r.Timers == nil {
		r.Timers = map[string]time.Time{}
	}
	if r.Data == nil {
		r.Data = map[string]json.RawMessage{}
	}
	return r
}

// fence renews the run's lease right before a call that changes the world
// (a DNS change, an alias move), whatever is left of it. The store refuses
// the renewal once another controller took the run over, so a process that
// was stopped (SIGSTOP, a paused VM, a partition) past its lease and then
// continues learns here that it lost the run, and never makes the call; and
// a call that is made starts with a whole lease ahead of it.
func (e *Engine) fence(ctx context.Context, hostname string) error {
	l, err := e.o.Store.Acquire(ctx, hostname, e.o.Owner, e.o.LeaseTTL)
	if err != nil {
		return fmt.Errorf("renewing lease on %s before changing it: %w", hostname, err)
	}
	e.lease = l
	return nil
}

// renew extends the run's lease once half of it has passed, so a run that
// waits for hours keeps it and no other process takes the run over.
func (e *Engine) renew(ctx context.Context, hostname string) error {
	if e.lease.Expires.Sub(e.o.Clock.Now()) >= e.o.LeaseTTL/2 {
		return nil
	}
	l, err := e.o.Store.Acquire(ctx, hostname, e.o.Owner, e.o.LeaseTTL)
	if err != nil {
		return fmt.Errorf("renewing lease on %s: %w", hostname, err)
	}
	e.lease = l
	return nil
}
