package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/store/storetest"
)

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/ops")
	t.Setenv("XDG_STATE_HOME", "/var/state")
	if p, err := store.DefaultPath(); err != nil || p != "/var/state/cutover/state.db" {
		t.Fatalf("with XDG_STATE_HOME: %q, %v", p, err)
	}
	for _, v := range []string{"", "relative/dir"} { // the XDG spec says to ignore relative values
		t.Setenv("XDG_STATE_HOME", v)
		if p, err := store.DefaultPath(); err != nil || p != filepath.Join("/home/ops", ".local", "state", "cutover", "state.db") {
			t.Fatalf("with XDG_STATE_HOME=%q: %q, %v", v, p, err)
		}
	}
}

func TestProcessOwner(t *testing.T) {
	owner := store.ProcessOwner()
	host, pid, ok := store.ParseProcessOwner(owner)
	if !ok || pid != os.Getpid() || host == "" || !strings.HasSuffix(owner, ":"+strconv.Itoa(os.Getpid())) {
		t.Fatalf("ProcessOwner() = %q parses as %q, %d, %v", owner, host, pid, ok)
	}
	if h, p, ok := store.ParseProcessOwner("fe80::1:42"); !ok || h != "fe80::1" || p != 42 {
		t.Fatalf("an owner whose host has colons: %q, %d, %v", h, p, ok)
	}
	for _, bad := range []string{"engine-a", ":12", "host:", "host:-1", "host:x"} {
		if _, _, ok := store.ParseProcessOwner(bad); ok {
			t.Errorf("ParseProcessOwner(%q) accepted it", bad)
		}
	}
}

func TestRunStates(t *testing.T) {
	for _, s := range store.States {
		if !s.Valid() {
			t.Errorf("%s is not valid", s)
		}
	}
	if store.RunState("sleeping").Valid() || store.RunState("").Valid() {
		t.Error("unknown states are valid")
	}
	var terminal []string
	for _, s := range store.States {
		if s.Terminal() {
			terminal = append(terminal, string(s))
		}
	}
	if got := strings.Join(terminal, ","); got != "rolled-back,done,failed,aborted" {
		t.Fatalf("terminal states = %s", got)
	}
}

func TestLockedErrorMessage(t *testing.T) {
	exp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	err := fmt.Errorf("acquiring: %w", &store.LockedError{
		Holder:    store.Lease{Hostname: "www.example.com", Owner: "box:42", Token: 3, Expires: exp},
		OwnerInfo: "process 42 is still running",
	})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatal("LockedError is not ErrLocked")
	}
	want := "acquiring: lease on www.example.com is held by box:42 (token 3) until 2026-03-01T12:00:00Z: process 42 is still running"
	if err.Error() != want {
		t.Fatalf("message\n got %s\nwant %s", err, want)
	}
	free := &store.LockedError{Holder: store.Lease{Hostname: "www.example.com", Token: 4}}
	if got := free.Error(); got != "lease on www.example.com is not held (token 4)" {
		t.Fatalf("message of a free lease: %s", got)
	}
}

// Update retries over an operator request that lands between its read and
// its commit, so the request is seen, not overwritten.
func TestUpdateRetriesStale(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.Options{Clock: fakeclock.New(storetest.Epoch)})
	if _, err := s.CreateRun(ctx, store.Run{Name: "r", Hostname: "h.example.com", State: store.StateRunning}); err != nil {
		t.Fatal(err)
	}
	lease, err := s.Acquire(ctx, "h.example.com", "engine", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	got, evs, err := store.Update(ctx, s, lease, "r", 3, func(r *store.Run) ([]store.Event, error) {
		calls++
		if calls == 1 { // an operator gets in first
			if _, err := s.Handle().Request(ctx, "r", store.RequestPause); err != nil {
				return nil, err
			}
		}
		if r.Requested == store.RequestPause {
			r.State, r.Requested = store.StatePaused, ""
			return []store.Event{{Type: store.EventRunPaused}}, nil
		}
		r.Step++
		return []store.Event{{Type: store.EventWaitStarted}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || got.State != store.StatePaused || got.Step != 0 || len(evs) != 1 || evs[0].Seq != 2 {
		t.Fatalf("after %d calls: %+v, events %+v; want paused at step 0 with event 2", calls, got, evs)
	}

	// Without retries left, the stale error comes back; fn's own errors come
	// back unchanged.
	_, _, err = store.Update(ctx, s, lease, "r", 1, func(r *store.Run) ([]store.Event, error) {
		_, err := s.Request(ctx, "r", store.RequestResume)
		return nil, err
	})
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("Update out of attempts: %v, want ErrStale", err)
	}
	boom := errors.New("boom")
	if _, _, err := store.Update(ctx, s, lease, "r", 3, func(*store.Run) ([]store.Event, error) { return nil, boom }); err != boom {
		t.Fatalf("Update with a failing fn: %v, want boom", err)
	}
}

func TestActorDefaultsToTheLocalUserAtHost(t *testing.T) {
	if got := store.ActorFrom(context.Background()); got != store.LocalActor() || !strings.Contains(got, "@") {
		t.Fatalf("default actor %q, want user@host %q", got, store.LocalActor())
	}
	if got := store.ActorFrom(store.WithActor(context.Background(), "bob@ci")); got != "bob@ci" {
		t.Fatalf("actor %q, want bob@ci", got)
	}
}
