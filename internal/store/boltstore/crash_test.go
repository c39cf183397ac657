package boltstore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/testseed"
)

// The test binary doubles as the child processes of the crash and lease
// tests: with one of these variables set it plays that role instead of
// running tests.
const (
	envCommitLoop = "CUTOVER_STORE_TEST_COMMIT_LOOP" // state file to commit to until killed
	envHold       = "CUTOVER_STORE_TEST_HOLD"        // any value: block until stdin closes
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envCommitLoop); path != "" {
		if err := commitLoop(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(envHold) != "" {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	crashRun  = "crash"
	crashHost = "crash.example.com"
)

// batchSize varies the number of events per commit, so a torn batch would
// show as a batch of the wrong size.
func batchSize(rev int64) int { return 1 + int(rev%3) }

type batchMark struct {
	Rev int64 `json:"rev"`
	I   int   `json:"i"`
	N   int   `json:"n"`
}

// commitLoop is the child: it takes the lease (its predecessor was killed
// holding it, with an hour left) and commits batches until it is killed.
func commitLoop(path string) error {
	s, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	lease, err := s.Acquire(ctx, crashHost, store.ProcessOwner(), time.Hour)
	if err != nil {
		return fmt.Errorf("taking the lease of a killed process: %w", err)
	}
	fmt.Printf("ready %d\n", lease.Token)
	for {
		r, err := s.GetRun(ctx, crashRun)
		if err != nil {
			return err
		}
		rev := r.Revision + 1
		n := batchSize(rev)
		evs := make([]store.Event, n)
		for i := range evs {
			d, _ := json.Marshal(batchMark{Rev: rev, I: i, N: n})
			evs[i] = store.Event{Type: store.EventWaitStarted, Step: int(rev), Data: d}
		}
		var total int
		if raw, ok := r.Data["events"]; ok {
			if err := json.Unmarshal(raw, &total); err != nil {
				return err
			}
		}
		r.Step = int(rev)
		r.Data = map[string]json.RawMessage{"events": json.RawMessage(strconv.Itoa(total + n))}
		if _, _, err := s.Commit(ctx, lease, r, evs...); err != nil {
			return err
		}
	}
}

// TestCrashKill kills a committing process at random moments, 20 times, and
// checks after each kill that the file opens and holds exactly the commits
// that completed: the revision matches the number of event batches, every
// batch is whole, and sequences have no gap. Each new child also has to take
// over the lease of the killed one without waiting for its hour to pass.
// The kill moments come from a logged random seed; CUTOVER_TEST_SEED=<seed>
// replays a failing run's moments exactly.
func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 20 processes")
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s := mustOpen(t, path, Options{})
	if _, err := s.CreateRun(ctx, store.Run{Name: crashRun, Hostname: crashHost, State: store.StateRunning}); err != nil {
		t.Fatal(err)
	}
	rng := testseed.Rand(t, 1)
	var lastRev int64 = 1
	for kill := 1; kill <= 20; kill++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCommitLoop+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			_ = cmd.Wait()
			t.Fatalf("kill %d: child did not start: %v; stderr: %s", kill, err, stderr.String())
		}
		if want := fmt.Sprintf("ready %d\n", kill); line != want {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("kill %d: child said %q, want %q (a new token per takeover)", kill, line, want)
		}
		time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: child ended with %v before it was killed; stderr: %s", kill, err, stderr.String())
		}
		rev := checkCrashFile(t, path)
		if rev < lastRev {
			t.Fatalf("kill %d: revision went back from %d to %d", kill, lastRev, rev)
		}
		lastRev = rev
	}
	if lastRev < 20 {
		t.Fatalf("only %d commits in 20 lives: the children barely ran", lastRev-1)
	}
	t.Logf("%d commits survived 20 kills", lastRev-1)
}

// checkCrashFile verifies the invariants and returns the run's revision.
func checkCrashFile(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("the file does not open after a kill: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("bbolt consistency check: %v", err)
	}

	s := mustOpen(t, path, Options{})
	r, err := s.GetRun(ctx, crashRun)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, crashRun, 0)
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	wantRev := int64(2)
	for i := 0; i < len(evs); {
		n := batchSize(wantRev)
		for j := 0; j < n; j++ {
			if i+j >= len(evs) {
				t.Fatalf("batch of revision %d is torn: %d of %d events", wantRev, j, n)
			}
			e := evs[i+j]
			var m batchMark
			if err := json.Unmarshal(e.Data, &m); err != nil {
				t.Fatal(err)
			}
			if e.Seq != int64(i+j+1) {
				t.Fatalf("event %d has seq %d: gap in the log", i+j+1, e.Seq)
			}
			if m != (batchMark{Rev: wantRev, I: j, N: n}) {
				t.Fatalf("event seq %d is %+v, want event %d of the %d-event batch of revision %d", e.Seq, m, j, n, wantRev)
			}
		}
		i += n
		batches++
		wantRev++
	}
	if r.Revision != int64(batches)+1 {
		t.Fatalf("run at revision %d but %d batches of events: run and events diverged", r.Revision, batches)
	}
	if batches > 0 {
		var total int
		_ = json.Unmarshal(r.Data["events"], &total)
		if r.Step != int(r.Revision) || total != len(evs) {
			t.Fatalf("run says step %d, %d events; the log says revision %d, %d events", r.Step, total, r.Revision, len(evs))
		}
	}
	return r.Revision
}
