package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/dns/rfc2136"
	"github.com/cutover/cutover/internal/dns/rfc2136/knottest"
)

// knotPlan writes a plan for api.example.com on k, its TSIG secret in the
// environment, with extra appended.
func knotPlan(t *testing.T, k *knottest.Server, extra string) string {
	t.Helper()
	t.Setenv("CUTOVER_TEST_TSIG", k.Secret)
	p := filepath.Join(t.TempDir(), "plan.yaml")
	body := fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-knot
hostname: api.example.com
zone:
  provider: rfc2136
  name: example.com
  server: %s
  tsig: {name: %s, secret_env: CUTOVER_TEST_TSIG}
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
ttl: {cutover: 1}
hold: 1s
%s`, k.Addr, knottest.KeyName, extra)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFlipOnKnotThroughTheCLI plans and applies a flip on a real Knot DNS
// with `cutover plan` and `cutover apply`: the plan names the server and
// key each change uses (never the secret), apply flips the record.
func TestFlipOnKnotThroughTheCLI(t *testing.T) {
	k := knottest.Start(t, knottest.Options{Zone: "example.com", Records: []string{"api 2 IN CNAME old.example.net."}})
	planPath := knotPlan(t, k, "")
	state := filepath.Join(t.TempDir(), "state.db")

	out, err := runCLI(t, "", "plan", "-f", planPath)
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	want := fmt.Sprintf("calls zone example.com: rfc2136 at %s, TSIG key %s (hmac-sha256, secret from $CUTOVER_TEST_TSIG)", k.Addr, knottest.KeyName)
	if !strings.Contains(out, want) || !strings.Contains(out, "+ api.example.com. 1 CNAME new.example.net.") {
		t.Fatalf("plan output lacks %q or the flip:\n%s", want, out)
	}
	if strings.Contains(out, k.Secret) {
		t.Fatal("plan output shows the TSIG secret")
	}
	out, err = runCLI(t, "", "plan", "-f", planPath, "-o", "json")
	if err != nil || !strings.Contains(out, `"as": "rfc2136 at `) {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}

	out, err = runCLI(t, "", "apply", "-f", planPath, "--state", state, "--auto-approve", "--poll", "20ms")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	prov, err := rfc2136.New(rfc2136.Options{Server: k.Addr, TSIG: &rfc2136.TSIG{Name: knottest.KeyName, Secret: k.Secret}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := prov.Records(context.Background(), "example.com", "api.example.com")
	if err != nil || len(recs) != 1 || recs[0].String() != "api.example.com. 2 CNAME new.example.net." {
		t.Fatalf("zone after apply: %v %v\n%s", recs, err, out)
	}
	got, _ := runCLI(t, "", "status", "api-knot", "--state", state, "-o", "json")
	if !strings.Contains(got, `"state": "done"`) {
		t.Fatalf("status:\n%s", got)
	}
	raw, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), k.Secret) {
		t.Fatal("the state file holds the TSIG secret")
	}
}

// TestWeightedOnPlainDNSIsBadInput: plain DNS has no weights, and plan
// says so with the position of the strategy, before reading anything.
func TestWeightedOnPlainDNSIsBadInput(t *testing.T) {
	k := &knottest.Server{Addr: "127.0.0.1:1", Secret: "c2VjcmV0"}
	planPath := knotPlan(t, k, "strategy: weighted\n")
	out, err := runCLI(t, "", "plan", "-f", planPath)
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "plan.yaml:14:11") || !strings.Contains(err.Error(), "has no weights") {
		t.Fatalf("weighted on rfc2136: %v\n%s", err, out)
	}
}
