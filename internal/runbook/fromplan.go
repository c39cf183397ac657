package runbook

import (
	"github.com/cutover/cutover/internal/plan"
)

// GateCompiler turns a plan gate into a runbook gate (package gate/build
// provides it: the runbook stays independent of gate implementations).
type GateCompiler func(plan.Gate) (Gate, error)

// SpecFromPlan extracts what the compiler needs from a loaded (defaulted and
// validated) plan. A bulk plan's selectors become Spec.Hosts, each with its
// zone, a file's hostnames listed as Names.
func SpecFromPlan(p *plan.Plan, compileGate GateCompiler) (Spec, error) {
	s := Spec{
		Name:       p.Name,
		Hostname:   p.Hostname,
		Zone:       p.Zone.Ref(),
		PlainDNS:   p.Zone.Provider == plan.ProviderRFC2136,
		Strategy:   string(p.Strategy),
		CutoverTTL: p.TTL.Cutover,
		RestoreTTL: p.TTL.Restore,
		Prepare:    p.TTL.Prepare.Std(),
		Hold:       p.Hold.Std(),
	}
	// A bulk plan's hostnames, its files already read into names.
	for _, sel := range p.Selections() {
		s.Hosts = append(s.Hosts, HostSelector{Zone: sel.Zone, Match: sel.Match, Names: sel.Names})
	}
	if len(s.Hosts) > 0 {
		s.Hostname = ""
	}
	s.Steps = weightSteps(p.Steps)
	for _, g := range p.Gates {
		rg, err := compileGate(g)
		if err != nil {
			return Spec{}, err
		}
		s.Gates = append(s.Gates, rg)
	}
	if am := p.AliasMove; am != nil {
		s.AliasMove = AliasMoveSpec{Mode: am.Mode, Timeout: am.Timeout.Std(), Poll: am.Poll.Std()}
		s.Settle = am.Settle.Std()
	}
	if br := p.Bridge; br != nil {
		s.Bridge = &BridgeSpec{Endpoint: br.Endpoint, RewriteHost: br.RewriteHost}
		s.Bridge.Steps = weightSteps(br.Steps)
	}
	if st := p.Staging; st != nil {
		s.Staging = &StagingSpec{HeaderPause: st.Pause.Std()}
		if h := st.Header; h != nil {
			s.Staging.Header, s.Staging.HeaderValue = h.Name, h.Value
		}
		if sk := st.Stickiness; sk != nil {
			s.Staging.Idle, s.Staging.Max = sk.Idle.Std(), sk.Max.Std()
		}
		for _, x := range st.Steps {
			s.Staging.Steps = append(s.Staging.Steps, StagingStep{Weight: x.Weight, Pause: x.Pause.Std(), Gates: x.Gates})
		}
	}
	if m := p.Maintenance; m != nil {
		s.Maintenance = &MaintenanceSpec{Mode: m.Mode, HealthCheck: m.HealthCheck, Invert: m.InvertHealthCheck}
	}
	for _, h := range p.Webhooks {
		s.Webhooks = append(s.Webhooks, Webhook{Name: h.Name, Type: h.Type, URL: h.URL, Timeout: Duration(h.Timeout.Std()), SecretEnv: h.SecretEnv, SecretFile: h.SecretFile})
	}
	for _, n := range p.Notify {
		s.Notify = append(s.Notify, Notify{Name: n.Name, Kind: n.Kind, URL: n.URL, URLEnv: n.URLEnv})
	}
	if p.Verify != nil {
		v := p.Verify
		s.Verify = &Verify{Expect: "new", Path: v.Path, Samples: v.Samples,
			NewMarker: v.Expect.New, OldMarker: v.Expect.Old, Header: v.Header, Resolvers: v.Resolvers}
		if p.IsBulk() {
			s.Verify.Hostnames = v.Hostnames
		}
	}
	return s, nil
}

func weightSteps(steps []plan.Step) []WeightStep {
	var out []WeightStep
	for _, st := range steps {
		ws := WeightStep{Weight: int64(st.Weight), Pause: st.Pause.Std(), Gates: st.Gates}
		if a := st.Approve; a != nil {
			ws.Approve = &ApproveSpec{Timeout: a.Timeout.Std(), OnTimeout: a.OnTimeout}
		}
		out = append(out, ws)
	}
	return out
}
