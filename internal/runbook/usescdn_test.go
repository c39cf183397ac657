package runbook

import "testing"

func TestUsesCDN(t *testing.T) {
	cases := []struct {
		name string
		step Step
		want bool
	}{
		{"dns change", Step{Change: &Change{}}, false},
		{"wait", Step{Wait: &Wait{}}, false},
		{"aliases", Step{Aliases: &Aliases{}}, true},
		{"associate", Step{Associate: &Associate{}}, true},
		{"watch alias", Step{WatchAlias: &WatchAlias{}}, true},
		{"deployed", Step{Deployed: &Deployed{}}, true},
		// A staging runbook has only continuous deployment steps; without a
		// client the engine would pause at its first step.
		{"staging", Step{Staging: &Staging{}}, true},
	}
	for _, c := range cases {
		rb := &Runbook{Steps: []Step{{Wait: &Wait{}}, c.step}}
		if got := rb.UsesCDN(); got != c.want {
			t.Errorf("%s: UsesCDN = %v, want %v", c.name, got, c.want)
		}
	}
}
