package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

// fakeStaging is CloudFront continuous deployment in memory, with the
// rules the engine must live with: a caller reference is used once, a
// staging distribution has one policy, a policy attached to a primary
// cannot be deleted, promotion needs the primary's policy to name the
// staging copy and disables the policy, and every write leaves the
// distribution InProgress for a few reads.
type fakeStaging struct {
	mu       sync.Mutex
	dists    map[string]*fakeDist
	policies map[string]*fakePolicy
	refs     map[string]string
	seq      int
	// copies and created count CopyToStaging and CreatePolicy successes.
	copies, created int
	calls           []string
	// deployReads is how many reads a write stays InProgress.
	deployReads int
}

type fakeDist struct {
	id, domain string
	staging    bool
	enabled    bool
	config     string // stands for the whole configuration
	policy     string
	pending    int
}

type fakePolicy struct {
	domain  string
	traffic cdn.Traffic
	enabled bool
}

func newFakeStaging() *fakeStaging {
	return &fakeStaging{
		dists:       map[string]*fakeDist{"EPRIMARY": {id: "EPRIMARY", domain: "dprimary.cloudfront.net", enabled: true, config: "v1"}},
		policies:    map[string]*fakePolicy{},
		refs:        map[string]string{},
		deployReads: 2,
	}
}

// apiErr is a refusal as the adapter returns it: CloudFront's code in the
// message and, where the code has one, the cdn sentinel it means.
func apiErr(code string) error {
	switch {
	case code == "DistributionAlreadyExists":
		return fmt.Errorf("%s: %w", code, cdn.ErrCallerRefUsed)
	case code == "StagingDistributionInUse":
		return fmt.Errorf("%s: %w", code, cdn.ErrStagingInUse)
	case strings.HasPrefix(code, "NoSuch"):
		return fmt.Errorf("%s: %w", code, cdn.ErrNotFound)
	}
	return errors.New(code)
}

func (f *fakeStaging) written(d *fakeDist) { d.pending = f.deployReads }

func (f *fakeStaging) view(d *fakeDist) cdn.Distribution {
	st := cdn.StatusDeployed
	if d.pending > 0 {
		st = cdn.StatusInProgress
	}
	return cdn.Distribution{ID: d.id, DomainName: d.domain, Status: st, Enabled: d.enabled, Staging: d.staging, PolicyID: d.policy}
}

func (f *fakeStaging) Distribution(_ context.Context, id string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dists[id]
	if !ok {
		return cdn.Distribution{}, apiErr("NoSuchDistribution")
	}
	v := f.view(d)
	if d.pending > 0 {
		d.pending--
	}
	return v, nil
}

func (f *fakeStaging) UpdateAliases(context.Context, string, []string, []string) (cdn.Distribution, error) {
	return cdn.Distribution{}, errors.New("not used by staging")
}

func (f *fakeStaging) AssociateAlias(context.Context, string, string) error {
	return errors.New("not used by staging")
}

func (f *fakeStaging) CopyToStaging(_ context.Context, primaryID, ref string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "copy")
	p, ok := f.dists[primaryID]
	if !ok || p.staging {
		return cdn.Distribution{}, apiErr("InvalidArgument")
	}
	if _, used := f.refs[ref]; used {
		return cdn.Distribution{}, apiErr("DistributionAlreadyExists")
	}
	f.seq++
	d := &fakeDist{id: fmt.Sprintf("ESTAGING%d", f.seq), domain: fmt.Sprintf("dstaging%d.cloudfront.net", f.seq), staging: true, enabled: true, config: p.config}
	f.written(d)
	f.dists[d.id] = d
	f.refs[ref] = d.id
	f.copies++
	return f.view(d), nil
}

func (f *fakeStaging) CreatePolicy(_ context.Context, domain string, t cdn.Traffic) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "create-policy")
	if t.Weight > cdn.MaxStagingWeight {
		return "", "", apiErr("InvalidArgument")
	}
	found := false
	for _, d := range f.dists {
		found = found || (d.staging && d.domain == domain)
	}
	if !found {
		return "", "", apiErr("InvalidArgument")
	}
	for _, p := range f.policies {
		if p.domain == domain {
			return "", "", apiErr("StagingDistributionInUse")
		}
	}
	f.seq++
	id := fmt.Sprintf("policy-%d", f.seq)
	f.policies[id] = &fakePolicy{domain: domain, traffic: t, enabled: true}
	f.created++
	return id, "ETAG", nil
}

func (f *fakeStaging) AttachPolicy(_ context.Context, primaryID, policyID string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "attach")
	d := f.dists[primaryID]
	if _, ok := f.policies[policyID]; !ok {
		return cdn.Distribution{}, apiErr("NoSuchContinuousDeploymentPolicy")
	}
	if d.policy != policyID {
		d.policy = policyID
		f.written(d)
	}
	return f.view(d), nil
}

func (f *fakeStaging) UpdatePolicy(_ context.Context, policyID string, t cdn.Traffic, enabled bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("update-policy %s enabled=%v", describeTraffic(t), enabled))
	p, ok := f.policies[policyID]
	if !ok {
		return apiErr("NoSuchContinuousDeploymentPolicy")
	}
	p.traffic, p.enabled = t, enabled
	for _, d := range f.dists {
		if d.policy == policyID {
			f.written(d)
		}
	}
	return nil
}

func (f *fakeStaging) Promote(_ context.Context, primaryID, stagingID string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "promote")
	p, s := f.dists[primaryID], f.dists[stagingID]
	if s == nil || !s.staging {
		return cdn.Distribution{}, apiErr("InvalidArgument")
	}
	pol := f.policies[p.policy]
	if pol == nil || pol.domain != s.domain {
		return cdn.Distribution{}, apiErr("InvalidArgument")
	}
	p.config = s.config
	pol.enabled = false
	f.written(p)
	return f.view(p), nil
}

func (f *fakeStaging) Abort(_ context.Context, primaryID, stagingID, policyID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "abort")
	p := f.dists[primaryID]
	if p.policy != "" {
		p.policy = ""
		f.written(p)
	}
	delete(f.policies, policyID)
	delete(f.dists, stagingID)
	return nil
}

func (f *fakeStaging) stagingDists() []*fakeDist {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fakeDist
	for _, d := range f.dists {
		if d.staging {
			out = append(out, d)
		}
	}
	return out
}

// configure stands for the operator applying the new configuration to the
// staging copy during the pause.
func (f *fakeStaging) configure(config string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.dists {
		if d.staging {
			d.config = config
			f.written(d)
		}
	}
}

func (f *fakeStaging) primary() fakeDist {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.dists["EPRIMARY"]
}

func (f *fakeStaging) policyOf(id string) (fakePolicy, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.policies[id]
	if !ok {
		return fakePolicy{}, false
	}
	return *p, true
}

type stagingWorld struct {
	*world
	cdn *fakeStaging
}

var stagingRecord = dns.RecordSet{Name: "www.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dprimary.cloudfront.net."}}

func newStagingWorld(t *testing.T, st *runbook.StagingSpec, edit ...func(*runbook.Spec)) *stagingWorld {
	t.Helper()
	w := &world{clock: fakeclock.New(t0), dns: memdns.New(), gates: map[string]gate.Gate{}}
	w.store = memstore.New(memstore.Options{Clock: w.clock, OwnerGone: func(string) bool { return true }})
	w.dns.Put(zone, stagingRecord)
	recs, _ := w.dns.Records(context.Background(), zone, "www.example.com")
	primary := runbook.Target{Kind: runbook.TargetCloudFront, ID: "EPRIMARY", DNSName: "dprimary.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}
	spec := runbook.Spec{Name: "cfg", Hostname: "www.example.com", Zone: zone, Strategy: "staging", CutoverTTL: 60, Hold: time.Hour,
		Staging: st, Verify: &runbook.Verify{Expect: "new", Path: "/"},
		Gates: []runbook.Gate{{Name: "errors", Interval: runbook.Duration(30 * time.Second), OnFailure: "rollback", Kind: "probe"}}}
	for _, f := range edit {
		f(&spec)
	}
	rb, err := runbook.Compile(spec, runbook.Observed{Records: recs, From: primary, To: primary})
	if err != nil {
		t.Fatal(err)
	}
	w.rb = rb
	if _, err := Create(context.Background(), w.store, rb, "plan.yaml", "d", t0); err != nil {
		t.Fatal(err)
	}
	knownEventsOnly(t, w.store, rb.Name)
	return &stagingWorld{world: w, cdn: newFakeStaging()}
}

func headerThenWeights() *runbook.StagingSpec {
	return &runbook.StagingSpec{Header: "aws-cf-cd-test", HeaderValue: "1", HeaderPause: 5 * time.Minute,
		Steps: []runbook.StagingStep{{Weight: 0.05, Pause: 10 * time.Minute}, {Weight: 0.15, Pause: 10 * time.Minute}}}
}

// drive runs the engine until the run stops for something other than the
// configuration pause, applying config "v2" to the staging copy there as
// an operator would, then resuming. It returns the last run and how many
// configuration pauses it saw.
func (w *stagingWorld) drive(t *testing.T, e *Engine) (store.Run, int, error) {
	t.Helper()
	pauses := 0
	for {
		run, err := e.Run(context.Background(), w.rb.Name)
		if err != nil {
			return run, pauses, err
		}
		if run.State != store.StatePaused || !strings.Contains(run.Reason, "apply the new configuration") {
			return run, pauses, nil
		}
		pauses++
		if pauses > 3 {
			t.Fatalf("paused for configuration %d times", pauses)
		}
		w.cdn.configure("v2")
		if _, err := w.store.Request(context.Background(), w.rb.Name, store.RequestResume); err != nil {
			t.Fatal(err)
		}
	}
}

func (w *stagingWorld) engineWithCDN(opts ...func(*Options)) *Engine {
	return w.engine(append([]func(*Options){func(o *Options) { o.CDN = w.cdn }}, opts...)...)
}

func (w *stagingWorld) dnsUntouched(t *testing.T) {
	t.Helper()
	recs, _ := w.dns.Records(context.Background(), zone, "www.example.com")
	if len(recs) != 1 || !recs[0].Equal(stagingRecord) || len(w.dns.Applied) != 0 {
		t.Fatalf("staging touched DNS: records %v, %d changes applied", recs, len(w.dns.Applied))
	}
}

func TestStagingRunPromotes(t *testing.T) {
	w := newStagingWorld(t, headerThenWeights())
	// The gate reads the policy as the viewers would see it: the split must
	// be in place while the gates watch.
	var seen []string
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		if id := w.cdn.primary().policy; id != "" {
			if p, ok := w.cdn.policyOf(id); ok && p.enabled {
				seen = append(seen, describeTraffic(p.traffic))
			}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run, pauses, err := w.drive(t, w.engineWithCDN())
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	if pauses != 1 {
		t.Fatalf("paused %d times for configuration, want 1", pauses)
	}
	p := w.cdn.primary()
	if p.config != "v2" {
		t.Fatalf("primary serves config %s after promotion, want v2", p.config)
	}
	pol, ok := w.cdn.policyOf(p.policy)
	if !ok || pol.enabled {
		t.Fatalf("after promotion the policy must stay attached and disabled: %+v (found %v)", pol, ok)
	}
	if w.cdn.copies != 1 || w.cdn.created != 1 {
		t.Fatalf("%d copies, %d policies, want 1 each", w.cdn.copies, w.cdn.created)
	}
	// Every phase was watched by the gates, in order.
	phases := []string{"requests with aws-cf-cd-test: 1", "5% of viewers", "15% of viewers"}
	var order []string
	for _, s := range seen {
		if len(order) == 0 || order[len(order)-1] != s {
			order = append(order, s)
		}
	}
	if strings.Join(order, "|") != strings.Join(phases, "|") {
		t.Fatalf("gates watched %v, want %v", order, phases)
	}
	want := "copy,create-policy,attach,update-policy 5% of viewers enabled=true,update-policy 15% of viewers enabled=true,promote"
	if got := strings.Join(w.cdn.calls, ","); got != want {
		t.Fatalf("calls\n got %s\nwant %s", got, want)
	}
	// The observe pauses passed on the fake clock: 5m + 10m + 10m + 1h hold.
	if el := w.clock.Now().Sub(t0); el < 85*time.Minute {
		t.Fatalf("fake time elapsed %s", el)
	}
	w.dnsUntouched(t)
}

func TestStagingGateBreachAborts(t *testing.T) {
	w := newStagingWorld(t, headerThenWeights())
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		if id := w.cdn.primary().policy; id != "" {
			if p, ok := w.cdn.policyOf(id); ok && p.enabled && p.traffic.Weight >= 0.15 {
				return gate.Measurement{Phase: gate.Failed, Value: 7, Detail: "5xx on staging"}
			}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run, _, err := w.drive(t, w.engineWithCDN())
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s (%s), want rolled-back", run.State, run.Reason)
	}
	if n := len(w.cdn.stagingDists()); n != 0 {
		t.Fatalf("%d staging distributions left", n)
	}
	p := w.cdn.primary()
	if p.policy != "" || p.config != "v1" {
		t.Fatalf("primary after abort: policy %q config %s, want none and v1", p.policy, p.config)
	}
	if len(w.cdn.policies) != 0 {
		t.Fatalf("policies left: %v", w.cdn.policies)
	}
	// The split is switched off before anything is deleted.
	calls := strings.Join(w.cdn.calls, ",")
	if !strings.HasSuffix(calls, "update-policy 15% of viewers enabled=false,abort") || strings.Contains(calls, "promote") {
		t.Fatalf("calls %s", calls)
	}
	w.dnsUntouched(t)
}

func TestStagingRollbackDuringConfigurationPauseDeletesCopy(t *testing.T) {
	w := newStagingWorld(t, headerThenWeights())
	w.gates["errors"] = gate.Func(passing)
	run, err := w.engineWithCDN().Run(context.Background(), "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || len(w.cdn.stagingDists()) != 1 {
		t.Fatalf("state %s (%s), %d staging copies", run.State, run.Reason, len(w.cdn.stagingDists()))
	}
	if !strings.Contains(run.Reason, "ESTAGING1") || !strings.Contains(run.Reason, "dstaging1.cloudfront.net") {
		t.Fatalf("the pause must name the copy to configure: %q", run.Reason)
	}
	if _, err := w.store.Request(context.Background(), "cfg", store.RequestRollback); err != nil {
		t.Fatal(err)
	}
	run, err = w.engineWithCDN().Run(context.Background(), "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateRolledBack || len(w.cdn.stagingDists()) != 0 || w.cdn.primary().policy != "" {
		t.Fatalf("state %s (%s), staging copies %d, primary policy %q", run.State, run.Reason, len(w.cdn.stagingDists()), w.cdn.primary().policy)
	}
}

// TestStagingCrashAtEveryCommit kills the engine at every commit of a run
// and resumes it: the run ends promoted with exactly one staging copy and
// one policy ever created, except when the crash lost the very commit
// that records a new id, where the resumed run refuses to create a second
// one and pauses naming what to clean up.
func TestStagingCrashAtEveryCommit(t *testing.T) {
	lostCopy, lostPolicy := false, false
	for n := 0; n < 60; n++ {
		// Without gates, so that every commit is a step of the run rather
		// than a measurement.
		w := newStagingWorld(t, headerThenWeights(), func(s *runbook.Spec) { s.Gates = nil })
		cs := &crashingStore{Store: w.store, left: n}
		first := New(Options{Store: cs, Provider: w.dns, Clock: w.clock, Owner: "crash:1", Verifier: okVerifier{}, Poll: time.Minute, CDN: w.cdn, Gates: w.gates})
		run, _, err := w.drive(t, first)
		if err == nil {
			if run.State != store.StateDone {
				t.Fatalf("n=%d: state %s (%s)", n, run.State, run.Reason)
			}
			if n < 15 {
				t.Fatalf("n=%d: the run needed fewer commits than expected", n)
			}
			if !lostCopy || !lostPolicy {
				t.Fatalf("no crash point lost a new id (copy %v, policy %v): the test did not cover them", lostCopy, lostPolicy)
			}
			return
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("n=%d: %v", n, err)
		}
		run, _, err = w.drive(t, w.engineWithCDN(func(o *Options) { o.Owner = "resume:2" }))
		if err != nil {
			t.Fatalf("n=%d: resume: %v", n, err)
		}
		if w.cdn.copies != 1 || w.cdn.created > 1 {
			t.Fatalf("n=%d: %d staging copies and %d policies created, want at most 1 each", n, w.cdn.copies, w.cdn.created)
		}
		switch {
		case run.State == store.StateDone:
			if w.cdn.primary().config != "v2" || w.cdn.created != 1 {
				t.Fatalf("n=%d: done with primary %+v, %d policies", n, w.cdn.primary(), w.cdn.created)
			}
		case run.State == store.StatePaused && strings.Contains(run.Reason, "caller reference cutover-cfg-"):
			lostCopy = true
		case run.State == store.StatePaused && strings.Contains(run.Reason, "policy for dstaging1.cloudfront.net"):
			lostPolicy = true
		default:
			t.Fatalf("n=%d: resumed run state %s (%s)", n, run.State, run.Reason)
		}
	}
	t.Fatal("run never completed within 60 commits")
}

func TestStagingNeedsContinuousDeploymentClient(t *testing.T) {
	w := newStagingWorld(t, headerThenWeights())
	run, err := w.engine(func(o *Options) { o.CDN = &fakeCDN{} }).Run(context.Background(), "cfg")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "continuous deployment") {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
}
