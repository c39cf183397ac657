package pack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/pack"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/labtest"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/runbook"
)

// TestLabAcceptsEveryPackedBatch moves 1,200 CNAME hostnames of one zone to
// weighted pairs through the Route 53 provider against the lab: Pack makes
// exactly Minimum requests and the lab, which enforces Route 53's batch
// limits itself, accepts each one, while one request more full than Pack
// allows is refused.
func TestLabAcceptsEveryPackedBatch(t *testing.T) {
	const hosts = 1200
	var seed strings.Builder
	seed.WriteString("zones:\n  - name: example.com\nrecords:\n")
	for i := range hosts {
		fmt.Fprintf(&seed, "  - {zone: example.com, name: h%d.example.com, type: CNAME, ttl: 60, values: [old.example.net]}\n", i)
	}
	l, seeded := labtest.Start(t, seed.String())
	zone := seeded.Zones["example.com"]
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := route53.New(cfg, route53.Options{Limiter: route53.NewLimiter(1000, 1000, nil), MaxAttempts: 1})

	// What the zone serves, read once (AllRecords pages through it).
	all, err := p.AllRecords(ctx, zone)
	if err != nil {
		t.Fatal(err)
	}
	live := map[string][]dns.RecordSet{}
	for _, r := range all {
		live[r.Name] = append(live[r.Name], r)
	}
	groups := make([][]dns.Change, hosts)
	for i := range groups {
		name := fmt.Sprintf("h%d.example.com.", i)
		w90, w10 := int64(90), int64(10)
		groups[i] = runbook.Diff(live[name], []dns.RecordSet{
			{Name: name, Type: "CNAME", SetIdentifier: "old", Weight: &w90, TTL: 60, Values: []string{"old.example.net"}},
			{Name: name, Type: "CNAME", SetIdentifier: "new", Weight: &w10, TTL: 60, Values: []string{"new.example.net"}},
		})
		if len(groups[i]) != 3 {
			t.Fatalf("host %d: %d changes, want a DELETE and two CREATEs", i, len(groups[i]))
		}
	}
	batches, err := pack.Pack(zone, groups, pack.Route53)
	if err != nil {
		t.Fatal(err)
	}
	if min := pack.Minimum(groups, pack.Route53); len(batches) != min || min != 4 {
		t.Fatalf("%d batches, minimum %d: want 4 each", len(batches), min)
	}

	// The judge judges: the first batch with the next group added is
	// over 1,000 records, and the lab refuses it whole.
	over := batches[0]
	over.Groups = append(append([]int(nil), over.Groups...), batches[1].Groups[0])
	refused := pack.Send(ctx, p, pack.Sets([]pack.Batch{over}, groups, "over"), 0)
	if err := refused[0].Err; err == nil || !strings.Contains(err.Error(), "Number of records limit of 1000 exceeded") {
		t.Fatalf("a batch of %d records: err = %v, want the lab's records limit", over.Records+3, err)
	}

	before := l.Env.Calls.Len()
	results := pack.Send(ctx, p, pack.Sets(batches, groups, "to weighted"), 0)
	var ids []string
	for i, r := range results {
		if r.Err != nil {
			t.Fatalf("batch %d (%d records, %d characters): %v", i, batches[i].Records, batches[i].Chars, r.Err)
		}
		ids = append(ids, r.ChangeID)
	}
	writes := 0
	for _, c := range l.Env.Calls.List(awsapi.CallFilter{Service: "route53", SinceSeq: before}) {
		if c.Operation == "ChangeResourceRecordSets" {
			writes++
		}
	}
	if writes != len(batches) {
		t.Fatalf("the lab answered %d ChangeResourceRecordSets, want %d", writes, len(batches))
	}

	deadline := time.Now().Add(10 * time.Second)
	for len(ids) > 0 {
		if ids, err = pack.Remaining(ctx, p, ids); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("changes %v still PENDING after 10s", ids)
		}
		if len(ids) > 0 {
			time.Sleep(20 * time.Millisecond) // polling interval of an awaited condition
		}
	}
	for _, i := range []int{0, 333, 599, hosts - 1} {
		name := fmt.Sprintf("h%d.example.com.", i)
		got, err := p.Records(ctx, zone, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].SetIdentifier == "" || got[1].SetIdentifier == "" {
			t.Fatalf("%s serves %v, want the weighted pair", name, got)
		}
	}
	if err := errors.Unwrap(refused[0].Err); err == nil {
		t.Fatal("the refusal wraps no cause")
	}
}

// TestSendUnderTheLegacyRateLimit sends two requests in each of four zones
// through one provider whose bucket is the account's (5 a second, burst
// 5) to a lab throttling at the legacy limit: every request is accepted,
// none is throttled, and the eight take at least the three beyond the
// burst at five a second.
func TestSendUnderTheLegacyRateLimit(t *testing.T) {
	const zones, perZone = 4, 600
	var seed strings.Builder
	seed.WriteString("zones:\n")
	for k := range zones {
		fmt.Fprintf(&seed, "  - name: z%d.example.com\n", k)
	}
	seed.WriteString("records:\n")
	for k := range zones {
		for i := range perZone {
			fmt.Fprintf(&seed, "  - {zone: z%d.example.com, name: h%d.z%d.example.com, type: CNAME, ttl: 60, values: [old.example.net]}\n", k, i, k)
		}
	}
	l := lab.New(lab.Options{Propagation: 50 * time.Millisecond, DeployDelay: -1, RateLimit: labr53.RateLimitLegacy})
	s, err := lab.ParseSeed("seed", []byte(seed.String()))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	p := route53.New(awstest.Config(srv.URL), route53.Options{Limiter: route53.NewLimiter(route53.DefaultRatePerSecond, route53.DefaultBurst, nil)})

	var sets []dns.ChangeSet
	want := 0
	for k := range zones {
		zone := seeded.Zones[fmt.Sprintf("z%d.example.com", k)]
		groups := make([][]dns.Change, perZone)
		for i := range groups {
			name := fmt.Sprintf("h%d.z%d.example.com.", i, k)
			groups[i] = []dns.Change{{
				Old: &dns.RecordSet{Name: name, Type: "CNAME", TTL: 60, Values: []string{"old.example.net"}},
				New: &dns.RecordSet{Name: name, Type: "CNAME", TTL: 60, Values: []string{"new.example.net"}},
			}}
		}
		batches, err := pack.Pack(zone, groups, pack.Route53)
		if err != nil {
			t.Fatal(err)
		}
		want += pack.Minimum(groups, pack.Route53)
		sets = append(sets, pack.Sets(batches, groups, "flip")...)
	}
	if len(sets) != want || want != 2*zones {
		t.Fatalf("%d requests, minimum %d: want %d", len(sets), want, 2*zones)
	}
	before := l.Env.Calls.Len()
	start := time.Now()
	for i, r := range pack.Send(context.Background(), p, sets, 0) {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
	}
	took := time.Since(start)
	// The client's bucket is the account's, but requests reach the lab
	// with jitter, so now and then two arrive closer than the lab's
	// refill and one is throttled; the provider retries it. Every
	// request is accepted exactly once.
	accepted, throttled := 0, 0
	for _, c := range l.Env.Calls.List(awsapi.CallFilter{SinceSeq: before}) {
		switch {
		case c.Operation != "ChangeResourceRecordSets":
			t.Fatalf("unexpected call %s", c.Operation)
		case c.Status == 200:
			accepted++
		default:
			throttled++
		}
	}
	t.Logf("%d requests accepted in %v, %d throttled and retried", accepted, took, throttled)
	if accepted != len(sets) {
		t.Fatalf("the lab accepted %d requests, want %d", accepted, len(sets))
	}
	if floor := time.Duration(len(sets)-route53.DefaultBurst) * time.Second / route53.DefaultRatePerSecond; took < floor {
		t.Fatalf("%d requests took %v, under the rate limit's floor %v", len(sets), took, floor)
	}
}
