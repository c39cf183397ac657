package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	labcw "github.com/cutover/cutover/internal/lab/cloudwatch"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

// externalDNSOwner is the ownership record external-dns keeps beside a
// CNAME it manages (the record-type prefix of its newer TXT format).
var externalDNSOwner = route53.RecordSet{Name: "cname-api.example.com", Type: "TXT", TTL: route53.Int64(300),
	Records: []string{`"heritage=external-dns,external-dns/owner=default,external-dns/resource=ingress/api/api"`}}

// TestApplyRefusesOnPreflightFailAndProceedsWithWaiver: external-dns owns
// the record, so preflight fails record-owner and apply stops before any
// change; waived by name, apply runs and the waiver is in the run's events.
func TestApplyRefusesOnPreflightFailAndProceedsWithWaiver(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []route53.Change{{Action: "CREATE", Set: externalDNSOwner}}); err != nil {
		t.Fatal(err)
	}
	planPath := writePlan(t, zone, "")
	// A short hold, whose end runs the decommission checklist.
	body, _ := os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(body), "hold: 0s", "hold: 1s", 1)), 0o644)
	state := filepath.Join(t.TempDir(), "state.db")
	before := len(l.Env.History.List(awsapi.Filter{Service: "route53"}))

	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "preflight failed: record-owner") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("apply with a failing preflight: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"FAIL  record-owner", "evidence: route53 ListResourceRecordSets " + zone, "heritage=external-dns"} {
		if !strings.Contains(out, want) {
			t.Fatalf("apply output lacks %q:\n%s", want, out)
		}
	}
	for _, c := range l.Env.History.List(awsapi.Filter{Service: "route53", SinceSeq: int64(before)}) {
		if c.Operation == "ChangeResourceRecordSets" {
			t.Fatalf("a refused apply changed the zone: %+v", c)
		}
	}
	if _, err := runCLI(t, "", "status", "api-move", "--state", state); exitCode(err) != exitUsage {
		t.Fatalf("a refused apply created the run: %v", err)
	}

	// A waiver with a typo is bad input, not a waiver.
	if _, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--waive", "record-owners"); exitCode(err) != exitUsage {
		t.Fatalf("unknown waiver: exit %d (%v)", exitCode(err), err)
	}

	out, err = runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms", "--waive", "record-owner")
	if err != nil {
		t.Fatalf("apply with the waiver: %v\n%s", err, out)
	}
	if !strings.Contains(out, "FAIL (waived)  record-owner") {
		t.Fatalf("apply output does not show the waiver:\n%s", out)
	}
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, _ := s.Events(context.Background(), "api-move", 0)
	var waived, passed *store.Event
	for i, e := range evs {
		switch e.Type {
		case store.EventPreflightWaived:
			waived = &evs[i]
		case store.EventPreflightPassed:
			passed = &evs[i]
		}
	}
	if waived == nil || !strings.Contains(waived.Message, "record-owner") || !strings.Contains(waived.Message, "heritage=external-dns") {
		t.Fatalf("no waiver event naming the check and its evidence: %+v", evs)
	}
	var rep preflight.Report
	if passed == nil || json.Unmarshal(passed.Data, &rep) != nil || len(rep.Waived()) != 1 || rep.Waived()[0].Name != preflight.CheckRecordOwner {
		t.Fatalf("preflight.passed does not carry the checklist with its waiver: %+v", passed)
	}
	if evs[0].Type != store.EventPreflightWaived {
		t.Fatalf("the preflight events do not open the run's log: first %s", evs[0].Type)
	}
	// The end of the hold recorded the decommission checklist: the record
	// now points at the new endpoint only.
	var checked *store.Event
	for i, e := range evs {
		if e.Type == store.EventDecommissionChecked {
			checked = &evs[i]
		}
	}
	if checked == nil || json.Unmarshal(checked.Data, &rep) != nil || rep.Kind != "decommission" {
		t.Fatalf("no decommission checklist in the run's events: %+v", checked)
	}
	for _, r := range rep.Results {
		if r.Name == preflight.CheckOldRecords && r.Status != preflight.Pass {
			t.Fatalf("old-records after the move: %+v", r)
		}
	}
}

func TestPreflightCommandExitAndJSON(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	planPath := writePlan(t, zone, "")
	out, err := runCLI(t, "", "preflight", "-f", planPath, "-o", "json")
	if err != nil {
		t.Fatalf("clean preflight: %v\n%s", err, out)
	}
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Kind != "preflight" || len(rep.Results) == 0 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []route53.Change{{Action: "CREATE", Set: externalDNSOwner}}); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "", "preflight", "-f", planPath)
	if exitCode(err) != exitFailure || !strings.Contains(out, "FAIL  record-owner") {
		t.Fatalf("failing preflight: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if _, err := runCLI(t, "", "preflight", "-f", planPath, "--preflight-scheme", "ftp"); exitCode(err) != exitUsage {
		t.Fatalf("a bad scheme: exit %d (%v)", exitCode(err), err)
	}
	if out, err = runCLI(t, "", "preflight", "-f", planPath, "--waive", "record-owner"); err != nil {
		t.Fatalf("waived preflight: %v\n%s", err, out)
	}
	out, err = runCLI(t, "", "plan", "-f", planPath, "-o", "json")
	var pj struct {
		Runbook   json.RawMessage   `json:"runbook"`
		Preflight *preflight.Report `json:"preflight"`
	}
	if err != nil || json.Unmarshal([]byte(out), &pj) != nil || len(pj.Runbook) == 0 || pj.Preflight == nil || pj.Preflight.OK() {
		t.Fatalf("plan -o json lacks the runbook or the failing preflight: %v\n%s", err, out)
	}
	// plan shows the same checklist after the runbook.
	out, err = runCLI(t, "", "plan", "-f", planPath)
	if err != nil || !strings.Contains(out, "preflight checks for api.example.com") || !strings.Contains(out, "FAIL  record-owner") {
		t.Fatalf("plan: %v\n%s", err, out)
	}
}

// TestDecommissionCheckLeftoverWeightedRecordAndAlarm: after a move from
// api-old to api-new, a weight-0 leftover and an alarm scoped to api-old
// keep the old load balancer alive; once both are gone, it can go.
func TestDecommissionCheckLeftoverWeightedRecordAndAlarm(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	old, nw := seeded.LoadBalancers["api-old"], seeded.LoadBalancers["api-new"]
	w0, w100 := int64(0), int64(100)
	leftover := route53.RecordSet{Name: "api.example.com", Type: "A", SetIdentifier: "old", Weight: &w0,
		AliasTarget: &route53.AliasTarget{HostedZoneID: old.CanonicalHostedZoneID, DNSName: old.DNSName + ".", EvaluateTargetHealth: true}}
	current := route53.RecordSet{Name: "api.example.com", Type: "A", SetIdentifier: "new", Weight: &w100,
		AliasTarget: &route53.AliasTarget{HostedZoneID: nw.CanonicalHostedZoneID, DNSName: nw.DNSName + ".", EvaluateTargetHealth: true}}
	recs, _ := l.Route53.Records(zone)
	var cname route53.RecordSet
	for _, r := range recs {
		if r.Name == "api.example.com." && r.Type == "CNAME" {
			cname = r
		}
	}
	if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []route53.Change{{Action: "DELETE", Set: cname}, {Action: "CREATE", Set: leftover}, {Action: "CREATE", Set: current}}); err != nil {
		t.Fatal(err)
	}
	dim := preflight.LoadBalancerDimension(old.ARN)
	if err := l.CloudWatch.PutAlarm(awsapi.DefaultAccountID, labcw.AlarmConfig{Name: "api-old-5xx", Namespace: "AWS/ApplicationELB", MetricName: "HTTPCode_ELB_5XX_Count",
		Dimensions: map[string]string{"LoadBalancer": dim}, Statistic: "Sum", Period: 60e9, EvaluationPeriods: 3, Threshold: 10, ComparisonOperator: "GreaterThanThreshold"}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "plan.yaml")
	os.WriteFile(p, []byte(fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-alb
hostname: api.example.com
zone: {id: %s}
from: {alb: %s}
to: {alb: %s}
strategy: weighted
`, zone, old.DNSName, nw.DNSName)), 0o644)

	out, err := runCLI(t, "", "decommission-check", "-f", p)
	if exitCode(err) != exitFailure {
		t.Fatalf("decommission-check with leftovers: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"FAIL  old-records", "[set old weight 0] ALIAS " + old.DNSName, "FAIL  old-alarms", "api-old-5xx (AWS/ApplicationELB HTTPCode_ELB_5XX_Count LoadBalancer=" + dim, "PASS  old-traffic"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}

	// Remove both leftovers, as an operator would, over the wire.
	if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []route53.Change{{Action: "DELETE", Set: leftover}}); err != nil {
		t.Fatal(err)
	}
	cw := cloudwatch.NewFromConfig(awstest.Config(os.Getenv("AWS_ENDPOINT_URL")))
	if _, err := cw.DeleteAlarms(context.Background(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"api-old-5xx"}}); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, "", "decommission-check", "-f", p, "-o", "json")
	if err != nil {
		t.Fatalf("decommission-check once clean: %v\n%s", err, out)
	}
	var rep preflight.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.OK() || rep.Kind != "decommission" {
		t.Fatalf("json: %v\n%s", err, out)
	}
}
