package dnsserver

import (
	"context"
	"math/rand"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/route53"
)

var _ Zones = (*route53.Service)(nil)

const propagation = 30 * time.Second

// realLab is the lab's Route 53 on a fake clock with one INSYNC zone.
func realLab(t *testing.T) (*route53.Service, *fakeclock.Clock, string) {
	t.Helper()
	clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	svc := route53.New(awsapi.NewEnv(clock), route53.Options{Propagation: propagation, RateLimit: route53.RateLimitOff, Seed: 1})
	zid, err := svc.CreateZone("", "example.com", false)
	if err != nil {
		t.Fatalf("CreateZone: %v", err)
	}
	clock.Advance(propagation)
	return svc, clock, zid
}

func apply(t *testing.T, svc *route53.Service, zid string, changes ...route53.Change) {
	t.Helper()
	if _, err := svc.ApplyChanges("", zid, changes); err != nil {
		t.Fatalf("ApplyChanges: %v", err)
	}
}

func upsert(rs route53.RecordSet) route53.Change {
	return route53.Change{Action: route53.ActionUpsert, Set: rs}
}

// A change is served only once the clock passes its INSYNC time; a zone
// only once its creation is INSYNC.
func TestPendingChangeServedOnlyWhenInsync(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	svc := route53.New(awsapi.NewEnv(clock), route53.Options{Propagation: propagation, RateLimit: route53.RateLimitOff, Seed: 1})
	s := New(Options{Zones: svc, Rand: rand.New(rand.NewSource(1))})
	zid, err := svc.CreateZone("", "example.com", false)
	if err != nil {
		t.Fatal(err)
	}
	if m := ask(t, s, "example.com.", dns.TypeSOA); m.Rcode != dns.RcodeRefused {
		t.Fatalf("PENDING zone answered: %s", dns.RcodeToString[m.Rcode])
	}
	clock.Advance(propagation)
	if m := ask(t, s, "example.com.", dns.TypeSOA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("INSYNC zone SOA: %v", m)
	}

	apply(t, svc, zid, upsert(rset("www.example.com", "A", 60, "192.0.2.1")))
	m := ask(t, s, "www.example.com.", dns.TypeA)
	if m.Rcode != dns.RcodeNameError {
		t.Fatalf("PENDING record served: %v", m)
	}
	if soa := soaOf(t, m); soa.Hdr.Ttl != 900 {
		t.Errorf("negative TTL %d, want Route 53's default 900", soa.Hdr.Ttl)
	}
	clock.Advance(propagation - time.Second)
	if m := ask(t, s, "www.example.com.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("served one second before INSYNC: %v", m)
	}
	clock.Advance(time.Second)
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.1" {
		t.Fatalf("after INSYNC: %s", got)
	}

	// An update keeps serving the old value until it is INSYNC.
	apply(t, svc, zid, upsert(rset("www.example.com", "A", 60, "192.0.2.2")))
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.1" {
		t.Fatalf("PENDING update served: %s", got)
	}
	clock.Advance(propagation)
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.2" {
		t.Fatalf("INSYNC update not served: %s", got)
	}
}

// The real Route 53 model: weighted aliases to two CloudFront
// distributions, with a health check and a weight shift.
func TestRealRoute53WeightedAliases(t *testing.T) {
	svc, clock, zid := realLab(t)
	tg := newFakeTargets()
	tg.add("d111.cloudfront.net.", 60, "10.1.0.1")
	tg.add("d222.cloudfront.net.", 60, "10.2.0.1")
	s := New(Options{Zones: svc, Targets: tg, Rand: rand.New(rand.NewSource(11))})

	blue := weighted(alias("www.example.com", "A", route53.CloudFrontZoneID, "d111.cloudfront.net", false), "blue", 90)
	green := weighted(alias("www.example.com", "A", route53.CloudFrontZoneID, "d222.cloudfront.net", false), "green", 10)
	apply(t, svc, zid, upsert(blue), upsert(green))
	clock.Advance(propagation)

	const n = 4000
	got := shares(t, s, "www.example.com.", n)
	within4Sigma(t, "blue 90/100", got["10.1.0.1"], n, 0.9)
	within4Sigma(t, "green 10/100", got["10.2.0.1"], n, 0.1)
	if m := ask(t, s, "www.example.com.", dns.TypeA); m.Answer[0].Header().Ttl != 60 {
		t.Errorf("alias TTL %d, want CloudFront's 60", m.Answer[0].Header().Ttl)
	}

	// Shift: PENDING keeps the old weights, INSYNC brings the new ones.
	blue.Weight, green.Weight = route53.Int64(0), route53.Int64(100)
	apply(t, svc, zid, upsert(blue), upsert(green))
	if got := shares(t, s, "www.example.com.", 1000); got["10.1.0.1"] < 800 {
		t.Fatalf("PENDING weight shift already served: %v", got)
	}
	clock.Advance(propagation)
	if got := shares(t, s, "www.example.com.", 1000); got["10.2.0.1"] != 1000 {
		t.Fatalf("after INSYNC, blue (weight 0) still answered: %v", got)
	}

	// A CNAME to a distribution and the TXT proof record, through the
	// real validation.
	apply(t, svc, zid,
		upsert(rset("cdn.example.com", "CNAME", 300, "d222.cloudfront.net")),
		upsert(rset("_cdn.example.com", "TXT", 300, `"d222.cloudfront.net"`)),
	)
	clock.Advance(propagation)
	m := ask(t, s, "cdn.example.com.", dns.TypeA)
	if got := answerStrings(m); len(got) != 2 || got[1] != "d222.cloudfront.net. 60 IN A 10.2.0.1" {
		t.Fatalf("CNAME chase through the real model = %v", got)
	}
	if m := ask(t, s, "_cdn.example.com.", dns.TypeTXT); len(m.Answer) != 1 {
		t.Fatalf("TXT = %v", m.Answer)
	}
}

// Failover through the real health-check state: a health check created
// through the API, its probe result set by the data plane.
func TestRealRoute53Failover(t *testing.T) {
	svc, clock, zid := realLab(t)
	hs := httptest.NewServer(svc)
	defer hs.Close()
	client := r53sdk.NewFromConfig(awstest.Config(hs.URL))
	out, err := client.CreateHealthCheck(context.Background(), &r53sdk.CreateHealthCheckInput{
		CallerReference: aws.String("primary"),
		HealthCheckConfig: &r53types.HealthCheckConfig{
			Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("origin.example.com"), Port: aws.Int32(80),
		},
	})
	if err != nil {
		t.Fatalf("CreateHealthCheck: %v", err)
	}
	hc := aws.ToString(out.HealthCheck.Id)

	s := New(Options{Zones: svc, Rand: rand.New(rand.NewSource(1))})
	p := rset("www.example.com", "A", 60, "192.0.2.1")
	p.SetIdentifier, p.Failover, p.HealthCheckID = "p", route53.FailoverPrimary, hc
	sec := rset("www.example.com", "A", 60, "192.0.2.2")
	sec.SetIdentifier, sec.Failover = "s", route53.FailoverSecondary
	apply(t, svc, zid, upsert(p), upsert(sec))
	clock.Advance(propagation)
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.1" {
		t.Fatalf("healthy primary: %s", got)
	}
	svc.SetHealthCheckStatus(hc, false)
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.2" {
		t.Fatalf("failed primary: answered %s, want the secondary", got)
	}
	svc.SetHealthCheckStatus(hc, true)
	if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != "192.0.2.1" {
		t.Fatalf("recovered primary: answered %s", got)
	}
}

// Maintenance in failover mode is switched on by making the PRIMARY's
// health check fail; inverting the check (UpdateHealthCheck Inverted) does
// that without touching the backend, and un-inverting brings the primary
// back, as Route 53 acts on the inverted status.
func TestFailoverFollowsAnInvertedHealthCheck(t *testing.T) {
	svc, clock, zid := realLab(t)
	hs := httptest.NewServer(svc)
	defer hs.Close()
	client := r53sdk.NewFromConfig(awstest.Config(hs.URL))
	ctx := context.Background()
	out, err := client.CreateHealthCheck(ctx, &r53sdk.CreateHealthCheckInput{
		CallerReference:   aws.String("live"),
		HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("origin.example.com"), Port: aws.Int32(80)},
	})
	if err != nil {
		t.Fatalf("CreateHealthCheck: %v", err)
	}
	hc := aws.ToString(out.HealthCheck.Id)
	s := New(Options{Zones: svc, Rand: rand.New(rand.NewSource(1))})
	live := rset("www.example.com", "A", 60, "192.0.2.1")
	live.SetIdentifier, live.Failover, live.HealthCheckID = "cutover-live", route53.FailoverPrimary, hc
	page := rset("www.example.com", "A", 60, "192.0.2.9")
	page.SetIdentifier, page.Failover = "cutover-maintenance", route53.FailoverSecondary
	apply(t, svc, zid, upsert(live), upsert(page))
	clock.Advance(propagation)
	version := out.HealthCheck.HealthCheckVersion
	for _, st := range []struct {
		inverted bool
		want     string
	}{{false, "192.0.2.1"}, {true, "192.0.2.9"}, {false, "192.0.2.1"}} {
		upd, err := client.UpdateHealthCheck(ctx, &r53sdk.UpdateHealthCheckInput{HealthCheckId: aws.String(hc), HealthCheckVersion: version, Inverted: aws.Bool(st.inverted)})
		if err != nil {
			t.Fatalf("UpdateHealthCheck inverted=%v: %v", st.inverted, err)
		}
		version = upd.HealthCheck.HealthCheckVersion
		for range 10 {
			if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != st.want {
				t.Fatalf("inverted=%v: answered %s, want %s", st.inverted, got, st.want)
			}
		}
	}
}
