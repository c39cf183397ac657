package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/load"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
	"github.com/cutover/cutover/internal/verify"
)

const stagingPlan = `apiVersion: cutover/v1
kind: Cutover
name: demo-staging
hostname: cdn.example.com
zone: {id: %s}
from: {cloudfront: %s}
strategy: staging
staging: {weight: 0.15, pause: 5s}
verify: {path: /ruok, expect: {old: ok-old, new: ok-new}, samples: 3}
hold: 1s
`

// results keeps every client request's result.
type results struct {
	mu  sync.Mutex
	all []load.Result
}

func (r *results) add(x load.Result) {
	r.mu.Lock()
	r.all = append(r.all, x)
	r.mu.Unlock()
}

func (r *results) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// between counts, by origin (or failure class), the requests started in
// [from, to).
func (r *results) between(from, to time.Time) (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out, n := map[string]int{}, 0
	for _, x := range r.all {
		if x.At.Before(from) || !x.At.Before(to) {
			continue
		}
		n++
		if x.Class == load.ClassOK {
			out[x.Origin]++
		} else {
			out[string(x.Class)]++
		}
	}
	return out, n
}

// TestStagingOnTheLab runs the staging strategy end to end over the wire:
// the primary distribution serves origin "old"; the run copies it to a
// staging distribution and pauses; the copy is pointed at origin "new"; a
// policy at weight 0.15 then sends about 15% of client requests to it;
// promotion puts the new origin behind the primary for every request. No
// request fails, and DNS never changes.
func TestStagingOnTheLab(t *testing.T) {
	ctx := context.Background()
	w, err := world.Start(ctx, world.Options{
		// Deploys take longer than any edge's propagation, so Deployed
		// means every edge applies the configuration.
		Lab:            lab.Options{Propagation: 200 * time.Millisecond, DeployDelay: 800 * time.Millisecond, RateLimit: labr53.RateLimitOff, Seed: 5},
		APIAddr:        "127.0.0.1:0",
		DNSAddr:        "127.0.0.1:0",
		Edges:          3,
		EphemeralPorts: true,
		PropagationMin: 50 * time.Millisecond,
		PropagationMax: 400 * time.Millisecond,
		MetricsPeriod:  time.Second,
		HealthInterval: time.Hour,
		TargetTTL:      1,
		Origins:        []world.OriginSpec{{Name: "old", Addr: "127.0.3.11:0"}, {Name: "new", Addr: "127.0.3.12:0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	oldOrigin, _ := w.Origins.Get("old")
	newOrigin, _ := w.Origins.Get("new")
	seeded, err := seed(w, fmt.Sprintf(`
certificates:
  - {name: cdn, domains: [cdn.example.com]}
distributions:
  - {name: web, aliases: [cdn.example.com], certificate: cdn, origin: {domain: %s, http_port: %d}}
zones:
  - name: example.com
records:
  - {zone: example.com, name: cdn.example.com, type: A, alias: {distribution: web}}
`, addrHost(oldOrigin.Addr()), oldOrigin.Port()))
	if err != nil {
		t.Fatal(err)
	}
	dist, zone := seeded.Distributions["web"], seeded.Zones["example.com"]
	primary := runbook.Target{Kind: runbook.TargetCloudFront, ID: dist.ID, DNSName: dist.DomainName, AliasZoneID: route53.AliasZoneForCloudFront}
	sc := &scenario{host: "cdn.example.com", zone: zone, ready: func() bool {
		for edge := 1; edge <= len(w.Sim.Addrs()); edge++ {
			if w.Sim.Applied(edge)[dist.ID] == 0 {
				return false
			}
		}
		return true
	}}
	if err := waitServed(ctx, w, sc); err != nil {
		t.Fatal(err)
	}

	p, err := plan.Parse("staging.yaml", []byte(fmt.Sprintf(stagingPlan, zone, dist.ID)))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := runbook.SpecFromPlan(p, build.Spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.AliasTTL = 1
	prov := route53.New(w.AWSConfig(), route53.Options{})
	recs, err := prov.Records(ctx, zone, sc.host)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := runbook.Compile(spec, runbook.Observed{Records: recs, From: primary, To: primary})
	if err != nil {
		t.Fatal(err)
	}
	observeStep := -1
	for i, s := range rb.Steps {
		if s.Observe != nil {
			observeStep = i
		}
	}
	if observeStep < 0 {
		t.Fatal("runbook has no observe step")
	}
	observeID := rb.Steps[observeStep].ID + ":"

	res := &results{}
	live, err := load.Start(ctx, load.Config{Host: sc.host, Path: "/ruok", Port: w.Sim.HTTPPort(), DNSServer: w.DNS,
		Clients: 10, Rate: 250, Duration: 2 * time.Minute, Timeout: 2 * time.Second, OnResult: res.add})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	start := time.Now()
	// Let the clients establish the starting state: the old origin only.
	for deadline := start.Add(10 * time.Second); res.count() < 150; {
		if time.Now().After(deadline) {
			t.Fatalf("clients made %d requests in 10s", res.count())
		}
		time.Sleep(20 * time.Millisecond)
	}

	st := memstore.New(memstore.Options{})
	if _, err := engine.Create(ctx, st, rb, "staging.yaml", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var observeFrom, observeTo, doneAt time.Time
	client := cloudfront.New(w.AWSConfig(), cloudfront.Options{DeployPoll: 100 * time.Millisecond})
	e := engine.New(engine.Options{
		Store: st, Provider: prov, Clock: clock.Real{}, CDN: client, Poll: 100 * time.Millisecond, Owner: "test",
		Verifier: verify.New(verify.Options{Scheme: "http", Resolvers: []string{w.DNS}, NewMarker: "ok-new", OldMarker: "ok-old", Port: w.Sim.HTTPPort(), Path: "/ruok", Samples: 3, Timeout: 2 * time.Second}),
		OnEvent: func(ev store.Event) {
			t.Logf("%s %s", ev.Type, ev.Message)
			mu.Lock()
			defer mu.Unlock()
			switch {
			// wait.done is committed with the next step's index, so
			// both ends are matched by the step's id.
			case ev.Type == store.EventWaitStarted && strings.Contains(ev.Message, observeID):
				observeFrom = time.Now()
			case ev.Type == store.EventWaitDone && strings.Contains(ev.Message, observeID):
				observeTo = time.Now()
			case ev.Type == store.EventRunDone:
				doneAt = time.Now()
			}
		},
	})
	run, err := e.Run(ctx, rb.Name)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StatePaused || !strings.Contains(run.Reason, "apply the new configuration") {
		t.Fatalf("after the copy: state %s (%s)", run.State, run.Reason)
	}
	var stagingID string
	if err := json.Unmarshal(run.Data["staging_id"], &stagingID); err != nil || stagingID == "" {
		t.Fatalf("staging id in run data: %q %v", stagingID, err)
	}
	// The new configuration: the staging copy's origin is the new origin.
	raw := cf.NewFromConfig(w.AWSConfig())
	got, err := raw.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(stagingID)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := got.DistributionConfig
	cfg.Origins.Items[0].DomainName = aws.String(addrHost(newOrigin.Addr()))
	cfg.Origins.Items[0].CustomOriginConfig.HTTPPort = aws.Int32(int32(newOrigin.Port()))
	if _, err := raw.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(stagingID), IfMatch: got.ETag, DistributionConfig: cfg}); err != nil {
		t.Fatal(err)
	}
	configured := time.Now()
	if _, err := st.Request(ctx, rb.Name, store.RequestResume); err != nil {
		t.Fatal(err)
	}
	run, err = e.Run(ctx, rb.Name)
	if err != nil {
		t.Fatal(err)
	}
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	// Clients keep going a moment after the run says done.
	time.Sleep(time.Second)
	end := time.Now()
	rep := live.Stop()

	mu.Lock()
	from, to, done := observeFrom, observeTo, doneAt
	mu.Unlock()
	if before, n := res.between(start, configured); n < 100 || before["old"] != n {
		t.Fatalf("before the policy: want every one of ≥100 requests on old, got %v of %d", before, n)
	}
	split, n := res.between(from, to)
	if n < 500 {
		t.Fatalf("only %d requests during the observation", n)
	}
	share := float64(split["new"]) / float64(n)
	// 15% of ≥500 requests: a binomial standard deviation under 1.6
	// points, so 8–23% holds unless the split is wrong.
	if share < 0.08 || share > 0.23 || split["old"]+split["new"] != n {
		t.Fatalf("during the observation at weight 0.15: %v of %d (staging share %.3f)", split, n, share)
	}
	after, m := res.between(done, end)
	if m < 50 || after["new"] != m {
		t.Fatalf("after promotion: want every one of ≥50 requests on new, got %v of %d", after, m)
	}
	if failed := rep.Summary.Total - rep.Summary.ByClass[load.ClassOK]; failed != 0 {
		t.Fatalf("%d requests failed: %v", failed, rep.Summary.Errors)
	}
	// DNS never moved: the record still aliases the same distribution.
	now, err := prov.Records(ctx, zone, sc.host)
	if err != nil || len(now) != len(recs) || !now[0].Equal(recs[0]) {
		t.Fatalf("records before %v, after %v (%v)", recs, now, err)
	}
	v, _ := w.Lab.CloudFront.Get(dist.ID)
	if v.Policy == nil || v.Policy.Enabled || len(v.Origins) == 0 || v.Origins[0].DomainName != addrHost(newOrigin.Addr()) || v.Origins[0].HTTPPort != newOrigin.Port() {
		t.Fatalf("primary after promotion: policy %+v, origins %+v", v.Policy, v.Origins)
	}
	t.Logf("staging share %.3f of %d requests observed; %d requests in all", share, n, rep.Summary.Total)
}
