package maintenance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsr53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/load"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/verify"
)

const host = "api.example.com"

// labWorld is a lab with api.example.com aliased to the load balancer
// "api" (origin "api") and a second load balancer "maint" in front of the
// built-in maintenance page origin.
type labWorld struct {
	w        *world.World
	zone     string
	page     plan.Edge
	prov     *route53.Provider
	st       store.Store
	verifier *verify.Verifier
}

func startLab(t *testing.T) *labWorld {
	t.Helper()
	ctx := context.Background()
	w, err := world.Start(ctx, world.Options{
		Lab:     lab.Options{Propagation: 300 * time.Millisecond, RateLimit: labr53.RateLimitLegacy},
		APIAddr: "127.0.0.1:0", DNSAddr: "127.0.0.1:0", Edges: 2, EphemeralPorts: true,
		PropagationMin: 50 * time.Millisecond, PropagationMax: 200 * time.Millisecond,
		MetricsPeriod: time.Second, HealthInterval: 200 * time.Millisecond, TargetTTL: 1,
		Origins: []world.OriginSpec{{Name: "api", Addr: "127.0.3.1:0"}, {Name: "maintenance", Addr: "127.0.3.2:0", Page: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	api, _ := w.Origins.Get("api")
	page, _ := w.Origins.Get("maintenance")
	s, err := lab.ParseSeed("maintenance", []byte(fmt.Sprintf(`
load_balancers:
  - {name: api, targets: ["%s"]}
  - {name: maint, targets: ["%s"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: A, alias: {load_balancer: api, evaluate_target_health: true}}
  - {zone: example.com, name: api.example.com, type: TXT, ttl: 300, values: ['"v=spf1 -all"']}
`, api.Addr(), page.Addr())))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := w.Lab.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	lw := &labWorld{
		w: w, zone: seeded.Zones["example.com"],
		page: plan.Edge{Kind: plan.EdgeALB, Value: seeded.LoadBalancers["maint"].DNSName},
		prov: route53.New(w.AWSConfig(), route53.Options{}),
		st:   memstore.New(memstore.Options{}),
		verifier: verify.New(verify.Options{Scheme: "http", Resolvers: []string{w.DNS}, NewMarker: "ok-maintenance", OldMarker: "ok-api",
			Port: w.Sim.HTTPPort(), Path: "/ruok", Samples: 3, Timeout: 2 * time.Second}),
	}
	// Clients start once both load balancers answer and the record is
	// served, so none caches a negative answer.
	apiLB, maintLB := seeded.LoadBalancers["api"].DNSName, seeded.LoadBalancers["maint"].DNSName
	waitFor(t, 10*time.Second, "the lab serving api.example.com", func() bool {
		_, okA := w.Sim.LBAddr(apiLB)
		_, okM := w.Sim.LBAddr(maintLB)
		_, sets, ok := w.Lab.Route53.Served(host + ".")
		return okA && okM && ok && len(sets) > 0
	})
	return lw
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (lw *labWorld) deps() Deps {
	cfg := lw.w.AWSConfig()
	return Deps{Edges: edge.Resolver{Config: func(context.Context, string, string) (aws.Config, error) { return cfg, nil }}, Zone: lw.prov}
}

// execute stores and runs rb to its end through the engine, over the wire.
func (lw *labWorld) execute(t *testing.T, rb *runbook.Runbook) store.Run {
	t.Helper()
	ctx := context.Background()
	if _, err := engine.Create(ctx, lw.st, rb, "", "maintenance", time.Now()); err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{Store: lw.st, Provider: lw.prov, HealthChecks: lw.prov, Clock: clock.Real{}, Verifier: lw.verifier, Poll: 50 * time.Millisecond, Owner: "test", VerifyTimeout: 15 * time.Second})
	run, err := e.Run(ctx, rb.Name)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("run %s ended %s: %s", run.Name, run.State, run.Reason)
	}
	return run
}

// listed is every record set of the zone at host, as ListResourceRecordSets
// returns it on the wire, in JSON: what "byte for byte" compares.
func (lw *labWorld) listed(t *testing.T) []byte {
	t.Helper()
	out, err := awsr53.NewFromConfig(lw.w.AWSConfig()).ListResourceRecordSets(context.Background(), &awsr53.ListResourceRecordSetsInput{HostedZoneId: aws.String(lw.zone)})
	if err != nil {
		t.Fatal(err)
	}
	var sets []r53types.ResourceRecordSet
	for _, rs := range out.ResourceRecordSets {
		if aws.ToString(rs.Name) == host+"." {
			sets = append(sets, rs)
		}
	}
	b, err := json.Marshal(sets)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tally keeps every client result with the time it was issued.
type tally struct {
	mu  sync.Mutex
	all []load.Result
}

func (c *tally) add(r load.Result) { c.mu.Lock(); c.all = append(c.all, r); c.mu.Unlock() }

func (c *tally) since(t time.Time) (results []load.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.all {
		if !r.At.Before(t) {
			results = append(results, r)
		}
	}
	return results
}

// TestMaintenanceOnOffUnderLoad is the acceptance test of seed 002: under
// client load resolving through the lab's DNS, maintenance on puts every
// client on the 503 page, maintenance off restores the records byte for
// byte, and no request fails to connect at any moment — in weight mode
// and in failover mode.
func TestMaintenanceOnOffUnderLoad(t *testing.T) {
	lw := startLab(t)
	ctx := context.Background()
	clients := &tally{}
	live, err := load.Start(ctx, load.Config{Host: host, Path: "/ruok", Port: lw.w.Sim.HTTPPort(), DNSServer: lw.w.DNS,
		Clients: 10, Rate: 100, Duration: 2 * time.Minute, OnResult: clients.add})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()

	// The failover mode's health check: the PRIMARY's, failing for the
	// maintenance (the backend is taken down, or the check inverted).
	hc, err := awsr53.NewFromConfig(lw.w.AWSConfig()).CreateHealthCheck(ctx, &awsr53.CreateHealthCheckInput{
		CallerReference:   aws.String("api-primary"),
		HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String(host), ResourcePath: aws.String("/ruok")},
	})
	if err != nil {
		t.Fatal(err)
	}
	hcID := aws.ToString(hc.HealthCheck.Id)

	for _, mode := range []string{runbook.MaintenanceWeight, runbook.MaintenanceFailover} {
		t.Run(mode, func(t *testing.T) {
			before := lw.listed(t)
			req := Request{Host: host, Zone: lw.zone, Page: lw.page, Mode: mode, AliasTTL: 1, Verify: &runbook.Verify{Path: "/ruok", Samples: 3}}
			if mode == runbook.MaintenanceFailover {
				// The backend stays up (its check passes): inverting the
				// check is what sends clients to the page.
				req.HealthCheck, req.InvertHealthCheck = hcID, true
			}
			on, err := On(ctx, req, lw.deps(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			lw.execute(t, on)
			onDone := time.Now()
			// While on, every client gets the page: give in-flight
			// requests resolved before the run ended a moment, then
			// watch a full second.
			time.Sleep(300 * time.Millisecond)
			from := time.Now()
			waitFor(t, 5*time.Second, "a second of requests while on", func() bool { return time.Since(from) > time.Second })
			during := clients.since(from)
			if len(during) < 50 {
				t.Fatalf("only %d requests while on", len(during))
			}
			for _, r := range during {
				if r.Class != load.ClassMaintenance || r.Status != 503 || r.Origin != "maintenance" {
					t.Fatalf("while on (since %s after the run ended) a client got %s %d from %q: %s", from.Sub(onDone).Round(time.Millisecond), r.Class, r.Status, r.Origin, r.Error)
				}
			}
			if got := lw.listed(t); bytes.Equal(got, before) {
				t.Fatal("records unchanged while on")
			}

			off, err := Off(ctx, lw.st, lw.prov, host, "", time.Now().Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if off.MaintenanceOf != on.Name {
				t.Fatalf("off ends %q, want %q", off.MaintenanceOf, on.Name)
			}
			lw.execute(t, off)
			if after := lw.listed(t); !bytes.Equal(after, before) {
				t.Fatalf("records after off differ from before on:\nbefore %s\nafter  %s", before, after)
			}
			time.Sleep(300 * time.Millisecond)
			back := time.Now()
			waitFor(t, 5*time.Second, "a second of requests after off", func() bool { return time.Since(back) > time.Second })
			for _, r := range clients.since(back) {
				if r.Class != load.ClassOK || r.Origin != "api" {
					t.Fatalf("after off a client got %s %d from %q", r.Class, r.Status, r.Origin)
				}
			}
			if mode == runbook.MaintenanceFailover {
				got, err := awsr53.NewFromConfig(lw.w.AWSConfig()).GetHealthCheck(ctx, &awsr53.GetHealthCheckInput{HealthCheckId: aws.String(hcID)})
				if err != nil || aws.ToBool(got.HealthCheck.HealthCheckConfig.Inverted) || !lw.w.Lab.Route53.HealthCheckHealthy(hcID) {
					t.Fatalf("health check after off: %v %+v", err, got)
				}
			}
			if _, _, err := Active(ctx, lw.st, host); err == nil {
				t.Fatal("a maintenance is still active after off")
			}
			evs, _ := lw.st.Events(ctx, on.Name, 0)
			offEvs, _ := lw.st.Events(ctx, off.Name, 0)
			if !hasEvent(evs, store.EventMaintenanceOn) || !hasEvent(offEvs, store.EventMaintenanceOff) {
				t.Fatal("maintenance.on / maintenance.off events missing")
			}
		})
	}
	rep := live.Stop()
	s := rep.Summary
	t.Logf("clients: %d requests, by class %v, by origin %v", s.Total, s.ByClass, s.ByOrigin)
	if failed := s.Total - s.ByClass[load.ClassOK] - s.ByClass[load.ClassMaintenance]; failed != 0 || len(s.Errors) != 0 {
		t.Fatalf("%d failed requests: %v", failed, s.Errors)
	}
	if s.ByOrigin["maintenance"] == 0 || s.ByOrigin["api"] == 0 {
		t.Fatalf("by origin %v: want both the page and the api", s.ByOrigin)
	}
}

func hasEvent(evs []store.Event, typ store.EventType) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// The CAS: a record edited during the maintenance makes off refuse,
// naming what it found, and nothing is written.
func TestMaintenanceOffRefusesARecordEditedMeanwhile(t *testing.T) {
	lw := startLab(t)
	ctx := context.Background()
	on, err := On(ctx, Request{Host: host, Zone: lw.zone, Page: lw.page, AliasTTL: 1}, lw.deps(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	lw.execute(t, on)
	// Someone turns the page's weight down by hand.
	end := on.EndState()
	var pageSet dns.RecordSet
	for _, r := range end {
		if r.SetIdentifier == runbook.SetPage {
			pageSet = r
		}
	}
	edited := pageSet
	w := int64(7)
	edited.Weight = &w
	if _, err := lw.prov.Apply(ctx, dns.ChangeSet{Zone: lw.zone, Changes: []dns.Change{{Old: &pageSet, New: &edited}}}); err != nil {
		t.Fatal(err)
	}
	before := lw.listed(t)
	_, err = Off(ctx, lw.st, lw.prov, host, "", time.Now())
	if err == nil || !errors.Is(err, runbook.ErrMaintenanceChanged) {
		t.Fatalf("err = %v, want ErrMaintenanceChanged", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("weight 7")) {
		t.Fatalf("error does not show the edited record: %v", err)
	}
	if !bytes.Equal(lw.listed(t), before) {
		t.Fatal("a refused off changed the zone")
	}
}

// Durable: the process stops right after the change is applied (before
// the outcome is seen by anyone else); a new engine resumes the run, sees
// the change already applied, and finishes; off still restores exactly.
func TestMaintenanceOnSurvivesAnInterruption(t *testing.T) {
	lw := startLab(t)
	ctx := context.Background()
	before := lw.listed(t)
	on, err := On(ctx, Request{Host: host, Zone: lw.zone, Page: lw.page, AliasTTL: 1}, lw.deps(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Create(ctx, lw.st, on, "", "maintenance", time.Now()); err != nil {
		t.Fatal(err)
	}
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	first := engine.New(engine.Options{Store: lw.st, Provider: lw.prov, Clock: clock.Real{}, Poll: 50 * time.Millisecond, Owner: "first",
		OnEvent: func(e store.Event) {
			if e.Type == store.EventChangeApplied {
				stop()
			}
		}})
	run, err := first.Run(stopCtx, on.Name)
	if err == nil || run.State == store.StateDone {
		t.Fatalf("first process was not interrupted: %v, %s", err, run.State)
	}
	second := engine.New(engine.Options{Store: lw.st, Provider: lw.prov, Clock: clock.Real{}, Poll: 50 * time.Millisecond, Owner: "second"})
	if run, err = second.Run(ctx, on.Name); err != nil || run.State != store.StateDone {
		t.Fatalf("resume: %v, %s %s", err, run.State, run.Reason)
	}
	evs, _ := lw.st.Events(ctx, on.Name, 0)
	applied := 0
	for _, e := range evs {
		if e.Type == store.EventChangeApplied {
			applied++
		}
	}
	if applied != 1 {
		t.Fatalf("%d changes applied, want 1 (the resumed run must not apply it twice)", applied)
	}
	off, err := Off(ctx, lw.st, lw.prov, host, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	lw.execute(t, off)
	if after := lw.listed(t); !bytes.Equal(after, before) {
		t.Fatalf("records after off differ:\nbefore %s\nafter  %s", before, after)
	}
}

// SetHealthCheckInverted over the wire: the flag is set with the check's
// version, Route 53 acts on it, and setting it again writes nothing.
func TestSetHealthCheckInvertedIsIdempotent(t *testing.T) {
	lw := startLab(t)
	ctx := context.Background()
	hc, err := awsr53.NewFromConfig(lw.w.AWSConfig()).CreateHealthCheck(ctx, &awsr53.CreateHealthCheckInput{
		CallerReference:   aws.String("idempotent"),
		HealthCheckConfig: &r53types.HealthCheckConfig{Type: r53types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String(host)},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(hc.HealthCheck.Id)
	updates := func() (n int) {
		for _, c := range lw.w.Lab.Env.History.List(awsapi.Filter{Service: "route53"}) {
			if c.Operation == "UpdateHealthCheck" {
				n++
			}
		}
		return n
	}
	for i, want := range []struct {
		inverted bool
		updates  int
	}{{true, 1}, {true, 1}, {false, 2}} {
		if err := lw.prov.SetHealthCheckInverted(ctx, id, want.inverted); err != nil {
			t.Fatal(err)
		}
		if got := updates(); got != want.updates {
			t.Fatalf("call %d: %d UpdateHealthCheck calls, want %d", i, got, want.updates)
		}
		if healthy := lw.w.Lab.Route53.HealthCheckHealthy(id); healthy == want.inverted {
			t.Fatalf("call %d: healthy=%v with inverted=%v", i, healthy, want.inverted)
		}
	}
	if err := lw.prov.SetHealthCheckInverted(ctx, "00000000-0000-0000-0000-000000000000", true); err == nil || !strings.Contains(err.Error(), "NoSuchHealthCheck") {
		t.Fatalf("unknown check: %v", err)
	}
}
