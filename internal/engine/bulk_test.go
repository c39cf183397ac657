package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/pack"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// bulkZones is how many hostnames each zone of the bulk world holds: one
// zone needs several requests per step, the others one.
var bulkZones = map[string]int{"ZA": 400, "ZB": 12, "ZC": 1}

func bulkHost(zone string, i int) string {
	return fmt.Sprintf("h%03d.%s.example.com.", i, strings.ToLower(zone))
}

// bulkTTL gives every third hostname a long TTL, so the set mixes
// hostnames that need TTL preparation with ones that do not.
func bulkTTL(i int) int64 {
	if i%3 == 0 {
		return 300
	}
	return 30
}

func newBulkWorld(t *testing.T) *world {
	t.Helper()
	w := emptyWorld(1)
	var hosts []runbook.ObservedHost
	for z, n := range bulkZones {
		for i := 0; i < n; i++ {
			r := dns.RecordSet{Name: bulkHost(z, i), Type: "CNAME", TTL: bulkTTL(i), Values: []string{"old-lb.example.net."}}
			w.dns.Put(z, r)
			hosts = append(hosts, runbook.ObservedHost{Name: r.Name, Zone: z, Records: []dns.RecordSet{r}})
		}
	}
	spec := weightedSpec()
	spec.Hostname = ""
	spec.Hold = time.Hour
	spec.Hosts = []runbook.HostSelector{{Zone: "ZA", Match: "*.za.example.com"}}
	spec.Verify = &runbook.Verify{Expect: "new", Samples: 1}
	w.create(t, spec, runbook.Observed{Hosts: hosts})
	w.gates["errors"] = gate.Func(passing)
	return w
}

// hostRecords is what the zone serves at every hostname of the bulk world.
func (w *world) hostRecords() map[string][]dns.RecordSet {
	out := map[string][]dns.RecordSet{}
	for z := range bulkZones {
		for _, r := range w.dns.All(z) {
			out[r.Name] = append(out[r.Name], r)
		}
	}
	return out
}

// countingVerifier counts the hostnames it is asked about (a bulk Verify
// step asks several at once).
func countingVerifier(n *int) verifierFunc {
	var mu sync.Mutex
	return func(_ context.Context, rb *runbook.Runbook, _ runbook.Verify) VerifyResult {
		mu.Lock()
		defer mu.Unlock()
		*n++
		return VerifyResult{OK: true, Detail: "new served " + rb.Hostname}
	}
}

type verifierFunc func(context.Context, *runbook.Runbook, runbook.Verify) VerifyResult

func (f verifierFunc) Verify(ctx context.Context, rb *runbook.Runbook, v runbook.Verify) VerifyResult {
	return f(ctx, rb, v)
}

func TestBulkWeightedRunMovesEveryHostnameInPackedRequests(t *testing.T) {
	w := newBulkWorld(t)
	if got := len(w.rb.Bulk.Hosts); got != 413 {
		t.Fatalf("runbook holds %d hostnames, want 413", got)
	}
	verified := 0
	run, err := w.engine(func(o *Options) { o.Verifier = countingVerifier(&verified) }).Run(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state = %s (%s), want done", run.State, run.Reason)
	}
	// Every hostname is a simple CNAME at the new edge, with its own TTL
	// restored.
	recs := w.hostRecords()
	for z, n := range bulkZones {
		for i := 0; i < n; i++ {
			name := bulkHost(z, i)
			want := dns.RecordSet{Name: name, Type: "CNAME", TTL: bulkTTL(i), Values: []string{"new-lb.example.net."}}
			if got := recs[name]; len(got) != 1 || !got[0].Equal(want) {
				t.Fatalf("%s serves %v, want %v", name, got, want)
			}
		}
	}
	// Every request kept within Route 53's limits, and each step used as
	// few requests as those limits allow.
	perStep := map[string]int{}
	for _, cs := range w.dns.Applied {
		if r, c := pack.Size(cs.Changes); r > pack.Route53.Records || c > pack.Route53.Chars {
			t.Fatalf("request %q carries %d records / %d chars", cs.Comment, r, c)
		}
		perStep[strings.SplitN(cs.Comment, " (", 2)[0]]++
	}
	// The shifts turn 400 hostnames' single CNAME into a weighted pair (3
	// records each: 1,200 → 2 requests), then change both members (4 each:
	// 1,600 → 2 requests); ZB and ZC take one request each.
	for step, n := range perStep {
		if n > 4 {
			t.Errorf("step %q sent %d requests, want at most 4 (2 for ZA, 1 each for ZB and ZC)", step, n)
		}
	}
	if len(perStep) != 6 {
		t.Errorf("change steps = %v, want 6 (TTL, 3 shifts, collapse, restore)", perStep)
	}
	if verified != runbook.DefaultVerifyHostnames || verified >= len(w.rb.Bulk.Hosts) {
		t.Errorf("verified %d hostnames, want a sample of %d", verified, runbook.DefaultVerifyHostnames)
	}
	// The forward steps never listed a zone: calls are the changes and
	// their INSYNC checks only.
	if w.dns.Listings != 0 {
		t.Errorf("zones listed %d times during a clean run, want 0", w.dns.Listings)
	}
}

// failZone makes every request to zone fail at the step whose comment
// contains at.
func failZone(w *world, zone, at string) {
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if cs.Zone == zone && strings.Contains(cs.Comment, at) {
			return errors.New("InvalidChangeBatch: injected")
		}
		return nil
	}
}

func TestBulkFailedBatchHoldsOnlyItsHostnames(t *testing.T) {
	w := newBulkWorld(t)
	failZone(w, "ZB", "shift 50%")
	run := w.run(t)
	if run.State != store.StatePaused || run.StepPhase != phaseCatchUp {
		t.Fatalf("state = %s/%q (%s), want paused at the end to catch up", run.State, run.StepPhase, run.Reason)
	}
	if !strings.Contains(run.Reason, "12 of 413 hostnames are held back") || !strings.Contains(run.Reason, "zone ZB refused the batch") {
		t.Fatalf("reason = %q, want the 12 ZB hostnames and why", run.Reason)
	}
	st := BulkSummary(w.rb, run)
	if st.AtStep != 401 || len(st.Held) != 1 || st.Held[0].Count != 12 || st.Held[0].Zones[0] != "ZB" || len(st.Held[0].Sample) != 5 {
		t.Fatalf("summary = %+v", st)
	}
	// The other zones finished; ZB's hostnames still have the 1 % split.
	recs := w.hostRecords()
	if got := recs[bulkHost("ZA", 7)]; len(got) != 1 || got[0].Values[0] != "new-lb.example.net." {
		t.Fatalf("ZA hostname = %v, want moved", got)
	}
	if got := recs[bulkHost("ZB", 1)]; len(got) != 2 || *got[0].Weight+*got[1].Weight != 100 {
		t.Fatalf("ZB hostname = %v, want still the weighted pair of the 1%% step", got)
	}
	// Resume: the held hostnames catch up and the run is done.
	w.dns.BeforeApply = nil
	if _, err := w.store.Request(context.Background(), "api", "resume"); err != nil {
		t.Fatal(err)
	}
	run = w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("after resume: state = %s (%s), want done", run.State, run.Reason)
	}
	recs = w.hostRecords()
	for i := 0; i < bulkZones["ZB"]; i++ {
		want := dns.RecordSet{Name: bulkHost("ZB", i), Type: "CNAME", TTL: bulkTTL(i), Values: []string{"new-lb.example.net."}}
		if got := recs[want.Name]; len(got) != 1 || !got[0].Equal(want) {
			t.Fatalf("%s serves %v after the catch-up, want %v", want.Name, got, want)
		}
	}
	if st := BulkSummary(w.rb, run); len(st.Held) != 0 || st.AtStep != 413 {
		t.Fatalf("summary after catch-up = %+v", st)
	}
}

func TestBulkConflictHoldsOnlyTheEditedHostname(t *testing.T) {
	w := newBulkWorld(t)
	edited := bulkHost("ZA", 5)
	// Someone edits one hostname right before the 50 % step. (Only ZA's
	// requests touch edit: one zone's requests go one at a time.)
	edit := true
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if cs.Zone == "ZA" && strings.Contains(cs.Comment, "shift 50%") && edit {
			edit = false
			for _, r := range w.dns.All("ZA") {
				if r.Name == edited {
					w.dns.Delete("ZA", r)
				}
			}
			w.dns.Put("ZA", dns.RecordSet{Name: edited, Type: "CNAME", TTL: 60, Values: []string{"elsewhere.example.net."}})
		}
		return nil
	}
	run := w.run(t)
	st := BulkSummary(w.rb, run)
	if run.State != store.StatePaused || len(st.Held) != 1 || st.Held[0].Count != 1 || st.Held[0].Sample[0] != strings.TrimSuffix(edited, ".") {
		t.Fatalf("state %s (%s), summary %+v: want only %s held", run.State, run.Reason, st, edited)
	}
	if !strings.Contains(st.Held[0].Reason, "record changed outside cutover") {
		t.Fatalf("reason = %q", st.Held[0].Reason)
	}
	// Its batch-mates went again and moved.
	recs := w.hostRecords()
	if got := recs[bulkHost("ZA", 6)]; len(got) != 1 || got[0].Values[0] != "new-lb.example.net." {
		t.Fatalf("a batch-mate of the edited hostname = %v, want moved", got)
	}
	if got := recs[edited]; len(got) != 1 || got[0].Values[0] != "elsewhere.example.net." {
		t.Fatalf("edited hostname = %v, want left as its editor left it", got)
	}
	if w.dns.Listings != 1 {
		t.Errorf("zone listings = %d, want 1 (ZA, to sort out the conflict)", w.dns.Listings)
	}
}

func TestBulkRollbackReturnsEveryHostnameIncludingHeldOnes(t *testing.T) {
	w := newBulkWorld(t)
	failZone(w, "ZB", "shift 50%")
	breachAtZA50(w)
	run := w.run(t)
	if run.State != store.StateRolledBack {
		t.Fatalf("state = %s (%s), want rolled back", run.State, run.Reason)
	}
	recs := w.hostRecords()
	for z, n := range bulkZones {
		for i := 0; i < n; i++ {
			name := bulkHost(z, i)
			got := recs[name]
			if len(got) != 1 || got[0].SetIdentifier != "" || got[0].Values[0] != "old-lb.example.net." || got[0].TTL > bulkTTL(i) {
				t.Fatalf("%s serves %v after rollback, want its original CNAME (TTL at most %d)", name, got, bulkTTL(i))
			}
		}
	}
}

func TestBulkLostResponseCountsAsApplied(t *testing.T) {
	w := newBulkWorld(t)
	lost := false
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		if cs.Zone == "ZC" && strings.Contains(cs.Comment, "shift 1%") && !lost {
			lost = true
			return errors.New("connection reset")
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state = %s (%s), want done: the zone shows the lost change was applied", run.State, run.Reason)
	}
	evs, _ := w.store.Events(context.Background(), "api", 0)
	found := false
	for _, e := range evs {
		if e.Type == store.EventBulkApplied && strings.Contains(e.Message, "(1 found already changed)") {
			found = true
		}
	}
	if !found {
		t.Fatal("no bulk.applied event says a hostname was found already changed")
	}
}

func TestBulkInterruptedChangeIsReconciledNotSentTwice(t *testing.T) {
	w := newBulkWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	// The process dies right after ZA's first request of the 1 % step is
	// applied: the run is left between the intent and the outcome.
	w.dns.AfterApply = func(cs dns.ChangeSet) error {
		if cs.Zone == "ZA" && strings.Contains(cs.Comment, "shift 1%") && strings.Contains(cs.Comment, "(1/") {
			cancel()
		}
		return nil
	}
	if _, err := w.engine().Run(ctx, "api"); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("first engine: %v", err)
	}
	run, err := w.store.GetRun(context.Background(), "api")
	if err != nil {
		t.Fatal(err)
	}
	if run.StepPhase != "applying" {
		t.Fatalf("step phase after the stop = %q (state %s, step %d, %s), want applying", run.StepPhase, run.State, run.Step, run.Reason)
	}
	w.dns.AfterApply = nil
	firstApplied := len(w.dns.Applied)
	attempts := 0
	w.dns.BeforeApply = func(cs dns.ChangeSet) error {
		if strings.Contains(cs.Comment, "shift 1%") {
			attempts++
		}
		return nil
	}
	run = w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state = %s (%s), want done", run.State, run.Reason)
	}
	// Every hostname's 1 % change went out exactly once over both engines.
	sent := map[string]int{}
	for _, cs := range w.dns.Applied {
		if !strings.Contains(cs.Comment, "shift 1%") {
			continue
		}
		for _, c := range cs.Changes {
			if c.New != nil && c.New.SetIdentifier != "" {
				sent[c.New.Name]++
			}
		}
	}
	for z, n := range bulkZones {
		for i := 0; i < n; i++ {
			// Each hostname creates two weighted records in the step.
			if got := sent[bulkHost(z, i)]; got != 2 {
				t.Fatalf("%s: %d weighted records created in the 1 %% step, want 2 (its change sent once)", bulkHost(z, i), got)
			}
		}
	}
	evs, _ := w.store.Events(context.Background(), "api", 0)
	var note string
	for _, e := range evs {
		if e.Type == store.EventBulkApplied && strings.Contains(e.Message, "shift 1%") {
			note = e.Message
		}
	}
	if !strings.Contains(note, "found already changed") {
		t.Fatalf("the 1 %% step's outcome = %q, want it to count the hostnames applied before the stop", note)
	}
	if firstApplied == 0 {
		t.Fatal("nothing was applied before the stop")
	}
	// The resumed engine asked the zones first: it sent only what had not
	// been applied, and nothing of it was refused.
	resent := 0
	for _, cs := range w.dns.Applied[firstApplied:] {
		if strings.Contains(cs.Comment, "shift 1%") {
			resent++
		}
	}
	if attempts != resent {
		t.Fatalf("resumed engine: %d requests for the 1 %% step, %d applied: it resent changes already live", attempts, resent)
	}
}

func TestBulkVerifyChecksAsManyHostnamesAsThePlanSays(t *testing.T) {
	for _, c := range []struct {
		hostnames, want int
		detail          string
	}{
		{0, runbook.DefaultVerifyHostnames, "20 of 413 hostnames verified"},
		{100, 100, "100 of 413 hostnames verified"},
		{1000, 413, "all 413 hostnames verified"},
	} {
		w := newBulkWorld(t)
		v := firstVerify(t, w.rb)
		v.Hostnames = c.hostnames
		run, _ := w.store.GetRun(context.Background(), "api")
		var seen int
		e := w.engine(func(o *Options) { o.Verifier = countingVerifier(&seen) })
		res := e.verify(context.Background(), w.rb, run, v)
		if !res.OK || seen != c.want || !strings.HasPrefix(res.Detail, c.detail) {
			t.Errorf("hostnames %d: checked %d (%v: %s), want %d and %q", c.hostnames, seen, res.OK, res.Detail, c.want, c.detail)
		}
	}
	// One failing hostname fails the step, named, wherever it is in the set.
	w := newBulkWorld(t)
	bad := bulkHost("ZB", 3)
	v := firstVerify(t, w.rb)
	v.Hostnames = 1000
	run, _ := w.store.GetRun(context.Background(), "api")
	e := w.engine(func(o *Options) {
		o.Verifier = verifierFunc(func(_ context.Context, rb *runbook.Runbook, _ runbook.Verify) VerifyResult {
			if rb.Hostname == bad {
				return VerifyResult{Detail: "old edge answered"}
			}
			return VerifyResult{OK: true, Detail: "new served"}
		})
	})
	res := e.verify(context.Background(), w.rb, run, v)
	if res.OK || !strings.HasPrefix(res.Detail, strings.TrimSuffix(bad, ".")+": old edge answered (412 of the 413 checked of 413 moving passed)") {
		t.Fatalf("verify = %v %q, want a failure naming %s", res.OK, res.Detail, bad)
	}
}

func firstVerify(t *testing.T, rb *runbook.Runbook) runbook.Verify {
	t.Helper()
	for _, s := range rb.Steps {
		if s.Verify != nil {
			return *s.Verify
		}
	}
	t.Fatal("the runbook has no verify step")
	return runbook.Verify{}
}

// Rolling back, a zone whose listing cannot be read holds its hostnames
// with the reason; the other zones roll back, and the run pauses naming
// the held ones.
func TestBulkRollbackHoldsOnlyTheZoneItCannotRead(t *testing.T) {
	w := newBulkWorld(t)
	breachAtZA50(w)
	w.dns.ListErr = func(zone string) error {
		if zone == "ZB" {
			return errors.New("Throttling: rate exceeded")
		}
		return nil
	}
	run := w.run(t)
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "12 hostnames could not be rolled back") || !strings.Contains(run.Reason, "reading zone ZB") {
		t.Fatalf("state = %s (%s), want paused with ZB's 12 hostnames held", run.State, run.Reason)
	}
	recs := w.hostRecords()
	for z, n := range bulkZones {
		for i := 0; i < n; i++ {
			name := bulkHost(z, i)
			got := recs[name]
			back := len(got) == 1 && got[0].SetIdentifier == "" && got[0].Values[0] == "old-lb.example.net."
			if back == (z == "ZB") {
				t.Fatalf("%s (zone %s) serves %v: want only ZB's hostnames left where they were", name, z, got)
			}
		}
	}
}

// breachAtZA50 makes the errors gate fail once zone ZA serves the 50 %
// split.
func breachAtZA50(w *world) {
	breach := false
	w.gates["errors"] = gate.Func(func(ctx context.Context, now time.Time) gate.Measurement {
		if breach {
			return gate.Measurement{Phase: gate.Failed, Value: 1}
		}
		return passing(ctx, now)
	})
	w.clock.OnSleep = func(now time.Time) {
		for _, r := range w.dns.All("ZA") {
			if r.SetIdentifier != "" && r.Weight != nil && *r.Weight == 50 {
				breach = true
			}
		}
	}
}
