package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/report"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

// historyEntry is one entry of the lab's /_lab/history, with the parts of
// Route 53 and CloudFront states a report shows.
type historyEntry struct {
	Seq       int64  `json:"seq"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Resource  string `json:"resource"`
	Before    state  `json:"before"`
	After     state  `json:"after"`
}

type state struct {
	ChangeID string      `json:"changeId"`
	Sets     []labRecord `json:"sets"`
	ID       string      `json:"id"`
	ETag     string      `json:"etag"`
	Aliases  []string    `json:"aliases"`
}

type labRecord struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	SetIdentifier string   `json:"setIdentifier"`
	Weight        *int64   `json:"weight"`
	Failover      string   `json:"failover"`
	TTL           *int64   `json:"ttl"`
	Records       []string `json:"records"`
	AliasTarget   *struct {
		HostedZoneID         string `json:"hostedZoneId"`
		DNSName              string `json:"dnsName"`
		EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
	} `json:"aliasTarget"`
	HealthCheckID string `json:"healthCheckId"`
}

func (r labRecord) set() dns.RecordSet {
	s := dns.RecordSet{Name: r.Name, Type: r.Type, SetIdentifier: r.SetIdentifier, Weight: r.Weight, Failover: r.Failover, Values: r.Records, HealthCheckID: r.HealthCheckID}
	if r.TTL != nil {
		s.TTL = *r.TTL
	}
	if r.AliasTarget != nil {
		s.Alias = &dns.AliasTarget{ZoneID: r.AliasTarget.HostedZoneID, DNSName: r.AliasTarget.DNSName, EvaluateTargetHealth: r.AliasTarget.EvaluateTargetHealth}
	}
	return s
}

// labHistory reads the lab's history over the wire, after seq since, the
// way an auditor would.
func labHistory(t *testing.T, since int) []historyEntry {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/_lab/history?since=%d", os.Getenv("AWS_ENDPOINT_URL"), since))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var all []historyEntry
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		t.Fatal(err)
	}
	var out []historyEntry
	for _, c := range all {
		// Edges publishing metrics are the world, not the run.
		if c.Service == "route53" || c.Service == "cloudfront" {
			out = append(out, c)
		}
	}
	return out
}

func setLines(sets []dns.RecordSet) string {
	sorted := append([]dns.RecordSet(nil), sets...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key() < sorted[j].Key() })
	var l []string
	for _, s := range sorted {
		l = append(l, s.String())
	}
	return strings.Join(l, "; ")
}

func labSetLines(sets []labRecord) string {
	var out []dns.RecordSet
	for _, s := range sets {
		out = append(out, s.set())
	}
	return setLines(out)
}

// reportChanges runs `cutover report NAME --format json` and returns its
// changes, also checking that the HTML and Markdown reports name every
// change id.
func reportChanges(t *testing.T, state, name string) []report.Change {
	t.Helper()
	dir := t.TempDir()
	var r report.Report
	for _, f := range []string{"json", "html", "md"} {
		path := filepath.Join(dir, name+"."+f)
		if out, err := runCLI(t, "", "report", name, "--state", state, "--format", f, "-o", path); err != nil {
			t.Fatalf("report --format %s: %v\n%s", f, err, out)
		}
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f == "json" {
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, c := range r.Changes {
			if !strings.Contains(string(body), c.ChangeID) {
				t.Errorf("%s report does not show change %s", f, c.ChangeID)
			}
		}
	}
	return r.Changes
}

// compareWithHistory checks that the report lists exactly the changes the
// lab's history holds: same count, same change ids, same before/after.
func compareWithHistory(t *testing.T, changes []report.Change, history []historyEntry) {
	t.Helper()
	if len(changes) != len(history) {
		t.Fatalf("report lists %d changes, the lab's history %d:\nreport %+v\nhistory %+v", len(changes), len(history), changes, history)
	}
	for i, h := range history {
		c := changes[i]
		t.Logf("change %d: %s %s %s %s", i+1, h.Service, h.Operation, c.Resource, c.ChangeID)
		switch h.Service {
		case "route53":
			if c.Provider != report.ProviderRoute53 || h.Operation != c.Operation || h.Resource != "/hostedzone/"+c.Resource {
				t.Errorf("change %d: report %s %s on %s, history %s %s on %s", i, c.Provider, c.Operation, c.Resource, h.Service, h.Operation, h.Resource)
			}
			if h.After.ChangeID != "/change/"+c.ChangeID {
				t.Errorf("change %d: report change id %q, history %q", i, c.ChangeID, h.After.ChangeID)
			}
			if got, want := setLines(c.BeforeRecords), labSetLines(h.Before.Sets); got != want {
				t.Errorf("change %d (%s) before:\n report  %s\n history %s", i, c.ChangeID, got, want)
			}
			if got, want := setLines(c.AfterRecords), labSetLines(h.After.Sets); got != want {
				t.Errorf("change %d (%s) after:\n report  %s\n history %s", i, c.ChangeID, got, want)
			}
		case "cloudfront":
			if c.Provider != report.ProviderCloudFront || h.Operation != c.Operation || !strings.HasSuffix(h.Resource, ":distribution/"+c.Resource) {
				t.Errorf("change %d: report %s %s on %s, history %s %s on %s", i, c.Provider, c.Operation, c.Resource, h.Service, h.Operation, h.Resource)
			}
			if h.After.ETag != c.ChangeID {
				t.Errorf("change %d: report ETag %q, history %q", i, c.ChangeID, h.After.ETag)
			}
			if fmt.Sprint(c.BeforeAliases) != fmt.Sprint(nonNil(h.Before.Aliases)) || fmt.Sprint(c.AfterAliases) != fmt.Sprint(nonNil(h.After.Aliases)) {
				t.Errorf("change %d on %s: report aliases %v → %v, history %v → %v", i, c.Resource, c.BeforeAliases, c.AfterAliases, h.Before.Aliases, h.After.Aliases)
			}
		default:
			t.Errorf("history entry %d: unexpected service %s", i, h.Service)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestReportListsExactlyTheLabsChanges(t *testing.T) {
	l, seeded := labWorld(t)
	planPath := writePlan(t, seeded.Zones["example.com"], "")
	state := filepath.Join(t.TempDir(), "state.db")
	since := len(l.Env.History.List(awsapi.Filter{}))
	if out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	history := labHistory(t, since)
	if len(history) < 3 {
		t.Fatalf("the run changed too little to prove anything: %+v", history)
	}
	compareWithHistory(t, reportChanges(t, state, "api-move"), history)
}

func TestReportOfAnAliasMoveListsRoute53AndCloudFrontChanges(t *testing.T) {
	l, _ := labWorld(t)
	_, p := aliasMoveWorld(t, l)
	state := filepath.Join(t.TempDir(), "s.db")
	since := len(l.Env.History.List(awsapi.Filter{}))
	if out, err := runCLI(t, "", "apply", "-f", p, "--state", state, "--auto-approve", "--poll", "20ms"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	history := labHistory(t, since)
	cf := 0
	for _, h := range history {
		if h.Service == "cloudfront" {
			cf++
		}
	}
	if cf == 0 {
		t.Fatalf("no CloudFront change in the lab's history: %+v", history)
	}
	compareWithHistory(t, reportChanges(t, state, "cdn-move"), history)
}

func TestReportBadInput(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	if _, err := runCLI(t, "", "report", "nope", "--state", state); exitCode(err) != exitUsage {
		t.Fatalf("missing state file: %v, want exit 2", err)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Fatalf("report created a state file: %v", err)
	}
	if _, err := runCLI(t, "", "report", "nope", "--format", "pdf"); exitCode(err) != exitUsage {
		t.Fatalf("bad format: %v, want exit 2", err)
	}
	if _, err := runCLI(t, "", "report"); exitCode(err) != exitUsage {
		t.Fatalf("no name: %v, want exit 2", err)
	}
}

func TestReportNamesWhoPausedARun(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rb := &runbook.Runbook{Name: "held", Hostname: "api.example.com.", Zone: "Z1", Strategy: "flip",
		Steps: []runbook.Step{{ID: "w1", Title: "wait", Wait: &runbook.Wait{Duration: runbook.Duration(time.Hour), Reason: "test"}}}}
	if _, err := engine.Create(context.Background(), s, rb, "plan.yaml", "d", time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if out, err := runCLI(t, "", "pause", "held", "--state", state); err != nil {
		t.Fatalf("pause: %v\n%s", err, out)
	}
	out, err := runCLI(t, "", "report", "held", "--state", state, "--format", "json", "--metrics=false")
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(r.Operators) != 1 || r.Operators[0].Action != "pause" || r.Operators[0].By != store.LocalActor() || r.Operators[0].At.IsZero() {
		t.Fatalf("operator actions %+v, want one pause by %s", r.Operators, store.LocalActor())
	}
}

func TestReportOfARolledBackRunListsTheRollbackChanges(t *testing.T) {
	l, seeded := labWorld(t)
	// No datapoint is a breach: the gate fails as soon as traffic moved.
	planPath := writePlan(t, seeded.Zones["example.com"], `gates:
  - name: errors
    interval: 1s
    on_failure: rollback
    cloudwatch:
      metric: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, dimensions: {LoadBalancer: app/none/0}, stat: Sum}
      threshold: 1
      missing: breach
`)
	state := filepath.Join(t.TempDir(), "state.db")
	since := len(l.Env.History.List(awsapi.Filter{}))
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
	if exitCode(err) != exitFailure || !strings.Contains(out, "rollback.started") {
		t.Fatalf("apply: %v, want a rollback\n%s", err, out)
	}
	changes := reportChanges(t, state, "api-move")
	compareWithHistory(t, changes, labHistory(t, since))
	if last := changes[len(changes)-1]; !last.Rollback || changes[0].Rollback {
		t.Fatalf("rollback marks: first %v, last %v", changes[0].Rollback, last.Rollback)
	}
}
