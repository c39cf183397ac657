package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/preflight"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/store/storeurl"
)

// compiled is a plan read, resolved against the world and compiled, with
// the digest of the file it was read from.
type compiled struct {
	*observe.Compiled
	digest string
}

// loadPlan reads and validates a plan file; problems are usage errors.
func loadPlan(path string) (*plan.Plan, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", usageError(fmt.Errorf("reading plan: %w", err))
	}
	p, err := plan.Parse(path, data)
	if err != nil {
		return nil, "", usageError(err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:]), nil
}

// compilePlan reads the world the plan names and compiles its runbook.
func compilePlan(ctx context.Context, path string) (*compiled, error) {
	p, digest, err := loadPlan(path)
	if err != nil {
		return nil, err
	}
	c, err := observe.Compile(ctx, p, connect.ObserveDeps(observe.Access(p)))
	if err != nil {
		var pe *observe.PlanError
		if errors.As(err, &pe) {
			return nil, usageError(err)
		}
		return nil, err
	}
	return &compiled{Compiled: c, digest: digest}, nil
}

// planJSON is `cutover plan -o json`: the compiled plan and its preflight.
type planJSON struct {
	observe.Report
	Preflight *preflight.Report `json:"preflight,omitempty"`
}

func printPlan(w io.Writer, c *compiled, checks *preflight.Report, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(planJSON{Report: c.Report(), Preflight: checks})
	}
	for _, d := range c.Plan.Warnings() {
		fmt.Fprintf(w, "%s\n", d)
	}
	for _, r := range c.Brake.Reasons {
		fmt.Fprintf(w, "SAFETY BRAKE: this plan %s; apply refuses it without --force\n", r)
	}
	runbook.Render(w, c.Runbook, c.From, c.To, observe.AssumedInSync)
	if checks != nil {
		fmt.Fprintln(w)
		return checks.WriteText(w)
	}
	return nil
}

// openStore opens the bbolt file at path, or the store --store names.
func openStore(path string) (store.Store, error) {
	if storeOpts.url == "" {
		s, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			return nil, fmt.Errorf("opening state %s: %w", path, err)
		}
		return s, nil
	}
	spec, err := storeurl.Parse(storeOpts.url)
	if err != nil {
		return nil, usageError(err)
	}
	spec.CACert, spec.Cert, spec.Key = storeOpts.caCert, storeOpts.cert, storeOpts.key
	spec.CredentialsFromEnv()
	s, err := storeurl.Open(context.Background(), spec)
	if errors.Is(err, storeurl.ErrSpec) {
		return nil, usageError(err)
	}
	return s, err
}

// confirm asks on the terminal; only "yes" proceeds.
func confirm(in io.Reader, out io.Writer, question string) bool {
	fmt.Fprintf(out, "\n%s\n  Only 'yes' will be accepted: ", question)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// engineFor builds the engine for a stored run: the zone's provider, its
// gates, CloudFront clients and webhook client (package connect), this
// terminal's progress lines, the plan's notifications, and what extra adds.
// done flushes the notifications still queued, for a few seconds at most.
func engineFor(ctx context.Context, s store.Store, rb *runbook.Runbook, out io.Writer, extra func(*engine.Options)) (e *engine.Engine, done func(), err error) {
	o, err := connect.EngineOptions(ctx, rb)
	if err != nil {
		var ge *connect.GateConfigError
		if errors.As(err, &ge) {
			return nil, nil, usageError(err)
		}
		return nil, nil, err
	}
	show := progress(ctx, out)
	n := notify.New(rb, notify.Options{OnError: func(receiver string, err error) {
		fmt.Fprintf(out, "notification to %s given up: %v\n", receiver, err)
	}})
	o.Store = s
	o.OnEvent = func(ev store.Event) {
		show(ev)
		n.Notify(ev) // never blocks: a bounded queue
	}
	if extra != nil {
		extra(&o)
	}
	done = func() {
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyFlush)
		defer cancel()
		n.Close(flush)
	}
	return engine.New(o), done, nil
}

// notifyFlush is how long a finishing process waits for queued
// notifications.
var notifyFlush = 5 * time.Second

// progress prints each committed event as one line and, while the run
// waits out a deadline, how long is left every countdownEvery.
func progress(ctx context.Context, w io.Writer) func(store.Event) {
	var mu sync.Mutex
	var until time.Time
	var what string
	go func() {
		t := time.NewTicker(countdownEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				mu.Lock()
				if left := until.Sub(now); left > 0 {
					fmt.Fprintf(w, "%s  ... %s: %s left (until %s)\n", now.Format("15:04:05"), what, left.Round(time.Second), until.Local().Format("15:04:05"))
				}
				mu.Unlock()
			}
		}
	}()
	return func(e store.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case "wait.started":
			var d struct {
				Until time.Time `json:"until"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				until, what = d.Until, fmt.Sprintf("step %d", e.Step+1)
			}
		case "wait.done", "run.paused", "rollback.started", "run.done", "run.rolled-back":
			until = time.Time{}
		}
		fmt.Fprintf(w, "%s  step %-3d %-18s %s\n", e.Time.Local().Format("15:04:05"), e.Step+1, e.Type, e.Message)
	}
}

// countdownEvery is how often a waiting run prints the time left.
var countdownEvery = 15 * time.Second

// runExit maps a run's final state to the exit code scripts rely on.
func runExit(r store.Run) error {
	switch r.State {
	case store.StateDone:
		return nil
	case store.StatePaused:
		return &exitError{code: exitPaused, err: fmt.Errorf("run %s paused: %s (continue with `cutover resume %s`, or `cutover rollback %s`)", r.Name, r.Reason, r.Name, r.Name)}
	case store.StateRolledBack:
		return &exitError{code: exitFailure, err: fmt.Errorf("run %s rolled back: %s", r.Name, r.Reason)}
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("run %s ended %s: %s", r.Name, r.State, r.Reason)}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
