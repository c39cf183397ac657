package testseed

import (
	"fmt"
	"strings"
	"testing"
)

type recorder struct {
	logs, fatals []string
}

func (r *recorder) Helper() {}
func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func TestSeedFromEnvironmentIsUsedAndLogged(t *testing.T) {
	t.Setenv(Env, "12345")
	var r recorder
	if got := Seed(&r); got != 12345 {
		t.Fatalf("Seed = %d, want 12345", got)
	}
	if len(r.logs) != 1 || !strings.Contains(r.logs[0], "CUTOVER_TEST_SEED=12345") {
		t.Fatalf("logs %q: want the replay instruction", r.logs)
	}
	a, b := Rand(&r, 1), Rand(&r, 1)
	for range 10 {
		if x, y := a.Uint64(), b.Uint64(); x != y {
			t.Fatalf("same seed, different sequences: %d != %d", x, y)
		}
	}
}

func TestSeedWithoutEnvironmentIsLogged(t *testing.T) {
	t.Setenv(Env, "")
	var r recorder
	s := Seed(&r)
	if want := fmt.Sprintf("%s=%d", Env, s); len(r.logs) != 1 || !strings.Contains(r.logs[0], want) {
		t.Fatalf("logs %q: want %q", r.logs, want)
	}
}

func TestSeedRejectsGarbage(t *testing.T) {
	t.Setenv(Env, "seven")
	var r recorder
	Seed(&r)
	if len(r.fatals) != 1 || !strings.Contains(r.fatals[0], `"seven"`) {
		t.Fatalf("fatals %q: want the bad value named", r.fatals)
	}
}
