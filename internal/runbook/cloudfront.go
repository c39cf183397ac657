package runbook

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// AliasMoveSpec tunes the alias-move strategy.
type AliasMoveSpec struct {
	// Mode is "associate" (cutover moves the alias with AssociateAlias) or
	// "wait-for-swap" (someone else moves it; cutover follows within one poll).
	Mode    string
	Timeout time.Duration
	Poll    time.Duration
}

// BridgeSpec configures the bridge strategy (seed 001).
type BridgeSpec struct {
	// Endpoint is the DNS name of the host-rewriting bridge.
	Endpoint string
	// RewriteHost is the name the bridge sends to the new distribution; the
	// new distribution must carry it as an alias.
	RewriteHost string
	// Steps are phase 1's weights (old → bridge).
	Steps []WeightStep
}

// Holder is the distribution CloudFront says holds the hostname as an
// alternate domain name. Ids of other accounts come masked (******5LVBHXZ).
type Holder struct {
	Distribution string `json:"distribution"`
	Account      string `json:"account,omitempty"`
}

// DefaultSettle is how long to wait after both distributions report
// Deployed following an alias move: "either distribution may serve the name
// at random for a few minutes" (reference B1).
const DefaultSettle = 3 * time.Minute

func (b *builder) settle() time.Duration {
	if b.spec.Settle > 0 {
		return b.spec.Settle
	}
	return DefaultSettle
}

func (b *builder) hostNoDot() string { return strings.TrimSuffix(b.host, ".") }

// requireCloudFront checks both edges are distributions.
func (b *builder) requireCloudFront(strategy string) error {
	if b.obs.From.Kind != TargetCloudFront || b.obs.To.Kind != TargetCloudFront {
		return fmt.Errorf("%s moves a hostname between two CloudFront distributions; from is %s and to is %s", strategy, b.obs.From.Kind, b.obs.To.Kind)
	}
	return nil
}

// pointAt returns the record sets that send the hostname to t, in the
// shape of the original records (alias A/AAAA or CNAME).
func (b *builder) pointAt(t Target) []dns.RecordSet {
	var want []dns.RecordSet
	for _, typ := range b.types {
		want = append(want, b.record(typ, t, "", nil))
	}
	return want
}

// proofRecord is the `_<alias>` TXT record AssociateAlias checks.
func (b *builder) proofRecord(domain string) dns.RecordSet {
	return dns.RecordSet{Name: "_" + b.host, Type: "TXT", TTL: 60, Values: []string{`"` + strings.TrimSuffix(domain, ".") + `"`}}
}

func withRecord(sets []dns.RecordSet, r dns.RecordSet) []dns.RecordSet {
	out := cloneSets(sets)
	for i := range out {
		if out[i].Key() == r.Key() {
			out[i] = r
			return out
		}
	}
	return append(out, r)
}

func withoutKey(sets []dns.RecordSet, key string) []dns.RecordSet {
	var out []dns.RecordSet
	for _, r := range sets {
		if r.Key() != key {
			out = append(out, r)
		}
	}
	return out
}

// compileAliasMove moves the alternate domain name from one distribution
// to the other and re-points DNS right after the move is visible (seeds
// 000 and 003). Both distributions share CloudFront's edges, which route
// by Host, so requests reaching either domain are served by whichever
// distribution holds the alias at that edge: no request fails.
func compileAliasMove(b *builder) error {
	if err := b.requireCloudFront("alias-move"); err != nil {
		return err
	}
	am := b.spec.AliasMove
	if am.Mode == "" {
		am.Mode = "associate"
	}
	if am.Timeout == 0 {
		am.Timeout = 2 * time.Hour
	}
	if am.Poll == 0 {
		am.Poll = time.Second
	}
	if h := b.obs.Holder; h.Distribution != "" && h.Distribution != b.obs.From.ID && h.Distribution != b.obs.To.ID {
		return fmt.Errorf("%s is attached to distribution %s%s, which is neither from (%s) nor to (%s): move it from there first", b.hostNoDot(), h.Distribution, accountNote(h), b.obs.From.ID, b.obs.To.ID)
	}
	if b.obs.Holder.Distribution == b.obs.To.ID {
		b.note("%s is already attached to %s: only DNS moves", b.hostNoDot(), b.obs.To.ID)
	}
	b.ttlPrep()
	switch am.Mode {
	case "associate":
		proof := b.proofRecord(b.obs.To.DNSName)
		b.change(fmt.Sprintf("publish the AssociateAlias proof %s TXT %s", proof.Name, proof.Values[0]), withRecord(b.live, proof), nil)
		b.add(Step{Title: fmt.Sprintf("move alias %s from %s to %s (AssociateAlias)", b.hostNoDot(), b.obs.From.ID, b.obs.To.ID),
			Associate: &Associate{Alias: b.hostNoDot(), Target: b.obs.To.ID, From: b.obs.From.ID, FromDomain: b.obs.From.DNSName}})
	case "wait-for-swap":
		b.add(Step{Title: fmt.Sprintf("wait for alias %s to arrive on %s (moved by AWS)", b.hostNoDot(), b.obs.To.ID),
			WatchAlias: &WatchAlias{Alias: b.hostNoDot(), Target: b.obs.To.ID, From: b.obs.From.ID, FromDomain: b.obs.From.DNSName, Timeout: Duration(am.Timeout), Poll: Duration(am.Poll)}})
	default:
		return fmt.Errorf("alias-move mode %q: want associate or wait-for-swap", am.Mode)
	}
	// Re-point DNS at once: the alias decides who serves, so the record can
	// follow within one poll of the move.
	want := b.pointAt(b.obs.To)
	for _, r := range b.live {
		if !managed(r) || dns.Fqdn(r.Name) != b.host {
			want = append(want, r)
		}
	}
	b.change(fmt.Sprintf("point %s at %s", b.hostNoDot(), b.obs.To.ID), want, &Weights{Old: 0, New: 100})
	b.add(Step{Title: "wait until both distributions are Deployed, then let edges settle",
		Deployed: &Deployed{Distributions: []string{b.obs.From.ID, b.obs.To.ID}, Timeout: Duration(time.Hour), Settle: Duration(b.settle())}})
	b.waitTTL()
	if am.Mode == "associate" {
		b.change("remove the AssociateAlias proof", withoutKey(b.live, b.proofRecord(b.obs.To.DNSName).Key()), nil)
	}
	b.finish()
	return nil
}

// compileBridge is seed 001 as a runbook: phase 1 shifts weights from the
// old distribution to a host-rewriting bridge that forwards to the new
// distribution under RewriteHost; the old distribution drains; the alias
// moves (remove from old, Deployed; add to new, Deployed); phase 2 shifts
// from the bridge to the new distribution directly; the bridge retires.
func compileBridge(b *builder) error {
	if err := b.requireCloudFront("bridge"); err != nil {
		return err
	}
	br := b.spec.Bridge
	if br == nil || br.Endpoint == "" || br.RewriteHost == "" {
		return errors.New("bridge needs bridge.endpoint (the bridge's DNS name) and bridge.rewrite_host (an alias the new distribution carries)")
	}
	bridge := Target{Kind: TargetEndpoint, ID: "bridge", DNSName: br.Endpoint}
	// The legs are CNAMEs: the bridge is a plain DNS name, and a weighted
	// group holds one record type.
	orig := b.alias
	b.alias = false
	b.types = []string{"CNAME"}
	if b.host == dns.Fqdn(b.spec.Zone) {
		return fmt.Errorf("%s is the zone apex: the bridge strategy needs CNAME legs, which the apex cannot have", b.host)
	}
	b.ttlPrep()
	if !contains(b.obs.ToAliases, br.RewriteHost) {
		b.add(Step{Title: fmt.Sprintf("add alias %s to %s for the bridge", br.RewriteHost, b.obs.To.ID),
			Aliases: &Aliases{Distribution: b.obs.To.ID, Add: []string{br.RewriteHost}}})
		b.add(Step{Title: "wait until the new distribution is Deployed", Deployed: &Deployed{Distributions: []string{b.obs.To.ID}, Timeout: Duration(time.Hour)}})
	}
	b.weightedPhase(b.obs.From, bridge, br.Steps, "phase 1")
	b.change(fmt.Sprintf("phase 1 done: %s CNAME the bridge only", b.hostNoDot()), b.pointAt(bridge), &Weights{Old: 0, New: 100})
	b.waitTTL()
	// The old distribution must be quiet before it loses the alias:
	// clients still holding its address would get CloudFront's 403 until
	// the alias lands on the new one.
	if !b.drain("wait for the old distribution to drain") {
		b.add(Step{Title: "let clients that still hold the old answer drain", Wait: &Wait{Duration: Duration(b.settle()), Reason: "drain: resolvers that overstay TTLs still send a tail to the old distribution (reference E)"}})
	}
	b.add(Step{Title: fmt.Sprintf("remove alias %s from %s", b.hostNoDot(), b.obs.From.ID), Aliases: &Aliases{Distribution: b.obs.From.ID, Remove: []string{b.hostNoDot()}}})
	b.add(Step{Title: "wait until the old distribution is Deployed", Deployed: &Deployed{Distributions: []string{b.obs.From.ID}, Timeout: Duration(time.Hour)}})
	b.add(Step{Title: fmt.Sprintf("add alias %s to %s", b.hostNoDot(), b.obs.To.ID), Aliases: &Aliases{Distribution: b.obs.To.ID, Add: []string{b.hostNoDot()}}})
	b.add(Step{Title: "wait until the new distribution is Deployed, then let edges settle", Deployed: &Deployed{Distributions: []string{b.obs.To.ID}, Timeout: Duration(time.Hour), Settle: Duration(b.settle())}})
	b.weightedPhase(bridge, b.obs.To, b.spec.Steps, "phase 2")
	b.alias = orig
	if orig {
		b.types = []string{"A"}
	}
	b.change(fmt.Sprintf("phase 2 done: %s points at %s directly; the bridge retires", b.hostNoDot(), b.obs.To.ID), b.pointAt(b.obs.To), &Weights{Old: 0, New: 100})
	b.waitTTL()
	b.finish()
	return nil
}

// weightedPhase shifts weights from one target to another, step by step.
func (b *builder) weightedPhase(from, to Target, steps []WeightStep, label string) {
	weights := &Weights{Old: 100, New: 0}
	for _, st := range steps {
		if st.Approve != nil {
			b.approve(st, label, weights)
			continue
		}
		w := st.Weight
		o, n := 100-w, w
		var want []dns.RecordSet
		for _, typ := range b.types {
			oo, nn := o, n
			want = append(want, b.record(typ, from, SetFrom, &oo), b.record(typ, to, SetTo, &nn))
		}
		weights = &Weights{Old: o, New: n}
		b.change(strings.TrimPrefix(fmt.Sprintf("%s: shift %d%% to %s", label, w, to.ID), ": "), want, weights)
		b.waitTTL()
		if st.Pause > 0 {
			gates := st.Gates
			if gates == nil {
				gates = b.gateNames()
			}
			b.add(Step{Title: strings.TrimPrefix(fmt.Sprintf("%s: observe at %d%%", label, w), ": "), Observe: &Observe{Duration: Duration(st.Pause), Gates: gates, Weights: weights}})
		}
	}
}

// approve adds a manual approval at the current split.
func (b *builder) approve(st WeightStep, label string, weights *Weights) {
	gates := st.Gates
	if gates == nil {
		gates = b.gateNames()
	}
	title := fmt.Sprintf("wait for approval at %d%% (cutover promote %s)", weights.New, b.spec.Name)
	if st.Approve.Timeout > 0 {
		title += fmt.Sprintf("; %s after %s", st.Approve.OnTimeout, st.Approve.Timeout)
	}
	if label != "" {
		title = label + ": " + title
	}
	w := *weights
	b.add(Step{Title: title, Approve: &Approve{Timeout: Duration(st.Approve.Timeout), OnTimeout: st.Approve.OnTimeout, Gates: gates, Weights: &w}})
}

func accountNote(h Holder) string {
	if h.Account == "" {
		return ""
	}
	return " (account " + h.Account + ")"
}

// checkCloudFrontTarget explains the catch-22 when a DNS-only strategy
// sends the hostname to a distribution that cannot answer for it.
func (b *builder) checkCloudFrontTarget() error {
	if b.obs.To.Kind != TargetCloudFront {
		return nil
	}
	h := b.obs.Holder
	if h.Distribution == "" || h.Distribution == b.obs.To.ID {
		return nil
	}
	return fmt.Errorf("%s would send %s to distribution %s, but the alias %s is attached to distribution %s%s. "+
		"CloudFront routes by Host, not by DNS: every request would still be answered by %s (seed 001's phantom traffic), "+
		"and %s cannot take the alias while %s holds it (CNAMEAlreadyExists). Use strategy alias-move "+
		"(same account: AssociateAlias moves it in one call) or bridge (another account: drain through a host-rewriting bridge)",
		b.spec.Strategy, b.hostNoDot(), b.obs.To.ID, b.hostNoDot(), h.Distribution, accountNote(h), h.Distribution, b.obs.To.ID, h.Distribution)
}

// chooseAuto picks a strategy from what the world shows and says why.
func chooseAuto(spec Spec, obs Observed) (string, string) {
	switch {
	case obs.From.Kind == TargetCloudFront && obs.To.Kind == TargetCloudFront:
		acct := obs.Holder.Account
		crossAccount := strings.HasPrefix(acct, "*") || (acct != "" && obs.ToAccount != "" && acct != obs.ToAccount)
		if !crossAccount {
			return "alias-move", "both edges are CloudFront distributions and the alias holder is in this account: AssociateAlias moves it in one call"
		}
		return "bridge", "the alias is held by a distribution in another account, whose AssociateAlias would require disabling it first (dropping every request still reaching it): drain through a bridge instead"
	case obs.To.Kind == TargetCloudFront || obs.From.Kind == TargetCloudFront:
		return "weighted", "one edge is CloudFront and the other is not: DNS weights split traffic between them"
	}
	return "weighted", "neither edge is CloudFront: DNS weights split traffic between them"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSuffix(x, "."), strings.TrimSuffix(s, ".")) {
			return true
		}
	}
	return false
}

// recordStates replays the runbook's changes from the original records:
// states[i] is what the zone holds before step i.
func recordStates(rb *Runbook) [][]dns.RecordSet {
	states := make([][]dns.RecordSet, len(rb.Steps)+1)
	cur := cloneSets(rb.Original)
	for i, s := range rb.Steps {
		states[i] = cloneSets(cur)
		if s.Change != nil {
			byKey := map[string]dns.RecordSet{}
			var order []string
			for _, r := range cur {
				byKey[r.Key()] = r
				order = append(order, r.Key())
			}
			for _, c := range s.Change.Set.Changes {
				if c.Old != nil {
					delete(byKey, c.Old.Key())
				}
				if c.New != nil {
					if _, ok := byKey[c.New.Key()]; !ok {
						order = append(order, c.New.Key())
					}
					byKey[c.New.Key()] = *c.New
				}
			}
			cur = nil
			seen := map[string]bool{}
			for _, k := range order {
				if r, ok := byKey[k]; ok && !seen[k] {
					seen[k] = true
					cur = append(cur, r)
				}
			}
		}
	}
	states[len(rb.Steps)] = cloneSets(cur)
	return states
}

// Unwind computes the rollback runbook of a run that completed the steps
// before done, with live the records the zone holds now. It walks back
// through the alias moves the run made, restoring at each one the records
// the zone held when it was made (so traffic always reaches a distribution
// that answers for the hostname), then restores the original records —
// with the TTL kept low, unless exact. For a runbook without alias steps
// it is one compare-and-swap change and its propagation wait.
func Unwind(rb *Runbook, done int, live []dns.RecordSet, exact bool) []Step {
	b := &builder{spec: Spec{Name: rb.Name, Zone: rb.Zone, CutoverTTL: rb.CutoverTTL}, host: rb.Hostname, live: cloneSets(live)}
	states := recordStates(rb)
	if done > len(rb.Steps) {
		done = len(rb.Steps)
	}
	// A staging run never changes DNS, so its rollback restores the
	// records exactly: lowering their TTL would be a change of its own.
	// Nor does a maintenance run's (or its off run's) rollback: it puts
	// back exactly what was there.
	exact = exact || rb.Strategy == "staging" || rb.Strategy == "maintenance" || rb.Strategy == StrategyMaintenanceOff
	stagingUnwound := false
	for i := done - 1; i >= 0; i-- {
		s := rb.Steps[i]
		switch {
		case s.Staging != nil:
			// Only the latest staging operation counts: one abort undoes
			// every earlier one, and after a promotion there is nothing
			// left to undo at CloudFront (see unwindStaging).
			if !stagingUnwound {
				stagingUnwound = true
				for _, st := range unwindStaging(s.Staging) {
					b.add(st)
				}
			}
		case s.HealthCheck != nil:
			hc := s.HealthCheck
			b.add(Step{Title: fmt.Sprintf("put health check %s back (inverted %v)", hc.ID, !hc.Inverted), HealthCheck: &HealthCheck{ID: hc.ID, Inverted: !hc.Inverted}})
		case s.Aliases != nil:
			a := s.Aliases
			b.change("roll back the records to before the alias change", states[i], nil)
			b.add(Step{Title: fmt.Sprintf("undo the alias change on %s", a.Distribution), Aliases: &Aliases{Distribution: a.Distribution, Add: a.Remove, Remove: a.Add}})
			b.add(Step{Title: "wait until the distribution is Deployed", Deployed: &Deployed{Distributions: []string{a.Distribution}, Timeout: Duration(time.Hour)}})
		case s.Associate != nil || s.WatchAlias != nil:
			alias, target, from, fromDomain := aliasMove(s)
			proof := dns.RecordSet{Name: "_" + dns.Fqdn(alias), Type: "TXT", TTL: 60, Values: []string{`"` + strings.TrimSuffix(fromDomain, ".") + `"`}}
			b.change(fmt.Sprintf("roll back the records and publish the proof to move %s back", alias), withRecord(states[i], proof), nil)
			b.add(Step{Title: fmt.Sprintf("move alias %s back to %s (AssociateAlias)", alias, from), Associate: &Associate{Alias: alias, Target: from, From: target}})
			b.add(Step{Title: "wait until both distributions are Deployed", Deployed: &Deployed{Distributions: []string{from, target}, Timeout: Duration(time.Hour)}})
		}
	}
	var want []dns.RecordSet
	for _, r := range rb.Original {
		if !exact && r.Alias == nil && r.TTL > rb.CutoverTTL {
			r.TTL = rb.CutoverTTL
		}
		want = append(want, r)
	}
	b.change("roll back to the original records", want, &Weights{Old: 100, New: 0})
	return b.steps
}

func aliasMove(s Step) (alias, target, from, fromDomain string) {
	if a := s.Associate; a != nil {
		return a.Alias, a.Target, a.From, a.FromDomain
	}
	w := s.WatchAlias
	return w.Alias, w.Target, w.From, w.FromDomain
}
