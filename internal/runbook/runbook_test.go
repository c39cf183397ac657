package runbook

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/golden"
	"github.com/cutover/cutover/internal/plan"
)

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name+".golden"), got)
}

var (
	albOld = Target{Kind: TargetALB, ID: "old", DNSName: "old-1.us-east-1.elb.amazonaws.com", AliasZoneID: "Z35SXDOTRQ7X7K"}
	albNew = Target{Kind: TargetALB, ID: "new", DNSName: "new-2.us-east-1.elb.amazonaws.com", AliasZoneID: "Z35SXDOTRQ7X7K"}
	epOld  = Target{Kind: TargetEndpoint, ID: "old.example.net", DNSName: "old.example.net"}
	epNew  = Target{Kind: TargetEndpoint, ID: "new.example.net", DNSName: "new.example.net"}
	cfOld  = Target{Kind: TargetCloudFront, ID: "EOLD", DNSName: "dold.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}
	cfNew  = Target{Kind: TargetCloudFront, ID: "ENEW", DNSName: "dnew.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}
)

func loadExample(t *testing.T, name string) Spec {
	t.Helper()
	p, err := plan.Load(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := SpecFromPlan(p, testGate)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompileGolden(t *testing.T) {
	cases := []struct {
		name     string
		spec     Spec
		from, to Target
		records  []dns.RecordSet
	}{
		{"weighted-alb", loadExample(t, "weighted.yaml"), albOld, albNew, []dns.RecordSet{{Name: "api.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z35SXDOTRQ7X7K", DNSName: "old-1.us-east-1.elb.amazonaws.com.", EvaluateTargetHealth: true}}}},
		{"weighted-cname", loadExample(t, "weighted.yaml"), epOld, epNew, []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}}},
		{"flip", loadExample(t, "flip.yaml"), epOld, epNew, nil},
		{"alias-move", loadExample(t, "alias-move.yaml"), cfOld, cfNew, []dns.RecordSet{{Name: "www.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dold.cloudfront.net."}}}},
		{"bridge", loadExample(t, "bridge.yaml"), cfOld, cfNew, []dns.RecordSet{{Name: "shop.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dold.cloudfront.net."}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			recs := c.records
			if recs == nil {
				recs = []dns.RecordSet{{Name: dns.Fqdn(c.spec.Hostname), Type: "CNAME", TTL: 3600, Values: []string{"old.example.net."}}}
			}
			rb, err := Compile(c.spec, Observed{Records: recs, From: c.from, To: c.to})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			Render(&buf, rb, c.from, c.to, 60*time.Second)
			goldenFile(t, c.name, buf.Bytes())
			// Deterministic: a second compile is byte-identical.
			rb2, _ := Compile(c.spec, Observed{Records: recs, From: c.from, To: c.to})
			a, _ := json.Marshal(rb)
			b, _ := json.Marshal(rb2)
			if !bytes.Equal(a, b) {
				t.Fatal("compile is not deterministic")
			}
		})
	}
}

func TestCompileRefusesWorldItCannotMove(t *testing.T) {
	spec := loadExample(t, "weighted.yaml")
	for _, c := range []struct {
		name    string
		records []dns.RecordSet
		want    string
	}{
		{"no record", nil, "no A, AAAA or CNAME record"},
		{"points elsewhere", []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 60, Values: []string{"elsewhere.example.org."}}}, "not at the plan's from edge"},
		{"already weighted", []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 60, SetIdentifier: "a", Weight: ptr(1), Values: []string{"old.example.net."}}}, "routing-policy records"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(spec, Observed{Records: c.records, From: epOld, To: epNew})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestWeightedLegsShareTTLAndSumTo100(t *testing.T) {
	spec := loadExample(t, "weighted.yaml")
	rb, err := Compile(spec, Observed{Records: []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}}, From: epOld, To: epNew})
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range rb.Changes() {
		var sum, ttl int64 = 0, -1
		weighted := false
		for _, c := range cs.Changes {
			if c.New == nil || c.New.Weight == nil {
				continue
			}
			weighted = true
			sum += *c.New.Weight
			if ttl >= 0 && c.New.TTL != ttl {
				t.Fatalf("%s: weighted legs with TTLs %d and %d (Route 53 refuses)", cs.Comment, ttl, c.New.TTL)
			}
			ttl = c.New.TTL
		}
		if weighted && sum != 100 {
			t.Fatalf("%s: weights sum to %d", cs.Comment, sum)
		}
	}
}

func TestRollbackRestoresOriginalWithLowTTL(t *testing.T) {
	spec := loadExample(t, "weighted.yaml")
	orig := dns.RecordSet{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}
	rb, err := Compile(spec, Observed{Records: []dns.RecordSet{orig}, From: epOld, To: epNew})
	if err != nil {
		t.Fatal(err)
	}
	live := []dns.RecordSet{
		{Name: "api.example.com.", Type: "CNAME", TTL: 30, SetIdentifier: SetFrom, Weight: ptr(90), Values: []string{"old.example.net."}},
		{Name: "api.example.com.", Type: "CNAME", TTL: 30, SetIdentifier: SetTo, Weight: ptr(10), Values: []string{"new.example.net."}},
	}
	steps := Unwind(rb, len(rb.Steps), live, false)
	if len(steps) != 2 || steps[0].Change == nil || steps[1].InSync == nil {
		t.Fatalf("rollback steps %+v", steps)
	}
	var created []dns.RecordSet
	for _, c := range steps[0].Change.Set.Changes {
		if c.New != nil {
			created = append(created, *c.New)
		}
	}
	want := orig
	want.TTL = 30
	if len(created) != 1 || !created[0].Equal(want) {
		t.Fatalf("rollback creates %v, want %v", created, want)
	}
}

func ptr(v int64) *int64 { return &v }

// testGate compiles a plan gate without a provider spec: the runbook
// tests look at cadence and names only.
func testGate(g plan.Gate) (Gate, error) {
	kind := "test"
	if g.Drain != nil {
		kind = KindDrain
	}
	return Gate{Name: g.Name, Interval: Duration(g.Interval.Std()), For: Duration(g.For.Std()), OnFailure: string(g.OnFailure), Kind: kind}, nil
}

// TestCatch22IsExplained: a DNS-only strategy towards a distribution that
// cannot hold the hostname is refused with the reason and the way out.
func TestCatch22IsExplained(t *testing.T) {
	spec := loadExample(t, "weighted.yaml")
	_, err := Compile(spec, Observed{
		Records: []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}},
		From:    epOld, To: cfNew,
		Holder: Holder{Distribution: "******5LVBHXZ", Account: "******200621"},
	})
	if err == nil {
		t.Fatal("weighted towards a distribution that cannot hold the alias compiled")
	}
	for _, want := range []string{"******5LVBHXZ", "account ******200621", "CloudFront routes by Host", "CNAMEAlreadyExists", "alias-move", "bridge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explanation lacks %q:\n%v", want, err)
		}
	}
}

func TestAutoPicksAndSaysWhy(t *testing.T) {
	spec := loadExample(t, "alias-move.yaml")
	spec.Strategy = "auto"
	rec := []dns.RecordSet{{Name: "www.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dold.cloudfront.net."}}}
	rb, err := Compile(spec, Observed{Records: rec, From: cfOld, To: cfNew, Holder: Holder{Distribution: "EOLD"}})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Strategy != "alias-move" || len(rb.Notes) == 0 || !strings.Contains(rb.Notes[0], "auto chose alias-move") {
		t.Fatalf("strategy %s, notes %v", rb.Strategy, rb.Notes)
	}
	// Another account holds it: AssociateAlias would need it disabled.
	_, err = Compile(spec, Observed{Records: rec, From: cfOld, To: cfNew, Holder: Holder{Distribution: "******OLD", Account: "********2222"}})
	if err == nil || !strings.Contains(err.Error(), "bridge") {
		t.Fatalf("cross-account auto without a bridge block: %v", err)
	}
}
