package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/storetest"
)

var ctx = context.Background()

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clk clock.Clock) storetest.Opener {
		path := filepath.Join(t.TempDir(), "state.db")
		return func() store.Store {
			s, err := Open(path, Options{Clock: clk})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return s
		}
	})
}

func mustOpen(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "cutover")
	path := filepath.Join(dir, "state.db")
	s := mustOpen(t, path, Options{})
	if s.Path() != path {
		t.Fatalf("Path() = %s, want %s", s.Path(), path)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", p, got, want)
		}
	}
	// The file is not held open: a plain bbolt open right away does not wait.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("the store keeps the file locked after Open: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if tx.Bucket([]byte(b)) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadsDoNotCreateTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, Options{})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRun(ctx, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRun on a missing file: %v, want ErrNotFound", err)
	}
	if runs, err := s.ListRuns(ctx); err != nil || len(runs) != 0 {
		t.Fatalf("ListRuns on a missing file: %v, %v", runs, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a read created the state file: %v", err)
	}
	if _, err := s.CreateRun(ctx, store.Run{Name: "x", Hostname: "h.example.com"}); err != nil {
		t.Fatalf("CreateRun after the file was removed: %v", err)
	}
	if _, err := s.GetRun(ctx, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestBusyFileFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, Options{Timeout: 200 * time.Millisecond})
	// Another holder of the file, as a long-lived process would be.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	start := time.Now()
	_, err = s.CreateRun(ctx, store.Run{Name: "x", Hostname: "h.example.com"})
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("CreateRun on a locked file: %v, want ErrBusy", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond || el > 3*time.Second {
		t.Fatalf("gave up after %s, want about the 200ms timeout", el)
	}
	_, err = s.GetRun(ctx, "x")
	wantBusy(t, "GetRun", err)

	// A context deadline shorter than the timeout wins.
	long := mustOpen(t, filepath.Join(t.TempDir(), "other.db"), Options{Timeout: time.Minute})
	long.path = path
	dctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = long.Acquire(dctx, "h.example.com", "engine-a", time.Minute)
	if err == nil {
		t.Fatal("Acquire on a locked file succeeded")
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("a 150ms context deadline waited %s", el)
	}
	db.Close()
	if _, err := s.CreateRun(ctx, store.Run{Name: "x", Hostname: "h.example.com"}); err != nil {
		t.Fatalf("CreateRun once the file is free: %v", err)
	}
}

func wantBusy(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("%s on a locked file: %v, want ErrBusy", what, err)
	}
}

// Two Store values on one file (two subsystems of one process, or the
// engine and a status reader) interleave their transactions without losing
// writes.
func TestTwoStoresInterleave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	stores := []*Store{mustOpen(t, path, Options{}), mustOpen(t, path, Options{})}
	const commits = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, s := range stores {
		name := fmt.Sprintf("run-%d", i)
		host := fmt.Sprintf("h%d.example.com", i)
		r, err := s.CreateRun(ctx, store.Run{Name: name, Hostname: host})
		if err != nil {
			t.Fatal(err)
		}
		lease, err := s.Acquire(ctx, host, "engine", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(s *Store, other string) {
			defer wg.Done()
			for j := 0; j < commits; j++ {
				r.Step = j
				var err error
				if r, _, err = s.Commit(ctx, lease, r, store.Event{Type: store.EventWaitStarted, Step: j}); err != nil {
					errs <- err
					return
				}
				if _, err := s.GetRun(ctx, other); err != nil {
					errs <- err
					return
				}
			}
		}(s, fmt.Sprintf("run-%d", 1-i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, s := range stores {
		runs, err := s.ListRuns(ctx)
		if err != nil || len(runs) != 2 {
			t.Fatalf("ListRuns: %v, %v", runs, err)
		}
		for _, r := range runs {
			evs, err := s.Events(ctx, r.Name, 0)
			if err != nil || r.Revision != commits+1 || len(evs) != commits || evs[commits-1].Seq != commits {
				t.Fatalf("%s: revision %d, %d events (%v); want %d and %d", r.Name, r.Revision, len(evs), err, commits+1, commits)
			}
		}
	}
}
