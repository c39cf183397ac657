package plan

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const bulkPlan = `apiVersion: cutover/v1
kind: Cutover
name: bulk
hostnames:
  - zone: /hostedzone/Z0123456789ABC
    match: "*.cdn.example.com"
  - zone: Z0AAAAAAAAAAAA
    names: [a.example.org, b.example.org.]
  - file: lists/hosts.txt
zone:
  id: Z0DEFAULTZONE
  role_arn: arn:aws:iam::222222222222:role/dns
from: {cloudfront: E2QWRUHAPOMQZL}
to: {alb: new-alb.us-east-1.elb.amazonaws.com}
`

// A bulk plan loads with its file read relative to the plan, its zones
// resolved (a line's own, else the plan's zone.id), and strategy weighted
// by default even though an edge is CloudFront.
func TestBulkPlanLoads(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"plan.yaml": bulkPlan,
		"lists/hosts.txt": "# customers\n" +
			"shop.example.net\n" +
			"\n" +
			"blog.example.net  /hostedzone/Z0BBBBBBBBBBBB  # their own zone\n" +
			"news.example.net\n",
	})
	p, err := Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsBulk() || p.Hostname != "" || p.Strategy != StrategyWeighted {
		t.Fatalf("bulk %v hostname %q strategy %s", p.IsBulk(), p.Hostname, p.Strategy)
	}
	want := []Selection{
		{Zone: "Z0123456789ABC", Match: "*.cdn.example.com"},
		{Zone: "Z0AAAAAAAAAAAA", Names: []string{"a.example.org", "b.example.org"}},
		{Zone: "Z0DEFAULTZONE", Names: []string{"shop.example.net", "news.example.net"}},
		{Zone: "Z0BBBBBBBBBBBB", Names: []string{"blog.example.net"}},
	}
	if got := p.Selections(); !reflect.DeepEqual(got, want) {
		t.Fatalf("selections\n%+v\nwant\n%+v", got, want)
	}
	e := p.Hostnames[2].Entries[1]
	if e.Pos.Line != 4 || e.Pos.Col != 1 || e.Pos.File != filepath.Join(dir, "lists/hosts.txt") {
		t.Fatalf("entry %s at %v", e.Name, e.Pos)
	}
}

// Without a zone.id, every selector names its zone, and the zone block
// may be left out.
func TestBulkPlanWithoutZoneBlock(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"plan.yaml": `apiVersion: cutover/v1
kind: Cutover
name: bulk
hostnames:
  - {zone: Z0AAAAAAAAAAAA, names: [a.example.org]}
  - file: hosts.txt
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
strategy: flip
`,
		"hosts.txt": "c.example.org Z0AAAAAAAAAAAA\n",
	})
	p, err := Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Strategy != StrategyFlip || len(p.Selections()) != 2 {
		t.Fatalf("strategy %s, selections %+v", p.Strategy, p.Selections())
	}
	// A file line without a zone then has none to default to.
	os.WriteFile(filepath.Join(dir, "hosts.txt"), []byte("c.example.org\n"), 0o644)
	_, err = Load(filepath.Join(dir, "plan.yaml"))
	var ds Diagnostics
	if !errors.As(err, &ds) || !strings.Contains(err.Error(), "plan.yaml:6:5: `hostnames[1]` names no zone") {
		t.Fatalf("want the zoneless selector reported, got %v", err)
	}
}

// A plan with neither hostname nor hostnames still says hostname is
// missing, as before bulk plans existed.
func TestPlanWithoutHostnameStillRequiresIt(t *testing.T) {
	_, err := Parse("p.yaml", []byte("apiVersion: cutover/v1\nkind: Cutover\nname: x\nfrom: {endpoint: a.example.net}\nto: {endpoint: b.example.net}\n"))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:1:1: the plan: missing required fields `hostname`, `zone`") {
		t.Fatalf("got %v", err)
	}
}

// A file with many bad lines reports the first 20 and how many there are.
func TestHostFileBadLinesAreBounded(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"plan.yaml": "apiVersion: cutover/v1\nkind: Cutover\nname: x\nhostnames: [{zone: Z0AAAAAAAAAAAA, file: h.txt}]\nfrom: {endpoint: a.example.net}\nto: {endpoint: b.example.net}\n",
		"h.txt":     strings.Repeat("NOT A HOST\n", 25),
	})
	_, err := Load(filepath.Join(dir, "plan.yaml"))
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != 21 || !strings.Contains(err.Error(), "has 25 bad lines; the first 20 are reported") {
		t.Fatalf("got %d diagnostics: %v", len(ds), err)
	}
	if !strings.Contains(err.Error(), filepath.Join(dir, "h.txt")+":20:1: expected a hostname") {
		t.Fatalf("bad line without its position: %v", err)
	}
}

func TestMatchHost(t *testing.T) {
	for _, c := range []struct {
		glob, name string
		want       bool
	}{
		{"*.cdn.example.com", "a.cdn.example.com.", true},
		{"*.cdn.example.com", "a.b.cdn.example.com", true},
		{"*.cdn.example.com", "cdn.example.com", false},
		{"*.cdn.example.com", "acdn.example.com", false},
		{"*.cdn.example.com", "A.CDN.example.com", true},
		{"*.*.cdn.example.com", "a.cdn.example.com", false},
		{"*.*.cdn.example.com", "a.b.cdn.example.com", true},
		{"cdn.example.com", "cdn.example.com", false},
	} {
		if got := MatchHost(c.glob, c.name); got != c.want {
			t.Errorf("MatchHost(%q, %q) = %v, want %v", c.glob, c.name, got, c.want)
		}
	}
}

// verify.hostnames defaults to 20 in a bulk plan and is refused, with its
// position, in a plan of one hostname.
func TestVerifyHostnames(t *testing.T) {
	verify := "verify:\n  expect: {new: NEW}\n"
	bulk := strings.Replace(bulkPlan, "  - file: lists/hosts.txt\n", "", 1)
	p, err := Parse("b.yaml", []byte(bulk+verify))
	if err != nil {
		t.Fatal(err)
	}
	if p.Verify.Hostnames != 20 {
		t.Fatalf("verify.hostnames = %d, want the default 20", p.Verify.Hostnames)
	}
	if p, err = Parse("b.yaml", []byte(bulk+verify+"  hostnames: 500\n")); err != nil || p.Verify.Hostnames != 500 {
		t.Fatalf("verify.hostnames 500: %v, %v", err, p)
	}
	one := "apiVersion: cutover/v1\nkind: Cutover\nname: x\nhostname: api.example.com\nzone: {id: Z0123456789ABC}\nfrom: {endpoint: a.example.net}\nto: {endpoint: b.example.net}\n"
	_, err = Parse("one.yaml", []byte(one+verify+"  hostnames: 5\n"))
	if err == nil || !strings.Contains(err.Error(), "one.yaml:10:14: `verify.hostnames` is for a plan with `hostnames`") {
		t.Fatalf("got %v", err)
	}
}
