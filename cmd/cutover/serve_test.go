package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/server"
	"github.com/cutover/cutover/internal/store"
)

// serveProcess is `cutover serve` running as a child process.
type serveProcess struct {
	url, token string
	kill       func()
	exited     chan struct{} // closed when the process has exited
	err        error         // its exit status, once exited
}

var (
	servingRE = regexp.MustCompile(`serving (http://\S+)`)
	tokenRE   = regexp.MustCompile(`^token: ([0-9a-f]{64})$`)
)

// startServe starts `cutover serve` on a free port and waits for it to say
// where it serves; token is the one it printed, if it printed one.
func startServe(t *testing.T, state string) *serveProcess {
	t.Helper()
	cmd := cutoverProcess("serve", "--listen", "127.0.0.1:0", "--state", state, "--poll", "10ms", "--reconcile-wait", "100ms", "--rescan", "50ms")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); pw.Close(); close(p.exited) }()
	p.kill = func() { _ = cmd.Process.Signal(syscall.SIGKILL); <-p.exited }
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			t.Logf("serve: %s", sc.Text())
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	timeout := time.After(20 * time.Second)
	for p.url == "" {
		select {
		case l := <-lines:
			if m := tokenRE.FindStringSubmatch(l); m != nil {
				p.token = m[1]
			}
			if m := servingRE.FindStringSubmatch(l); m != nil {
				p.url = m[1]
			}
		case <-p.exited:
			t.Fatalf("serve exited: %v", p.err)
		case <-timeout:
			p.kill()
			t.Fatal("serve did not start")
		}
	}
	t.Cleanup(p.kill)
	return p
}

func remoteRun(t *testing.T, url, name string) server.RunDetail {
	t.Helper()
	d, err := (&server.Client{URL: url}).Run(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestServeResumesAfterSIGKILL submits a plan to `cutover serve` with
// `apply --server`, kills the server with SIGKILL in the middle of the
// run, starts it again on the same state file, and sees the run finish
// where it stopped: every change once, and the lab's history holding
// exactly the writes the run's log accounts for.
func TestServeResumesAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	planPath := writePlanSteps(t, zone, "  - {weight: 10, pause: 1500ms}\n  - {weight: 50, pause: 1500ms}\n  - {weight: 100}\n", "")
	state := filepath.Join(t.TempDir(), "state.db")
	before := int64(len(l.Env.History.List(awsapi.Filter{})))

	srv := startServe(t, state)
	if srv.token == "" {
		t.Fatal("the first start printed no token")
	}
	fi, err := os.Stat(server.TokenPath(state))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}

	// Without the token: refused, exit 2, nothing submitted.
	t.Setenv("CUTOVER_TOKEN", "")
	out, err := runCLI(t, "", "apply", "--server", srv.url, "-f", planPath, "--auto-approve")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "401") {
		t.Fatalf("apply --server without a token: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "apply", "--server", srv.url, "-f", planPath, "--auto-approve", "--token", srv.token)
	if err != nil || !strings.Contains(out, "run api-move submitted") || !strings.Contains(out, "shift 10% to new.example.net") {
		t.Fatalf("apply --server: %v\n%s", err, out)
	}

	// Kill the server while the run observes its 10% split.
	awaitRemote(t, srv.url, "the 10% observation", func(d server.RunDetail) bool {
		return d.Run.Step < len(d.Runbook.Steps) && d.Runbook.Steps[d.Run.Step].Observe != nil
	})
	at := remoteRun(t, srv.url, "api-move").Run.Step
	srv.kill()

	srv = startServe(t, state)
	if srv.token != "" {
		t.Fatal("a restart printed the token again")
	}
	out, err = runCLI(t, "", "status", "api-move", "--server", srv.url)
	if err != nil || !strings.Contains(out, "run api-move") {
		t.Fatalf("status --server: %v\n%s", err, out)
	}
	awaitRemote(t, srv.url, "the end of the run", func(d server.RunDetail) bool { return d.Run.State.Terminal() })
	d := remoteRun(t, srv.url, "api-move")
	if d.Run.State != store.StateDone {
		t.Fatalf("run ended %s: %s", d.Run.State, d.Run.Reason)
	}
	resumed := false
	for _, e := range d.Events {
		if e.Type == store.EventRunResumed && e.Step == at {
			resumed = true
		}
	}
	if !resumed {
		t.Fatalf("no run.resumed at step %d in %v", at, d.Events)
	}

	// Every change once; the lab's history holds exactly those writes.
	seen := map[string]int{}
	logged := 0
	for _, e := range d.Events {
		if e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled {
			logged++
			if seen[e.Message]++; seen[e.Message] > 1 {
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
	if writes != logged || writes == 0 {
		t.Fatalf("lab history shows %d writes, the run's log %d", writes, logged)
	}
	recs, _ := l.Route53.Records(zone)
	for _, r := range recs {
		if r.Name == "api.example.com." && (r.Records[0] != "new.example.net." || r.SetIdentifier != "") {
			t.Fatalf("final record %+v", r)
		}
	}

	// Operator commands against the server: no token is exit 2, an ended run too.
	out, err = runCLI(t, "", "pause", "api-move", "--server", srv.url)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "401") {
		t.Fatalf("pause --server without a token: %v\n%s", err, out)
	}
	t.Setenv("CUTOVER_TOKEN", readToken(t, state))
	out, err = runCLI(t, "", "pause", "api-move", "--server", srv.url)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "409") {
		t.Fatalf("pause --server of an ended run: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "status", "--server", srv.url, "-o", "json")
	if err != nil || !strings.Contains(out, `"state": "done"`) {
		t.Fatalf("status --server -o json: %v\n%s", err, out)
	}
	resp, err := http.Get(srv.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(m), `cutover_runs{state="done"} 1`) {
		t.Fatalf("metrics:\n%s", m)
	}
}

func readToken(t *testing.T, state string) string {
	t.Helper()
	b, err := os.ReadFile(server.TokenPath(state))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func awaitRemote(t *testing.T, url, what string, cond func(server.RunDetail) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d, err := (&server.Client{URL: url}).Run(context.Background(), "api-move")
		if err == nil && cond(d) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (%v): %s", what, err, fmt.Sprint(d.Run.State, " step ", d.Run.Step))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
