package runbook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
)

var (
	albPage = Target{Kind: TargetALB, ID: "maint", DNSName: "maint-3.us-east-1.elb.amazonaws.com", AliasZoneID: "Z35SXDOTRQ7X7K"}
	epPage  = Target{Kind: TargetEndpoint, ID: "maint.example.net.s3-website-us-east-1.amazonaws.com", DNSName: "maint.example.net.s3-website-us-east-1.amazonaws.com"}
	cfPage  = Target{Kind: TargetCloudFront, ID: "EPAGE", DNSName: "dpage.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}
)

func maintSpec(mode, hc string) Spec {
	return Spec{Name: "api-maintenance", Hostname: "api.example.com", Zone: "Z1", Strategy: "maintenance", CutoverTTL: 30,
		Maintenance: &MaintenanceSpec{Mode: mode, HealthCheck: hc}, Verify: &Verify{Path: "/", Samples: 3}}
}

func aliasA(target Target, setID string, weight *int64) dns.RecordSet {
	return dns.RecordSet{Name: "api.example.com.", Type: "A", SetIdentifier: setID, Weight: weight,
		Alias: &dns.AliasTarget{ZoneID: target.AliasZoneID, DNSName: dns.Fqdn(target.DNSName), EvaluateTargetHealth: true}}
}

func TestCompileMaintenanceGolden(t *testing.T) {
	cases := []struct {
		name    string
		spec    Spec
		from    Target
		page    Target
		records []dns.RecordSet
	}{
		{"maintenance-failover", loadExample(t, "maintenance.yaml"), albOld, albPage, []dns.RecordSet{aliasA(albOld, "", nil)}},
		{"maintenance-weight-cname", maintSpec("weight", ""), epOld, epPage, []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}}},
		{"maintenance-failover-invert", func() Spec {
			s := maintSpec("failover", "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc")
			s.Maintenance.Invert = true
			return s
		}(), albOld, albPage, []dns.RecordSet{aliasA(albOld, "", nil)}},
		{"maintenance-weight-weighted", maintSpec("", ""), albOld, albPage, []dns.RecordSet{aliasA(albOld, "blue", ptr(90)), aliasA(albNew, "green", ptr(10))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := Observed{Records: c.records, From: c.from, To: c.page}
			if c.name == "maintenance-weight-weighted" {
				obs.From = Target{} // the CLI's maintenance on names no from edge
			}
			rb, err := Compile(c.spec, obs)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			Render(&buf, rb, c.from, c.page, 60*time.Second)
			goldenFile(t, c.name, buf.Bytes())
			if !reflect.DeepEqual(rb.Original, sortedCopy(c.records)) {
				t.Fatalf("original = %v, want the records found %v", rb.Original, c.records)
			}
		})
	}
}

func sortedCopy(in []dns.RecordSet) []dns.RecordSet {
	out := cloneSets(in)
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// TestMaintenanceOnOffRestoresByteForByte applies the on runbook, then the
// off runbook compiled from it, to an in-memory zone, for every mode and
// record shape, and compares the zone's records as JSON: what a client
// of the zone would read back.
func TestMaintenanceOnOffRestoresByteForByte(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		spec    Spec
		page    Target
		records []dns.RecordSet
	}{
		{"weight simple alias", maintSpec("weight", ""), albPage, []dns.RecordSet{aliasA(albOld, "", nil), {Name: "api.example.com.", Type: "AAAA", Alias: &dns.AliasTarget{ZoneID: albOld.AliasZoneID, DNSName: dns.Fqdn(albOld.DNSName), EvaluateTargetHealth: true}}}},
		{"weight weighted", maintSpec("weight", ""), albPage, []dns.RecordSet{aliasA(albOld, "blue", ptr(90)), aliasA(albNew, "green", ptr(10))}},
		{"weight cname", maintSpec("weight", ""), epPage, []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"old.example.net."}}}},
		{"failover values", maintSpec("failover", "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc"), albPage, []dns.RecordSet{{Name: "api.example.com.", Type: "A", TTL: 120, Values: []string{"192.0.2.10", "192.0.2.11"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			zone := memdns.New()
			zone.Put("Z1", c.records...)
			zone.Put("Z1", dns.RecordSet{Name: "api.example.com.", Type: "TXT", TTL: 300, Values: []string{`"v=spf1 -all"`}})
			before, _ := zone.Records(ctx, "Z1", "api.example.com.")
			on, err := Compile(c.spec, Observed{Records: before, To: c.page})
			if err != nil {
				t.Fatal(err)
			}
			applyAll(t, zone, on)
			during, _ := zone.Records(ctx, "Z1", "api.example.com.")
			if !hasSet(during, SetPage) {
				t.Fatalf("no page record while on: %v", during)
			}
			if got := managedOf(during); !sameRecordSets(got, on.EndState()) {
				t.Fatalf("zone after on = %v, EndState = %v", got, on.EndState())
			}
			off, err := CompileMaintenanceOff("api-maintenance-off", on, during)
			if err != nil {
				t.Fatal(err)
			}
			applyAll(t, zone, off)
			after, _ := zone.Records(ctx, "Z1", "api.example.com.")
			a, _ := json.Marshal(before)
			b, _ := json.Marshal(after)
			if !bytes.Equal(a, b) {
				t.Fatalf("records after off differ from before on:\nbefore %s\nafter  %s", a, b)
			}
			// Rolling the on run back restores exactly, too.
			steps := Unwind(on, len(on.Steps), on.EndState(), false)
			last := steps[len(steps)-2].Change
			if last == nil || !sameRecordSets(newsOf(last.Set), on.Original) {
				t.Fatalf("rollback of a maintenance run does not restore the original exactly: %+v", steps)
			}
		})
	}
}

func applyAll(t *testing.T, zone *memdns.Provider, rb *Runbook) {
	t.Helper()
	for _, cs := range rb.Changes() {
		if _, err := zone.Apply(context.Background(), cs); err != nil {
			t.Fatalf("%s: %v", cs.Comment, err)
		}
	}
}

func managedOf(sets []dns.RecordSet) []dns.RecordSet {
	var out []dns.RecordSet
	for _, r := range sets {
		if managed(r) {
			out = append(out, r)
		}
	}
	return out
}

func newsOf(cs dns.ChangeSet) []dns.RecordSet {
	var out []dns.RecordSet
	for _, c := range cs.Changes {
		if c.New != nil {
			out = append(out, *c.New)
		}
	}
	return out
}

func hasSet(sets []dns.RecordSet, id string) bool {
	for _, r := range sets {
		if r.SetIdentifier == id {
			return true
		}
	}
	return false
}

func TestMaintenanceOffRefusesRecordsChangedMeanwhile(t *testing.T) {
	on, err := Compile(maintSpec("weight", ""), Observed{Records: []dns.RecordSet{aliasA(albOld, "", nil)}, To: albPage})
	if err != nil {
		t.Fatal(err)
	}
	end := on.EndState()
	end[0].Alias.DNSName = "someone-else.example.net."
	_, err = CompileMaintenanceOff("off", on, end)
	if !errors.Is(err, ErrMaintenanceChanged) || !strings.Contains(err.Error(), "someone-else.example.net") {
		t.Fatalf("err = %v, want ErrMaintenanceChanged naming the foreign record", err)
	}
}

func TestCompileMaintenanceRefuses(t *testing.T) {
	cnameLive := []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 60, Values: []string{"old.example.net."}}}
	for _, c := range []struct {
		name    string
		spec    Spec
		records []dns.RecordSet
		page    Target
		want    string
	}{
		{"nothing served", maintSpec("weight", ""), nil, albPage, "nothing serves it"},
		{"already on", maintSpec("weight", ""), []dns.RecordSet{aliasA(albOld, SetLive, ptr(0)), aliasA(albPage, SetPage, ptr(255))}, albPage, "the maintenance is on"},
		{"failover present", maintSpec("weight", ""), []dns.RecordSet{{Name: "api.example.com.", Type: "CNAME", TTL: 60, SetIdentifier: "p", Failover: "PRIMARY", Values: []string{"old.example.net."}}}, epPage, "already has failover records"},
		{"alias record, endpoint page", maintSpec("weight", ""), []dns.RecordSet{aliasA(albOld, "", nil)}, epPage, "cannot be an alias target"},
		{"cloudfront page over cloudfront", maintSpec("weight", ""), []dns.RecordSet{{Name: "api.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dold.cloudfront.net."}}}, cfPage, "the alternate domain name lives on one distribution only"},
		{"failover without health check", maintSpec("failover", ""), cnameLive, epPage, "needs the health check"},
		{"failover over weighted", maintSpec("failover", "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc"), []dns.RecordSet{aliasA(albOld, "blue", ptr(1))}, albPage, "failover cannot join a weighted group"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.spec, Observed{Records: c.records, To: c.page})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestSideNamesThePageAndTheLiveEdge(t *testing.T) {
	for _, c := range []struct{ strategy, expect, want string }{
		{"maintenance", "new", "maintenance page"}, {StrategyMaintenanceOff, "old", "live edge"}, {"weighted", "new", "new edge"}, {"flip", "old", "old edge"},
	} {
		if got := (&Runbook{Strategy: c.strategy}).Side(c.expect); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.strategy, c.expect, got, c.want)
		}
	}
}

// Inverting the check is undone by off (after the records are back) and
// by a rollback of the on run.
func TestMaintenanceInvertIsUndone(t *testing.T) {
	spec := maintSpec("failover", "0e1d5f3c-6a7b-4c8d-9e0f-123456789abc")
	spec.Maintenance.Invert = true
	on, err := Compile(spec, Observed{Records: []dns.RecordSet{aliasA(albOld, "", nil)}, To: albPage})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range on.Steps {
		kinds = append(kinds, s.Kind())
	}
	if got := strings.Join(kinds, " "); got != "change insync health-check wait verify" {
		t.Fatalf("on steps: %s", got)
	}
	if on.Steps[2].HealthCheck.ID != spec.Maintenance.HealthCheck || !on.Steps[2].HealthCheck.Inverted {
		t.Fatalf("invert step %+v", on.Steps[2].HealthCheck)
	}
	off, err := CompileMaintenanceOff("off", on, on.EndState())
	if err != nil {
		t.Fatal(err)
	}
	if hc := off.Steps[2].HealthCheck; off.Steps[0].Change == nil || hc == nil || hc.Inverted {
		t.Fatalf("off must restore the records, then un-invert: %+v", off.Steps)
	}
	steps := Unwind(on, 3, on.EndState(), false)
	if hc := steps[0].HealthCheck; hc == nil || hc.Inverted || steps[len(steps)-2].Change == nil {
		t.Fatalf("rollback must un-invert and restore: %+v", steps)
	}
	if _, err := Compile(func() Spec { s := maintSpec("weight", ""); s.Maintenance.Invert = true; return s }(), Observed{Records: []dns.RecordSet{aliasA(albOld, "", nil)}, To: albPage}); err == nil {
		t.Fatal("invert accepted with mode weight")
	}
}
