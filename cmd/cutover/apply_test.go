package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

// labWorld starts a lab with the weighted move's seed over HTTP and points
// the AWS SDK at it.
func labWorld(t *testing.T) (*lab.Lab, *lab.Seeded) {
	t.Helper()
	return labtest.Start(t, labtest.Seed)
}

// writePlan writes the weighted move api-move of labWorld's zone zoneID
// (10 %, then 100 %) with extra appended, and returns its path.
func writePlan(t *testing.T, zoneID string, extra string) string {
	t.Helper()
	return writePlanSteps(t, zoneID, labtest.Steps, extra)
}

// writePlanSteps is writePlan with other steps (YAML list items).
func writePlanSteps(t *testing.T, zoneID, steps, extra string) string {
	t.Helper()
	return writePlanFile(t, "plan.yaml", labtest.WeightedPlan("api-move", zoneID, steps, extra))
}

// writePlanFile writes body as name in a new temporary directory and
// returns its path.
func writePlanFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// aliasMoveWorld adds to l the world of a CloudFront alias move:
// cdn.example.org in the zone example.org, aliased to the distribution old
// that holds it, the distribution new without it, one certificate for
// both. It writes the plan cdn-move that moves the alias with
// AssociateAlias and returns what the seed made and the plan's path.
func aliasMoveWorld(t *testing.T, l *lab.Lab) (*lab.Seeded, string) {
	t.Helper()
	seed, err := lab.ParseSeed("x", []byte(`
certificates:
  - {name: cdn, domains: [cdn.example.org]}
distributions:
  - {name: old, aliases: [cdn.example.org], certificate: cdn, origin: {domain: 127.0.0.1, http_port: 8081}}
  - {name: new, certificate: cdn, origin: {domain: 127.0.0.1, http_port: 8082}}
zones:
  - name: example.org
records:
  - {zone: example.org, name: cdn.example.org, type: CNAME, ttl: 1, alias: {distribution: old}}
`))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(seed)
	if err != nil {
		t.Fatal(err)
	}
	old, nw := seeded.Distributions["old"], seeded.Distributions["new"]
	return seeded, writePlanFile(t, "move.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: cdn-move
hostname: cdn.example.org
zone: {id: %s}
from: {cloudfront: %s}
to: {cloudfront: %s}
strategy: alias-move
alias_move: {mode: associate, poll: 100ms, settle: 100ms}
ttl: {cutover: 1}
hold: 0s
`, seeded.Zones["example.org"], old.ID, nw.ID))
}

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	resetFlags(rootCmd)
	var out bytes.Buffer
	rootCmd.SetArgs(args)
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetIn(strings.NewReader(stdin))
	err := rootCmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestApplyAgainstLabOverTheWire(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	planPath := writePlan(t, zone, "")
	state := filepath.Join(t.TempDir(), "state.db")

	out, err := runCLI(t, "", "plan", "-f", planPath)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if !strings.Contains(out, "shift 10% to new.example.net") || !strings.Contains(out, "worst-case rollback") {
		t.Fatalf("plan output:\n%s", out)
	}

	// Declining changes nothing.
	before := len(l.Env.History.List(awsapi.Filter{Service: "route53"}))
	out, err = runCLI(t, "no\n", "apply", "-f", planPath, "--state", state, "--poll", "20ms")
	if exitCode(err) != exitCanceled {
		t.Fatalf("declined apply: %v\n%s", err, out)
	}
	if n := len(l.Env.History.List(awsapi.Filter{Service: "route53"})); n != before {
		t.Fatal("declined apply changed the zone")
	}

	out, err = runCLI(t, "yes\n", "apply", "-f", planPath, "--state", state, "--poll", "20ms")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	recs, _ := l.Route53.Records(zone)
	var final []string
	for _, r := range recs {
		if r.Name == "api.example.com." {
			final = append(final, fmt.Sprintf("%s %d %v %q", r.Type, *r.TTL, r.Records, r.SetIdentifier))
		}
	}
	if len(final) != 1 || final[0] != `CNAME 2 [new.example.net.] ""` {
		t.Fatalf("final records %v\n%s", final, out)
	}
	// The lab's history and the run's event log tell the same story.
	s, err := boltstore.Open(state, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, _ := s.Events(context.Background(), "api-move", 0)
	applied := 0
	for _, e := range evs {
		if e.Type == store.EventChangeApplied {
			applied++
		}
	}
	writes := 0
	for _, c := range l.Env.History.List(awsapi.Filter{Service: "route53", SinceSeq: int64(before)}) {
		if c.Operation == "ChangeResourceRecordSets" {
			writes++
		}
	}
	if applied == 0 || applied != writes {
		t.Fatalf("event log shows %d changes, lab history %d", applied, writes)
	}

	out, err = runCLI(t, "", "status", "api-move", "--state", state, "-o", "json")
	if err != nil || !strings.Contains(out, `"state": "done"`) {
		t.Fatalf("status: %v\n%s", err, out)
	}
	// A finished run is not re-applied.
	if _, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve"); exitCode(err) != exitUsage {
		t.Fatalf("re-apply of a finished run: %v", err)
	}
}

func TestApplyBadPlanExits2AndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: cutover/v1\nkind: Cutover\nname: x\nhostname: a.example.com\nzone: {id: Z1}\nfrom: {endpoint: a.example.net}\nto: {endpoint: b.example.net}\nsteps:\n  - weight: 10\n    pasue: 5m\n"), 0o644)
	state := filepath.Join(dir, "state.db")
	out, err := runCLI(t, "", "apply", "-f", bad, "--state", state, "--auto-approve")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "bad.yaml:10:5") || !strings.Contains(err.Error(), "pause") {
		t.Fatalf("bad plan: %v\n%s", err, out)
	}
	if _, statErr := os.Stat(state); !os.IsNotExist(statErr) {
		t.Fatal("a bad plan created the state file")
	}
}

// TestRecordEditedBehindTheRunPausesIt edits a weighted record by hand in
// the lab while the run observes; the next change's compare-and-swap fails,
// and the run pauses (exit 4) showing both versions, changing nothing.
func TestRecordEditedBehindTheRunPausesIt(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	planPath := writePlan(t, zone, "")
	body, _ := os.ReadFile(planPath)
	os.WriteFile(planPath, []byte(strings.Replace(string(body), "  - {weight: 10}\n", "  - {weight: 10, pause: 2s}\n", 1)), 0o644)
	state := filepath.Join(t.TempDir(), "state.db")

	edited := make(chan struct{})
	changes := l.Env.History.Subscribe(64)
	go func() {
		defer close(edited)
		// Each accepted write to the lab wakes the watcher: no polling.
		timeout := time.After(30 * time.Second)
		for {
			select {
			case <-changes:
			case <-timeout:
				t.Error("the run never reached the 10% step")
				return
			}
			recs, _ := l.Route53.Records(zone)
			for _, r := range recs {
				if r.Name == "api.example.com." && r.SetIdentifier == "cutover-to" && r.Weight != nil && *r.Weight == 10 {
					hand := r
					hand.Weight = route53.Int64(42)
					if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []route53.Change{{Action: "DELETE", Set: r}, {Action: "CREATE", Set: hand}}); err != nil {
						t.Errorf("hand edit: %v", err)
					}
					return
				}
			}
		}
	}()
	out, err := runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
	<-edited
	if exitCode(err) != exitPaused {
		t.Fatalf("exit %d (%v), want %d (paused)\n%s", exitCode(err), err, exitPaused, out)
	}
	for _, want := range []string{"record changed outside cutover", "weight 42", "weight 10"} {
		if !strings.Contains(out+err.Error(), want) {
			t.Fatalf("output lacks %q:\n%s\n%v", want, out, err)
		}
	}
	// The hand edit stands: cutover did not overwrite it.
	recs, _ := l.Route53.Records(zone)
	for _, r := range recs {
		if r.SetIdentifier == "cutover-to" && (r.Weight == nil || *r.Weight != 42) {
			t.Fatalf("hand-edited weight overwritten: %v", *r.Weight)
		}
	}
}

// resetFlags puts every flag of the command tree back to its default, so
// tests that reuse the tree in one process do not inherit each other's
// flags.
func resetFlags(c *cobra.Command) {
	reset := func(f *pflag.Flag) {
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = f.Value.Set(f.DefValue)
		}
		f.Changed = false
	}
	c.Flags().VisitAll(reset)
	c.PersistentFlags().VisitAll(reset)
	for _, sub := range c.Commands() {
		resetFlags(sub)
	}
}

// TestPlanCrossAccountBridgeReadsEachDistributionWithItsRole: the old
// distribution lives in the lab's second account, reached by a role; the
// plan reads it with that role and compiles the bridge runbook.
func TestPlanCrossAccountBridgeReadsEachDistributionWithItsRole(t *testing.T) {
	l, _ := labWorld(t)
	seed, err := lab.ParseSeed("x", []byte(`
certificates:
  - {name: old-cert, account: "222222222222", domains: [www.shop.example.com]}
  - {name: new-cert, domains: [www.shop.example.com, shop-new.example.com]}
distributions:
  - {name: old, account: "222222222222", aliases: [www.shop.example.com], certificate: old-cert, origin: {domain: 127.0.0.1, http_port: 8081}}
  - {name: new, aliases: [shop-new.example.com], certificate: new-cert, origin: {domain: 127.0.0.1, http_port: 8082}}
roles:
  - {arn: "arn:aws:iam::222222222222:role/cdn", trust: ["111111111111"]}
zones:
  - name: shop.example.com
`))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(seed)
	if err != nil {
		t.Fatal(err)
	}
	old, nw := seeded.Distributions["old"], seeded.Distributions["new"]
	p := filepath.Join(t.TempDir(), "bridge.yaml")
	os.WriteFile(p, []byte(fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: shop
hostname: www.shop.example.com
zone: {id: %s}
from: {cloudfront: %s, role_arn: "arn:aws:iam::222222222222:role/cdn"}
to: {cloudfront: %s}
strategy: bridge
bridge: {endpoint: bridge.example.net, rewrite_host: shop-new.example.com}
`, seeded.Zones["shop.example.com"], old.ID, nw.ID)), 0o644)
	// Below the apex: the bridge needs CNAME legs, which an apex cannot have.
	if _, err := l.Route53.ApplyChanges(awsapi.DefaultAccountID, seeded.Zones["shop.example.com"], []route53.Change{{Action: "CREATE", Set: route53.RecordSet{Name: "www.shop.example.com", Type: "A", AliasTarget: &route53.AliasTarget{HostedZoneID: "Z2FDTNDATAQYW2", DNSName: old.DomainName + "."}}}}); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "plan", "-f", p)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if !strings.Contains(out, "remove alias www.shop.example.com from "+old.ID) || !strings.Contains(out, "phase 2") {
		t.Fatalf("plan output:\n%s", out)
	}
	// With strategy auto, the masked holder in another account makes it
	// pick the bridge and say why.
	body, _ := os.ReadFile(p)
	os.WriteFile(p, []byte(strings.Replace(string(body), "strategy: bridge", "strategy: auto", 1)), 0o644)
	out, err = runCLI(t, "", "plan", "-f", p)
	if err != nil || !strings.Contains(out, "strategy auto chose bridge") {
		t.Fatalf("auto: %v\n%s", err, out)
	}
}

// TestApplyAliasMoveThroughTheCLI drives the whole CloudFront wiring of
// `cutover apply` (observation, the CloudFront client, the proof record,
// AssociateAlias, Deployed waits) against the lab over the wire.
func TestApplyAliasMoveThroughTheCLI(t *testing.T) {
	l, _ := labWorld(t)
	seeded, p := aliasMoveWorld(t, l)
	nw := seeded.Distributions["new"]
	zone := seeded.Zones["example.org"]
	out, err := runCLI(t, "", "apply", "-f", p, "--state", filepath.Join(t.TempDir(), "s.db"), "--auto-approve", "--poll", "20ms")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if v, _ := l.CloudFront.Get(nw.ID); len(v.Aliases) != 1 || v.Aliases[0] != "cdn.example.org" {
		t.Fatalf("new distribution aliases %v\n%s", v.Aliases, out)
	}
	recs, _ := l.Route53.Records(zone)
	for _, r := range recs {
		if r.Name == "cdn.example.org." && (r.Type != "CNAME" || len(r.Records) != 1 || r.Records[0] != nw.DomainName+".") {
			t.Fatalf("record %+v does not point at the new distribution", r)
		}
		if r.Name == "_cdn.example.org." {
			t.Fatalf("proof record left behind: %+v", r)
		}
	}
}
