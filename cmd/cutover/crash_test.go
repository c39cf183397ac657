package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/testseed"
)

// TestMain lets the test binary act as the cutover binary, so a test can
// run `cutover apply` as a separate process and kill -9 it.
func TestMain(m *testing.M) {
	if os.Getenv("CUTOVER_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func cutoverProcess(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CUTOVER_TEST_AS_MAIN=1")
	return cmd
}

// TestKill9AtRandomMomentsResumesExactlyOnce kills `cutover apply` with
// SIGKILL at 30+ random moments of a run against the lab, resuming after
// each kill. The final records are the plan's end state, no change appears
// twice in the event log, and the lab's history holds no write the log
// does not account for. The kill moments come from a logged random seed;
// CUTOVER_TEST_SEED=<seed> replays a failing run's moments exactly.
func TestKill9AtRandomMomentsResumesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes for ~30s")
	}
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	// More steps so the run spans many kill points.
	planPath := writePlanSteps(t, zone, "  - {weight: 1, pause: 300ms}\n  - {weight: 10, pause: 300ms}\n  - {weight: 50, pause: 300ms}\n  - {weight: 90, pause: 300ms}\n  - {weight: 100, pause: 300ms}\n", "")
	state := filepath.Join(t.TempDir(), "state.db")
	before := int64(len(l.Env.History.List(awsapi.Filter{})))

	rng := testseed.Rand(t, 7)
	kills, done := 0, false
	for attempt := 0; attempt < 200 && !done; attempt++ {
		args := []string{"apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "10ms", "--reconcile-wait", "100ms"}
		if attempt > 0 && runExists(t, state) && attempt%2 == 0 {
			args = []string{"resume", "api-move", "--state", state, "--poll", "10ms", "--reconcile-wait", "100ms"}
		}
		cmd := cutoverProcess(args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if kills < 32 {
			select {
			case err := <-exited:
				done = checkExit(t, err, out.String())
			case <-time.After(time.Duration(rng.IntN(400)+20) * time.Millisecond):
				_ = cmd.Process.Signal(syscall.SIGKILL)
				<-exited
				kills++
			}
			continue
		}
		select {
		case err := <-exited:
			done = checkExit(t, err, out.String())
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("run did not finish:\n%s", out.String())
		}
	}
	if !done || kills < 30 {
		t.Fatalf("done=%v after %d kills", done, kills)
	}

	recs, _ := l.Route53.Records(zone)
	var final []string
	for _, r := range recs {
		if r.Name == "api.example.com." {
			final = append(final, fmt.Sprintf("%s %v %q", r.Type, r.Records, r.SetIdentifier))
		}
	}
	if len(final) != 1 || final[0] != `CNAME [new.example.net.] ""` {
		t.Fatalf("final records %v", final)
	}
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Events(context.Background(), "api-move", 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	logged := 0
	for _, e := range evs {
		if e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled {
			logged++
			seen[e.Message]++
			if seen[e.Message] > 1 {
				t.Fatalf("change logged twice: %s", e.Message)
			}
		}
	}
	writes := 0
	for _, c := range l.Env.History.List(awsapi.Filter{Service: "route53", SinceSeq: before}) {
		if c.Operation == "ChangeResourceRecordSets" {
			writes++
		}
	}
	if writes != logged {
		t.Fatalf("lab history shows %d writes, the run's log %d (after %d kills)", writes, logged, kills)
	}
	t.Logf("%d kills, %d changes, %d events", kills, writes, len(evs))
}

func checkExit(t *testing.T, err error, out string) bool {
	t.Helper()
	if err == nil {
		return true
	}
	t.Fatalf("cutover exited: %v\n%s", err, out)
	return false
}

func runExists(t *testing.T, state string) bool {
	t.Helper()
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		return false
	}
	defer s.Close()
	_, err = s.GetRun(context.Background(), "api-move")
	return err == nil
}
