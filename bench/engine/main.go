package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
)

type config struct {
	trials    int
	intervals []time.Duration
	steps     []int
	reps      int
	commits   int
	// breach at the shift
	shiftTrials int
	shiftTTL    int64
	shiftInSync int
}

func main() {
	var cfg config
	intervals := flag.String("intervals", "100ms,500ms,1s", "gate intervals to measure rollback reaction at, comma-separated")
	flag.IntVar(&cfg.trials, "trials", 50, "rollback trials per gate interval and store")
	stepList := flag.String("steps", "5,50", "weight shifts in the no-wait runs (1–99 each), comma-separated; each shift is a change, an insync and a TTL wait")
	flag.IntVar(&cfg.reps, "reps", 10, "no-wait runs per store")
	flag.IntVar(&cfg.commits, "commits", 300, "bare commits per store for the floor")
	flag.IntVar(&cfg.shiftTrials, "shift-trials", 10, "trials per store of a breach that starts at the shift (0 skips them)")
	flag.Int64Var(&cfg.shiftTTL, "shift-ttl", 1, "cutover TTL in seconds for the breach-at-the-shift trials")
	flag.IntVar(&cfg.shiftInSync, "shift-insync", 1, "INSYNC checks answered false after the shift in those trials (each waits one Poll)")
	results := flag.String("results", "", "results file whose \"## engine\" section to write (e.g. bench/RESULTS.md)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed for the breach moments")
	flag.Parse()
	for _, s := range strings.Split(*intervals, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d <= 0 {
			fail(fmt.Errorf("bad interval %q", s))
		}
		cfg.intervals = append(cfg.intervals, d)
	}
	for _, s := range strings.Split(*stepList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 99 {
			fail(fmt.Errorf("bad step count %q", s))
		}
		cfg.steps = append(cfg.steps, n)
	}
	if cfg.trials < 1 || cfg.reps < 1 || cfg.commits < 1 {
		fail(fmt.Errorf("need positive -trials, -reps, -commits"))
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}

	ctx := context.Background()
	rng := rand.New(rand.NewPCG(*seed, 0))
	loadBefore := loadAverage()
	res, err := measure(ctx, cfg, rng, func(format string, args ...any) { fmt.Fprintf(os.Stderr, format, args...) })
	if err != nil {
		fail(err)
	}
	res.load = [2]string{loadBefore, loadAverage()}
	body := report(cfg, res)
	fmt.Print(body)
	if *results != "" {
		if err := writeSection(*results, body); err != nil {
			fail(fmt.Errorf("writing results: %w", err))
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/engine:", err)
	os.Exit(1)
}

// results holds every sample, by backend name.
type results struct {
	reactions map[time.Duration]map[string][]reaction
	steps     map[int]map[string][]stepRun
	raw       map[int]map[string][]time.Duration // bare commits
	stripped  map[int]map[string][]time.Duration // bare commits without the runbook
	shift     map[string][]shiftReaction
	load      [2]string // 1-minute load average before and after
}

// loadAverage is the 1-minute load average, or "?" where the system does
// not publish it: other work on the machine shows up in every tail.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// measure runs every trial. Backends take turns within each trial, the
// first one alternating, so drift in the machine's load hits both alike.
func measure(ctx context.Context, cfg config, rng *rand.Rand, progress func(string, ...any)) (results, error) {
	res := results{
		reactions: map[time.Duration]map[string][]reaction{},
		steps:     map[int]map[string][]stepRun{},
		raw:       map[int]map[string][]time.Duration{},
		stripped:  map[int]map[string][]time.Duration{},
		shift:     map[string][]shiftReaction{},
	}
	order := func(i int) []backend {
		if i%2 == 0 {
			return backends
		}
		return []backend{backends[1], backends[0]}
	}
	// Step overhead first: it is short, and warms the file system.
	for _, n := range cfg.steps {
		res.steps[n], res.raw[n], res.stripped[n] = map[string][]stepRun{}, map[string][]time.Duration{}, map[string][]time.Duration{}
		for i := range cfg.reps {
			for _, b := range order(i) {
				s, err := runSteps(ctx, b, n)
				if err != nil {
					return res, err
				}
				res.steps[n][b.name] = append(res.steps[n][b.name], s)
			}
		}
		for _, b := range backends {
			raw, err := rawCommits(ctx, b, n, cfg.commits, false)
			if err != nil {
				return res, err
			}
			stripped, err := rawCommits(ctx, b, n, cfg.commits, true)
			if err != nil {
				return res, err
			}
			res.raw[n][b.name], res.stripped[n][b.name] = raw, stripped
		}
	}
	progress("step overhead done\n")
	for _, iv := range cfg.intervals {
		res.reactions[iv] = map[string][]reaction{}
		for i := range cfg.trials {
			for _, b := range order(i) {
				r, err := runReaction(ctx, b, iv, rng)
				if err != nil {
					return res, fmt.Errorf("interval %s trial %d: %w", iv, i, err)
				}
				res.reactions[iv][b.name] = append(res.reactions[iv][b.name], r)
			}
		}
		progress("interval %s done\n", iv)
	}
	for i := range cfg.shiftTrials {
		for _, b := range order(i) {
			r, err := runShiftReaction(ctx, b, cfg.intervals[0], cfg.shiftTTL, cfg.shiftInSync, 0)
			if err != nil {
				return res, fmt.Errorf("breach at the shift, trial %d: %w", i, err)
			}
			res.shift[b.name] = append(res.shift[b.name], r)
		}
	}
	return res, nil
}

// quantile is the nearest-rank q-quantile of xs (0 < q ≤ 1).
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func pick(rs []reaction, f func(reaction) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func report(cfg config, res results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Command (from the repository root):\n\n")
	fmt.Fprintf(&b, "    go run ./bench/engine -trials %d -intervals %s -steps %s -reps %d -commits %d -shift-trials %d -shift-ttl %d -shift-insync %d -results bench/RESULTS.md\n\n",
		cfg.trials, joinDurations(cfg.intervals), joinInts(cfg.steps), cfg.reps, cfg.commits, cfg.shiftTrials, cfg.shiftTTL, cfg.shiftInSync)
	fmt.Fprintf(&b, "Measured %s, %s, %d cores, %s/%s, real clock, state files in %s; 1-minute load average %s at the start,\n%s at the end.\n\n",
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, os.TempDir(), res.load[0], res.load[1])

	fmt.Fprintf(&b, "### Rollback reaction\n\n")
	fmt.Fprintf(&b, "A weighted run observing with one gate (`for: 0`, `on_failure: rollback`, engine defaults: Poll 2s); the metric the\n")
	fmt.Fprintf(&b, "gate reads flips to breaching at a uniformly random phase of its schedule. Reaction = breach visible → rollback\n")
	fmt.Fprintf(&b, "change set handed to the provider (memdns BeforeApply). Limit = breach → the evaluation the interval schedules next\n")
	fmt.Fprintf(&b, "(the physical limit); ours = reaction − limit. Wake = scheduled → the evaluation's clock reading (timer + re-reading\n")
	fmt.Fprintf(&b, "the run); act = that reading → submission (gate commit, rollback commits). Quantiles are nearest-rank: with\n")
	fmt.Fprintf(&b, "fewer than 100 trials p99 is the largest sample. All in ms.\n\n")
	fmt.Fprintf(&b, "| interval | store | trials | reaction p50 | p99 | max | limit p50 | ours p50 | ours p99 | ours max | wake p50 | wake max | act p50 | act max | commits | ours max / interval |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, iv := range cfg.intervals {
		for _, be := range backends {
			rs := res.reactions[iv][be.name]
			total := pick(rs, func(r reaction) time.Duration { return r.Total })
			limit := pick(rs, func(r reaction) time.Duration { return r.Limit })
			own := pick(rs, func(r reaction) time.Duration { return r.Own })
			wake := pick(rs, func(r reaction) time.Duration { return r.Wake })
			act := pick(rs, func(r reaction) time.Duration { return r.Act })
			commits := map[int64]bool{}
			for _, r := range rs {
				commits[r.Commits] = true
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.3f |\n",
				iv, be.name, len(rs), ms(quantile(total, .5)), ms(quantile(total, .99)), ms(quantile(total, 1)),
				ms(quantile(limit, .5)), ms(quantile(own, .5)), ms(quantile(own, .99)), ms(quantile(own, 1)),
				ms(quantile(wake, .5)), ms(quantile(wake, 1)), ms(quantile(act, .5)), ms(quantile(act, 1)), setString(commits),
				float64(quantile(own, 1))/float64(iv))
		}
	}

	if cfg.shiftTrials > 0 {
		iv := cfg.intervals[0]
		fmt.Fprintf(&b, "\n### Breach at the shift\n\n")
		fmt.Fprintf(&b, "The same run, but the metric turns bad the moment the shift is applied (memdns AfterApply), the likeliest moment\n")
		fmt.Fprintf(&b, "for a bad new edge to show. Gate interval %s, cutover TTL %ds, the change reported INSYNC at INSYNC check %d\n", iv, cfg.shiftTTL, cfg.shiftInSync+1)
		fmt.Fprintf(&b, "(engine Poll 2s between checks). First eval = breach → the first evaluation of the gate after it. All in ms.\n\n")
		fmt.Fprintf(&b, "| store | trials | reaction p50 | p99 | max | first eval p50 | first eval max | reaction p50 / interval |\n")
		fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, be := range backends {
			rs := res.shift[be.name]
			total := make([]time.Duration, len(rs))
			first := make([]time.Duration, len(rs))
			for i, r := range rs {
				total[i], first[i] = r.Total, r.FirstEval
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %.1f |\n", be.name, len(rs),
				ms(quantile(total, .5)), ms(quantile(total, .99)), ms(quantile(total, 1)),
				ms(quantile(first, .5)), ms(quantile(first, 1)), float64(quantile(total, .5))/float64(iv))
		}
	}

	fmt.Fprintf(&b, "\n### Step overhead\n\n")
	fmt.Fprintf(&b, "Weighted runs of n shifts with nothing to wait for (TTL 0, no pauses or gates, INSYNC at the first check): each\n")
	fmt.Fprintf(&b, "shift is a change, an insync and a zero-length TTL wait, plus the final collapse. Per step = Run's wall time /\n")
	fmt.Fprintf(&b, "runbook steps, %d runs per store and size. Floor = commits per step × the median of %d bare Commit calls of a run\n", cfg.reps, cfg.commits)
	fmt.Fprintf(&b, "of the same size, in the same process. \"Bare, no runbook\" is the same Commit with Run.Runbook left empty (the\n")
	fmt.Fprintf(&b, "store keeps the stored one): what re-checking and re-encoding the fixed runbook costs on every commit.\n\n")
	fmt.Fprintf(&b, "| shifts | store | runbook steps | per step p50 ms | per step max ms | commits/step | reads/step | bare commit p50 ms | p99 ms | floor/step ms | per step / floor | bare, no runbook p50 ms |\n")
	fmt.Fprintf(&b, "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range cfg.steps {
		for _, be := range backends {
			runs := res.steps[n][be.name]
			per := make([]time.Duration, len(runs))
			var commits, reads, steps int64
			for i, s := range runs {
				per[i] = s.PerStep()
				commits += s.Commits
				reads += s.Reads
				steps += int64(s.Steps)
			}
			cps := float64(commits) / float64(steps)
			raw := quantile(res.raw[n][be.name], .5)
			floor := time.Duration(cps * float64(raw))
			fmt.Fprintf(&b, "| %d | %s | %d | %s | %s | %.2f | %.2f | %s | %s | %s | %.2f | %s |\n",
				n, be.name, runs[0].Steps, ms3(quantile(per, .5)), ms3(quantile(per, 1)), cps, float64(reads)/float64(steps),
				ms3(raw), ms3(quantile(res.raw[n][be.name], .99)), ms3(floor), float64(quantile(per, .5))/float64(floor),
				ms3(quantile(res.stripped[n][be.name], .5)))
		}
	}
	return b.String()
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func setString(m map[int64]bool) string {
	var ks []int64
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprint(k))
	}
	return strings.Join(parts, "/")
}

func joinInts(ns []int) string {
	var parts []string
	for _, n := range ns {
		parts = append(parts, strconv.Itoa(n))
	}
	return strings.Join(parts, ",")
}

func joinDurations(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, ",")
}

// writeSection replaces the "## engine" section of the results file, or
// appends it, leaving every other section as it is.
func writeSection(path, body string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(data)
	section := "## engine\n\n" + strings.TrimRight(body, "\n") + "\n"
	if i := strings.Index(text, "\n## engine\n"); i >= 0 {
		rest := text[i+1:]
		after := ""
		if j := strings.Index(rest[1:], "\n## "); j >= 0 {
			after = "\n" + rest[j+2:]
		}
		text = text[:i+1] + section + after
	} else {
		text = strings.TrimRight(text, "\n") + "\n\n" + section
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
