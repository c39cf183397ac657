package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// RunState is where a run stands as a whole. The engine moves a run between
// states; the store only checks that a state is one of the known values.
type RunState string

// The states a run can be in.
const (
	StatePending     RunState = "pending"
	StateRunning     RunState = "running"
	StatePaused      RunState = "paused"
	StateRollingBack RunState = "rolling-back"
	StateRolledBack  RunState = "rolled-back"
	StateDone        RunState = "done"
	StateFailed      RunState = "failed"
	StateAborted     RunState = "aborted"
)

// States lists every valid RunState, in the order a reader would expect them.
var States = []RunState{
	StatePending, StateRunning, StatePaused, StateRollingBack,
	StateRolledBack, StateDone, StateFailed, StateAborted,
}

// Valid reports whether s is one of the known states.
func (s RunState) Valid() bool {
	for _, v := range States {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether a run in state s is over: nothing will move it
// again, so operator requests against it are refused.
func (s RunState) Terminal() bool {
	switch s {
	case StateRolledBack, StateDone, StateFailed, StateAborted:
		return true
	}
	return false
}

// The operator requests that Request accepts. They are recorded in
// Run.Requested for the engine to act on at its next transition.
const (
	RequestPause    = "pause"
	RequestResume   = "resume"
	RequestRollback = "rollback"
	RequestPromote  = "promote"
	// RequestSkip skips the current waiting step (an observation, a hold,
	// an approval, a drain or a verification whose gate cannot decide),
	// un-pausing the run if a gate had paused it there.
	RequestSkip = "skip"
)

// Requests lists every valid operator request.
var Requests = []string{RequestPause, RequestResume, RequestRollback, RequestPromote, RequestSkip}

// ValidRequest reports whether action is one of Requests.
func ValidRequest(action string) bool {
	for _, v := range Requests {
		if action == v {
			return true
		}
	}
	return false
}

// Run is one execution of a cutover plan, as stored. Everything the engine
// needs to resume after the process dies lives here; anything held only in
// memory is lost by design.
//
// A Run is persisted as JSON on disk in plain text: it must never carry
// secrets (credentials, tokens, signed URLs). Store references to them
// (profile names, role ARNs) instead.
type Run struct {
	// Name identifies the run; unique within a store and fixed at creation.
	Name string `json:"name"`
	// Hostname is the hostname the run moves. It is fixed at creation and
	// names the lease that every Commit must hold.
	Hostname string `json:"hostname"`
	// PlanPath is where the plan was read from, for humans only.
	PlanPath string `json:"planPath,omitempty"`
	// PlanDigest is the hex sha256 of the plan bytes; fixed at creation.
	PlanDigest string `json:"planDigest,omitempty"`
	// Runbook is the compiled runbook, opaque to the store. It is stored once
	// and never recompiled on resume, so Commit refuses to change it.
	Runbook json.RawMessage `json:"runbook,omitempty"`
	// State is the run's overall state; empty means pending at creation.
	State RunState `json:"state"`
	// Reason says, for humans, why the run is paused, failed or aborted.
	Reason string `json:"reason,omitempty"`
	// Step is the index of the current step in the runbook.
	Step int `json:"step"`
	// StepPhase is the engine-defined position inside the step
	// ("applying", "waiting-insync", "pausing", …).
	StepPhase string `json:"stepPhase,omitempty"`
	// Timers are durable deadlines by name (e.g. "step-3/pause"). Storing the
	// deadline rather than a duration is what keeps a wait from restarting
	// from zero after a restart.
	Timers map[string]time.Time `json:"timers,omitempty"`
	// Data is engine scratch that must survive restarts (change ids, the
	// observed records a compare-and-swap was computed from, …).
	Data map[string]json.RawMessage `json:"data,omitempty"`
	// Requested is an operator request (one of Requests) not yet acted on;
	// the engine clears it in the Commit that acts on it.
	Requested string `json:"requested,omitempty"`
	// CreatedAt is set by the store at creation and never changes.
	CreatedAt time.Time `json:"createdAt"`
	// UpdatedAt is set by the store on every write.
	UpdatedAt time.Time `json:"updatedAt"`
	// Revision is bumped by every successful write (1 after CreateRun). A
	// Commit is accepted only if it carries the stored revision, so a writer
	// that did not see the latest write (an operator request, another
	// engine) is told so instead of overwriting it.
	Revision int64 `json:"revision"`
}

// Event is one entry of a run's append-only log. Every engine transition is
// an event, so other components (status, the dashboard, notifications) can
// follow a run by reading events after the last sequence they saw.
//
// Events are stored in plain text and must never carry secrets.
type Event struct {
	// Seq is 1-based, per run, assigned by the store and gap-free.
	Seq int64 `json:"seq"`
	// Time is when the event happened; the store fills it from its clock
	// when zero.
	Time time.Time `json:"time"`
	// Run is the run's name, filled by the store.
	Run string `json:"run"`
	// Type names what happened: one of EventTypes (EventChangeApplied,
	// EventGateMeasured, EventRollbackStarted, …).
	Type EventType `json:"type"`
	// Step is the runbook step the event belongs to.
	Step int `json:"step"`
	// Message is a human-readable line.
	Message string `json:"message,omitempty"`
	// Data is machine-readable detail; it must be valid JSON when set.
	Data json.RawMessage `json:"data,omitempty"`
}

// Lease is the right to write runs for one hostname. Only one owner holds it
// at a time; Token is the fencing revision: it grows every time a new owner
// takes the lease, and Commit refuses any token but the current one, so an
// owner that lost the lease (it stalled past expiry and someone took over)
// cannot write again even if it still believes it holds it.
type Lease struct {
	Hostname string    `json:"hostname"`
	Owner    string    `json:"owner"`
	Token    int64     `json:"token"`
	Expires  time.Time `json:"expires"`
}

// Errors returned by every Store. Test for them with errors.Is: they are
// wrapped with the run, hostname or file they are about.
var (
	// ErrNotFound: no run by that name.
	ErrNotFound = errors.New("not found")
	// ErrExists: CreateRun with a name already taken.
	ErrExists = errors.New("already exists")
	// ErrStale: Commit with a revision that is not the stored one. Reload the
	// run, reapply the change, and commit again (see Update).
	ErrStale = errors.New("stale revision")
	// ErrLocked: the lease is held by another owner, or the lease presented
	// is not the current one. It comes wrapped in a *LockedError that says
	// who holds the lease.
	ErrLocked = errors.New("locked")
	// ErrInvalid: the request itself is malformed (empty name, unknown state
	// or action, an attempt to change what is fixed at creation, bad JSON).
	ErrInvalid = errors.New("invalid")
	// ErrBusy: the state file stayed locked by another process for longer
	// than the store's timeout.
	ErrBusy = errors.New("state file busy")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)

// LockedError says why a lease could not be taken or used, and who holds it.
type LockedError struct {
	// Holder is the current lease on the hostname; its Owner is empty when
	// nobody holds it (the presented lease was released or superseded and
	// the new holder released it too).
	Holder Lease
	// OwnerInfo is a human-readable note on the holder, e.g. whether its
	// process is still running.
	OwnerInfo string
}

// Error implements error.
func (e *LockedError) Error() string {
	var b strings.Builder
	if e.Holder.Owner == "" {
		fmt.Fprintf(&b, "lease on %s is not held (token %d)", e.Holder.Hostname, e.Holder.Token)
	} else {
		fmt.Fprintf(&b, "lease on %s is held by %s (token %d) until %s",
			e.Holder.Hostname, e.Holder.Owner, e.Holder.Token, e.Holder.Expires.UTC().Format(time.RFC3339))
	}
	if e.OwnerInfo != "" {
		b.WriteString(": ")
		b.WriteString(e.OwnerInfo)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// LeaseLister is the optional capability of reading the leases without
// taking them, so that `cutover status` can show which controller owns each
// run. Every store in this module implements it.
type LeaseLister interface {
	// Leases returns every lease ever acquired, sorted by hostname; a
	// released lease has an empty Owner and keeps its Token.
	Leases(ctx context.Context) ([]Lease, error)
}

// Store keeps runs, their event logs and the per-hostname leases. Every
// method is one atomic transaction; implementations are safe for concurrent
// use by several goroutines and, for file-backed ones, several processes.
type Store interface {
	// CreateRun stores a new run with Revision 1. The store sets CreatedAt,
	// UpdatedAt and Revision and defaults State to pending. ErrExists if the
	// name is taken.
	CreateRun(ctx context.Context, r Run) (Run, error)
	// GetRun returns the run by name, or ErrNotFound.
	GetRun(ctx context.Context, name string) (Run, error)
	// ListRuns returns every run, sorted by name.
	ListRuns(ctx context.Context) ([]Run, error)
	// Commit writes r (only if r.Revision equals the stored revision, else
	// ErrStale) and appends events, in ONE atomic transaction, under lease
	// (its Token must be the current, unexpired one for r.Hostname, else
	// ErrLocked). It returns the run as stored (Revision bumped, UpdatedAt
	// set) and the events with Seq, Run and Time assigned. Hostname, Runbook
	// and PlanDigest are fixed at creation: an empty Runbook or PlanDigest
	// keeps the stored one, a different one is ErrInvalid.
	Commit(ctx context.Context, lease Lease, r Run, events ...Event) (Run, []Event, error)
	// Request records an operator request (pause/resume/rollback/promote)
	// from another process without a lease. It overwrites a request not yet
	// acted on, bumps the revision and appends an EventRequested event.
	// Requests against a run in a terminal state are ErrInvalid.
	Request(ctx context.Context, name, action string) (Run, error)
	// Events returns the run's events with Seq > afterSeq, in order;
	// ErrNotFound if there is no such run.
	Events(ctx context.Context, name string, afterSeq int64) ([]Event, error)
	// Acquire takes the per-hostname lease for owner (e.g. "host:pid", see
	// ProcessOwner) for ttl; renewing is Acquire by the same owner, which
	// keeps the token. A lease held by another owner is taken over only when
	// expired or (file-backed stores) when its owner is a process on this
	// machine that no longer exists; taking over increments the token.
	// Otherwise the error is a *LockedError.
	Acquire(ctx context.Context, hostname, owner string, ttl time.Duration) (Lease, error)
	// Release gives the lease up so the next owner need not wait for expiry.
	// The token is kept, so the next owner's is still higher. A lease that is
	// not the current one is a *LockedError.
	Release(ctx context.Context, lease Lease) error
	// Close releases the store's resources; later calls fail with ErrClosed.
	Close() error
}
