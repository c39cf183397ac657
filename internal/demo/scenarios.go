package demo

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/cutover/cutover/internal/bridge"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/origin"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/runbook"
)

// scenario is one demo's world: what the lab holds, the plan, and what
// the compiler observes.
type scenario struct {
	host     string
	zone     string
	plan     string
	story    string
	observed runbook.Observed
	// newAddr is where the new edge answers (the health probe's target),
	// known once ready.
	newAddr func() netip.Addr
	// ready reports whether the world serves the starting state (every
	// edge has the seeded distributions), so clients start on a world that
	// works, as they would in production.
	ready func() bool
	// settle is how long edges and stragglers get after an alias change.
	settle time.Duration
	// close stops what the scenario started beyond the world (the bridge).
	close func()
}

// The record's TTL before the run, in the load balancer scenarios.
const originTTL = 5

const albPlan = `apiVersion: cutover/v1
kind: Cutover
name: demo-api
hostname: api.example.com
zone: {id: %s}
from: {endpoint: %s}
to: {endpoint: %s}
strategy: weighted
ttl: {cutover: 1}
steps:
  - {weight: 10, pause: 3s}
  - {weight: 50, pause: 3s}
  - {weight: 100, pause: 2s}
gates:
  - name: new-edge-health
    interval: 500ms
    for: 1s
    on_failure: rollback
    probe: {url: "http://api.example.com/ruok", expect_status: [200], body_contains: ok-new, timeout: 1s}
verify: {path: /ruok, expect: {old: ok-old, new: ok-new}, samples: 3}
hold: 3s
`

const cloudFrontPlan = `apiVersion: cutover/v1
kind: Cutover
name: demo-cdn
hostname: cdn.example.com
zone: {id: %s}
from: {cloudfront: %s}
to: {cloudfront: %s}
strategy: alias-move
alias_move: {mode: associate, poll: 200ms}
verify: {path: /ruok, expect: {old: ok-old, new: ok-new}, samples: 3}
hold: 3s
`

func setup(w *world.World, name string, oldOrigin, newOrigin *origin.Origin) (*scenario, error) {
	switch name {
	case ScenarioAliasMove:
		return setupCloudFront(w, oldOrigin, newOrigin)
	case ScenarioBridge:
		return setupBridge(w, oldOrigin, newOrigin)
	}
	return setupALB(w, oldOrigin, newOrigin)
}

// setupALB is seed 004: api.example.com CNAME to one load balancer, moved
// to another.
func setupALB(w *world.World, oldOrigin, newOrigin *origin.Origin) (*scenario, error) {
	seeded, err := seed(w, fmt.Sprintf(`
load_balancers:
  - {name: api-old, targets: ["%s"]}
  - {name: api-new, targets: ["%s"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: CNAME, ttl: %d, alias: {load_balancer: api-old}}
`, oldOrigin.Addr(), newOrigin.Addr(), originTTL))
	if err != nil {
		return nil, err
	}
	oldLB, newLB := seeded.LoadBalancers["api-old"], seeded.LoadBalancers["api-new"]
	zone := seeded.Zones["example.com"]
	lbAddr := func() netip.Addr {
		a, _ := w.Sim.LBAddr(newLB.DNSName)
		return a
	}
	return &scenario{
		host: "api.example.com", zone: zone,
		plan:  fmt.Sprintf(albPlan, zone, oldLB.DNSName, newLB.DNSName),
		story: fmt.Sprintf("api.example.com CNAME %s (TTL %ds) → origin %q; moving it to %s → origin %q", oldLB.DNSName, originTTL, "old", newLB.DNSName, "new"),
		observed: runbook.Observed{
			From: runbook.Target{Kind: runbook.TargetEndpoint, ID: "api-old", DNSName: oldLB.DNSName},
			To:   runbook.Target{Kind: runbook.TargetEndpoint, ID: "api-new", DNSName: newLB.DNSName},
		},
		newAddr: lbAddr,
		// The edges learn load balancers by polling: wait until both
		// have their address.
		ready: func() bool {
			_, okOld := w.Sim.LBAddr(oldLB.DNSName)
			_, okNew := w.Sim.LBAddr(newLB.DNSName)
			return okOld && okNew
		},
	}, nil
}

// setupCloudFront is seeds 000 and 003: cdn.example.com is an alternate
// domain name of the old distribution, aliased in Route 53; it moves to
// the new distribution with AssociateAlias.
func setupCloudFront(w *world.World, oldOrigin, newOrigin *origin.Origin) (*scenario, error) {
	seeded, err := seed(w, fmt.Sprintf(`
certificates:
  - {name: cdn, domains: [cdn.example.com]}
distributions:
  - {name: old, aliases: [cdn.example.com], certificate: cdn, origin: {domain: %s, http_port: %d}}
  - {name: new, certificate: cdn, origin: {domain: %s, http_port: %d}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: A, alias: {distribution: old}}
`, addrHost(oldOrigin.Addr()), oldOrigin.Port(), addrHost(newOrigin.Addr()), newOrigin.Port()))
	if err != nil {
		return nil, err
	}
	oldD, newD := seeded.Distributions["old"], seeded.Distributions["new"]
	zone := seeded.Zones["example.com"]
	return &scenario{
		host: "cdn.example.com", zone: zone,
		plan:  fmt.Sprintf(cloudFrontPlan, zone, oldD.ID, newD.ID),
		story: fmt.Sprintf("cdn.example.com is an alias of distribution %s (%s → origin %q); moving it to %s (%s → origin %q) with AssociateAlias", oldD.ID, oldD.DomainName, "old", newD.ID, newD.DomainName, "new"),
		observed: runbook.Observed{
			From:   runbook.Target{Kind: runbook.TargetCloudFront, ID: oldD.ID, DNSName: oldD.DomainName, AliasZoneID: route53.AliasZoneForCloudFront},
			To:     runbook.Target{Kind: runbook.TargetCloudFront, ID: newD.ID, DNSName: newD.DomainName, AliasZoneID: route53.AliasZoneForCloudFront},
			Holder: runbook.Holder{Distribution: oldD.ID},
		},
		newAddr: func() netip.Addr { return w.Sim.Addrs()[0] },
		ready:   edgesHave(w, oldD.ID, newD.ID),
	}, nil
}

func seed(w *world.World, yaml string) (*lab.Seeded, error) {
	s, err := lab.ParseSeed("demo", []byte(yaml))
	if err != nil {
		return nil, err
	}
	return w.Lab.Apply(s)
}

// edgesHave reports whether every edge has applied the distributions.
func edgesHave(w *world.World, ids ...string) func() bool {
	return func() bool {
		for edge := 1; edge <= len(w.Sim.Addrs()); edge++ {
			applied := w.Sim.Applied(edge)
			for _, d := range ids {
				if applied[d] == 0 {
					return false
				}
			}
		}
		return true
	}
}

const bridgePlan = `apiVersion: cutover/v1
kind: Cutover
name: demo-bridge
hostname: cdn.example.com
zone: {id: %s}
from: {cloudfront: %s}
to: {cloudfront: %s}
strategy: bridge
ttl: {cutover: 1}
bridge:
  endpoint: bridge.example.net
  rewrite_host: cdn-new.example.com
  steps:
    - {weight: 50, pause: 2s}
    - {weight: 100}
steps:
  - {weight: 50, pause: 2s}
  - {weight: 100}
verify: {path: /ruok, expect: {old: ok-old, new: ok-new}, samples: 3}
hold: 2s
`

// bridgeAddr is where the demo's bridge listens, on the edges' port.
var bridgeAddr = netip.MustParseAddr("127.0.4.1")

// setupBridge is seed 001: the old distribution holds cdn.example.com and
// the new one only cdn-new.example.com; a host-rewriting bridge
// (`cutover bridge`, run in-process) takes the traffic while the alias
// moves.
func setupBridge(w *world.World, oldOrigin, newOrigin *origin.Origin) (*scenario, error) {
	seeded, err := seed(w, fmt.Sprintf(`
certificates:
  - {name: cdn, domains: [cdn.example.com, cdn-new.example.com]}
distributions:
  - {name: old, aliases: [cdn.example.com], certificate: cdn, origin: {domain: %s, http_port: %d}}
  - {name: new, aliases: [cdn-new.example.com], certificate: cdn, origin: {domain: %s, http_port: %d}}
zones:
  - name: example.com
  - name: example.net
records:
  - {zone: example.com, name: cdn.example.com, type: A, alias: {distribution: old}}
  - {zone: example.net, name: bridge.example.net, type: A, ttl: 60, values: [%s]}
`, addrHost(oldOrigin.Addr()), oldOrigin.Port(), addrHost(newOrigin.Addr()), newOrigin.Port(), bridgeAddr))
	if err != nil {
		return nil, err
	}
	oldD, newD := seeded.Distributions["old"], seeded.Distributions["new"]
	port := w.Sim.HTTPPort()
	cfg, err := bridge.Parse([]byte(fmt.Sprintf(`
listeners: {http: "%s"}
routes:
  - host: cdn.example.com
    upstreams: ["http://%s"]
    rewrite_host: cdn-new.example.com
`, net.JoinHostPort(bridgeAddr.String(), strconv.Itoa(port)), net.JoinHostPort(w.Sim.Addrs()[0].String(), strconv.Itoa(port)))))
	if err != nil {
		return nil, fmt.Errorf("bridge config: %w", err)
	}
	srv, err := bridge.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("starting the bridge on %s: %w", bridgeAddr, err)
	}
	zone := seeded.Zones["example.com"]
	return &scenario{
		host: "cdn.example.com", zone: zone,
		plan:  fmt.Sprintf(bridgePlan, zone, oldD.ID, newD.ID),
		story: fmt.Sprintf("cdn.example.com is an alias of %s (→ origin %q); %s (→ origin %q) holds only cdn-new.example.com, so a bridge at %s rewrites Host to it while the alias moves", oldD.ID, "old", newD.ID, "new", bridgeAddr),
		observed: runbook.Observed{
			From:      runbook.Target{Kind: runbook.TargetCloudFront, ID: oldD.ID, DNSName: oldD.DomainName, AliasZoneID: route53.AliasZoneForCloudFront},
			To:        runbook.Target{Kind: runbook.TargetCloudFront, ID: newD.ID, DNSName: newD.DomainName, AliasZoneID: route53.AliasZoneForCloudFront},
			Holder:    runbook.Holder{Distribution: oldD.ID},
			ToAliases: newD.Aliases,
		},
		newAddr: func() netip.Addr { return w.Sim.Addrs()[0] },
		ready:   edgesHave(w, oldD.ID, newD.ID),
		// Stragglers keep old answers TTL (1s) plus 2s: drain longer
		// than that before the old distribution loses the alias.
		settle: 4 * time.Second,
		close:  func() { _ = srv.Shutdown() },
	}, nil
}
