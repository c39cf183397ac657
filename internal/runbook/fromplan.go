package runbook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/plan"
)

// SpecFromPlan extracts what the compiler needs from a loaded (defaulted and
// validated) plan.
func SpecFromPlan(p *plan.Plan) (Spec, error) {
	s := Spec{
		Name:       p.Name,
		Hostname:   p.Hostname,
		Zone:       p.Zone.ID,
		Strategy:   string(p.Strategy),
		CutoverTTL: p.TTL.Cutover,
		RestoreTTL: p.TTL.Restore,
		Prepare:    p.TTL.Prepare.Std(),
		Hold:       p.Hold.Std(),
	}
	for _, st := range p.Steps {
		s.Steps = append(s.Steps, WeightStep{Weight: int64(st.Weight), Pause: st.Pause.Std(), Gates: st.Gates})
	}
	for _, g := range p.Gates {
		rg, err := GateFromPlan(g)
		if err != nil {
			return Spec{}, err
		}
		s.Gates = append(s.Gates, rg)
	}
	if p.Verify != nil {
		s.Verify = &Verify{Expect: "new", Path: p.Verify.Path, Samples: p.Verify.Samples}
	}
	return s, nil
}

// GateFromPlan compiles one plan gate: cadence and policy become fields,
// the provider's settings are kept as JSON for the gate builder.
func GateFromPlan(g plan.Gate) (Gate, error) {
	out := Gate{Name: g.Name, Interval: Duration(g.Interval.Std()), For: Duration(g.For.Std()), OnFailure: string(g.OnFailure)}
	if out.Interval == 0 {
		out.Interval = Duration(30 * time.Second)
	}
	if out.OnFailure == "" {
		out.OnFailure = string(plan.OnFailureRollback)
	}
	var spec any
	switch {
	case g.CloudWatch != nil:
		out.Kind, spec = "cloudwatch", g.CloudWatch
	case g.Probe != nil:
		out.Kind, spec = "probe", g.Probe
	default:
		return Gate{}, fmt.Errorf("gate %s: no provider", g.Name)
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return Gate{}, fmt.Errorf("gate %s: encoding its settings: %w", g.Name, err)
	}
	out.Spec = raw
	return out, nil
}
