package boltstore

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/storetest"
)

// startHolder starts a process that lives until its stdin is closed.
func startHolder(t *testing.T) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHold+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { _ = stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() }
	t.Cleanup(stop)
	return cmd, stop
}

func localOwner(pid int) string {
	host, _, _ := store.ParseProcessOwner(store.ProcessOwner())
	return host + ":" + strconv.Itoa(pid)
}

func lockedInfo(t *testing.T, what string, err error) string {
	t.Helper()
	var le *store.LockedError
	if !errors.As(err, &le) || !errors.Is(err, store.ErrLocked) {
		t.Fatalf("%s: %v, want a *LockedError", what, err)
	}
	return le.OwnerInfo
}

// A process killed with -9 leaves its lease behind with time to run; the
// next process on this machine takes it over at once, and the dead owner's
// token is fenced off. The clock never moves in this test.
func TestDeadProcessLeaseTakenOver(t *testing.T) {
	clock := fakeclock.New(storetest.Epoch)
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), Options{Clock: clock})
	r, err := s.CreateRun(ctx, store.Run{Name: "r", Hostname: "h.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	holder, stop := startHolder(t)
	owner := localOwner(holder.Process.Pid)
	old, err := s.Acquire(ctx, "h.example.com", owner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	_, err = s.Acquire(ctx, "h.example.com", store.ProcessOwner(), time.Hour)
	if info := lockedInfo(t, "Acquire while the owner runs", err); !strings.Contains(info, "still running") {
		t.Fatalf("OwnerInfo %q does not say the owner is running", info)
	}

	stop()
	l, err := s.Acquire(ctx, "h.example.com", store.ProcessOwner(), time.Hour)
	if err != nil {
		t.Fatalf("Acquire after the owner died: %v", err)
	}
	if l.Token != old.Token+1 {
		t.Fatalf("takeover token %d, want %d", l.Token, old.Token+1)
	}
	_, _, err = s.Commit(ctx, old, r)
	lockedInfo(t, "Commit by the dead owner's token", err)
	if _, _, err := s.Commit(ctx, l, r); err != nil {
		t.Fatalf("Commit by the new owner: %v", err)
	}
}

// Killed but not yet reaped by its parent, a process is a zombie: it still
// has its pid but will never write again.
func TestZombieOwnerLeaseTakenOver(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to tell a zombie from a live process")
	}
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), Options{})
	holder, _ := startHolder(t)
	if _, err := s.Acquire(ctx, "h.example.com", localOwner(holder.Process.Pid), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Signal delivery is asynchronous: await the zombie state.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if state, _ := procStat(holder.Process.Pid); state == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed holder never became a zombie")
		}
		time.Sleep(time.Millisecond)
	}
	l, err := s.Acquire(ctx, "h.example.com", "resumer", time.Hour)
	if err != nil || l.Token != 2 {
		t.Fatalf("Acquire from a zombie owner: %+v, %v; want token 2", l, err)
	}
}

// A pid can be reused by an unrelated process; the owner's start time,
// recorded with the lease, tells them apart.
func TestReusedPidLeaseTakenOver(t *testing.T) {
	if _, start := procStat(os.Getpid()); start == "" {
		t.Skip("needs /proc to read process start times")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, Options{})
	me := store.ProcessOwner()
	if _, err := s.Acquire(ctx, "h.example.com", me, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err := s.Acquire(ctx, "h.example.com", "other", time.Hour)
	lockedInfo(t, "Acquire while this live process owns the lease", err)

	// Rewrite the recorded start time as if the owner had been an earlier
	// process with this pid.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("leases"))
		var rec map[string]any
		if err := json.Unmarshal(b.Get([]byte("h.example.com")), &rec); err != nil {
			return err
		}
		if rec["stamp"] == nil || rec["stamp"] == "" {
			t.Error("the lease carries no start time stamp")
		}
		rec["stamp"] = "1"
		v, _ := json.Marshal(rec)
		return b.Put([]byte("h.example.com"), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Acquire(ctx, "h.example.com", "other", time.Hour)
	if err != nil || l.Token != 2 {
		t.Fatalf("Acquire from an owner whose pid was reused: %+v, %v; want token 2", l, err)
	}
}

// Owners that are not processes of this machine keep their lease until it
// expires: nothing here can tell whether they are alive.
func TestRemoteOwnerWaitsForExpiry(t *testing.T) {
	clock := fakeclock.New(storetest.Epoch)
	s := mustOpen(t, filepath.Join(t.TempDir(), "state.db"), Options{Clock: clock})
	// A pid that cannot exist here, on another machine, and an opaque name.
	for i, owner := range []string{"elsewhere.invalid:999999", "engine-a"} {
		host := strconv.Itoa(i) + ".example.com"
		if _, err := s.Acquire(ctx, host, owner, time.Minute); err != nil {
			t.Fatal(err)
		}
		_, err := s.Acquire(ctx, host, "resumer", time.Minute)
		info := lockedInfo(t, "Acquire from "+owner, err)
		if i == 0 && !strings.Contains(info, "elsewhere.invalid") {
			t.Fatalf("OwnerInfo %q does not name the owner's machine", info)
		}
	}
	clock.Advance(time.Minute)
	for i := range 2 {
		if _, err := s.Acquire(ctx, strconv.Itoa(i)+".example.com", "resumer", time.Minute); err != nil {
			t.Fatalf("Acquire after expiry: %v", err)
		}
	}
}

func TestProcStat(t *testing.T) {
	// A command name may hold spaces and parentheses.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615"
	if state, start := parseStat(line); state != "S" || start != "987654" {
		t.Fatalf("parseStat = %q, %q; want S, 987654", state, start)
	}
	if state, start := parseStat("garbage"); state != "" || start != "" {
		t.Fatalf("parseStat of garbage = %q, %q; want nothing", state, start)
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	state, start := procStat(os.Getpid())
	if state != "R" && state != "S" {
		t.Fatalf("own state %q, want R or S", state)
	}
	if _, err := strconv.ParseUint(start, 10, 64); err != nil {
		t.Fatalf("own start time %q is not a number", start)
	}
}
