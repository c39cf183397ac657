package preflight_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/runbook"
)

// albSeed is seed 004's world: two load balancers, one origin each, a
// certificate for the hostname, and the hostname CNAME'd to the old one.
const albSeed = `
certificates:
  - {name: api-cert, domains: [api.example.com]$CERT}
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:$OLD"]}
  - {name: api-new, targets: ["127.0.0.1:$NEW"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: CNAME, ttl: 300, alias: {load_balancer: api-old}}
`

type env struct {
	w      *world.World
	seeded *lab.Seeded
	zone   string
}

// start brings up a lab world (AWS APIs, DNS, edges, an old and a new
// origin) with seed, whose $OLD and $NEW are the origins' ports, and
// points the SDK's standard chain at it.
func start(t *testing.T, lo lab.Options, seed string, extra func(w *world.World) error) *env {
	t.Helper()
	if lo.DeployDelay == 0 {
		lo.DeployDelay = -1
	}
	lo.RateLimit = labr53.RateLimitOff
	lo.Propagation = time.Millisecond
	e := &env{}
	w, err := world.Start(context.Background(), world.Options{
		Lab: lo, APIAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0", Edges: 1, EphemeralPorts: true,
		PropagationMin: time.Millisecond, PropagationMax: 2 * time.Millisecond, HealthInterval: time.Hour,
		Origins: []world.OriginSpec{{Name: "old", Addr: "127.0.0.1:0"}, {Name: "new", Addr: "127.0.0.1:0"}},
		Setup: func(w *world.World) error {
			o, _ := w.Origins.Get("old")
			n, _ := w.Origins.Get("new")
			body := strings.NewReplacer("$OLD", strconv.Itoa(o.Port()), "$NEW", strconv.Itoa(n.Port())).Replace(seed)
			s, err := lab.ParseSeed("seed", []byte(body))
			if err != nil {
				return err
			}
			if e.seeded, err = w.Lab.Apply(s); err != nil {
				return err
			}
			if extra != nil {
				return extra(w)
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	e.w = w
	e.zone = e.seeded.Zones["example.com"]
	awstest.SetEnv(t, w.API)
	return e
}

func startALB(t *testing.T, cert string) *env {
	return start(t, lab.Options{}, strings.Replace(albSeed, "$CERT", cert, 1), nil)
}

// albPlan moves api.example.com from api-old to api-new; marker is the
// marker the new side must answer.
func (e *env) albPlan(t *testing.T, marker string) preflight.Input {
	t.Helper()
	old, nw := e.seeded.LoadBalancers["api-old"], e.seeded.LoadBalancers["api-new"]
	return e.input(t, fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: api-move
hostname: api.example.com
zone: {id: %s}
from: {alb: %s}
to: {alb: %s}
strategy: weighted
hold: 72h
verify: {path: /ruok, expect: {new: %s, old: ok-old}, resolvers: [%q]}
`, e.zone, old.DNSName, nw.DNSName, marker, e.w.DNS),
		runbook.Target{Kind: runbook.TargetALB, ID: old.Name, DNSName: old.DNSName},
		runbook.Target{Kind: runbook.TargetALB, ID: nw.Name, DNSName: nw.DNSName})
}

func (e *env) input(t *testing.T, body string, from, to runbook.Target) preflight.Input {
	t.Helper()
	p, err := plan.Parse("plan.yaml", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return preflight.Input{Plan: p, From: from, To: to}
}

func (e *env) preflight(t *testing.T, in preflight.Input) preflight.Report {
	t.Helper()
	w, err := connect.CheckWorld(context.Background(), in.Plan, "")
	if err != nil {
		t.Fatal(err)
	}
	rep := preflight.Preflight(context.Background(), in, w, preflight.Options{Scheme: "http", Port: e.w.HTTPPort(), Timeout: 2 * time.Second})
	var b strings.Builder
	_ = rep.WriteText(&b)
	t.Logf("%s", b.String())
	return rep
}

// result returns the named check's result, failing the test when the
// report lacks it.
func result(t *testing.T, rep preflight.Report, name string) preflight.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s check in the report", name)
	return preflight.Result{}
}

// expect asserts the named check's status and that its evidence line holds
// each of the wanted fragments.
func expect(t *testing.T, rep preflight.Report, name string, status preflight.Status, evidence ...string) {
	t.Helper()
	r := result(t, rep, name)
	if r.Status != status {
		t.Fatalf("%s: %s, want %s (evidence: %s; %s)", name, r.Status, status, r.Evidence, r.Detail)
	}
	for _, want := range evidence {
		if !strings.Contains(r.Evidence, want) {
			t.Fatalf("%s evidence %q lacks %q", name, r.Evidence, want)
		}
	}
}

func TestPreflightCleanPass(t *testing.T) {
	e := startALB(t, "")
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	if !rep.OK() {
		t.Fatalf("failed checks: %+v", rep.Failed())
	}
	for _, name := range []string{preflight.CheckListener, preflight.CheckTargetsHealthy, preflight.CheckCertIssued, preflight.CheckCertCovers,
		preflight.CheckCertExpiry, preflight.CheckZoneContains, preflight.CheckZoneShadow, preflight.CheckZoneDelegation,
		preflight.CheckTTL, preflight.CheckRecordOwner, preflight.CheckMarker} {
		expect(t, rep, name, preflight.Pass)
	}
	expect(t, rep, preflight.CheckTTL, preflight.Pass, "CNAME", "300")
	if r := result(t, rep, preflight.CheckTTL); !strings.Contains(r.Detail, "waits 5m0s") {
		t.Fatalf("ttl detail %q does not name the 5m wait a 300s TTL forces", r.Detail)
	}
	expect(t, rep, preflight.CheckMarker, preflight.Pass, "ok-new", "api-new")
	expect(t, rep, preflight.CheckZoneDelegation, preflight.Pass, "NS?", "NOERROR")
}

func TestPreflightCertificatePending(t *testing.T) {
	e := startALB(t, ", status: PENDING_VALIDATION")
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckCertIssued, preflight.Fail, "acm DescribeCertificate arn:aws:acm:us-east-1:", "Status=PENDING_VALIDATION")
	if rep.OK() {
		t.Fatal("a pending certificate passed preflight")
	}
}

func TestPreflightCertificateExpiring(t *testing.T) {
	e := startALB(t, ", valid_for: 48h")
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckCertExpiry, preflight.Fail, "NotAfter=", "from now")
	expect(t, rep, preflight.CheckCertIssued, preflight.Pass, "Status=ISSUED")
}

func TestPreflightCertificateNotCovering(t *testing.T) {
	// A wildcard covers exactly one label: *.example.com does not cover
	// api.eu.example.com.
	seed := `
certificates:
  - {name: old-cert, domains: [api.eu.example.com]}
  - {name: wild, domains: ["*.example.com"]}
distributions:
  - {name: old, aliases: [api.eu.example.com], certificate: old-cert, origin: {domain: 127.0.0.1, http_port: $OLD}}
  - {name: new, certificate: wild, origin: {domain: 127.0.0.1, http_port: $NEW}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.eu.example.com, type: CNAME, ttl: 60, alias: {distribution: old}}
`
	e := start(t, lab.Options{}, seed, nil)
	rep := e.preflight(t, e.cdnPlan(t, "api.eu.example.com", "old", "new"))
	expect(t, rep, preflight.CheckCertCovers, preflight.Fail, "SubjectAlternativeNames=*.example.com")
	expect(t, rep, preflight.CheckDistDeployed, preflight.Pass, "Status=Deployed")
	expect(t, rep, preflight.CheckDistCert, preflight.Pass, "ACMCertificateArn=")
}

// cdnPlan is an alias-move of host between two seeded distributions.
func (e *env) cdnPlan(t *testing.T, host, from, to string) preflight.Input {
	t.Helper()
	f, n := e.seeded.Distributions[from], e.seeded.Distributions[to]
	return e.input(t, fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: cdn-move
hostname: %s
zone: {id: %s}
from: {cloudfront: %s}
to: {cloudfront: %s}
strategy: alias-move
hold: 72h
`, host, e.zone, f.ID, n.ID),
		runbook.Target{Kind: runbook.TargetCloudFront, ID: f.ID, DNSName: f.DomainName},
		runbook.Target{Kind: runbook.TargetCloudFront, ID: n.ID, DNSName: n.DomainName})
}

const cdnSeed = `
certificates:
  - {name: cdn, domains: [cdn.example.com, other.example.com]}
distributions:
  - {name: old, aliases: [$ALIAS], certificate: cdn, origin: {domain: 127.0.0.1, http_port: $OLD}}
  - {name: new, certificate: cdn, origin: {domain: 127.0.0.1, http_port: $NEW}}
  - {name: squatter, aliases: [$SQUAT], certificate: cdn, origin: {domain: 127.0.0.1, http_port: $OLD}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: CNAME, ttl: 60, alias: {distribution: old}}
`

func TestPreflightDistributionInProgress(t *testing.T) {
	seed := strings.NewReplacer("$ALIAS", "cdn.example.com", "$SQUAT", "other.example.com").Replace(cdnSeed)
	e := start(t, lab.Options{DeployDelay: time.Hour}, seed, nil)
	rep := e.preflight(t, e.cdnPlan(t, "cdn.example.com", "old", "new"))
	expect(t, rep, preflight.CheckDistDeployed, preflight.Fail, "cloudfront GetDistribution", "Status=InProgress")
	expect(t, rep, preflight.CheckAliasConflict, preflight.Pass)
}

func TestPreflightAliasConflict(t *testing.T) {
	// The hostname is held by a third distribution, not the plan's old one.
	seed := strings.NewReplacer("[$ALIAS]", "[]", "$SQUAT", "cdn.example.com").Replace(cdnSeed)
	e := start(t, lab.Options{}, seed, nil)
	rep := e.preflight(t, e.cdnPlan(t, "cdn.example.com", "old", "new"))
	squat := e.seeded.Distributions["squatter"].ID
	expect(t, rep, preflight.CheckAliasConflict, preflight.Fail, "ListConflictingAliases", "cdn.example.com on "+squat)
}

func TestPreflightDelegationMismatch(t *testing.T) {
	// A second zone of the same name, created later (a zone deleted and
	// recreated, say): the lab's DNS answers from the older one, as the
	// registrar's delegation still names its servers.
	var second string
	e := start(t, lab.Options{}, strings.Replace(albSeed, "$CERT", "", 1), func(w *world.World) error {
		var err error
		second, err = w.Lab.Route53.CreateZone(awsapi.DefaultAccountID, "example.com", false)
		if err != nil {
			return err
		}
		_, err = w.Lab.Route53.ApplyChanges(awsapi.DefaultAccountID, second, []labr53.Change{{Action: "CREATE",
			Set: labr53.RecordSet{Name: "api.example.com", Type: "CNAME", TTL: labr53.Int64(60), Records: []string{"elsewhere.example.net"}}}})
		return err
	})
	e.zone = second
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckZoneDelegation, preflight.Fail, "route53 example.com. NS", "NS? via "+e.w.DNS)
	expect(t, rep, preflight.CheckZoneShadow, preflight.Warn, "zones of the same name")
}

func TestPreflightDelegationFromParentZoneInAccount(t *testing.T) {
	// eu.example.com is its own zone; its parent, example.com, is in the
	// account and delegates it to name servers that are not its own.
	seed := strings.Replace(albSeed, "$CERT", "", 1) + `
  - {zone: example.com, name: eu.example.com, type: NS, ttl: 172800, values: [ns-1.awsdns-00.com., ns-2.awsdns-00.net.]}
`
	seed = strings.Replace(seed, "zones:\n  - name: example.com\n", "zones:\n  - name: example.com\n  - name: eu.example.com\n", 1)
	e := start(t, lab.Options{}, seed, nil)
	in := e.albPlan(t, "ok-new")
	in.Plan.Hostname = "api.eu.example.com"
	in.Plan.Zone.ID = e.seeded.Zones["eu.example.com"]
	rep := e.preflight(t, in)
	expect(t, rep, preflight.CheckZoneDelegation, preflight.Fail, "parent zone "+e.zone, "ns-1.awsdns-00.com.")
	// And example.com itself: eu.example.com shadows nothing of api.example.com.
	rep = e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckZoneShadow, preflight.Pass)
}

func TestPreflightExternalDNSOwner(t *testing.T) {
	seed := strings.Replace(albSeed, "$CERT", "", 1) + `
  - {zone: example.com, name: cname-api.example.com, type: TXT, ttl: 300, values: ['"heritage=external-dns,external-dns/owner=default,external-dns/resource=ingress/api/api"']}
`
	e := start(t, lab.Options{}, seed, nil)
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckRecordOwner, preflight.Fail, "cname-api.example.com.", "heritage=external-dns")
}

func TestPreflightTargetUnhealthy(t *testing.T) {
	// The new load balancer's target is a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	seed := strings.Replace(strings.Replace(albSeed, "$CERT", "", 1), "127.0.0.1:$NEW", "127.0.0.1:"+strconv.Itoa(dead), 1)
	e := start(t, lab.Options{}, seed, nil)
	e.w.Sim.CheckHealth(context.Background())
	rep := e.preflight(t, e.albPlan(t, "ok-new"))
	expect(t, rep, preflight.CheckTargetsHealthy, preflight.Fail, "elbv2 DescribeTargetHealth api-new", "unhealthy")
	expect(t, rep, preflight.CheckListener, preflight.Pass, "HTTP:80")
}

func TestPreflightMarkerNotServed(t *testing.T) {
	e := startALB(t, "")
	rep := e.preflight(t, e.albPlan(t, "ok-green"))
	expect(t, rep, preflight.CheckMarker, preflight.Fail, "GET http://api.example.com:", "status 200", `body "ok-new"`)
	if !strings.Contains(result(t, rep, preflight.CheckMarker).Detail, "ok-green") {
		t.Fatal("the marker's detail does not name the marker wanted")
	}
}

// TestDecommissionOldDistributionStillInUse: the old distribution still
// answers viewers (its Requests metric, from the edges), a forgotten
// CNAME in the zone and a health check still lead to it: three failing
// items, the first two of which pass once removed over the wire.
func TestDecommissionOldDistributionStillInUse(t *testing.T) {
	seed := strings.NewReplacer("$ALIAS", "cdn.example.com", "$SQUAT", "other.example.com").Replace(cdnSeed)
	e := start(t, lab.Options{}, seed, nil)
	old := e.seeded.Distributions["old"]
	legacy := labr53.RecordSet{Name: "legacy.example.com", Type: "CNAME", TTL: labr53.Int64(300), Records: []string{old.DomainName}}
	// The move itself is done: the hostname's record leads to the new
	// distribution.
	moved := []labr53.Change{{Action: "CREATE", Set: legacy}}
	recs, _ := e.w.Lab.Route53.Records(e.zone)
	for _, r := range recs {
		if r.Name == "cdn.example.com." && r.Type == "CNAME" {
			now := r
			now.Records = []string{e.seeded.Distributions["new"].DomainName}
			moved = append(moved, labr53.Change{Action: "DELETE", Set: r}, labr53.Change{Action: "CREATE", Set: now})
		}
	}
	if _, err := e.w.Lab.Route53.ApplyChanges(awsapi.DefaultAccountID, e.zone, moved); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r53 := route53.NewFromConfig(awstest.Config(e.w.API))
	hc, err := r53.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("legacy"), HealthCheckConfig: &r53types.HealthCheckConfig{
		Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String(old.DomainName), Port: aws.Int32(80), ResourcePath: aws.String("/ruok")}})
	if err != nil {
		t.Fatal(err)
	}
	// Viewers still reach the old distribution by its alias.
	e.w.Sim.Sync()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	edge := net.JoinHostPort(e.w.EdgeAddrs()[0].String(), strconv.Itoa(e.w.HTTPPort()))
	for range 5 {
		req, _ := http.NewRequest(http.MethodGet, "http://"+edge+"/ruok", nil)
		req.Host = "cdn.example.com"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := e.w.Sim.Flush(); err != nil {
		t.Fatal(err)
	}
	in := e.cdnPlan(t, "cdn.example.com", "old", "new")
	check := func() preflight.Report {
		w, err := connect.CheckWorld(ctx, in.Plan, "")
		if err != nil {
			t.Fatal(err)
		}
		rep := preflight.Decommission(ctx, in, w, preflight.Options{})
		var b strings.Builder
		_ = rep.WriteText(&b)
		t.Logf("%s", b.String())
		return rep
	}
	rep := check()
	expect(t, rep, preflight.CheckOldRecords, preflight.Fail, "legacy.example.com.", old.DomainName)
	expect(t, rep, preflight.CheckOldHealthChecks, preflight.Fail, "route53 ListHealthChecks", aws.ToString(hc.HealthCheck.Id))
	expect(t, rep, preflight.CheckOldTraffic, preflight.Fail, "AWS/CloudFront Requests DistributionId="+old.ID, "5 requests")
	expect(t, rep, preflight.CheckOldAlarms, preflight.Pass, "DescribeAlarms")

	if _, err := e.w.Lab.Route53.ApplyChanges(awsapi.DefaultAccountID, e.zone, []labr53.Change{{Action: "DELETE", Set: legacy}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r53.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: hc.HealthCheck.Id}); err != nil {
		t.Fatal(err)
	}
	rep = check()
	expect(t, rep, preflight.CheckOldRecords, preflight.Pass)
	expect(t, rep, preflight.CheckOldHealthChecks, preflight.Pass)
}

// TestPreflightMarkerOverTLSWithSNI fetches the marker over HTTPS from the
// new load balancer's address with api.example.com as SNI: trusted with
// the lab's CA it passes, and without it the handshake's refusal is the
// evidence.
func TestPreflightMarkerOverTLSWithSNI(t *testing.T) {
	e := startALB(t, "")
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(e.w.Sim.CA()) {
		t.Fatal("no lab CA")
	}
	in := e.albPlan(t, "ok-new")
	w, err := connect.CheckWorld(context.Background(), in.Plan, "")
	if err != nil {
		t.Fatal(err)
	}
	o := preflight.Options{Scheme: "https", Port: e.w.HTTPSPort(), RootCAs: pool, Timeout: 2 * time.Second}
	rep := preflight.Preflight(context.Background(), in, w, o)
	expect(t, rep, preflight.CheckMarker, preflight.Pass, "GET https://api.example.com:", `body "ok-new"`)
	o.RootCAs = nil
	rep = preflight.Preflight(context.Background(), in, w, o)
	expect(t, rep, preflight.CheckMarker, preflight.Fail, "certificate")
}
