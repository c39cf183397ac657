package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/connect"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/notify"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
)

// SplitFunc computes a run's split series for GET /api/v1/runs/{name}/split:
// a value encoding as {"points":[{"at","intended_new","observed_new"}]}.
type SplitFunc func(ctx context.Context, run store.Run, rb *runbook.Runbook, events []store.Event) (any, error)

// CompileFunc reads the world a plan names and compiles its runbook; a
// problem with the plan itself is an *observe.PlanError.
type CompileFunc func(ctx context.Context, p *plan.Plan) (*observe.Compiled, error)

// EngineFunc returns the adapters a stored runbook needs (provider, gates,
// CloudFront, verifier, clock); the server adds the store, its owner, its
// poll interval and its event subscriber.
type EngineFunc func(ctx context.Context, rb *runbook.Runbook) (engine.Options, error)

// Options configure a Server. Store and Token are required.
type Options struct {
	Store store.Store
	// Token is the bearer token every mutating request must carry.
	Token string
	// Compile defaults to observe.Compile through connect.ObserveDeps.
	Compile CompileFunc
	// Engine defaults to connect.EngineOptions.
	Engine EngineFunc
	// Split defaults to IntendedSplit.
	Split SplitFunc
	// Owner names this server in leases; default engine.DefaultOwner().
	Owner string
	// Poll is how often a running engine checks propagation and operator
	// requests. Default 2s.
	Poll time.Duration
	// UnknownChangeSettle is passed to each engine (see engine.Options).
	UnknownChangeSettle time.Duration
	// Rescan is how often the store is read for active runs nobody
	// executes (a run left by a crashed server, a paused `apply` that
	// exited). Default 5s.
	Rescan time.Duration
	// ShowOnly makes a server that shows runs executed elsewhere (the
	// demo's engine): Serve executes nothing and a submitted plan is
	// refused (405).
	ShowOnly bool
	// Logf receives one line per run started, ended or failed; nil
	// discards them.
	Logf func(format string, args ...any)
}

// Server executes a store's active runs and serves the API and dashboard.
type Server struct {
	o       Options
	mu      sync.Mutex
	running map[string]string // run name → hostname, while an engine executes it here
	lastErr map[string]string // run name → the last error its engine returned
	wake    chan struct{}
	// submitting serializes submits, so that two plans for one hostname
	// cannot both pass the check that no active run moves it.
	submitting sync.Mutex
	events     notifier
	mux        *http.ServeMux
}

// New returns a server; Run executes the runs, Handler serves the API.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("server: no store")
	}
	if o.Token == "" {
		return nil, errors.New("server: no token")
	}
	if o.Compile == nil {
		o.Compile = func(ctx context.Context, p *plan.Plan) (*observe.Compiled, error) {
			return observe.Compile(ctx, p, connect.ObserveDeps(observe.Access(p)))
		}
	}
	if o.Engine == nil {
		o.Engine = connect.EngineOptions
	}
	if o.Split == nil {
		o.Split = IntendedSplit
	}
	if o.Owner == "" {
		o.Owner = engine.DefaultOwner()
	}
	if o.Poll == 0 {
		o.Poll = 2 * time.Second
	}
	if o.Rescan == 0 {
		o.Rescan = 5 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	s := &Server{o: o, running: map[string]string{}, lastErr: map[string]string{}, wake: make(chan struct{}, 1)}
	s.events.ch = make(chan struct{})
	s.routes()
	return s, nil
}

// Run executes every active run of the store, and each run submitted
// later, until ctx is done; then it stops the engines (their runs stay
// where they are, to be picked up by the next start) and returns.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(s.o.Rescan)
	defer t.Stop()
	for {
		if err := s.scan(ctx, &wg); err != nil && ctx.Err() == nil {
			s.o.Logf("reading runs: %v", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// kick makes Run look at the store now.
func (s *Server) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// scan starts an engine for every active run not executed here yet, one
// per hostname.
func (s *Server) scan(ctx context.Context, wg *sync.WaitGroup) error {
	runs, err := s.o.Store.ListRuns(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	busy := map[string]bool{}
	for _, h := range s.running {
		busy[h] = true
	}
	for _, r := range runs {
		if r.State.Terminal() || busy[r.Hostname] {
			continue
		}
		if _, ok := s.running[r.Name]; ok {
			continue
		}
		s.running[r.Name] = r.Hostname
		busy[r.Hostname] = true
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			s.execute(ctx, name)
		}(r.Name)
	}
	return nil
}

// execute runs one run's engine until the run ends or ctx is done.
func (s *Server) execute(ctx context.Context, name string) {
	run, err := s.runOnce(ctx, name)
	s.mu.Lock()
	delete(s.running, name)
	msg := ""
	if err != nil && ctx.Err() == nil {
		msg = err.Error()
	}
	changed := s.lastErr[name] != msg
	if msg == "" {
		delete(s.lastErr, name)
	} else {
		s.lastErr[name] = msg
	}
	s.mu.Unlock()
	switch {
	case ctx.Err() != nil:
	case err != nil && changed:
		s.o.Logf("run %s: %v (retrying every %s)", name, err, s.o.Rescan)
	case err == nil:
		s.o.Logf("run %s: %s %s", name, run.State, run.Reason)
	}
	s.events.broadcast()
}

// notifyFlush is how long an ending run waits for its queued
// notifications.
const notifyFlush = 5 * time.Second

func (s *Server) runOnce(ctx context.Context, name string) (store.Run, error) {
	run, err := s.o.Store.GetRun(ctx, name)
	if err != nil {
		return run, err
	}
	rb, err := engine.Runbook(run)
	if err != nil {
		return run, err
	}
	eo, err := s.o.Engine(ctx, rb)
	if err != nil {
		return run, fmt.Errorf("building the engine of run %s: %w", name, err)
	}
	eo.Store, eo.Owner, eo.Poll, eo.WaitWhenPaused = s.o.Store, s.o.Owner, s.o.Poll, true
	if s.o.UnknownChangeSettle > 0 {
		eo.UnknownChangeSettle = s.o.UnknownChangeSettle
	}
	// The plan's notification receivers hear the run as they do under
	// apply: through a bounded queue that never holds the engine.
	n := notify.New(rb, notify.Options{OnError: func(receiver string, err error) {
		s.o.Logf("run %s: notification to %s given up: %v", name, receiver, err)
	}})
	defer func() {
		flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyFlush)
		defer cancel()
		n.Close(flush)
	}()
	prev := eo.OnEvent
	eo.OnEvent = func(e store.Event) {
		if prev != nil {
			prev(e)
		}
		n.Notify(e)
		s.events.broadcast()
	}
	s.o.Logf("run %s: executing from step %d (%s)", name, run.Step+1, run.State)
	return engine.New(eo).Run(ctx, name)
}

// executing reports the lease owner of a run this server executes, or "".
func (s *Server) executing(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.running[name]; ok {
		return s.o.Owner
	}
	return ""
}

// notifier wakes every waiter when something was committed.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) wait() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) broadcast() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.ch)
	n.ch = make(chan struct{})
}
