package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/etcdstore"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
	"github.com/cutover/cutover/internal/syncbuf"
	"github.com/cutover/cutover/internal/testseed"
)

// The lease and poll interval the controllers of these tests run with: a
// takeover is due within failoverTTL + failoverPoll of the owner's death.
const (
	failoverTTL  = 2 * time.Second
	failoverPoll = 50 * time.Millisecond
	// failoverSlack is what the bound allows on top for two processes and a
	// 3-member cluster sharing a loaded 2-core machine (a commit through
	// raft, process scheduling).
	failoverSlack = 750 * time.Millisecond
)

// FailoverKillsEnv sets how many owners TestFailoverKillOwner kills (5 by
// default, to keep the suite fast; the acceptance is 20).
const FailoverKillsEnv = "CUTOVER_FAILOVER_KILLS"

// controller is one `cutover` process sharing the etcd store, with lab
// credentials of its own so the lab's history says which one made a call.
type controller struct {
	name   string
	cmd    *exec.Cmd
	out    *syncbuf.Buffer
	exited chan error
}

// failoverWorld is a lab run on an etcd cluster, driven by controllers.
type failoverWorld struct {
	t        *testing.T
	lab      *lab.Lab
	zone     string
	plan     string
	storeURL string
	store    *etcdstore.Store
	before   int64 // lab history before the run
	n        int
	all      []*controller
	cluster  *etcdtest.Cluster
	prefix   string
}

// slowChanges is the lab behind an HTTP front that answers every accepted
// ChangeResourceRecordSets late: the change is applied, and its caller
// killed while it waits for the answer has applied it without knowing. Each
// such call is announced on inflight before the wait.
type slowChanges struct {
	next     http.Handler
	delay    time.Duration
	inflight chan struct{}
}

func (s *slowChanges) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/rrset") {
		s.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	select {
	case s.inflight <- struct{}{}:
	default:
	}
	time.Sleep(s.delay) // the answer is late; the change is already in
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func newFailoverWorld(t *testing.T, steps string, front *slowChanges) *failoverWorld {
	c := etcdtest.Start(t, 3)
	// The lab answers record changes late.
	l, seeded := labtest.StartBehind(t, labtest.Seed, func(h http.Handler) http.Handler { front.next = h; return front })
	zone := seeded.Zones["example.com"]
	planPath := writePlanSteps(t, zone, steps, "")
	var hosts []string
	for _, e := range c.Endpoints() {
		hosts = append(hosts, strings.TrimPrefix(e, "http://"))
	}
	prefix := "/cutover-failover/"
	s, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: c.Endpoints(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &failoverWorld{t: t, lab: l, zone: zone, plan: planPath, store: s, cluster: c, prefix: prefix,
		storeURL: "etcd://" + strings.Join(hosts, ",") + prefix,
		before:   int64(len(l.Env.History.List(awsapi.Filter{})))}
}

// newFencingWorld is the world of the fencing tests: four weight steps
// of a second each, record changes answered 100 ms late.
func newFencingWorld(t *testing.T) *failoverWorld {
	return newFailoverWorld(t, "  - {weight: 1, pause: 1s}\n  - {weight: 10, pause: 1s}\n  - {weight: 50, pause: 1s}\n  - {weight: 100, pause: 1s}\n",
		&slowChanges{delay: 100 * time.Millisecond, inflight: make(chan struct{}, 1)})
}

// start runs `cutover args...` with the store and this controller's own
// lab access key.
func (w *failoverWorld) start(args ...string) *controller {
	w.t.Helper()
	return w.startOn(w.storeURL, args...)
}

// storeOn is the store URL naming only the given members.
func (w *failoverWorld) storeOn(members ...int) string {
	var hosts []string
	for _, i := range members {
		hosts = append(hosts, strings.TrimPrefix(w.cluster.Members[i].ClientURL, "http://"))
	}
	return "etcd://" + strings.Join(hosts, ",") + w.prefix
}

// startOn is start with the controller reaching the store through storeURL.
func (w *failoverWorld) startOn(storeURL string, args ...string) *controller {
	w.t.Helper()
	w.n++
	name := fmt.Sprintf("controller-%d", w.n)
	akid := fmt.Sprintf("AKIALABCONTROLLER%03d", w.n)
	w.lab.Env.Keys.Add(awsapi.Credential{AccessKeyID: akid, SecretAccessKey: "secret-" + name, Identity: awsapi.Identity{
		AccountID: awsapi.DefaultAccountID, ARN: "arn:aws:iam::" + awsapi.DefaultAccountID + ":user/" + name}})
	args = append(args, "--store", storeURL, "--poll", failoverPoll.String(), "--reconcile-wait", "100ms", "--lease-ttl", failoverTTL.String())
	cmd := cutoverProcess(args...)
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY=secret-"+name)
	c := &controller{name: name, cmd: cmd, out: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { c.exited <- cmd.Wait() }()
	w.all = append(w.all, c)
	w.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
	})
	return c
}

// caller is the ARN the lab records for c's calls.
func (c *controller) caller() string {
	return "arn:aws:iam::" + awsapi.DefaultAccountID + ":user/" + c.name
}

// awaitSuccess waits up to d for c to end its work and exit 0; who names
// it in the failure.
func (c *controller) awaitSuccess(t *testing.T, who string, d time.Duration) {
	t.Helper()
	select {
	case err := <-c.exited:
		if err != nil {
			t.Fatalf("%s exited: %v\n%s", who, err, c.out.String())
		}
	case <-time.After(d):
		t.Fatalf("%s did not finish:\n%s", who, c.out.String())
	}
}

// changesBy are the lab's accepted writes that f selects and c made.
func (w *failoverWorld) changesBy(c *controller, f awsapi.Filter) []awsapi.Change {
	var by []awsapi.Change
	for _, ch := range w.lab.Env.History.List(f) {
		if ch.Caller == c.caller() {
			by = append(by, ch)
		}
	}
	return by
}

// owner returns the pid of the run's current lease holder (0: none).
func (w *failoverWorld) owner() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	leases, err := w.store.Leases(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, l := range leases {
		if strings.TrimSuffix(l.Hostname, ".") == "api.example.com" && l.Owner != "" && time.Now().Before(l.Expires) {
			if _, pid, ok := store.ParseProcessOwner(l.Owner); ok {
				return pid
			}
		}
	}
	return 0
}

// await polls cond every few milliseconds until it holds or d passes.
func (w *failoverWorld) await(what string, d time.Duration, cond func() bool) time.Duration {
	w.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			var outs strings.Builder
			for _, c := range w.all {
				fmt.Fprintf(&outs, "--- %s (pid %d):\n%s\n", c.name, c.cmd.Process.Pid, c.out.String())
			}
			w.t.Fatalf("%s: not within %s\n%s", what, d, outs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func (w *failoverWorld) run() (store.Run, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := w.store.GetRun(ctx, "api-move")
	return r, err == nil
}

// checkExactlyOnce: the zone ends as the plan says, every change step of
// the runbook is logged once (applied or reconciled), and the lab accepted
// exactly as many writes as the log accounts for: none applied twice, none
// lost.
func (w *failoverWorld) checkExactlyOnce() (writes []awsapi.Change, reconciled int) {
	w.t.Helper()
	recs, _ := w.lab.Route53.Records(w.zone)
	var final []string
	for _, r := range recs {
		if r.Name == "api.example.com." {
			final = append(final, fmt.Sprintf("%s %v %q", r.Type, r.Records, r.SetIdentifier))
		}
	}
	if len(final) != 1 || final[0] != `CNAME [new.example.net.] ""` {
		w.t.Fatalf("final records %v", final)
	}
	r, _ := w.run()
	rb, err := runbookOf(r)
	if err != nil {
		w.t.Fatal(err)
	}
	evs, err := w.store.Events(context.Background(), "api-move", 0)
	if err != nil {
		w.t.Fatal(err)
	}
	seen := map[int]int{}
	for _, e := range evs {
		if e.Type == store.EventChangeReconciled {
			reconciled++
		}
		if e.Type == store.EventChangeApplied || e.Type == store.EventChangeReconciled {
			seen[e.Step]++
			if seen[e.Step] > 1 {
				w.t.Fatalf("step %d's change logged twice: %s", e.Step, e.Message)
			}
		}
	}
	if len(seen) != rb {
		w.t.Fatalf("%d change steps logged, the runbook has %d", len(seen), rb)
	}
	for _, c := range w.lab.Env.History.List(awsapi.Filter{Service: "route53", SinceSeq: w.before}) {
		if c.Operation == "ChangeResourceRecordSets" {
			writes = append(writes, c)
		}
	}
	if len(writes) != len(seen) {
		w.t.Fatalf("lab history shows %d writes, the run's log %d", len(writes), len(seen))
	}
	return writes, reconciled
}

// runbookOf counts the change steps of the run's runbook.
func runbookOf(r store.Run) (int, error) {
	rb, err := engine.Runbook(r)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range rb.Steps {
		if s.Change != nil {
			n++
		}
	}
	return n, nil
}

func failoverKills(t *testing.T) int {
	if v := os.Getenv(FailoverKillsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", FailoverKillsEnv, v)
		}
		return n
	}
	return 5
}

// TestFailoverKillOwner runs a lab run on a 3-member etcd cluster with two
// controllers: the owner (`cutover apply`, later a standby that took over)
// and a standby (`cutover resume --standby`). At random moments (a logged
// seed) the owner gets SIGKILL; each time, the standby resumes the run
// within the lease TTL plus one interval, and a new standby is started. At
// the end the lab's change history shows no change applied twice and none
// lost. CUTOVER_FAILOVER_KILLS=20 repeats the kill 20 times.
func TestFailoverKillOwner(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns controllers and an etcd cluster")
	}
	kills := failoverKills(t)
	// Enough steps for every kill to land mid-run: a kill inside a change
	// waits for the next change, so there is a weight step per kill, and
	// each step's pause outlasts a takeover.
	var steps strings.Builder
	for i := 1; i <= kills+1; i++ {
		fmt.Fprintf(&steps, "  - {weight: %d, pause: 2500ms}\n", (100*i+kills)/(kills+1))
	}
	front := &slowChanges{delay: 200 * time.Millisecond, inflight: make(chan struct{}, 1)}
	w := newFailoverWorld(t, steps.String(), front)
	rng := testseed.Rand(t, 14)

	procs := map[int]*controller{}
	first := w.start("apply", "-f", w.plan, "--auto-approve")
	procs[first.cmd.Process.Pid] = first
	w.await("the run is created and owned", 30*time.Second, func() bool { _, ok := w.run(); return ok && w.owner() != 0 })
	sb := w.start("resume", "api-move", "--standby")
	procs[sb.cmd.Process.Pid] = sb

	var worst time.Duration
	midChanges := 0
	for k := 0; k < kills; k++ {
		midChange := k%2 == 1
		if midChange {
			// Kill inside a change: applied by the lab, its answer not yet
			// back, so the next owner has to reconcile it.
			select {
			case <-front.inflight:
			default:
			}
			select {
			case <-front.inflight:
			case <-time.After(30 * time.Second):
				t.Fatalf("kill %d: no record change within 30s", k+1)
			}
			time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(rng.IntN(1200)+100) * time.Millisecond) // a random moment of the run
		}
		if midChange {
			midChanges++
		}
		pid := w.owner()
		owner := procs[pid]
		if owner == nil {
			if r, _ := w.run(); r.State.Terminal() {
				t.Fatalf("the run ended after %d of %d kills: make it longer", k, kills)
			}
			t.Fatalf("lease held by pid %d, not one of the controllers", pid)
		}
		r, _ := w.run()
		_ = owner.cmd.Process.Signal(syscall.SIGKILL)
		<-owner.exited
		delete(procs, pid)
		took := w.await(fmt.Sprintf("kill %d: a standby takes the run over", k+1), failoverTTL+failoverPoll+failoverSlack+5*time.Second, func() bool {
			p := w.owner()
			return p != 0 && p != pid
		})
		if took > failoverTTL+failoverPoll+failoverSlack {
			t.Errorf("kill %d (step %d, phase %q): taken over after %s, want within lease TTL %s + interval %s (+%s slack)",
				k+1, r.Step, r.StepPhase, took.Round(time.Millisecond), failoverTTL, failoverPoll, failoverSlack)
		}
		if took > worst {
			worst = took
		}
		t.Logf("kill %d at step %d (phase %q, mid-change %v): taken over in %s", k+1, r.Step, r.StepPhase, midChange, took.Round(time.Millisecond))
		next := w.start("resume", "api-move", "--standby")
		procs[next.cmd.Process.Pid] = next
	}
	for pid, c := range procs {
		c.awaitSuccess(t, fmt.Sprintf("controller %d", pid), 90*time.Second)
	}
	writes, reconciled := w.checkExactlyOnce()
	if reconciled != midChanges {
		t.Errorf("%d changes reconciled after a takeover, want one per kill inside a change (%d)", reconciled, midChanges)
	}
	t.Logf("%d kills (%d inside a change), worst takeover %s (bound %s + %s), %d changes, %d reconciled by the next owner",
		kills, midChanges, worst.Round(time.Millisecond), failoverTTL, failoverPoll, len(writes), reconciled)
}

// TestPartitionedOwnerIsFenced pauses the owner with SIGSTOP past its
// lease, at a random moment of the run, lets the standby take over, and
// continues it: the owner's writes are refused (it exits, told it lost the
// lease), it makes no call to Route 53 after the pause, and the run ends
// once, by the standby, with every change applied exactly once.
func TestPartitionedOwnerIsFenced(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns controllers and an etcd cluster")
	}
	w := newFencingWorld(t)
	rng := testseed.Rand(t, 15)
	a := w.start("apply", "-f", w.plan, "--auto-approve")
	w.await("the run is created and owned by the first controller", 30*time.Second, func() bool { return w.owner() == a.cmd.Process.Pid })
	b := w.start("resume", "api-move", "--standby")

	time.Sleep(time.Duration(rng.IntN(3000)+200) * time.Millisecond)
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := int64(len(w.lab.Env.History.List(awsapi.Filter{})))
	r, _ := w.run()
	t.Logf("owner paused at step %d (%s)", r.Step, r.StepPhase)
	w.await("the standby takes over", failoverTTL+failoverPoll+failoverSlack+5*time.Second, func() bool { return w.owner() == b.cmd.Process.Pid })
	// Let the new owner write, then wake the old one past its lease.
	w.await("the new owner commits", 10*time.Second, func() bool {
		cur, _ := w.run()
		return cur.Revision > r.Revision+1
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.exited:
		if err == nil {
			t.Fatalf("the fenced owner exited 0:\n%s", a.out.String())
		}
		if out := a.out.String(); !strings.Contains(out, "lease on api.example.com") {
			t.Fatalf("the fenced owner did not say it lost the lease:\n%s", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the fenced owner kept running:\n%s", a.out.String())
	}
	b.awaitSuccess(t, "the standby", 90*time.Second)
	_, _ = w.checkExactlyOnce()
	if by := w.changesBy(a, awsapi.Filter{SinceSeq: stopped}); len(by) > 0 {
		t.Fatalf("the fenced owner changed the world after its pause: %+v", by[0])
	}
	byB := len(w.changesBy(b, awsapi.Filter{Service: "route53", SinceSeq: stopped}))
	t.Logf("after the pause: %d Route 53 writes, all by the standby; the old owner said: %s", byB, lastLine(a.out.String()))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestOwnerCutOffFromEtcdIsFenced: the owner reaches the cluster through one
// member only, and that member stops (SIGSTOP: its traffic goes nowhere)
// at a random moment of the run, while the two others keep a quorum. The
// owner's etcd lease expires on the majority, the standby (on the other two
// members) takes the run over, and when the member comes back the old
// owner's writes are refused and it makes no call to Route 53 again.
func TestOwnerCutOffFromEtcdIsFenced(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns controllers and an etcd cluster")
	}
	w := newFencingWorld(t)
	rng := testseed.Rand(t, 16)
	// The test reads the store through the members that stay up.
	var up []string
	for _, m := range w.cluster.Members[1:] {
		up = append(up, m.ClientURL)
	}
	s, err := etcdstore.Open(context.Background(), etcdstore.Options{Endpoints: up, Prefix: w.prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	w.store = s
	a := w.startOn(w.storeOn(0), "apply", "-f", w.plan, "--auto-approve")
	w.await("the run is created and owned by the first controller", 30*time.Second, func() bool { return w.owner() == a.cmd.Process.Pid })
	b := w.startOn(w.storeOn(1, 2), "resume", "api-move", "--standby")

	time.Sleep(time.Duration(rng.IntN(3000)+200) * time.Millisecond)
	member := w.cluster.Members[0]
	if err := member.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cut := int64(len(w.lab.Env.History.List(awsapi.Filter{})))
	r, _ := w.run()
	t.Logf("owner cut off from etcd at step %d (%s)", r.Step, r.StepPhase)
	w.await("the standby takes over", 3*failoverTTL+5*time.Second, func() bool { return w.owner() == b.cmd.Process.Pid })
	w.await("the new owner commits", 10*time.Second, func() bool {
		cur, _ := w.run()
		return cur.Revision > r.Revision+1
	})
	if err := member.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.exited:
		if err == nil || !strings.Contains(a.out.String(), "lease on api.example.com") {
			t.Fatalf("the cut-off owner: exit %v, want refused for the lease:\n%s", err, a.out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the cut-off owner kept running:\n%s", a.out.String())
	}
	b.awaitSuccess(t, "the standby", 90*time.Second)
	_, _ = w.checkExactlyOnce()
	if by := w.changesBy(a, awsapi.Filter{SinceSeq: cut}); len(by) > 0 {
		t.Fatalf("the cut-off owner changed the world after losing etcd: %+v", by[0])
	}
	t.Logf("the old owner said: %s", lastLine(a.out.String()))
}
