package report_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/report"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/memstore"
)

type passVerifier struct{}

func (passVerifier) Verify(context.Context, *runbook.Runbook, runbook.Verify) engine.VerifyResult {
	return engine.VerifyResult{OK: true, Detail: "new served"}
}

// A bulk run's report lists each request Route 53 accepted, with the
// hostnames it carried: exactly the change sets the zones took.
func TestReportOfABulkRunListsEveryAcceptedRequest(t *testing.T) {
	ctx := context.Background()
	clk := fakeclock.New(t0)
	zones := memdns.New()
	st := memstore.New(memstore.Options{Clock: clk, OwnerGone: func(string) bool { return true }})
	var hosts []runbook.ObservedHost
	for z, n := range map[string]int{"ZA": 500, "ZB": 20} {
		for i := 0; i < n; i++ {
			r := dns.RecordSet{Name: fmt.Sprintf("h%d.%s.example.com.", i, strings.ToLower(z)), Type: "CNAME", TTL: 30, Values: []string{"old.example.net."}}
			zones.Put(z, r)
			hosts = append(hosts, runbook.ObservedHost{Name: r.Name, Zone: z, Records: []dns.RecordSet{r}})
		}
	}
	// One ZB request is refused: it changed nothing and is not a change.
	refused := false
	zones.BeforeApply = func(cs dns.ChangeSet) error {
		if cs.Zone == "ZB" && strings.Contains(cs.Comment, "shift 50%") && !refused {
			refused = true
			return errors.New("InvalidChangeBatch: injected")
		}
		return nil
	}
	spec := runbook.Spec{
		Name: "many", Strategy: "weighted", CutoverTTL: 30, Hold: time.Hour,
		Hosts: []runbook.HostSelector{{Zone: "ZA", Match: "*.za.example.com"}, {Zone: "ZB", Match: "*.zb.example.com"}},
		Steps: []runbook.WeightStep{{Weight: 10}, {Weight: 50}, {Weight: 100}},
	}
	obs := runbook.Observed{
		Hosts: hosts,
		From:  runbook.Target{Kind: runbook.TargetEndpoint, ID: "old", DNSName: "old.example.net"},
		To:    runbook.Target{Kind: runbook.TargetEndpoint, ID: "new", DNSName: "new.example.net"},
	}
	rb, err := runbook.Compile(spec, obs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.Create(ctx, st, rb, "many.yaml", "digest", t0); err != nil {
		t.Fatal(err)
	}
	e := engine.New(engine.Options{Store: st, Provider: zones, Clock: clk, Owner: "test:1", Verifier: passVerifier{}, Poll: time.Second, LeaseTTL: time.Minute})
	if _, err := e.Run(ctx, "many"); err != nil {
		t.Fatal(err)
	}
	if !refused {
		t.Fatal("the refusal was never injected")
	}
	r, err := report.Load(ctx, st, "many", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Run.Hostname != "520 hostnames in 2 zones" || r.Run.Zone != "ZA 500, ZB 20" {
		t.Errorf("summary names %q in %q", r.Run.Hostname, r.Run.Zone)
	}
	// memdns numbers its changes C000001, C000002, … in the order of Applied.
	applied := map[string]dns.ChangeSet{}
	for i, cs := range zones.Applied {
		applied[fmt.Sprintf("C%06d", i+1)] = cs
	}
	var listed int
	for _, c := range r.Changes {
		if c.Reconciled {
			continue
		}
		listed++
		cs, ok := applied[c.ChangeID]
		if !ok || cs.Zone != c.Resource {
			t.Fatalf("report lists change %s in %s; the zones took %v", c.ChangeID, c.Resource, ok)
		}
		names := map[string]bool{}
		for _, ch := range cs.Changes {
			for _, rs := range []*dns.RecordSet{ch.Old, ch.New} {
				if rs != nil {
					names[rs.Name] = true
				}
			}
		}
		if len(c.Hosts) != len(names) || !strings.Contains(c.Before[0], fmt.Sprintf("%d hostnames: ", len(names))) {
			t.Fatalf("change %s lists %d hostnames (%q), its request carried %d", c.ChangeID, len(c.Hosts), c.Before, len(names))
		}
		for _, h := range c.Hosts {
			if !names[h] {
				t.Fatalf("change %s lists %s, which its request did not carry", c.ChangeID, h)
			}
		}
	}
	if listed != len(zones.Applied) {
		t.Fatalf("report lists %d changes, the zones took %d", listed, len(zones.Applied))
	}
	var md bytes.Buffer
	if err := report.Markdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "hostnames: h0.za.example.com") {
		t.Errorf("markdown report does not name a request's hostnames:\n%s", md.String())
	}
	for _, en := range r.Timeline {
		if en.Type == store.EventBulkApplied && !strings.Contains(en.Message, strings.SplitN(en.StepTitle, " (", 2)[0]) {
			t.Errorf("timeline puts %q under step %q", en.Message, en.StepTitle)
		}
	}
}
