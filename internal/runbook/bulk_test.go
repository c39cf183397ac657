package runbook

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

func bulkSpec() Spec {
	return Spec{Name: "cdn", Strategy: "weighted", CutoverTTL: 60, Hold: time.Hour,
		Hosts: []HostSelector{{Zone: "ZA", Match: "*.a.example.com"}, {Zone: "ZB", Names: []string{"x.b.example.com"}}},
		Steps: []WeightStep{{Weight: 10, Pause: 5 * time.Minute}, {Weight: 100}}}
}

func cname(name string, ttl int64, to string) dns.RecordSet {
	return dns.RecordSet{Name: name, Type: "CNAME", TTL: ttl, Values: []string{to}}
}

func bulkObserved(hosts ...ObservedHost) Observed {
	return Observed{Hosts: hosts, From: epOld, To: epNew}
}

// Hostnames with different TTLs still share their steps: every one waits
// the longest old TTL, and one whose TTL is already low has empty TTL
// changes.
func TestBulkCompileGivesEveryHostnameTheSameSteps(t *testing.T) {
	rb, err := Compile(bulkSpec(), bulkObserved(
		ObservedHost{Name: "x.b.example.com.", Zone: "ZB", Records: []dns.RecordSet{cname("x.b.example.com.", 60, "old.example.net.")}},
		ObservedHost{Name: "h1.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h1.a.example.com.", 3600, "old.example.net.")}},
		ObservedHost{Name: "h2.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h2.a.example.com.", 60, "old.example.net.")}},
	))
	if err != nil {
		t.Fatal(err)
	}
	if !rb.IsBulk() || len(rb.Bulk.Hosts) != 3 || rb.Bulk.Hosts[0].Name != "h1.a.example.com." || rb.Bulk.Hosts[2].Zone != "ZB" {
		t.Fatalf("hosts = %+v, want sorted by zone then name", rb.Bulk.Hosts)
	}
	first, _ := rb.HostRunbook(0)
	for i := range rb.Bulk.Hosts {
		hr, err := rb.HostRunbook(i)
		if err != nil {
			t.Fatal(err)
		}
		if hr.shape() != first.shape() || len(hr.Steps) != len(rb.Steps) {
			t.Fatalf("host %d shape %s, host 0 %s", i, hr.shape(), first.shape())
		}
	}
	var waits []time.Duration
	lowTTLChanges, counts := 0, []int{}
	for i, s := range rb.Steps {
		if s.Wait != nil {
			waits = append(waits, s.Wait.Duration.D())
		}
		if s.BulkChange != nil {
			counts = append(counts, s.BulkChange.Hosts)
			hr, _ := rb.HostRunbook(1) // h2, TTL already at the cutover TTL
			lowTTLChanges += len(hr.Steps[i].Change.Set.Changes)
		}
	}
	if waits[0] != time.Hour {
		t.Fatalf("first wait %s, want the longest old TTL (1h) for every hostname", waits[0])
	}
	// TTL, 10 %, 100 %, collapse, restore: h2 changes only in the middle three.
	if want := []int{1, 3, 3, 3, 1}; len(counts) != len(want) || counts[0] != 1 || counts[1] != 3 || counts[4] != 1 {
		t.Fatalf("hostnames changed per step = %v, want %v", counts, want)
	}
	if lowTTLChanges == 0 {
		t.Fatal("h2 has no changes at all")
	}
}

func TestBulkCompileRefusesMixedShapesAndOtherStrategies(t *testing.T) {
	_, err := Compile(bulkSpec(), bulkObserved(
		ObservedHost{Name: "h1.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h1.a.example.com.", 60, "old.example.net.")}},
		ObservedHost{Name: "h2.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h2.a.example.com.", 60, "elsewhere.example.net.")}},
	))
	if err == nil || !strings.Contains(err.Error(), "h2.a.example.com. CNAME points at elsewhere.example.net") {
		t.Fatalf("got %v", err)
	}
	spec := bulkSpec()
	spec.Strategy = "alias-move"
	if _, err := Compile(spec, bulkObserved(ObservedHost{Name: "h1.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h1.a.example.com.", 60, "old.example.net.")}})); err == nil || !strings.Contains(err.Error(), "weighted or flip") {
		t.Fatalf("got %v", err)
	}
}

func TestRenderBulk(t *testing.T) {
	rb, err := Compile(bulkSpec(), bulkObserved(
		ObservedHost{Name: "x.b.example.com.", Zone: "ZB", Records: []dns.RecordSet{cname("x.b.example.com.", 60, "old.example.net.")}},
		ObservedHost{Name: "h1.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h1.a.example.com.", 300, "old.example.net.")}},
	))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	Render(&b, rb, epOld, epNew, time.Minute)
	goldenFile(t, "bulk-weighted", b.Bytes())
}

func TestBulkBrakeWeighsEachZone(t *testing.T) {
	rb, err := Compile(bulkSpec(), bulkObserved(
		ObservedHost{Name: "x.b.example.com.", Zone: "ZB", Records: []dns.RecordSet{cname("x.b.example.com.", 60, "old.example.net.")}},
		ObservedHost{Name: "h1.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h1.a.example.com.", 60, "old.example.net.")}},
		ObservedHost{Name: "h2.a.example.com.", Zone: "ZA", Records: []dns.RecordSet{cname("h2.a.example.com.", 60, "old.example.net.")}},
	))
	if err != nil {
		t.Fatal(err)
	}
	limits := Brake{MaxShare: 0.3, MinRecordSets: 10}
	// ZA: 2 of 10 record sets (20 %) passes; ZB: 1 of 2 is too small a
	// zone for a share to count.
	if c := CheckBulkBrake(rb, map[string]int{"ZA": 10, "ZB": 2}, limits); c.Engaged() || len(c.Touched) != 3 {
		t.Fatalf("brake %+v, want through", c)
	}
	c := CheckBulkBrake(rb, map[string]int{"ZA": 5, "ZB": 10}, Brake{MaxShare: 0.05, MinRecordSets: 5})
	if !c.Engaged() || len(c.Reasons) != 2 || !strings.Contains(c.Reasons[0], "touches 2 of zone ZA's 5 record sets (40%)") {
		t.Fatalf("brake %+v, want both zones refused", c)
	}
	if c := CheckBulkBrake(rb, map[string]int{"ZA": 5, "ZB": 10}, Brake{MaxShare: 1, MinRecordSets: 5}); c.Engaged() {
		t.Fatalf("max_share 1 still refuses: %+v", c)
	}
}
