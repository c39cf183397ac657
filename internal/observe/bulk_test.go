package observe

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/labtest"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

const hostsPerZone = 400

// bulkSeed is three zones of hostsPerZone CNAMEs each (h0.cdn.<zone> ...),
// plus names a selector must leave out: another name's CNAME, a TXT-only
// name under the glob.
func bulkSeed() string {
	var b strings.Builder
	b.WriteString("zones:\n  - name: a.example\n  - name: b.example\n  - name: c.example\nrecords:\n")
	for _, z := range []string{"a.example", "b.example", "c.example"} {
		for i := 0; i < hostsPerZone; i++ {
			fmt.Fprintf(&b, "  - {zone: %s, name: h%d.cdn.%s, type: CNAME, ttl: 300, values: [old.example.net]}\n", z, i, z)
		}
		fmt.Fprintf(&b, "  - {zone: %s, name: www.%s, type: CNAME, ttl: 300, values: [old.example.net]}\n", z, z)
		fmt.Fprintf(&b, "  - {zone: %s, name: txt.cdn.%s, type: TXT, ttl: 300, values: [\"\\\"v=1\\\"\"]}\n", z, z)
	}
	return b.String()
}

// A bulk plan over three zones of 400 hostnames is observed over the
// wire with one zone-wide listing per zone: the lab sees exactly the
// ListResourceRecordSets pages the zones need (300 record sets a page),
// not one call per hostname; and the observed hosts compile into a bulk
// runbook.
func TestObserveBulkReadsEachZoneOnce(t *testing.T) {
	l, seeded := labtest.Start(t, bulkSeed())
	za, zb, zc := seeded.Zones["a.example"], seeded.Zones["b.example"], seeded.Zones["c.example"]
	dir := t.TempDir()
	var file strings.Builder
	file.WriteString("# zone c, listed by name\n")
	for i := 0; i < hostsPerZone; i++ {
		fmt.Fprintf(&file, "h%d.cdn.c.example %s\n", i, zc)
	}
	writeFile(t, filepath.Join(dir, "hosts.txt"), file.String())
	writeFile(t, filepath.Join(dir, "plan.yaml"), fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: bulk
hostnames:
  - {zone: %s, match: "*.cdn.a.example"}
  - {zone: /hostedzone/%s, match: "*.cdn.b.example"}
  - file: hosts.txt
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
ttl: {cutover: 1}
`, za, zb))
	p, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prov := route53.New(awstest.Config(os.Getenv("AWS_ENDPOINT_URL")), route53.Options{})
	d := Deps{
		Edges: edge.Resolver{Config: func(context.Context, string, string) (aws.Config, error) {
			return awstest.Config(os.Getenv("AWS_ENDPOINT_URL")), nil
		}},
		Zone: func(context.Context, *runbook.Runbook) (dns.Provider, error) { return prov, nil },
	}
	start := l.Env.Calls.Len()
	obs, err := Observe(context.Background(), p, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Hosts) != 3*hostsPerZone {
		t.Fatalf("observed %d hosts, want %d", len(obs.Hosts), 3*hostsPerZone)
	}
	perZone := map[string]int{}
	for _, h := range obs.Hosts {
		perZone[h.Zone]++
		if len(h.Records) != 1 || h.Records[0].Type != "CNAME" || !strings.HasPrefix(h.Name, "h") {
			t.Fatalf("host %+v", h)
		}
	}
	if perZone[za] != hostsPerZone || perZone[zb] != hostsPerZone || perZone[zc] != hostsPerZone {
		t.Fatalf("hosts per zone %v", perZone)
	}
	// Each zone holds NS, SOA, 400 hosts, www and a TXT: 404 record sets,
	// two pages of at most 300.
	lists := map[string]int{}
	for _, c := range l.Env.Calls.List(awsapi.CallFilter{Service: "route53", SinceSeq: start}) {
		if c.Operation == "ListResourceRecordSets" {
			lists[c.Resource]++
		} else {
			t.Errorf("unexpected call %s", c.Operation)
		}
	}
	for _, z := range []string{za, zb, zc} {
		all, err := prov.AllRecords(context.Background(), z)
		if err != nil {
			t.Fatal(err)
		}
		pages := (len(all) + 299) / 300
		if got := lists["arn:aws:route53:::hostedzone/"+z]; got != pages || pages != 2 {
			t.Errorf("zone %s (%d record sets): %d ListResourceRecordSets calls, want %d", z, len(all), got, pages)
		}
	}
	spec, err := runbook.SpecFromPlan(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		t.Fatal(err)
	}
	if !rb.IsBulk() || len(rb.Bulk.Hosts) != 3*hostsPerZone {
		t.Fatalf("bulk runbook of %d hosts", len(rb.Bulk.Hosts))
	}
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listingZone is a memdns zone that lists itself whole, counting listings.
type listingZone struct {
	*memdns.Provider
	sets  map[string][]dns.RecordSet
	lists int
}

func (z *listingZone) AllRecords(_ context.Context, zone string) ([]dns.RecordSet, error) {
	z.lists++
	return z.sets[zone], nil
}

func bulkDeps(z *listingZone, cf *distributions) Deps {
	return Deps{
		Edges: edge.Resolver{},
		Zone:  func(context.Context, *runbook.Runbook) (dns.Provider, error) { return z, nil },
		CDN:   func(context.Context, string) (Distributions, error) { return cf, nil },
	}
}

func cname(name string) dns.RecordSet {
	return dns.RecordSet{Name: name, Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}
}

func parseBulk(t *testing.T, hostnames, to string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("p.yaml", []byte("apiVersion: cutover/v1\nkind: Cutover\nname: bulk\nhostnames:\n"+hostnames+
		"from: {endpoint: old.example.net}\nto: "+to+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Listed names without address records are an error that names up to ten
// of them and counts them all.
func TestObserveBulkReportsMissingNames(t *testing.T) {
	z := &listingZone{sets: map[string][]dns.RecordSet{"Z1": {cname("a.example.com."), {Name: "t.example.com.", Type: "TXT", TTL: 60, Values: []string{`"x"`}}}}}
	var names []string
	for i := 0; i < 12; i++ {
		names = append(names, fmt.Sprintf("m%d.example.com", i))
	}
	p := parseBulk(t, fmt.Sprintf("  - {zone: Z1, names: [a.example.com, t.example.com, %s]}\n", strings.Join(names, ", ")), "{endpoint: new.example.net}")
	_, err := Observe(context.Background(), p, bulkDeps(z, nil))
	if err == nil || !strings.Contains(err.Error(), "13 listed hostnames have no A, AAAA or CNAME record") ||
		!strings.Contains(err.Error(), "t.example.com (zone Z1), m0.example.com (zone Z1)") || !strings.Contains(err.Error(), "and 3 more") {
		t.Fatalf("got %v", err)
	}
	if z.lists != 1 {
		t.Fatalf("zone listed %d times", z.lists)
	}
}

// A name picked by a glob and by a list is selected twice; a glob that
// picks nothing is a mistake, not an empty move.
func TestObserveBulkSelectionErrors(t *testing.T) {
	z := &listingZone{sets: map[string][]dns.RecordSet{"Z1": {cname("a.cdn.example.com."), cname("b.cdn.example.com.")}}}
	p := parseBulk(t, "  - {zone: Z1, match: \"*.cdn.example.com\"}\n  - {zone: Z1, names: [b.cdn.example.com]}\n", "{endpoint: new.example.net}")
	_, err := Observe(context.Background(), p, bulkDeps(z, nil))
	if err == nil || !strings.Contains(err.Error(), "b.cdn.example.com (by match *.cdn.example.com in zone Z1 and by the names of zone Z1)") {
		t.Fatalf("got %v", err)
	}
	p = parseBulk(t, "  - {zone: Z1, match: \"*.img.example.com\"}\n", "{endpoint: new.example.net}")
	if _, err := Observe(context.Background(), p, bulkDeps(z, nil)); err == nil || !strings.Contains(err.Error(), "match *.img.example.com selects no name") {
		t.Fatalf("got %v", err)
	}
	if z.lists != 2 {
		t.Fatalf("zone listed %d times over two observations", z.lists)
	}
}

// recordsOnly hides every method of a provider but the dns.Provider ones.
type recordsOnly struct{ dns.Provider }

// A provider that cannot list a zone cannot observe a bulk plan.
func TestObserveBulkNeedsAZoneLister(t *testing.T) {
	p := parseBulk(t, "  - {zone: Z1, names: [a.example.com]}\n", "{endpoint: new.example.net}")
	d := Deps{Edges: edge.Resolver{}, Zone: func(context.Context, *runbook.Runbook) (dns.Provider, error) { return recordsOnly{memdns.New()}, nil }}
	if _, err := Observe(context.Background(), p, d); err == nil || !strings.Contains(err.Error(), "cannot list a whole zone") {
		t.Fatalf("got %v", err)
	}
}

// With a CloudFront to edge, every hostname must already be one of its
// alternate domain names (or under a wildcard one); the distribution is
// read once.
func TestObserveBulkChecksTheToDistributionsAliases(t *testing.T) {
	z := &listingZone{sets: map[string][]dns.RecordSet{"Z1": {cname("a.cdn.example.com."), cname("b.cdn.example.com."), cname("c.img.example.com.")}}}
	const id = "E2NEWDISTRIB"
	arn := "arn:aws:cloudfront::222222222222:distribution/" + id
	cf := &distributions{by: map[string]cloudfront.Distribution{id: {ID: id, ARN: arn, Aliases: []string{"*.cdn.example.com"}}}}
	p := parseBulk(t, "  - {zone: Z1, match: \"*.example.com\"}\n", "{cloudfront: "+id+"}")
	d := bulkDeps(z, cf)
	d.Edges = edges{}
	_, err := Observe(context.Background(), p, d)
	if err == nil || !strings.Contains(err.Error(), "distribution "+id+" does not carry 1 of the hostnames") || !strings.Contains(err.Error(), ": c.img.example.com;") {
		t.Fatalf("got %v", err)
	}
	cf.by[id] = cloudfront.Distribution{ID: id, ARN: arn, Aliases: []string{"*.cdn.example.com", "c.img.example.com"}}
	obs, err := Observe(context.Background(), p, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs.Hosts) != 3 || obs.Holder.Distribution != id || obs.ToAccount != "222222222222" {
		t.Fatalf("observed %+v", obs)
	}
}
