package preflight

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/golden"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// fakeWorld is an in-memory account: every reader the checks use.
type fakeWorld struct {
	certs   map[string]Certificate
	lbs     map[string]LoadBalancer
	dists   map[string]cdn.Distribution
	holders []cloudfront.Conflict
	zones   []HostedZone
	records map[string][]dns.RecordSet // zone id → sets
	hcs     []HealthCheck
	alarms  []Alarm
	sums    map[string]float64 // metric → sum
}

func (f *fakeWorld) Certificate(_ context.Context, arn string) (Certificate, error) {
	if c, ok := f.certs[arn]; ok {
		return c, nil
	}
	return Certificate{}, errors.New("ResourceNotFoundException")
}

func (f *fakeWorld) Covering(_ context.Context, _, host string) ([]Certificate, error) {
	var out []Certificate
	for _, c := range f.certs {
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeWorld) LoadBalancer(_ context.Context, ref string) (LoadBalancer, error) {
	if lb, ok := f.lbs[ref]; ok {
		return lb, nil
	}
	return LoadBalancer{}, errors.New("LoadBalancerNotFound")
}

func (f *fakeWorld) Distribution(_ context.Context, id string) (cdn.Distribution, error) {
	if d, ok := f.dists[id]; ok {
		return d, nil
	}
	return cdn.Distribution{}, errors.New("NoSuchDistribution")
}

func (f *fakeWorld) Conflicts(context.Context, string, string) ([]cloudfront.Conflict, error) {
	return f.holders, nil
}

func (f *fakeWorld) HostedZones(context.Context) ([]HostedZone, error) { return f.zones, nil }

func (f *fakeWorld) Records(_ context.Context, zone, name string) ([]dns.RecordSet, error) {
	var out []dns.RecordSet
	for _, r := range f.records[zone] {
		if dns.Fqdn(r.Name) == dns.Fqdn(name) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeWorld) AllRecords(_ context.Context, zone string) ([]dns.RecordSet, error) {
	return f.records[zone], nil
}

func (f *fakeWorld) HealthChecks(context.Context) ([]HealthCheck, error) { return f.hcs, nil }

func (f *fakeWorld) Alarms(context.Context, string) ([]Alarm, error) { return f.alarms, nil }

func (f *fakeWorld) Sum(_ context.Context, _, _, metric string, _ map[string]string, _, _ time.Time) (float64, bool, error) {
	v, ok := f.sums[metric]
	return v, ok, nil
}

func (f *fakeWorld) world() World {
	return World{Certificates: f, LoadBalancers: f, Distributions: f, Zones: f, HealthChecks: f, Metrics: f}
}

func mustPlan(t *testing.T, body string) *plan.Plan {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func render(t *testing.T, rep Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// seed004 is a new load balancer that is not ready: one target still in
// its initial checks, the certificate still validating, and external-dns
// owning the record.
func seed004() *fakeWorld {
	return &fakeWorld{
		certs: map[string]Certificate{"arn:aws:acm:us-east-1:111111111111:certificate/new": {ARN: "arn:aws:acm:us-east-1:111111111111:certificate/new", Status: "PENDING_VALIDATION", Domains: []string{"api.example.com"}}},
		lbs: map[string]LoadBalancer{"api-new-1.us-east-1.elb.amazonaws.com": {
			ARN: "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/api-new/1", Name: "api-new", Region: "us-east-1",
			Listeners: []Listener{{Protocol: "HTTP", Port: 80}},
			Targets:   []TargetHealth{{ID: "10.0.1.5", Port: 8080, State: "healthy"}, {ID: "10.0.2.7", Port: 8080, State: "initial", Reason: "Elb.InitialHealthChecking"}},
		}},
		zones: []HostedZone{{ID: "Z1", Name: "example.com."}},
		records: map[string][]dns.RecordSet{"Z1": {
			{Name: "api.example.com.", Type: "CNAME", TTL: 300, Values: []string{"api-old-1.us-east-1.elb.amazonaws.com."}},
			{Name: "cname-api.example.com.", Type: "TXT", TTL: 300, Values: []string{`"heritage=external-dns,external-dns/owner=default"`}},
			{Name: "example.com.", Type: "NS", TTL: 172800, Values: []string{"ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."}},
		}},
	}
}

const seed004Plan = `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {id: Z1}
from: {alb: api-old-1.us-east-1.elb.amazonaws.com}
to: {alb: api-new-1.us-east-1.elb.amazonaws.com}
strategy: weighted
`

func TestPreflightChecklistGolden(t *testing.T) {
	f := seed004()
	in := Input{Plan: mustPlan(t, seed004Plan),
		From: runbook.Target{Kind: runbook.TargetALB, ID: "api-old", DNSName: "api-old-1.us-east-1.elb.amazonaws.com"},
		To:   runbook.Target{Kind: runbook.TargetALB, ID: "api-new", DNSName: "api-new-1.us-east-1.elb.amazonaws.com"}}
	rep := Preflight(context.Background(), in, f.world(), Options{Now: now})
	if err := rep.Waive([]string{CheckRecordOwner}); err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "preflight-seed004.golden", render(t, rep))
	js, _ := json.MarshalIndent(rep, "", "  ")
	goldenFile(t, "preflight-seed004.json.golden", append(js, '\n'))
	var names []string
	for _, r := range rep.Failed() {
		names = append(names, r.Name)
	}
	if len(names) != 2 || names[0] != CheckTargetsHealthy || names[1] != CheckCertIssued {
		t.Fatalf("unwaived failures %v, want targets-healthy and cert-issued", names)
	}
	if err := rep.Waive([]string{"cert-isued"}); err == nil {
		t.Fatal("a misspelt waiver was accepted")
	}
}

func TestDecommissionChecklistGolden(t *testing.T) {
	f := &fakeWorld{
		zones: []HostedZone{{ID: "Z1", Name: "example.com."}, {ID: "Z2", Name: "example.org."}},
		records: map[string][]dns.RecordSet{
			"Z1": {{Name: "cdn.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dnew.cloudfront.net."}}},
			"Z2": {{Name: "static.example.org.", Type: "CNAME", TTL: 60, Values: []string{"dold.cloudfront.net."}}},
		},
		hcs:    []HealthCheck{{ID: "hc-1", Type: "HTTPS", FQDN: "dold.cloudfront.net"}},
		alarms: []Alarm{{Name: "cdn-5xx", Namespace: "AWS/CloudFront", Metric: "5xxErrorRate", Dimensions: map[string]string{"DistributionId": "E1OLDDISTRIB01", "Region": "Global"}}},
		sums:   map[string]float64{"Requests": 450},
	}
	in := Input{Plan: mustPlan(t, `apiVersion: cutover/v1
kind: Cutover
name: cdn
hostname: cdn.example.com
zone: {id: Z1}
from: {cloudfront: E1OLDDISTRIB01}
to: {cloudfront: E2NEWDISTRIB02}
strategy: alias-move
`),
		From: runbook.Target{Kind: runbook.TargetCloudFront, ID: "E1OLDDISTRIB01", DNSName: "dold.cloudfront.net"},
		To:   runbook.Target{Kind: runbook.TargetCloudFront, ID: "E2NEWDISTRIB02", DNSName: "dnew.cloudfront.net"}}
	rep := Decommission(context.Background(), in, f.world(), Options{Now: now})
	goldenFile(t, "decommission-leftovers.golden", render(t, rep))
	if len(rep.Failed()) != 4 {
		t.Fatalf("failures %+v, want all four", rep.Failed())
	}
	// Once the leftovers are gone and the edge is quiet, every item passes.
	f.records["Z2"], f.hcs, f.alarms, f.sums = nil, nil, nil, nil
	rep = Decommission(context.Background(), in, f.world(), Options{Now: now})
	goldenFile(t, "decommission-clean.golden", render(t, rep))
	if !rep.OK() {
		t.Fatalf("failures %+v after cleanup", rep.Failed())
	}
}

func TestCovers(t *testing.T) {
	for _, c := range []struct {
		names []string
		host  string
		want  bool
	}{
		{[]string{"api.example.com"}, "api.example.com", true},
		{[]string{"API.Example.com."}, "api.example.com", true},
		{[]string{"*.example.com"}, "api.example.com", true},
		{[]string{"*.example.com"}, "example.com", false},
		{[]string{"*.example.com"}, "a.b.example.com", false},
		{[]string{"*.b.example.com"}, "a.b.example.com", true},
		{[]string{"example.com", "www.example.com"}, "api.example.com", false},
	} {
		if got := covers(c.names, c.host); got != c.want {
			t.Errorf("covers(%v, %s) = %v, want %v", c.names, c.host, got, c.want)
		}
	}
}

func TestMaskedMatch(t *testing.T) {
	if !maskedMatch("******5LVBHXZ", "E2QWRU5LVBHXZ") || maskedMatch("******5LVBHXZ", "E2QWRUAAAAAAA") || !maskedMatch("EOLD", "EOLD") || maskedMatch("EOLD", "XEOLD") {
		t.Fatal("masked ids compared wrongly")
	}
}

// TestTTLAtApexIgnoresNSAndSOA: at a zone apex the run moves the address
// records; the NS set's two-day TTL forces no wait.
func TestTTLAtApexIgnoresNSAndSOA(t *testing.T) {
	f := seed004()
	f.records["Z1"] = append(f.records["Z1"],
		dns.RecordSet{Name: "example.com.", Type: "SOA", TTL: 900, Values: []string{"ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
		dns.RecordSet{Name: "example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z35SXDOTRQ7X7K", DNSName: "api-old-1.us-east-1.elb.amazonaws.com."}})
	p := mustPlan(t, strings.Replace(seed004Plan, "hostname: api.example.com", "hostname: example.com", 1))
	rep := Preflight(context.Background(), Input{Plan: p}, World{Zones: f}, Options{Now: now})
	found := false
	for _, r := range rep.Results {
		if r.Name == CheckTTL {
			found = true
			if !strings.Contains(r.Detail, "waits 1m0s") {
				t.Fatalf("ttl at the apex: %+v", r)
			}
		}
	}
	if !found {
		t.Fatal("no ttl check")
	}
}

// TestZoneOutsideRoute53Warns: a zone on an RFC 2136 server has no Route
// 53 reader; its checks say so instead of passing or failing.
func TestZoneOutsideRoute53Warns(t *testing.T) {
	f := seed004()
	rep := Preflight(context.Background(), Input{Plan: mustPlan(t, seed004Plan)}, World{LoadBalancers: f, Certificates: f}, Options{Now: now})
	got := map[string]Status{}
	for _, r := range rep.Results {
		got[r.Name] = r.Status
	}
	if got[CheckZoneContains] != Warn || got[CheckTTL] != Warn || got[CheckTargetsHealthy] != Fail {
		t.Fatalf("verdicts %v", got)
	}
}
