package runbook

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cutover/cutover/internal/plan"
)

// A bulk plan's spec carries its selectors, a file's hostnames as names
// grouped by zone, and no single hostname.
func TestSpecFromBulkPlan(t *testing.T) {
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte(`apiVersion: cutover/v1
kind: Cutover
name: bulk
hostnames:
  - {zone: Z0123456789ABC, match: "*.cdn.example.com"}
  - file: hosts.txt
zone: {id: Z0DEFAULTZONE}
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
ttl: {cutover: 5}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts.txt"), []byte("a.example.org\nb.example.org Z0AAAAAAAAAAAA\nc.example.org\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Load(planFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SpecFromPlan(p, testGate)
	if err != nil {
		t.Fatal(err)
	}
	want := []HostSelector{
		{Zone: "Z0123456789ABC", Match: "*.cdn.example.com"},
		{Zone: "Z0DEFAULTZONE", Names: []string{"a.example.org", "c.example.org"}},
		{Zone: "Z0AAAAAAAAAAAA", Names: []string{"b.example.org"}},
	}
	if !reflect.DeepEqual(s.Hosts, want) {
		t.Fatalf("hosts\n%+v\nwant\n%+v", s.Hosts, want)
	}
	if s.Hostname != "" || s.Strategy != "weighted" || s.CutoverTTL != 5 || len(s.Steps) != 5 {
		t.Fatalf("spec hostname %q strategy %s ttl %d steps %d", s.Hostname, s.Strategy, s.CutoverTTL, len(s.Steps))
	}
}

// A one-hostname plan's spec has no Hosts: Compile takes its old path.
func TestSpecFromPlanHasNoHostsForOneHostname(t *testing.T) {
	s := loadExample(t, "weighted.yaml")
	if s.Hosts != nil || s.Hostname != "api.example.com" {
		t.Fatalf("hosts %+v hostname %q", s.Hosts, s.Hostname)
	}
}
