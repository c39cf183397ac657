package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// TestSeedHoldsEveryHostname applies the generated seed to a lab: more
// hostnames in one zone than one request may create.
func TestSeedHoldsEveryHostname(t *testing.T) {
	const n, zones = 2500, 2
	s, err := lab.ParseSeed("seed", []byte(seedYAML(n, zones)))
	if err != nil {
		t.Fatal(err)
	}
	l := lab.New(lab.Options{})
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(seeded.Zones) != zones {
		t.Fatalf("zones %v", seeded.Zones)
	}
	for k := range zones {
		z, ok := l.Route53.Zone(seeded.Zones[zoneName(k)])
		if !ok {
			t.Fatalf("zone %s missing", zoneName(k))
		}
		// SOA and NS besides the hostnames.
		if want := n/zones + 2; z.RecordSetCount != want {
			t.Fatalf("zone %s holds %d record sets, want %d", zoneName(k), z.RecordSetCount, want)
		}
	}
}

// TestPlanSelectsEveryZone checks the plan's shape: one selector per zone,
// by its id and glob.
func TestPlanSelectsEveryZone(t *testing.T) {
	p := planYAML("bulk", map[string]string{"z0.example.com": "Z0ID", "z1.example.com": "Z1ID"}, 2, []int{10, 100}, false, "buckets")
	for _, want := range []string{
		"name: bulk\nzone: {rate_limit: buckets}\nbrake: {max_share: 1}\nhostnames:\n", `  - {zone: Z0ID, match: "*.z0.example.com"}`, `  - {zone: Z1ID, match: "*.z1.example.com"}`,
		"strategy: weighted\n", "  - {weight: 10}\n  - {weight: 100}\n",
	} {
		if !strings.Contains(p, want) {
			t.Fatalf("plan lacks %q:\n%s", want, p)
		}
	}
}

// bulkRunbook compiles a bulk weighted runbook of n hostnames in zones
// zones, as they are seeded, through the JSON a run stores it as.
func bulkRunbook(t *testing.T, n, zones int, weights ...int64) *runbook.Runbook {
	t.Helper()
	var sel []runbook.HostSelector
	var hosts []runbook.ObservedHost
	for k := range zones {
		sel = append(sel, runbook.HostSelector{Zone: "Z" + zoneName(k), Match: "*." + zoneName(k)})
	}
	for i := range n {
		name := dns.Fqdn(hostName(i, zones))
		hosts = append(hosts, runbook.ObservedHost{Name: name, Zone: "Z" + zoneName(i%zones), Records: []dns.RecordSet{
			{Name: name, Type: "CNAME", TTL: 1, Values: []string{"old.example.net."}},
		}})
	}
	spec := runbook.Spec{Name: "bulk", Strategy: "weighted", CutoverTTL: 1, Hosts: sel}
	for _, w := range weights {
		spec.Steps = append(spec.Steps, runbook.WeightStep{Weight: w})
	}
	obs := runbook.Observed{
		From:  runbook.Target{Kind: runbook.TargetEndpoint, DNSName: "old.example.net"},
		To:    runbook.Target{Kind: runbook.TargetEndpoint, DNSName: "new.example.net"},
		Hosts: hosts,
	}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rb)
	if err != nil {
		t.Fatal(err)
	}
	var stored runbook.Runbook
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	return &stored
}

func TestStepMinimum(t *testing.T) {
	// 2,000 hostnames, 1,000 a zone. CNAME → weighted pair: a DELETE and
	// two CREATEs (3 records), 333 hostnames a request: 4 a zone. A
	// weight shift replaces both sets (4 records): 250 a request, 4 a zone.
	rb := bulkRunbook(t, 2000, 2, 10, 50, 100)
	min, err := stepMinimum(rb)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for k, s := range rb.Steps {
		if s.BulkChange != nil {
			got = append(got, min[k])
			if s.BulkChange.Hosts != 2000 {
				t.Errorf("step %d changes %d hostnames, want 2000", k, s.BulkChange.Hosts)
			}
		}
	}
	t.Logf("steps %v, minimum per change step %v", kinds(rb), got)
	if len(got) < 2 || got[0] != 8 || got[1] != 8 {
		t.Fatalf("minimum requests per change step %v, want 8 for the first two (steps: %v)", got, kinds(rb))
	}
}

func kinds(rb *runbook.Runbook) []string {
	var out []string
	for _, s := range rb.Steps {
		out = append(out, s.Kind())
	}
	return out
}

func TestStepRowsAttributeCallsByTime(t *testing.T) {
	rb := bulkRunbook(t, 10, 2, 50, 100)
	var change []int
	for k, s := range rb.Steps {
		if s.BulkChange != nil {
			change = append(change, k)
		}
	}
	if len(change) < 2 {
		t.Fatalf("steps %v: want two change steps", kinds(rb))
	}
	a, b := change[0], change[1]
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	if rb.Steps[a+1].Kind() != "insync" || rb.Steps[b+1].Kind() != "insync" {
		t.Fatalf("steps %v: want each change step followed by its insync step", kinds(rb))
	}
	events := []store.Event{
		{Step: a, Time: at(0), Type: store.EventChangeIntent},
		{Step: a, Time: at(0.5), Type: store.EventChangeApplied},
		{Step: a + 1, Time: at(2), Type: store.EventChangeInSync},
		{Step: a + 2, Time: at(2.1), Type: store.EventWaitStarted},
		{Step: a + 2, Time: at(3), Type: store.EventWaitDone},
		{Step: b, Time: at(4), Type: store.EventChangeIntent},
		{Step: b + 1, Time: at(6), Type: store.EventChangeInSync},
	}
	calls := []awsapi.Call{
		{Time: at(-1), Operation: "ListResourceRecordSets", Status: 200}, // before the steps
		{Time: at(0.1), Operation: "ChangeResourceRecordSets", Status: 200},
		{Time: at(0.2), Operation: "ChangeResourceRecordSets", Status: 400},
		{Time: at(0.3), Operation: "ChangeResourceRecordSets", Status: 200},
		{Time: at(1), Operation: "GetChange", Status: 200},
		{Time: at(2.5), Operation: "GetChange", Status: 200},              // during the wait: no change step's
		{Time: at(4), Operation: "ChangeResourceRecordSets", Status: 200}, // the next step's
		{Time: at(5), Operation: "GetChange", Status: 200},
		{Time: at(5), Operation: "ListResourceRecordSets", Status: 200},
	}
	rows := stepRows(rb, events, calls, map[int]int{a: 2, b: 1}, budgets["legacy"], time.Second)
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.step != a || r.writes != 3 || r.throttled != 1 || r.getChanges != 1 || r.other != 0 || r.minimum != 2 || r.wall != 2*time.Second {
		t.Fatalf("first step %+v", r)
	}
	r = rows[1]
	// The second step began when the wait before it ended (3 s), not at
	// its intent (4 s): computing its changes is part of its time.
	if r.step != b || r.writes != 1 || r.getChanges != 1 || r.other != 1 || r.wall != 3*time.Second {
		t.Fatalf("second step %+v", r)
	}
	out := table([]result{{mode: "legacy", hosts: 10, zones: 2, steps: rows, wall: 7 * time.Second, maxRSS: 50 << 20}})
	if !strings.Contains(out, "| legacy | 10 | 2 | ") || strings.Count(out, "\n") != 4 {
		t.Fatalf("table:\n%s", out)
	}
}

func TestBucketLevel(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var calls []awsapi.Call
	for i := range 10 { // 10 calls in the first second drain a legacy bucket
		calls = append(calls, awsapi.Call{Service: "route53", Status: 200, Time: t0.Add(time.Duration(i) * 100 * time.Millisecond)})
	}
	calls = append(calls, awsapi.Call{Service: "route53", Status: 400, Time: t0.Add(950 * time.Millisecond)}) // throttled: no token
	if got := bucketLevel(calls, budgets["legacy"], t0.Add(time.Second)); got > 0.5 {
		t.Fatalf("level after draining = %.2f, want about 0", got)
	}
	if got := bucketLevel(calls, budgets["legacy"], t0.Add(10*time.Second)); got != 5 {
		t.Fatalf("level after a long pause = %.2f, want the burst", got)
	}
	if got := floor(10, budgets["legacy"], 0, 0); got != 4*time.Second {
		t.Fatalf("floor from an empty bucket = %s, want 20 calls at 5/s", got)
	}
}

func TestFloor(t *testing.T) {
	for _, tc := range []struct {
		writes int
		b      budget
		want   time.Duration
	}{
		{2, budgets["legacy"], time.Second},                     // 4 calls, within the burst of 5
		{30, budgets["legacy"], 11*time.Second + time.Second},   // 60 calls, 55 beyond at 5/s
		{30, budgets["buckets"], 1*time.Second + time.Second},   // 60 calls, 10 beyond at 10/s
		{300, budgets["buckets"], 55*time.Second + time.Second}, // 600 calls, 550 beyond
		{0, budgets["buckets"], time.Second},
	} {
		if got := floor(tc.writes, tc.b, float64(tc.b.burst), time.Second); got != tc.want {
			t.Errorf("floor(%d, %v) = %v, want %v", tc.writes, tc.b, got, tc.want)
		}
	}
}

// buildCutover builds the cutover binary of this tree.
func buildCutover(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cutover")
	build := exec.Command("go", "build", "-o", bin, "github.com/cutover/cutover/cmd/cutover")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestHarnessOneHostname runs the whole harness over the wire with a
// cutover binary built from this tree and a one-hostname plan: the lab
// subprocess, apply, the call log, the stored run and the attribution of
// calls to steps.
func TestHarnessOneHostname(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cutover and runs a lab")
	}
	bin := buildCutover(t)
	cfg := config{cutover: bin, zones: 2, weights: []int{50, 100}, propagation: 300 * time.Millisecond,
		poll: 100 * time.Millisecond, timeout: 2 * time.Minute, single: true}
	r := runOne(context.Background(), cfg, "legacy", 20)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.state != "done" || r.maxRSS <= 0 || r.wall <= 0 {
		t.Fatalf("run %s, peak RSS %d, wall %v", r.state, r.maxRSS, r.wall)
	}
	// 50 %, 100 %, then the collapse to a simple record: one request
	// each, each propagating for at least the lab's delay.
	if len(r.steps) != 3 {
		t.Fatalf("%d change steps: %+v", len(r.steps), r.steps)
	}
	for _, s := range r.steps {
		if s.writes != 1 || s.minimum != 1 || s.getChanges < 1 || s.hosts != 1 || s.wall < cfg.propagation {
			t.Fatalf("step %+v", s)
		}
	}
}

// TestTenThousandHostnamesInTwentyZones is the bulk acceptance run: a
// cutover binary built from this tree moves 10,000 hostnames in 20 lab
// zones through weighted steps, with the lab throttling Route 53 at the
// token buckets (burst 50, 10/s). Every change step makes exactly the
// fewest requests Route 53's limits allow, none is throttled, and every
// hostname ends at the new edge.
func TestTenThousandHostnamesInTwentyZones(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cutover and moves 10,000 hostnames through a lab")
	}
	bin := buildCutover(t)
	const n, zones = 10000, 20
	moved := 0
	cfg := config{cutover: bin, zones: zones, weights: []int{10, 50, 100}, propagation: 500 * time.Millisecond,
		poll: 500 * time.Millisecond, timeout: 8 * time.Minute,
		check: func(ctx context.Context, lab *labProc) error {
			p := route53.New(lab.awsConfig(), route53.Options{RatePerSecond: 9, Burst: 40})
			ids, err := lab.zoneIDs(ctx)
			if err != nil {
				return err
			}
			for _, id := range ids {
				recs, err := p.AllRecords(ctx, id)
				if err != nil {
					return err
				}
				for _, r := range recs {
					if r.Type != "CNAME" {
						continue
					}
					if r.SetIdentifier != "" || len(r.Values) != 1 || r.Values[0] != "new.example.net." {
						return fmt.Errorf("zone %s: %s, want a simple CNAME to new.example.net", id, r)
					}
					moved++
				}
			}
			return nil
		}}
	r := runOne(context.Background(), cfg, "buckets", n)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.state != "done" {
		t.Fatalf("run %s", r.state)
	}
	if moved != n {
		t.Fatalf("%d hostnames at the new edge, want %d", moved, n)
	}
	// 10 %, 50 %, 100 %, then the collapse.
	if len(r.steps) != 4 {
		t.Fatalf("%d change steps: %+v", len(r.steps), r.steps)
	}
	for _, s := range r.steps {
		if s.hosts != n || s.writes != s.minimum || s.throttled != 0 {
			t.Errorf("step %q: %d hostnames, %d requests (%d throttled), minimum %d", s.title, s.hosts, s.writes, s.throttled, s.minimum)
		}
	}
	t.Logf("\n%s", table([]result{r}))
}
