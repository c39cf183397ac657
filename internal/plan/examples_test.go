package plan

import (
	"path/filepath"
	"testing"
)

// TestExamplesAreValid loads every example plan: they are documentation, so
// they must never rot.
func TestExamplesAreValid(t *testing.T) {
	want := map[string]Strategy{
		"flip.yaml":       StrategyFlip,
		"weighted.yaml":   StrategyWeighted,
		"alias-move.yaml": StrategyAliasMove,
		"bridge.yaml":     StrategyBridge,
		"staging.yaml":    StrategyStaging,
	}
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		base := filepath.Base(f)
		seen[base] = true
		p, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if w := p.Warnings(); len(w) > 0 {
			t.Errorf("%s: unexpected warnings:\n%v", base, w.Error())
		}
		if s, ok := want[base]; ok && p.Strategy != s {
			t.Errorf("%s: strategy %s, want %s", base, p.Strategy, s)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("examples/%s is missing", name)
		}
	}
}
