package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
)

type config struct {
	cutover     string
	counts      []int
	zones       int
	modes       []string
	weights     []int
	propagation time.Duration
	poll        time.Duration
	timeout     time.Duration
	keep        bool
	single      bool
	// check, when set, looks at the lab once apply has exited (tests).
	check func(ctx context.Context, lab *labProc) error
}

func main() {
	var cfg config
	counts := flag.String("n", "1000,10000,50000", "hostname counts, comma-separated")
	modes := flag.String("modes", "legacy,buckets", "lab Route 53 rate-limit modes, comma-separated: legacy (5/s), buckets (burst 50, 10/s)")
	weights := flag.String("weights", "10,50,100", "the plan's weight steps, comma-separated")
	flag.StringVar(&cfg.cutover, "cutover", "", "cutover binary (required; build it with go build -o /tmp/cutover ./cmd/cutover)")
	flag.IntVar(&cfg.zones, "zones", 20, "Route 53 zones the hostnames are spread over")
	flag.DurationVar(&cfg.propagation, "propagation", time.Second, "how long the lab keeps a Route 53 change PENDING")
	flag.DurationVar(&cfg.poll, "poll", 500*time.Millisecond, "cutover apply --poll: how often propagation is checked")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Minute, "longest one apply may take")
	flag.BoolVar(&cfg.single, "single", false, "move only the first hostname (a one-hostname plan): checks the harness with any cutover build")
	flag.BoolVar(&cfg.keep, "keep", false, "keep each run's directory (seed, plan, state, logs) and print where")
	flag.Parse()
	var err error
	if cfg.counts, err = ints(*counts, 1); err != nil {
		fail(fmt.Errorf("-n: %w", err))
	}
	if cfg.weights, err = ints(*weights, 0); err != nil {
		fail(fmt.Errorf("-weights: %w", err))
	}
	for _, m := range strings.Split(*modes, ",") {
		m = strings.TrimSpace(m)
		if _, ok := budgets[m]; !ok {
			fail(fmt.Errorf("-modes: %q: want legacy or buckets", m))
		}
		cfg.modes = append(cfg.modes, m)
	}
	if cfg.cutover == "" {
		fail(errors.New("-cutover is required"))
	}
	if cfg.zones < 1 {
		fail(errors.New("-zones must be positive"))
	}

	ctx := context.Background()
	var results []result
	for _, mode := range cfg.modes {
		for _, n := range cfg.counts {
			fmt.Fprintf(os.Stderr, "bulk: %d hostnames in %d zones, rate limit %s\n", n, cfg.zones, mode)
			r := runOne(ctx, cfg, mode, n)
			if r.err != nil {
				fmt.Fprintf(os.Stderr, "bulk: %v\n", r.err)
			}
			results = append(results, r)
		}
	}
	fmt.Printf("Lab Route 53 changes PENDING for %s; apply --poll %s; steps %s. Floor: the minimum requests' ChangeResourceRecordSets and one GetChange each, beyond the burst, at the account's rate, plus one propagation.\n\n",
		cfg.propagation, cfg.poll, *weights)
	fmt.Print(table(results))
	for _, r := range results {
		if r.err != nil {
			os.Exit(1)
		}
	}
}

// runOne seeds a lab with n hostnames, applies the bulk plan and measures.
func runOne(ctx context.Context, cfg config, mode string, n int) (res result) {
	res = result{mode: mode, hosts: n, zones: cfg.zones}
	dir, err := os.MkdirTemp("", "cutover-bulk-")
	if err != nil {
		res.err = err
		return res
	}
	if cfg.keep {
		fmt.Fprintf(os.Stderr, "bulk: files in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	seed := filepath.Join(dir, "seed.yaml")
	if err := os.WriteFile(seed, []byte(seedYAML(n, cfg.zones)), 0o600); err != nil {
		res.err = err
		return res
	}
	lab, err := startLab(ctx, labOptions{cutover: cfg.cutover, dir: dir, seed: seed, rateLimit: mode, propagation: cfg.propagation})
	if err != nil {
		res.err = err
		return res
	}
	defer lab.stop()
	ids, err := lab.zoneIDs(ctx)
	if err != nil {
		res.err = err
		return res
	}
	name := fmt.Sprintf("bulk-%s-%d", mode, n)
	planFile := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(planFile, []byte(planYAML(name, ids, cfg.zones, cfg.weights, cfg.single, mode)), 0o600); err != nil {
		res.err = err
		return res
	}
	mark, err := lab.lastSeq(ctx)
	if err != nil {
		res.err = err
		return res
	}

	state := filepath.Join(dir, "state.db")
	actx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	apply := exec.CommandContext(actx, cfg.cutover, "apply", "-f", planFile, "--auto-approve", "--state", state, "--poll", cfg.poll.String())
	apply.Env = benchEnv(lab.env)
	logPath := filepath.Join(dir, "apply.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		res.err = err
		return res
	}
	apply.Stdout, apply.Stderr = logFile, logFile
	start := time.Now()
	runErr := apply.Start()
	if runErr == nil {
		stop := watchPeak(apply.Process.Pid)
		runErr = apply.Wait()
		res.maxRSS = stop()
	}
	res.wall = time.Since(start)
	logFile.Close()
	if runErr != nil {
		res.err = fmt.Errorf("cutover apply: %w: %s", runErr, tail(logPath, 600))
		return res
	}

	calls, err := lab.calls(ctx, mark)
	if err != nil {
		res.err = err
		return res
	}
	if cfg.check != nil {
		if err := cfg.check(ctx, lab); err != nil {
			res.err = err
			return res
		}
	}
	rb, events, runState, err := readRun(ctx, state, name)
	if err != nil {
		res.err = err
		return res
	}
	res.state = runState
	minimum, err := stepMinimum(rb)
	if err != nil {
		res.err = err
		return res
	}
	res.steps = stepRows(rb, events, calls, minimum, budgets[mode], cfg.propagation)
	counted := 0
	for _, s := range res.steps {
		counted += s.writes + s.getChanges + s.other
	}
	res.otherCalls = len(calls) - counted
	return res
}

// readRun reads the run's stored runbook, its events and its state.
func readRun(ctx context.Context, path, name string) (*runbook.Runbook, []store.Event, string, error) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nil, nil, "", fmt.Errorf("opening state %s: %w", path, err)
	}
	defer s.Close()
	run, err := s.GetRun(ctx, name)
	if err != nil {
		return nil, nil, "", fmt.Errorf("reading run %s: %w", name, err)
	}
	var rb runbook.Runbook
	if err := json.Unmarshal(run.Runbook, &rb); err != nil {
		return nil, nil, "", fmt.Errorf("decoding the runbook of run %s: %w", name, err)
	}
	events, err := s.Events(ctx, name, 0)
	if err != nil {
		return nil, nil, "", fmt.Errorf("reading the events of run %s: %w", name, err)
	}
	return &rb, events, string(run.State), nil
}

// tail is the end of a log file, for an error message.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return strings.TrimSpace(string(data))
}

func ints(list string, least int) ([]int, error) {
	var out []int
	for _, s := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < least {
			return nil, fmt.Errorf("%q: want integers of at least %d", s, least)
		}
		out = append(out, v)
	}
	return out, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bulk:", err)
	os.Exit(2)
}
