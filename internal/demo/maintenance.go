package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/load"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/maintenance"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/verify"
)

// ScenarioMaintenance is seed 002: api.example.com goes behind the lab's
// maintenance page (503) with a Route 53 weight override, stays there a
// few seconds under load, and comes back with its records byte for byte.
const ScenarioMaintenance = "maintenance"

// maintenanceHold is how long the demo keeps the page on.
const maintenanceHold = 3 * time.Second

// pageOrigin names the lab's built-in maintenance page origin.
const pageOrigin = "maintenance"

// setupMaintenance seeds the live load balancer (origin "old") the
// hostname aliases and a second one in front of the page origin.
func setupMaintenance(w *world.World) (*scenario, plan.Edge, error) {
	oldOrigin, _ := w.Origins.Get("old")
	page, _ := w.Origins.Get(pageOrigin)
	seeded, err := seed(w, fmt.Sprintf(`
load_balancers:
  - {name: api, targets: ["%s"]}
  - {name: maint, targets: ["%s"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: A, alias: {load_balancer: api, evaluate_target_health: true}}
`, oldOrigin.Addr(), page.Addr()))
	if err != nil {
		return nil, plan.Edge{}, err
	}
	apiLB, maintLB := seeded.LoadBalancers["api"], seeded.LoadBalancers["maint"]
	sc := &scenario{
		host: "api.example.com", zone: seeded.Zones["example.com"],
		story: fmt.Sprintf("api.example.com ALIAS %s → origin %q; maintenance puts %s (→ the built-in 503 page) in front with weights 0/255, then off restores the record byte for byte", apiLB.DNSName, "old", maintLB.DNSName),
		ready: func() bool {
			_, okA := w.Sim.LBAddr(apiLB.DNSName)
			_, okM := w.Sim.LBAddr(maintLB.DNSName)
			return okA && okM
		},
		newAddr: func() netip.Addr { a, _ := w.Sim.LBAddr(maintLB.DNSName); return a },
	}
	return sc, plan.Edge{Kind: plan.EdgeALB, Value: maintLB.DNSName}, nil
}

// runMaintenance switches the maintenance on, holds it, switches it off,
// all under client load, and reports what the clients saw and whether
// the records came back exactly.
func runMaintenance(ctx context.Context, o Options, w *world.World, say func(string, ...any), start time.Time) (*Report, error) {
	sc, page, err := setupMaintenance(w)
	if err != nil {
		return nil, err
	}
	say("lab up: AWS API %s, DNS %s, edges %v (port %d)", w.API, w.DNS, w.Sim.Addrs(), w.Sim.HTTPPort())
	say("%s", sc.story)
	if err := waitServed(ctx, w, sc); err != nil {
		return nil, err
	}
	prov := route53.New(w.AWSConfig(), route53.Options{})
	before, err := prov.Records(ctx, sc.zone, sc.host)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sc.host, err)
	}
	clients := &clientTally{}
	f := newFollower(say, clients)
	if f.live, err = startClients(ctx, w, sc, o, clients); err != nil {
		return nil, err
	}
	say("client load: %d clients, %.0f req/s, resolving through the lab DNS", o.Clients, o.Rate)
	st := memstore.New(memstore.Options{})
	e := maintenanceEngine(w, st, prov, f.event)
	cfg := w.AWSConfig()
	deps := maintenance.Deps{Edges: edge.Resolver{Config: func(context.Context, string, string) (aws.Config, error) { return cfg, nil }}, Zone: prov}
	on, err := maintenance.On(ctx, maintenance.Request{Name: "demo-maintenance-on", Host: sc.host, Zone: sc.zone, Page: page, AliasTTL: 1,
		Verify: &runbook.Verify{Path: "/ruok", Samples: 3}}, deps, time.Now())
	if err != nil {
		f.live.Stop()
		return nil, err
	}
	rep := &Report{Scenario: o.Scenario}
	historyFrom := int64(len(w.Lab.Env.History.List(awsapi.Filter{})))
	var runs []store.Run
	for i, rb := range []*runbook.Runbook{on, nil} {
		if i == 1 {
			say("maintenance on: holding the page for %s", maintenanceHold)
			time.Sleep(maintenanceHold)
			if rb, err = maintenance.Off(ctx, st, prov, sc.host, "demo-maintenance-off", time.Now()); err != nil {
				f.live.Stop()
				return nil, err
			}
		}
		run, err := runOne(ctx, e, st, rb)
		if err != nil {
			f.live.Stop()
			return nil, err
		}
		runs = append(runs, run)
		rep.Steps = append(rep.Steps, f.steps(rb)...)
		f.reached = -1
		if run.State != store.StateDone {
			break
		}
	}
	time.Sleep(2 * time.Second)
	rep.Load = f.live.Stop().Summary
	after, err := prov.Records(ctx, sc.zone, sc.host)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sc.host, err)
	}
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	rep.RecordsRestored = string(a) == string(b)
	for i, run := range runs {
		h := compareHistory(ctx, st, run.Name, w, historyFrom)
		if i == 0 {
			rep.History = h
			continue
		}
		rep.History.LoggedDNS += h.LoggedDNS
		rep.History.LoggedCDN += h.LoggedCDN
	}
	rep.History.Match = rep.History.LoggedDNS == rep.History.LabDNS && rep.History.LoggedCDN == rep.History.LabCDN
	last := runs[len(runs)-1]
	rep.Outcome, rep.Reason = string(last.State), last.Reason
	rep.Wall = time.Since(start).Round(100 * time.Millisecond)
	rep.Failed = rep.Load.Total - rep.Load.ByClass[load.ClassOK] - rep.Load.ByClass[load.ClassMaintenance]
	rep.OK = len(runs) == 2 && last.State == store.StateDone && rep.Failed == 0 && rep.RecordsRestored && rep.Load.ByOrigin[pageOrigin] > 0 && rep.History.Match
	return rep, nil
}

func runOne(ctx context.Context, e *engine.Engine, st store.Store, rb *runbook.Runbook) (store.Run, error) {
	if _, err := engine.Create(ctx, st, rb, "", "demo", time.Now()); err != nil {
		return store.Run{}, err
	}
	return e.Run(ctx, rb.Name)
}

// maintenanceEngine verifies with the page's marker as the new side and
// the live origin's as the old.
func maintenanceEngine(w *world.World, st store.Store, prov *route53.Provider, onEvent func(store.Event)) *engine.Engine {
	verifier := verify.New(verify.Options{Scheme: "http", Resolvers: []string{w.DNS}, NewMarker: "ok-" + pageOrigin, OldMarker: "ok-old", Port: w.Sim.HTTPPort(), Path: "/ruok", Samples: 3, Timeout: 2 * time.Second})
	return engine.New(engine.Options{Store: st, Provider: prov, Clock: clock.Real{}, Verifier: verifier, Poll: 100 * time.Millisecond, Owner: "demo", OnEvent: onEvent, VerifyTimeout: 30 * time.Second})
}
