package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/labtest"
)

// brakeSeed is a zone of five record sets (SOA, NS, api A and AAAA, www):
// moving api rewrites two of them, 40 % of the zone.
const brakeSeed = `
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:8081"]}
  - {name: api-new, targets: ["127.0.0.1:8082"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: A, alias: {load_balancer: api-old}}
  - {zone: example.com, name: api.example.com, type: AAAA, alias: {load_balancer: api-old}}
  - {zone: example.com, name: www.example.com, type: CNAME, ttl: 300, values: [web.example.net]}
`

func TestSafetyBrakeStopsFortyPercentOfAZoneUnlessForced(t *testing.T) {
	l, seeded := labtest.Start(t, brakeSeed)
	planPath := writePlanFile(t, "plan.yaml", fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-move
hostname: api.example.com
zone: {id: %s}
from: {alb: %s}
to: {alb: %s}
strategy: flip
hold: 0s
brake: {max_share: 0.3, min_record_sets: 5}
`, seeded.Zones["example.com"], seeded.LoadBalancers["api-old"].DNSName, seeded.LoadBalancers["api-new"].DNSName))
	state := filepath.Join(t.TempDir(), "state.db")
	changes := func() int {
		n := 0
		for _, c := range l.Env.History.List(awsapi.Filter{Service: "route53"}) {
			if c.Operation == "ChangeResourceRecordSets" {
				n++
			}
		}
		return n
	}
	before := changes()

	// plan says so up front.
	out, err := runCLI(t, "", "plan", "-f", planPath)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if !strings.Contains(out, "SAFETY BRAKE: this plan touches 2 of the zone's 5 record sets (40%)") {
		t.Fatalf("plan does not warn about the brake:\n%s", out)
	}
	out, err = runCLI(t, "", "plan", "-f", planPath, "-o", "json")
	if err != nil {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	var report struct {
		Brake struct {
			Zone struct {
				RecordSets int `json:"record_sets"`
			} `json:"zone"`
			Touched []string `json:"touched"`
			Reasons []string `json:"reasons"`
		} `json:"brake"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	if b := report.Brake; b.Zone.RecordSets != 5 || len(b.Touched) != 2 || len(b.Reasons) != 1 {
		t.Fatalf("plan -o json brake = %+v, want 2 of 5 record sets touched and one reason", b)
	}
	// apply refuses, and changes nothing.
	out, err = runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "safety brake") {
		t.Fatalf("apply without --force: exit %d, %v\n%s", exitCode(err), err, out)
	}
	if n := changes(); n != before {
		t.Fatalf("the refused apply made %d changes", n-before)
	}
	// --force lets it through to the confirmation (declined here: the
	// flip's one-TTL wait on alias records is a minute).
	// The lab's load balancers serve plain HTTP: no certificate to check.
	out, err = runCLI(t, "no\n", "apply", "-f", planPath, "--state", state, "--force", "--waive", "cert-covers", "--poll", "20ms")
	if exitCode(err) != exitCanceled || !strings.Contains(out, "Apply this runbook to api.example.com.?") {
		t.Fatalf("apply --force did not reach the confirmation: exit %d, %v\n%s", exitCode(err), err, out)
	}
}
