package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

func zoneJSON(t *testing.T, l *lab.Lab, zone string) string {
	t.Helper()
	recs, ok := l.Route53.Records(zone)
	if !ok {
		t.Fatalf("no zone %s", zone)
	}
	b, _ := json.Marshal(recs)
	return string(b)
}

// TestMaintenanceOnStatusOffThroughTheCLI drives the three subcommands
// against the lab over the wire: declining changes nothing, on puts a
// weighted page record next to the live one, status reports it, off puts
// the zone back exactly, and a second off has nothing to do.
func TestMaintenanceOnStatusOffThroughTheCLI(t *testing.T) {
	l, seeded := labWorld(t)
	zone := seeded.Zones["example.com"]
	state := filepath.Join(t.TempDir(), "state.db")
	before := zoneJSON(t, l, zone)
	writes := func() (n int) {
		for _, c := range l.Env.History.List(awsapi.Filter{Service: "route53"}) {
			if c.Operation == "ChangeResourceRecordSets" {
				n++
			}
		}
		return n
	}
	on := []string{"maintenance", "on", "--host", "api.example.com", "--zone", zone, "--page", "endpoint:maint.example.net", "--state", state, "--poll", "20ms"}

	w0 := writes()
	if out, err := runCLI(t, "no\n", on...); exitCode(err) != exitCanceled || !strings.Contains(out, "cutover-maintenance weight 255") {
		t.Fatalf("declined on: %v\n%s", err, out)
	}
	if writes() != w0 {
		t.Fatal("a declined maintenance changed the zone")
	}
	out, err := runCLI(t, "", append(on, "--auto-approve", "-o", "json")...)
	if err != nil {
		t.Fatalf("on: %v\n%s", err, out)
	}
	if writes() != w0+1 {
		t.Fatalf("on made %d changes, want 1", writes()-w0)
	}
	during := zoneJSON(t, l, zone)
	if !strings.Contains(during, "cutover-maintenance") || !strings.Contains(out, `"strategy": "maintenance"`) || !strings.Contains(out, `"state": "done"`) {
		t.Fatalf("on: zone %s\noutput %s", during, out)
	}

	out, err = runCLI(t, "", "maintenance", "status", "--host", "api.example.com", "--state", state, "-o", "json")
	var st struct {
		On       bool              `json:"on"`
		Run      string            `json:"run"`
		Restores []json.RawMessage `json:"restores"`
	}
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || !st.On || !strings.HasPrefix(st.Run, "maint-on-api-example-com-") || len(st.Restores) != 1 {
		t.Fatalf("status: %v\n%s", err, out)
	}

	out, err = runCLI(t, "", "maintenance", "off", "--host", "api.example.com", "--state", state, "--poll", "20ms", "--auto-approve")
	if err != nil {
		t.Fatalf("off: %v\n%s", err, out)
	}
	if after := zoneJSON(t, l, zone); after != before {
		t.Fatalf("zone after off differs from before on:\nbefore %s\nafter  %s", before, after)
	}
	if out, err = runCLI(t, "", "maintenance", "off", "--host", "api.example.com", "--state", state, "--auto-approve"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "switched it off") {
		t.Fatalf("second off: %v\n%s", err, out)
	}
	if out, _ = runCLI(t, "", "maintenance", "status", "--host", "api.example.com", "--state", state); !strings.Contains(out, "not in maintenance") {
		t.Fatalf("status after off: %s", out)
	}
}

func TestMaintenanceBadInputExits2(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	for _, args := range [][]string{
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "maint.example.net"},
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "s3:maint.example.net"},
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "endpoint:maint.example.net", "--mode", "failover"},
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "endpoint:maint.example.net", "--health-check", "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc"},
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "endpoint:m.example.net", "--mode", "failover", "--health-check", "nope"},
		{"on", "--host", "api.example.com", "--zone", "Z1", "--page", "endpoint:m.example.net", "--expect-live", "x"},
		{"on", "--host", "api.example.com", "--page", "endpoint:m.example.net"},
		{"off", "--host", "api.example.com"},
	} {
		out, err := runCLI(t, "", append(append([]string{"maintenance"}, args...), "--state", state)...)
		if exitCode(err) != exitUsage {
			t.Errorf("%v: exit %d, want %d (%v)\n%s", args, exitCode(err), exitUsage, err, out)
		}
	}
}

// A plan with strategy maintenance compiles through `cutover plan` like
// any other: the to edge is the page, the from edge is checked.
func TestPlanStrategyMaintenance(t *testing.T) {
	l, seeded := labWorld(t)
	before := zoneJSON(t, l, seeded.Zones["example.com"])
	state := filepath.Join(t.TempDir(), "state.db")
	p := filepath.Join(t.TempDir(), "maintenance.yaml")
	body := "apiVersion: cutover/v1\nkind: Cutover\nname: api-maintenance\nhostname: api.example.com\nzone: {id: " + seeded.Zones["example.com"] + "}\n" +
		"from: {endpoint: old.example.net}\nto: {endpoint: maint.example.net}\nstrategy: maintenance\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "", "plan", "-f", p, "-o", "json")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	for _, want := range []string{`"strategy": "maintenance"`, `"set_identifier": "cutover-maintenance"`, `"weight": 255`, `"maint.example.net."`} {
		if !strings.Contains(out, want) {
			t.Fatalf("plan output lacks %s:\n%s", want, out)
		}
	}
	// apply switches it on; `maintenance off` ends a plan's run too.
	if out, err := runCLI(t, "", "apply", "-f", p, "--auto-approve", "--state", state, "--poll", "20ms"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if zoneJSON(t, l, seeded.Zones["example.com"]) == before {
		t.Fatal("apply left the zone unchanged")
	}
	if out, err := runCLI(t, "", "maintenance", "off", "--host", "api.example.com", "--auto-approve", "--state", state, "--poll", "20ms"); err != nil {
		t.Fatalf("off: %v\n%s", err, out)
	}
	if after := zoneJSON(t, l, seeded.Zones["example.com"]); after != before {
		t.Fatalf("after off:\n%s\nbefore:\n%s", after, before)
	}
	// A from edge the record does not point at is refused before anything
	// changes.
	if err := os.WriteFile(p, []byte(strings.Replace(body, "old.example.net", "other.example.net", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, "", "plan", "-f", p); err == nil || !strings.Contains(err.Error(), "not at the plan's from edge") {
		t.Fatalf("plan with a wrong from: %v\n%s", err, out)
	}
}
