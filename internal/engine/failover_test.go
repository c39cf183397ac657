package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

// sharedWorld is a world whose store never declares an owner gone: only
// lease expiry hands a run to another controller, as on a shared store.
func sharedWorld(t *testing.T) *world {
	t.Helper()
	spec := weightedSpec()
	spec.Gates = nil
	w := newWorld(t, spec)
	w.store = memstore.New(memstore.Options{Clock: w.clock})
	if _, err := Create(context.Background(), w.store, w.rb, "plan.yaml", "d", t0); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) countApplied(comment string) int {
	n := 0
	for _, c := range w.dns.Applied {
		if strings.Contains(c.Comment, comment) {
			n++
		}
	}
	return n
}

// TestStandbyTakesOverWithinLeaseTTLPlusInterval: an owner holds the run's
// lease and dies (it never renews); a standby controller waits and takes the
// run over no later than the lease TTL plus one interval after the owner's
// last renewal, then finishes the run.
func TestStandbyTakesOverWithinLeaseTTLPlusInterval(t *testing.T) {
	w := sharedWorld(t)
	const ttl, interval = 30 * time.Second, 7 * time.Second
	dead, err := w.store.Acquire(context.Background(), "api.example.com.", "dead:1", ttl)
	if err != nil {
		t.Fatal(err)
	}
	var tookOver time.Time
	e := w.engine(func(o *Options) {
		o.Owner, o.LeaseTTL = "standby:2", ttl
		o.OnEvent = func(ev store.Event) {
			if tookOver.IsZero() {
				tookOver = ev.Time
			}
		}
	})
	run, err := e.Standby(context.Background(), "api", interval)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	took := tookOver.Sub(t0)
	if took < ttl || took > ttl+interval {
		t.Fatalf("took over %s after the owner's last renewal, want within [ttl %s, ttl + interval %s]", took, ttl, ttl+interval)
	}
	if _, _, err := w.store.Commit(context.Background(), dead, run); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("the dead owner's commit: %v, want ErrLocked", err)
	}
}

// takeoverStore hands the lease to another controller right after the
// engine recorded the intent of a chosen change, as if the engine had been
// stopped between its intent and its call for longer than the lease.
type takeoverStore struct {
	*memstore.Store
	w       *world
	comment string
	done    bool
}

func (s *takeoverStore) Commit(ctx context.Context, l store.Lease, r store.Run, evs ...store.Event) (store.Run, []store.Event, error) {
	saved, stored, err := s.Store.Commit(ctx, l, r, evs...)
	if err == nil && !s.done {
		for _, e := range evs {
			if e.Type == store.EventChangeIntent && strings.Contains(e.Message, s.comment) {
				s.done = true
				s.w.clock.Advance(l.Expires.Sub(s.w.clock.Now()) + time.Second)
				if _, aerr := s.Store.Acquire(ctx, l.Hostname, "other:2", time.Hour); aerr != nil {
					return saved, stored, aerr
				}
			}
		}
	}
	return saved, stored, err
}

// TestStalledOwnerDoesNotTouchDNS: an engine that lost its lease between
// recording a change's intent and making the call learns it from the store
// and never makes the call.
func TestStalledOwnerDoesNotTouchDNS(t *testing.T) {
	w := sharedWorld(t)
	ts := &takeoverStore{Store: w.store, w: w, comment: "shift 50%"}
	e := w.engine(func(o *Options) { o.Store = ts })
	_, err := e.Run(context.Background(), "api")
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("Run = %v, want ErrLocked once the lease was taken", err)
	}
	if !ts.done {
		t.Fatal("the takeover never happened")
	}
	if n := w.countApplied("shift 50%"); n != 0 {
		t.Fatalf("the stalled owner applied shift 50%% %d times after losing the lease", n)
	}
	if n := w.countApplied("shift 1%"); n != 1 {
		t.Fatalf("shift 1%% applied %d times, want 1 (before the stall)", n)
	}
}

// TestChangeAppliedByEarlierOwnerIsReconciled: the change a run is about to
// make is already in the zone (an earlier owner made the call after this
// engine read the records): the compare-and-swap refuses the call, and the
// engine records the change as reconciled instead of pausing on a conflict.
func TestChangeAppliedByEarlierOwnerIsReconciled(t *testing.T) {
	w := sharedWorld(t)
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "shift 50%") && w.countApplied("shift 50%") == 0 {
			w.dns.BeforeApply = nil
			if _, err := w.dns.Apply(context.Background(), cs); err != nil { // the earlier owner's call
				t.Errorf("earlier owner's apply: %v", err)
			}
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s), want done", run.State, run.Reason)
	}
	if n := w.countApplied("shift 50%"); n != 1 {
		t.Fatalf("shift 50%% applied %d times, want once", n)
	}
	evs, _ := w.store.Events(context.Background(), "api", 0)
	reconciled := 0
	for _, e := range evs {
		if e.Type == store.EventChangeReconciled && strings.Contains(e.Message, "earlier owner") {
			reconciled++
		}
		if e.Type == store.EventChangeConflict {
			t.Fatalf("conflict logged: %s", e.Message)
		}
	}
	if reconciled != 1 {
		t.Fatalf("%d reconciled events, want 1", reconciled)
	}
}
