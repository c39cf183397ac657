// Package demo runs a complete migration on the built-in lab: seed 004's
// load balancer to load balancer move, by weighted Route 53 records with a
// gate, under client load that resolves through the lab's DNS and honours
// TTLs, and reports what the clients saw.
//
// Everything goes over the wire: the engine reaches the lab's Route 53
// through aws-sdk-go-v2 exactly as it reaches AWS.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/gate/probe"
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

// Scenarios the demo knows.
const (
	ScenarioWeighted  = "weighted"
	ScenarioRollback  = "rollback"
	ScenarioAliasMove = "alias-move"
	ScenarioBridge    = "bridge"
)

// Scenarios lists every scenario the demo knows.
var Scenarios = []string{ScenarioWeighted, ScenarioRollback, ScenarioAliasMove, ScenarioBridge, ScenarioMaintenance}

// Options tune the demo.
type Options struct {
	Scenario string
	// Clients and Rate of the client load (defaults 20 clients, 100 req/s).
	Clients int
	Rate    float64
	// Out receives the live progress; nil discards it.
	Out io.Writer
	// Store keeps the run; default a fresh in-memory store. A dashboard
	// given the same store shows the run as it happens.
	Store store.Store
	// Hold, when set, is called with the report once the run is over and
	// before the lab is torn down: the lab stays up while it runs (for
	// `cutover demo --serve`).
	Hold func(ctx context.Context, rep *Report) error
}

// Step is one runbook step as the demo saw it.
type Step struct {
	Index   int      `json:"index"`
	Title   string   `json:"title"`
	Took    string   `json:"took"`
	Weights string   `json:"weights,omitempty"`
	Reached bool     `json:"reached"`
	Gates   []string `json:"gates,omitempty"`
}

// Report is what happened.
type Report struct {
	Scenario string        `json:"scenario"`
	Outcome  string        `json:"outcome"` // the run's final state
	Reason   string        `json:"reason,omitempty"`
	Wall     time.Duration `json:"wall"`
	Load     load.Summary  `json:"load"`
	Steps    []Step        `json:"steps"`
	// Failed is every failed client request; FaultCaused those answered
	// 5xx by the new origin after the fault was injected.
	Failed      int64 `json:"failed"`
	FaultCaused int64 `json:"fault_caused"`
	// OldAfterDone counts requests the old origin served after the run
	// reported done.
	OldAfterDone int64 `json:"old_after_done"`
	// History compares the run's event log with what the lab says
	// happened to the world.
	History HistoryCheck `json:"history"`
	// RollbackAfter is the time from fault injection to the rollback
	// change being submitted; RollbackBound the plan's worst case.
	RollbackAfter time.Duration `json:"rollback_after,omitempty"`
	RollbackBound time.Duration `json:"rollback_bound,omitempty"`
	// RecordsRestored says, for the maintenance scenario, whether the
	// records after off equal those before on, byte for byte.
	RecordsRestored bool `json:"records_restored,omitempty"`
	// OK is the demo's verdict: no failed request (weighted), or a rollback
	// within its bound whose only failures came from the fault (rollback).
	OK bool `json:"ok"`
}

// Run performs the demo and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	start := time.Now()
	say := sayer(o.Out, start)

	w, err := startLab(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if o.Scenario == ScenarioMaintenance {
		return runMaintenance(ctx, o, w, say, start)
	}
	oldOrigin, _ := w.Origins.Get("old")
	newOrigin, _ := w.Origins.Get("new")
	sc, err := setup(w, o.Scenario, oldOrigin, newOrigin)
	if err != nil {
		return nil, err
	}
	if sc.close != nil {
		defer sc.close()
	}
	say("lab up: AWS API %s, DNS %s, edges %v (port %d)", w.API, w.DNS, w.Sim.Addrs(), w.Sim.HTTPPort())
	say("%s", sc.story)

	prov := route53.New(w.AWSConfig(), route53.Options{})
	rb, err := compileRunbook(ctx, w, sc, prov)
	if err != nil {
		return nil, err
	}
	_, bound := rb.Estimate(2 * time.Second)
	newAddr := sc.newAddr()
	clients := &clientTally{newAddr: newAddr.String()}
	f := newFollower(say, clients)
	if o.Scenario == ScenarioRollback {
		f.injectFault = faultInjector(newOrigin, clients, say)
	}
	st := o.Store
	if st == nil {
		st = memstore.New(memstore.Options{})
	}
	e, err := newEngine(w, rb, st, prov, newAddr, f.event)
	if err != nil {
		return nil, err
	}
	if f.live, err = startClients(ctx, w, sc, o, clients); err != nil {
		return nil, err
	}
	say("client load: %d clients, %.0f req/s, resolving through the lab DNS", o.Clients, o.Rate)

	if _, err := engine.Create(ctx, st, rb, "demo.yaml", "demo", time.Now()); err != nil {
		return nil, err
	}
	historyFrom := int64(len(w.Lab.Env.History.List(awsapi.Filter{})))
	run, err := e.Run(ctx, rb.Name)
	if err != nil {
		f.live.Stop()
		return nil, err
	}
	// Keep the clients going a little: whoever still holds an old answer
	// must still be served.
	time.Sleep(2 * time.Second)
	sum := f.live.Stop().Summary

	rep := &Report{Scenario: o.Scenario, RollbackBound: bound, Load: sum}
	rep.Wall = time.Since(start).Round(100 * time.Millisecond)
	rep.Outcome, rep.Reason = string(run.State), run.Reason
	rep.Failed = sum.Total - sum.ByClass[load.ClassOK]
	var faultAt time.Time
	rep.FaultCaused, rep.OldAfterDone, faultAt = clients.counts()
	rep.History = compareHistory(ctx, st, rb.Name, w, historyFrom)
	rep.Steps = f.steps(rb)
	rep.judge(run.State, faultAt, f.rollbackSubmitted)
	if o.Hold != nil {
		if err := o.Hold(ctx, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// newEngine builds the engine that drives the run in the lab: its gates
// probe the new edge directly and its verifier resolves through the lab's
// DNS; onEvent receives every event it commits.
func newEngine(w *world.World, rb *runbook.Runbook, st store.Store, prov *route53.Provider, newAddr netip.Addr, onEvent func(store.Event)) (*engine.Engine, error) {
	port := strconv.Itoa(w.Sim.HTTPPort())
	gates, err := build.Gates(rb, build.Deps{Probe: probe.Options{Connect: net.JoinHostPort(newAddr.String(), port)}})
	if err != nil {
		return nil, err
	}
	verifier := verify.New(verify.Options{Scheme: "http", Resolvers: []string{w.DNS}, NewMarker: "ok-new", OldMarker: "ok-old", Port: w.Sim.HTTPPort(), Path: "/ruok", Samples: 3, Timeout: 2 * time.Second})
	return engine.New(engine.Options{
		Store: st, Provider: prov, Clock: clock.Real{}, Gates: gates, Verifier: verifier, CDN: cloudfront.New(w.AWSConfig(), cloudfront.Options{}),
		Poll: 100 * time.Millisecond, Owner: "demo",
		OnEvent: onEvent,
	}), nil
}

// startClients starts the client load through the lab's DNS, TTLs
// honoured; a tenth of the clients keep answers 2s past their TTL, as some
// resolvers do. Every result goes to clients.
func startClients(ctx context.Context, w *world.World, sc *scenario, o Options, clients *clientTally) (*load.Live, error) {
	live, err := load.Start(ctx, load.Config{
		Host: sc.host, Path: "/ruok", Port: w.Sim.HTTPPort(), DNSServer: w.DNS,
		Clients: o.Clients, Rate: o.Rate, Duration: 5 * time.Minute,
		OverstayFraction: 0.1, OverstayExtra: 2 * time.Second,
		OnResult: clients.result,
	})
	if err != nil {
		return nil, fmt.Errorf("starting client load: %w", err)
	}
	return live, nil
}

// defaults checks the scenario and fills in the defaults.
func (o *Options) defaults() error {
	if o.Scenario == "" {
		o.Scenario = ScenarioWeighted
	}
	if !slices.Contains(Scenarios, o.Scenario) {
		return fmt.Errorf("unknown scenario %q: want one of %s", o.Scenario, strings.Join(Scenarios, ", "))
	}
	if o.Clients == 0 {
		o.Clients = 20
	}
	if o.Rate == 0 {
		o.Rate = 100
	}
	return nil
}

// sayer prints progress lines to out (nil discards them), each stamped
// with the seconds since start.
func sayer(out io.Writer, start time.Time) func(format string, args ...any) {
	if out == nil {
		out = io.Discard
	}
	return func(format string, args ...any) {
		fmt.Fprintf(out, "%6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
}

// startLab starts the lab the demo runs in: fast propagation and
// deployment, two edges, an old and a new origin.
func startLab(ctx context.Context) (*world.World, error) {
	w, err := world.Start(ctx, world.Options{
		Lab:            lab.Options{Propagation: 300 * time.Millisecond, DeployDelay: time.Second, RateLimit: labr53.RateLimitLegacy},
		APIAddr:        "127.0.0.1:0",
		DNSAddr:        "127.0.0.1:0",
		Edges:          2,
		EphemeralPorts: true,
		PropagationMin: 100 * time.Millisecond,
		PropagationMax: 500 * time.Millisecond,
		MetricsPeriod:  time.Second,
		HealthInterval: 500 * time.Millisecond,
		TargetTTL:      1,
		Origins:        []world.OriginSpec{{Name: "old", Addr: "127.0.3.1:0"}, {Name: "new", Addr: "127.0.3.2:0"}, {Name: pageOrigin, Addr: "127.0.3.3:0", Page: true}},
	})
	if err != nil {
		return nil, fmt.Errorf("starting the lab: %w", err)
	}
	return w, nil
}

// compileRunbook compiles the scenario's plan against the records the
// lab serves, once they are served.
func compileRunbook(ctx context.Context, w *world.World, sc *scenario, prov *route53.Provider) (*runbook.Runbook, error) {
	p, err := plan.Parse("demo.yaml", []byte(sc.plan))
	if err != nil {
		return nil, fmt.Errorf("demo plan: %w", err)
	}
	spec, err := runbook.SpecFromPlan(p, build.Spec)
	if err != nil {
		return nil, err
	}
	// The lab answers alias records with TTL 1 and settles edges within a
	// second; the compiler must know, or it waits as long as AWS needs.
	spec.AliasTTL, spec.Settle = 1, 2*time.Second
	if sc.settle > 0 {
		spec.Settle = sc.settle
	}
	// Wait until the record is served before the clients start, so no
	// client ever caches a negative answer (reference E: never resolve a
	// name before it exists).
	if err := waitServed(ctx, w, sc); err != nil {
		return nil, err
	}
	recs, err := prov.Records(ctx, sc.zone, sc.host)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", sc.host, err)
	}
	sc.observed.Records = recs
	return runbook.Compile(spec, sc.observed)
}

// judge gives the demo's verdict from the run's final state and, for the
// rollback scenario, the time from the fault to the rollback change.
func (r *Report) judge(state store.RunState, faultAt, rollbackSubmitted time.Time) {
	switch r.Scenario {
	case ScenarioWeighted:
		r.OK = state == store.StateDone && r.Failed == 0 && r.History.Match
	case ScenarioAliasMove, ScenarioBridge:
		// Once the alias has moved and the run says done, no edge may
		// answer from the old origin any more.
		r.OK = state == store.StateDone && r.Failed == 0 && r.OldAfterDone == 0 && r.History.Match
	case ScenarioRollback:
		if !faultAt.IsZero() && !rollbackSubmitted.IsZero() {
			r.RollbackAfter = rollbackSubmitted.Sub(faultAt).Round(10 * time.Millisecond)
		}
		r.OK = state == store.StateRolledBack && r.RollbackAfter > 0 && r.RollbackAfter <= r.RollbackBound && r.Failed == r.FaultCaused && r.History.Match
	}
}

// waitServed waits until the lab's DNS serves the demo record.
func waitServed(ctx context.Context, w *world.World, sc *scenario) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, sets, ok := w.Lab.Route53.Served(sc.host + "."); ok && len(sets) > 0 && (sc.ready == nil || sc.ready()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s never became visible in the lab", sc.host)
}

// WriteText renders the report for a terminal.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "\n== cutover demo (%s): %s in %s ==\n", r.Scenario, r.Outcome, r.Wall)
	if r.Reason != "" {
		fmt.Fprintf(w, "   reason: %s\n", r.Reason)
	}
	if r.Scenario == ScenarioMaintenance {
		fmt.Fprintf(w, "   client requests: %d total — served by old %d, by the maintenance page (503) %d — failed %d\n", r.Load.Total, r.Load.ByOrigin["old"], r.Load.ByOrigin[pageOrigin], r.Failed)
		fmt.Fprintf(w, "   records after off equal those before on, byte for byte: %v\n", r.RecordsRestored)
	} else {
		fmt.Fprintf(w, "   client requests: %d total — served by old %d, by new %d — failed %d\n", r.Load.Total, r.Load.ByOrigin["old"], r.Load.ByOrigin["new"], r.Failed)
	}
	if r.Scenario == ScenarioAliasMove || r.Scenario == ScenarioBridge {
		fmt.Fprintf(w, "   served by the old origin after the run reported done: %d\n", r.OldAfterDone)
	}
	if len(r.Load.Errors) > 0 {
		fmt.Fprintf(w, "   failures: %v\n", r.Load.Errors)
	}
	fmt.Fprintf(w, "   latency p50 %s, p99 %s\n", r.Load.P50, r.Load.P99)
	fmt.Fprintf(w, "   event log vs the lab's history: %d/%d Route 53 changes, %d/%d CloudFront writes (match %v)\n",
		r.History.LoggedDNS, r.History.LabDNS, r.History.LoggedCDN, r.History.LabCDN, r.History.Match)
	if r.Scenario == ScenarioRollback {
		fmt.Fprintf(w, "   fault → rollback submitted: %s (bound %s); failures caused by the injected fault: %d of %d\n", r.RollbackAfter, r.RollbackBound, r.FaultCaused, r.Failed)
	}
	fmt.Fprintln(w, "   steps:")
	for _, s := range r.Steps {
		line := fmt.Sprintf("   %2d. %s", s.Index, s.Title)
		if !s.Reached {
			line += "  (not reached)"
		}
		if s.Weights != "" {
			line += "  [" + s.Weights + "]"
		}
		fmt.Fprintln(w, line)
		if n := len(s.Gates); n > 0 {
			fmt.Fprintf(w, "         gates: %d measurements, last: %s\n", n, s.Gates[n-1])
		}
	}
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "   verdict: %s\n", verdict)
}

func addrHost(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// HistoryCheck counts the writes the run's event log claims and the
// writes the lab's change history recorded while the run executed.
type HistoryCheck struct {
	LoggedDNS int  `json:"logged_dns"`
	LabDNS    int  `json:"lab_dns"`
	LoggedCDN int  `json:"logged_cdn"`
	LabCDN    int  `json:"lab_cdn"`
	Match     bool `json:"match"`
}

func compareHistory(ctx context.Context, st store.Store, name string, w *world.World, from int64) HistoryCheck {
	var h HistoryCheck
	evs, _ := st.Events(ctx, name, 0)
	for _, e := range evs {
		switch e.Type {
		case store.EventChangeApplied, store.EventChangeReconciled:
			h.LoggedDNS++
		case store.EventAliasesUpdated:
			h.LoggedCDN++
		case store.EventAssociateDone:
			h.LoggedCDN += 2 // one call changes both distributions
		}
	}
	for _, c := range w.Lab.Env.History.List(awsapi.Filter{SinceSeq: from}) {
		switch {
		case c.Service == "route53" && c.Operation == "ChangeResourceRecordSets":
			h.LabDNS++
		case c.Service == "cloudfront" && (c.Operation == "UpdateDistribution" || c.Operation == "AssociateAlias"):
			h.LabCDN++
		}
	}
	h.Match = h.LoggedDNS == h.LabDNS && h.LoggedCDN == h.LabCDN
	return h
}
