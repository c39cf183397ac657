package report_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/golden"
	"github.com/cutover/cutover/internal/report"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/split"
	"github.com/cutover/cutover/internal/store"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func w(v int64) *int64 { return &v }

func js(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

var (
	oldCNAME = dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 60, Values: []string{"old.example.net."}}
	fromLeg  = dns.RecordSet{Name: "api.example.com.", Type: "CNAME", SetIdentifier: runbook.SetFrom, Weight: w(90), TTL: 60, Values: []string{"old.example.net."}}
	toLeg    = dns.RecordSet{Name: "api.example.com.", Type: "CNAME", SetIdentifier: runbook.SetTo, Weight: w(10), TTL: 60, Values: []string{"new.example.net."}}
)

// fixture is a weighted run that an operator paused and resumed, whose
// gate then failed and rolled it back.
func fixture() (store.Run, *runbook.Runbook, []store.Event, []split.Point) {
	shift := dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &oldCNAME}, {New: &fromLeg}, {New: &toLeg}}}
	back := dns.ChangeSet{Zone: "Z1", Changes: []dns.Change{{Old: &fromLeg}, {Old: &toLeg}, {New: &oldCNAME}}}
	rb := &runbook.Runbook{
		Name: "api-move", Hostname: "api.example.com.", Zone: "Z1", Strategy: "weighted",
		From:  &runbook.Target{Kind: runbook.TargetALB, ID: "api-old", DNSName: "api-old-1.us-east-1.elb.amazonaws.com"},
		To:    &runbook.Target{Kind: runbook.TargetALB, ID: "api-new", DNSName: "api-new-1.us-east-1.elb.amazonaws.com"},
		Gates: []runbook.Gate{{Name: "errors", Kind: "cloudwatch"}},
		Steps: []runbook.Step{
			{ID: "s1", Title: "shift 10% to api-new", Change: &runbook.Change{Set: shift, Weights: &runbook.Weights{Old: 90, New: 10}}},
			{ID: "s2", Title: "wait for INSYNC", InSync: &runbook.InSync{}},
			{ID: "s3", Title: "observe at 10%", Observe: &runbook.Observe{Gates: []string{"errors"}}},
			{ID: "s4", Title: "verify the new edge serves the hostname", Verify: &runbook.Verify{Expect: "new"}},
			{ID: "s5", Title: "move the alias", Aliases: &runbook.Aliases{Distribution: "E2NEW", Add: []string{"api.example.com"}}},
		},
	}
	rollback := []runbook.Step{{ID: "rb1", Title: "roll back to the original records", Change: &runbook.Change{Set: back, Weights: &runbook.Weights{Old: 100, New: 0}}}}
	run := store.Run{
		Name: "api-move", Hostname: rb.Hostname, PlanPath: "plans/api.yaml", PlanDigest: "9f86d081884c7d65", State: store.StateRolledBack,
		Reason: "gate errors breached for 1m0s: 5xx rate 7.5 % > 1 % (value 7.5)", CreatedAt: t0, UpdatedAt: t0.Add(5 * time.Minute),
		Data: map[string]json.RawMessage{"rollback": js(rollback)},
	}
	seq := int64(0)
	e := func(at time.Duration, typ store.EventType, step int, msg string, data any) store.Event {
		seq++
		ev := store.Event{Seq: seq, Time: t0.Add(at), Run: run.Name, Type: typ, Step: step, Message: msg}
		if data != nil {
			ev.Data = js(data)
		}
		return ev
	}
	before := cdn.Distribution{ID: "E2NEW", ETag: "E1", Aliases: nil}
	after := cdn.Distribution{ID: "E2NEW", ETag: "E2", Aliases: []string{"api.example.com"}}
	events := []store.Event{
		e(0, store.EventRunStarted, 0, "run api-move started: weighted api.example.com. (5 steps)", nil),
		e(time.Second, store.EventChangeIntent, 0, "step s1: shift 10% to api-new", shift),
		e(2*time.Second, store.EventChangeApplied, 1, "step s1: shift 10% to api-new (change C0001)", map[string]any{
			"change_id": "C0001", "weights": runbook.Weights{Old: 90, New: 10}, "step_id": "s1", "zone": "Z1",
			"before": []dns.RecordSet{oldCNAME}, "after": []dns.RecordSet{fromLeg, toLeg}}),
		e(4*time.Second, store.EventChangeInSync, 2, "step s2: change C0001 is INSYNC (2s)", nil),
		e(5*time.Second, store.EventWaitStarted, 2, "step s3: observe until 12:01:05Z (1m)", map[string]any{"gates": []string{"errors"}}),
		e(35*time.Second, store.EventGateMeasured, 2, "gate errors: Successful value=0.2", gate.Measurement{Gate: "errors", Phase: gate.Successful, Value: 0.2, Detail: "5xx rate 0.2 % <= 1 %", At: t0.Add(35 * time.Second)}),
		e(40*time.Second, store.EventRequested, 2, "pause", map[string]string{"action": "pause", "by": "alice@ops-1"}),
		e(41*time.Second, store.EventRunPaused, 2, "paused by operator at step 2", nil),
		e(90*time.Second, store.EventRequested, 2, "resume", map[string]string{"action": "resume", "by": "bob@ops-2"}),
		e(91*time.Second, store.EventRunResumed, 2, "resumed by operator at step 2", nil),
		e(100*time.Second, store.EventWaitDone, 3, "step s3: observe complete", nil),
		e(110*time.Second, store.EventVerifyPassed, 4, "step s4: 2 resolvers × 1 edge: new 100 %", runbook.VerifyResult{OK: true, Detail: "2 resolvers × 1 edge: new 100 %", Shares: map[string]float64{"new": 1},
			Cells: []runbook.VerifyCell{{Resolver: "unbound", Edge: "127.0.0.3", Share: 1, Side: "new", Status: 200}, {Resolver: "lab", Edge: "127.0.0.3", Share: 1, Side: "new", Status: 200}}}),
		e(120*time.Second, store.EventAliasesUpdated, 5, "step s5: move the alias (now api.example.com)", map[string]any{"id": after.ID, "etag": after.ETag, "aliases": after.Aliases, "before": before}),
		e(180*time.Second, store.EventGateMeasured, 5, "gate errors: Failed value=7.5", gate.Measurement{Gate: "errors", Phase: gate.Failed, Value: 7.5, Detail: "5xx rate 7.5 % > 1 %", At: t0.Add(180 * time.Second)}),
		e(240*time.Second, store.EventRollbackStarted, 0, "rollback: gate errors breached for 1m0s (1 steps)", nil),
		e(241*time.Second, store.EventChangeIntent, 0, "step rb1: roll back to the original records", back),
		e(242*time.Second, store.EventChangeApplied, 1, "step rb1: roll back to the original records (change C0002)", map[string]any{
			"change_id": "C0002", "weights": runbook.Weights{Old: 100, New: 0}, "step_id": "rb1", "zone": "Z1",
			"before": []dns.RecordSet{fromLeg, toLeg}, "after": []dns.RecordSet{oldCNAME}}),
		e(300*time.Second, store.EventRunRolledBack, 1, "run api-move rolled back: api.example.com. serves the original records", nil),
	}
	obs := func(v float64) *float64 { return &v }
	points := []split.Point{
		{At: t0, IntendedNew: 0, ObservedNew: obs(0)},
		{At: t0.Add(2 * time.Second), IntendedNew: 10},
		{At: t0.Add(time.Minute), IntendedNew: 10, ObservedNew: obs(8.5)},
		{At: t0.Add(2 * time.Minute), IntendedNew: 10, ObservedNew: obs(10.2)},
		{At: t0.Add(3 * time.Minute), IntendedNew: 10, ObservedNew: obs(9.7)},
		{At: t0.Add(4 * time.Minute), IntendedNew: 10, ObservedNew: obs(6.1)},
		{At: t0.Add(242 * time.Second), IntendedNew: 0},
		{At: t0.Add(5 * time.Minute), IntendedNew: 0},
	}
	return run, rb, events, points
}

func build(t *testing.T) *report.Report {
	t.Helper()
	run, rb, events, points := fixture()
	r, err := report.Build(run, rb, events, points, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGoldenFormats(t *testing.T) {
	r := build(t)
	for _, f := range []struct{ format, file string }{
		{report.FormatHTML, "report.html.golden"},
		{report.FormatMarkdown, "report.md.golden"},
		{report.FormatJSON, "report.json.golden"},
	} {
		var b bytes.Buffer
		if err := report.Render(&b, r, f.format); err != nil {
			t.Fatal(err)
		}
		golden.Check(t, filepath.Join("testdata", f.file), b.Bytes())
	}
}

func TestChangesOperatorsAndSteps(t *testing.T) {
	r := build(t)
	var got []string
	for _, c := range r.Changes {
		got = append(got, strings.Join([]string{c.Step, c.Provider, c.Operation, c.Resource, c.ChangeID, strings.Join(c.Before, ";"), strings.Join(c.After, ";")}, " | "))
	}
	want := []string{
		"s1 | route53 | ChangeResourceRecordSets | Z1 | C0001 | api.example.com. 60 CNAME old.example.net. | api.example.com. 60 CNAME [set cutover-from weight 90] old.example.net.;api.example.com. 60 CNAME [set cutover-to weight 10] new.example.net.",
		"s5 | cloudfront | UpdateDistribution | E2NEW | E2 | E2NEW aliases: no aliases (ETag E1) | E2NEW aliases: api.example.com (ETag E2)",
		"rb1 | route53 | ChangeResourceRecordSets | Z1 | C0002 | api.example.com. 60 CNAME [set cutover-from weight 90] old.example.net.;api.example.com. 60 CNAME [set cutover-to weight 10] new.example.net. | api.example.com. 60 CNAME old.example.net.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !r.Changes[2].Rollback || r.Changes[0].Rollback {
		t.Fatalf("rollback marks: %+v", r.Changes)
	}
	if len(r.Operators) != 2 || r.Operators[0].By != "alice@ops-1" || r.Operators[0].Outcome != "paused by operator at step 2" ||
		r.Operators[1].By != "bob@ops-2" || !r.Operators[1].OutcomeAt.Equal(t0.Add(91*time.Second)) {
		t.Fatalf("operator actions %+v", r.Operators)
	}
	// A change event is committed with the next step's index; the
	// timeline puts it on the step that made it.
	for _, e := range r.Timeline {
		if e.Type == store.EventChangeApplied && e.Seq == 3 && (e.Step != 1 || e.StepTitle != "shift 10% to api-new") {
			t.Fatalf("applied event on step %d %q", e.Step, e.StepTitle)
		}
	}
	if len(r.Gates) != 2 || r.Gates[1].Phase != gate.Failed || r.Gates[1].Kind != "cloudwatch" || len(r.Verify) != 1 || len(r.Verify[0].Cells) != 2 {
		t.Fatalf("gates %+v verify %+v", r.Gates, r.Verify)
	}
}

func TestStagingOperationsAreListed(t *testing.T) {
	run, rb, events, _ := fixture()
	rb.Steps = append(rb.Steps, runbook.Step{ID: "s6", Title: "send 5% to staging", Staging: &runbook.Staging{Op: runbook.StagingTraffic, Primary: "E2NEW", Weight: 0.05}})
	events = append(events[:13:13], store.Event{Seq: 99, Time: t0.Add(time.Hour), Type: store.EventStagingTraffic, Step: 6, Message: "step s6: policy P1 now sends 5% of viewers to staging"})
	r, err := report.Build(run, rb, events, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Staging) != 1 || r.Staging[0].Step != "s6" || r.Staging[0].Type != store.EventStagingTraffic {
		t.Fatalf("staging operations %+v", r.Staging)
	}
	var b bytes.Buffer
	if err := report.Markdown(&b, r); err != nil || !strings.Contains(b.String(), "## Continuous deployment operations (1)") {
		t.Fatalf("markdown (%v):\n%s", err, b.String())
	}
}

func TestHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := report.HTML(&b, build(t)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, re := range []string{`<script`, `<link`, `<img`, `src=`, `href=`, `url\(`, `@import`} {
		if regexp.MustCompile(re).MatchString(page) {
			t.Errorf("page references an asset: %s", re)
		}
	}
	if !strings.Contains(page, "<svg") || !strings.Contains(page, "<style>") {
		t.Fatal("no inline chart or style")
	}
}

func TestMarkdownEscapesTableCells(t *testing.T) {
	run, rb, events, _ := fixture()
	events[0].Message = "a | b *c*"
	r, _ := report.Build(run, rb, events, nil, "")
	var b bytes.Buffer
	if err := report.Markdown(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `a \| b \*c\*`) {
		t.Fatalf("cell not escaped:\n%s", b.String())
	}
}
