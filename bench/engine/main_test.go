package main

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAnalyseSplitsReactionAtTheScheduledEvaluation(t *testing.T) {
	t0 := time.Now()
	iv := 100 * time.Millisecond
	evals := []evaluation{
		{now: t0, commits: 2},
		{now: t0.Add(101 * time.Millisecond), commits: 4},
		{now: t0.Add(203 * time.Millisecond), breached: true, commits: 6},
	}
	breach := t0.Add(150 * time.Millisecond)
	submit := t0.Add(210 * time.Millisecond)
	r, err := analyse(iv, evals, breach, submit, 9)
	if err != nil {
		t.Fatal(err)
	}
	// Scheduled at 101+100 = 201 ms: 51 ms of schedule, 9 ms ours (2 wake, 7 act).
	want := reaction{Total: 60 * time.Millisecond, Limit: 51 * time.Millisecond, Own: 9 * time.Millisecond, Wake: 2 * time.Millisecond, Act: 7 * time.Millisecond, Commits: 3}
	if r != want {
		t.Fatalf("analyse = %+v, want %+v", r, want)
	}
}

func TestAnalyseBreachInsideAnEvaluationHasNoLimit(t *testing.T) {
	t0 := time.Now()
	evals := []evaluation{{now: t0}, {now: t0.Add(100 * time.Millisecond), breached: true}}
	// The metric flipped after the evaluation read the clock but before it
	// read the metric: the whole reaction is ours.
	r, err := analyse(100*time.Millisecond, evals, t0.Add(100*time.Millisecond+time.Microsecond), t0.Add(105*time.Millisecond), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Limit != 0 || r.Own != r.Total {
		t.Fatalf("limit %s own %s total %s, want limit 0 and own = total", r.Limit, r.Own, r.Total)
	}
}

func TestAnalyseRejectsATrialWithoutRollback(t *testing.T) {
	t0 := time.Now()
	evals := []evaluation{{now: t0}, {now: t0.Add(time.Second), breached: true}}
	if _, err := analyse(time.Second, evals, t0.Add(time.Millisecond), time.Time{}, 0); err == nil {
		t.Fatal("a trial with no rollback submitted was accepted")
	}
	if _, err := analyse(time.Second, evals[1:], t0, t0.Add(time.Second), 0); err == nil {
		t.Fatal("a trial whose first evaluation already breached was accepted")
	}
}

func TestReactionTrialRollsBackWithinOneInterval(t *testing.T) {
	iv := 20 * time.Millisecond
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			r, err := runReaction(context.Background(), b, iv, rng)
			if err != nil {
				t.Fatal(err)
			}
			// The breach lands after an evaluation read the metric, so the
			// next scheduled one is at most an interval away.
			if r.Limit < 0 || r.Limit > iv {
				t.Errorf("limit %s outside [0, %s]", r.Limit, iv)
			}
			if r.Total != r.Limit+r.Own || r.Act <= 0 {
				t.Errorf("inconsistent split %+v", r)
			}
			// The gate's verdict at least must be committed before the
			// rollback is submitted.
			if r.Commits < 1 {
				t.Errorf("%d commits between the breaching evaluation and the rollback", r.Commits)
			}
		})
	}
}

func TestShiftReactionMeasuresFromTheShift(t *testing.T) {
	r, err := runShiftReaction(context.Background(), backends[0], 10*time.Millisecond, 0, 2, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// The gate can only see the breach after it began, and the rollback
	// follows the evaluation that saw it.
	if r.FirstEval <= 0 || r.FirstEval > r.Total {
		t.Fatalf("first evaluation %s, total %s", r.FirstEval, r.Total)
	}
}

func TestStepRunExecutesEveryStepWithCommits(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s, err := runSteps(context.Background(), b, 3)
			if err != nil {
				t.Fatal(err)
			}
			// 3 shifts + the collapse, each a change, an insync and a TTL wait.
			if s.Steps != 12 {
				t.Errorf("steps = %d, want 12", s.Steps)
			}
			if s.Commits < int64(s.Steps) {
				t.Errorf("%d commits for %d steps: every step must commit its advance", s.Commits, s.Steps)
			}
			if s.Elapsed <= 0 {
				t.Errorf("elapsed %s", s.Elapsed)
			}
		})
	}
}

func TestRawCommitsTimesEachCall(t *testing.T) {
	for _, strip := range []bool{false, true} {
		raw, err := rawCommits(context.Background(), backends[1], 3, 5, strip)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) != 5 {
			t.Fatalf("%d samples, want 5", len(raw))
		}
		for _, d := range raw {
			if d <= 0 {
				t.Fatalf("sample %s", d)
			}
		}
	}
}

func TestQuantileIsNearestRank(t *testing.T) {
	xs := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for q, want := range map[float64]time.Duration{0.5: 5, 0.99: 10, 1: 10, 0.1: 1, 0.11: 2} {
		if got := quantile(xs, q); got != want {
			t.Errorf("quantile(%g) = %d, want %d", q, got, want)
		}
	}
	if xs[0] != 5 {
		t.Error("quantile reordered its input")
	}
}

func TestWriteSectionReplacesOnlyItsOwnSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "RESULTS.md")
	orig := "# Benchmark results\n\n## bridge\n\nbridge text\n\n## engine\n\nold engine\n\n## swap\n\nswap text\n"
	if err := os.WriteFile(path, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "new engine\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# Benchmark results\n\n## bridge\n\nbridge text\n\n## engine\n\nnew engine\n\n## swap\n\nswap text\n"
	if string(got) != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if err := os.WriteFile(path, []byte("# R\n\n## swap\n\ns\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, "e\n"); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	if !strings.HasSuffix(string(got), "## swap\n\ns\n\n## engine\n\ne\n") {
		t.Fatalf("append: got\n%s", got)
	}
}
