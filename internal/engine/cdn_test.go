package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/edge/cdn"
	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

// fakeCDN holds aliases per distribution, with CloudFront's rule that an
// alias lives on one distribution only, and AssociateAlias's TXT check.
type fakeCDN struct {
	mu      sync.Mutex
	aliases map[string][]string
	domains map[string]string
	dns     *memdns.Provider
	calls   []string
}

func (f *fakeCDN) Distribution(_ context.Context, id string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return cdn.Distribution{ID: id, DomainName: f.domains[id], Aliases: slices.Clone(f.aliases[id]), Status: cdn.StatusDeployed}, nil
}

func (f *fakeCDN) UpdateAliases(_ context.Context, id string, add, remove []string) (cdn.Distribution, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "update "+id)
	for _, a := range add {
		for other, as := range f.aliases {
			if other != id && slices.Contains(as, a) {
				return cdn.Distribution{}, errors.New("CNAMEAlreadyExists")
			}
		}
		if !slices.Contains(f.aliases[id], a) {
			f.aliases[id] = append(f.aliases[id], a)
		}
	}
	for _, r := range remove {
		f.aliases[id] = slices.DeleteFunc(f.aliases[id], func(s string) bool { return s == r })
	}
	return cdn.Distribution{ID: id, Aliases: slices.Clone(f.aliases[id]), Status: cdn.StatusDeployed}, nil
}

func (f *fakeCDN) AssociateAlias(ctx context.Context, target, alias string) error {
	recs, _ := f.dns.Records(ctx, zone, "_"+alias)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "associate "+target)
	ok := false
	for _, r := range recs {
		if r.Type == "TXT" && len(r.Values) == 1 && strings.Trim(r.Values[0], `"`) == f.domains[target] {
			ok = true
		}
	}
	if !ok {
		return errors.New("IllegalUpdate: Invalid or missing alias DNS TXT records")
	}
	for id := range f.aliases {
		f.aliases[id] = slices.DeleteFunc(f.aliases[id], func(s string) bool { return s == alias })
	}
	f.aliases[target] = append(f.aliases[target], alias)
	return nil
}

func (f *fakeCDN) holder(alias string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, as := range f.aliases {
		if slices.Contains(as, alias) {
			return id
		}
	}
	return ""
}

type cdnWorld struct {
	*world
	cdn *fakeCDN
}

func newCDNWorld(t *testing.T, mode string) *cdnWorld {
	t.Helper()
	w := &world{clock: fakeclock.New(t0), dns: memdns.New(), gates: map[string]gate.Gate{}}
	w.store = memstore.New(memstore.Options{Clock: w.clock, OwnerGone: func(string) bool { return true }})
	f := &fakeCDN{aliases: map[string][]string{"EOLD": {"cdn.example.com"}, "ENEW": nil}, domains: map[string]string{"EOLD": "dold.cloudfront.net", "ENEW": "dnew.cloudfront.net"}, dns: w.dns}
	orig := dns.RecordSet{Name: "cdn.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "dold.cloudfront.net."}}
	w.dns.Put(zone, orig)
	recs, _ := w.dns.Records(context.Background(), zone, "cdn.example.com")
	rb, err := runbook.Compile(runbook.Spec{Name: "cdn", Hostname: "cdn.example.com", Zone: zone, Strategy: "alias-move", CutoverTTL: 30, Hold: time.Hour,
		AliasMove: runbook.AliasMoveSpec{Mode: mode, Timeout: 30 * time.Minute},
		Gates:     []runbook.Gate{{Name: "errors", Interval: runbook.Duration(30 * time.Second), OnFailure: "rollback", Kind: "probe"}}},
		runbook.Observed{Records: recs,
			From:   runbook.Target{Kind: runbook.TargetCloudFront, ID: "EOLD", DNSName: "dold.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"},
			To:     runbook.Target{Kind: runbook.TargetCloudFront, ID: "ENEW", DNSName: "dnew.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"},
			Holder: runbook.Holder{Distribution: "EOLD"}})
	if err != nil {
		t.Fatal(err)
	}
	w.rb = rb
	if _, err := Create(context.Background(), w.store, rb, "plan.yaml", "d", t0); err != nil {
		t.Fatal(err)
	}
	knownEventsOnly(t, w.store, rb.Name)
	return &cdnWorld{world: w, cdn: f}
}

func (w *cdnWorld) run(t *testing.T) store.Run {
	t.Helper()
	run, err := w.engine(func(o *Options) { o.CDN = w.cdn }).Run(context.Background(), w.rb.Name)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (w *cdnWorld) target() string {
	recs, _ := w.dns.Records(context.Background(), zone, "cdn.example.com")
	for _, r := range recs {
		if r.Type == "A" && r.Alias != nil {
			return r.Alias.DNSName
		}
	}
	return ""
}

func TestAliasMoveAssociatesThenRepointsDNS(t *testing.T) {
	w := newCDNWorld(t, "associate")
	w.gates["errors"] = gate.Func(passing)
	run := w.run(t)
	if run.State != store.StateDone {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	if h := w.cdn.holder("cdn.example.com"); h != "ENEW" {
		t.Fatalf("alias on %s", h)
	}
	if got := w.target(); got != "dnew.cloudfront.net." {
		t.Fatalf("record points at %s", got)
	}
	if recs, _ := w.dns.Records(context.Background(), zone, "_cdn.example.com"); len(recs) != 0 {
		t.Fatalf("proof record left behind: %v", recs)
	}
}

func TestAliasMoveRollbackDuringHoldMovesAliasBack(t *testing.T) {
	w := newCDNWorld(t, "associate")
	w.gates["errors"] = gate.Func(func(context.Context, time.Time) gate.Measurement {
		if w.cdn.holder("cdn.example.com") == "ENEW" && w.target() == "dnew.cloudfront.net." {
			return gate.Measurement{Phase: gate.Failed, Value: 9, Detail: "5xx"}
		}
		return gate.Measurement{Phase: gate.Successful}
	})
	run := w.run(t)
	if run.State != store.StateRolledBack {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	if h := w.cdn.holder("cdn.example.com"); h != "EOLD" {
		t.Fatalf("alias on %s after rollback, want EOLD", h)
	}
	if got := w.target(); got != "dold.cloudfront.net." {
		t.Fatalf("record points at %s after rollback", got)
	}
	if recs, _ := w.dns.Records(context.Background(), zone, "_cdn.example.com"); len(recs) != 0 {
		t.Fatalf("proof record left behind: %v", recs)
	}
}

func TestWaitForSwapFollowsAMoveMadeElsewhere(t *testing.T) {
	w := newCDNWorld(t, "wait-for-swap")
	w.gates["errors"] = gate.Func(passing)
	// "AWS support" moves the alias 10 minutes in.
	w.clock.OnSleep = func(now time.Time) {
		if now.Sub(t0) > 10*time.Minute && w.cdn.holder("cdn.example.com") == "EOLD" {
			w.cdn.mu.Lock()
			w.cdn.aliases["EOLD"], w.cdn.aliases["ENEW"] = nil, []string{"cdn.example.com"}
			w.cdn.mu.Unlock()
		}
	}
	run := w.run(t)
	if run.State != store.StateDone || w.target() != "dnew.cloudfront.net." {
		t.Fatalf("state %s (%s), record %s", run.State, run.Reason, w.target())
	}
}

func TestWaitForSwapTimeoutChangesNothing(t *testing.T) {
	w := newCDNWorld(t, "wait-for-swap")
	w.gates["errors"] = gate.Func(passing)
	before := w.dns.All(zone)
	run := w.run(t)
	if run.State != store.StateRolledBack || !strings.Contains(run.Reason, "did not arrive") {
		t.Fatalf("state %s (%s)", run.State, run.Reason)
	}
	after := w.dns.All(zone)
	if len(before) != len(after) || !before[0].Equal(after[0]) {
		t.Fatalf("zone changed: %v → %v", before, after)
	}
	if len(w.cdn.calls) != 0 {
		t.Fatalf("CloudFront was changed: %v", w.cdn.calls)
	}
}
