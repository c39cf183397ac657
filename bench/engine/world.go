package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/boltstore"
	"github.com/cutover/cutover/internal/store/memstore"
)

const (
	zone = "Z1"
	host = "api.example.com"
)

// backend opens a fresh, empty state store; done releases it.
type backend struct {
	name string
	open func(dir string) (s store.Store, done func(), err error)
}

var backends = []backend{
	{"memstore", func(string) (store.Store, func(), error) {
		s := memstore.New(memstore.Options{})
		return s, func() { _ = s.Close() }, nil
	}},
	{"boltstore", func(dir string) (store.Store, func(), error) {
		// One file per trial: every trial starts from the same file size.
		s, err := boltstore.Open(filepath.Join(dir, "state.db"), boltstore.Options{})
		if err != nil {
			return nil, nil, err
		}
		return s, func() { _ = s.Close() }, nil
	}},
}

// counting wraps a store to count the writes and reads the engine makes.
type counting struct {
	store.Store
	commits atomic.Int64
	reads   atomic.Int64
}

func (c *counting) Commit(ctx context.Context, l store.Lease, r store.Run, evs ...store.Event) (store.Run, []store.Event, error) {
	c.commits.Add(1)
	return c.Store.Commit(ctx, l, r, evs...)
}

func (c *counting) GetRun(ctx context.Context, name string) (store.Run, error) {
	c.reads.Add(1)
	return c.Store.GetRun(ctx, name)
}

// world is one run ready to execute: a zone holding the hostname on the old
// edge with the spec's cutover TTL (so there is no TTL preparation) and a
// stored run.
type world struct {
	dir   string
	store *counting
	dns   *memdns.Provider
	rb    *runbook.Runbook
	done  func()
}

func newWorld(b backend, spec runbook.Spec) (*world, error) {
	dir, err := os.MkdirTemp("", "cutover-bench-engine-")
	if err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	s, done, err := b.open(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("opening %s: %w", b.name, err)
	}
	w := &world{dir: dir, store: &counting{Store: s}, dns: memdns.New(), done: done}
	// Propagation is immediate: the first InSync call reports INSYNC.
	w.dns.InSyncAfter = 0
	w.dns.Put(zone, dns.RecordSet{Name: host + ".", Type: "CNAME", TTL: spec.CutoverTTL, Values: []string{"old-lb.example.net."}})
	recs, _ := w.dns.Records(context.Background(), zone, host)
	rb, err := runbook.Compile(spec, runbook.Observed{
		Records: recs,
		From:    runbook.Target{Kind: runbook.TargetEndpoint, ID: "old-lb", DNSName: "old-lb.example.net"},
		To:      runbook.Target{Kind: runbook.TargetEndpoint, ID: "new-lb", DNSName: "new-lb.example.net"},
	})
	if err != nil {
		w.close()
		return nil, err
	}
	w.rb = rb
	if _, err := engine.Create(context.Background(), w.store, rb, "plan.yaml", "digest", time.Now()); err != nil {
		w.close()
		return nil, fmt.Errorf("creating run: %w", err)
	}
	return w, nil
}

func (w *world) close() {
	w.done()
	_ = os.RemoveAll(w.dir)
}

// engine returns an engine on the real clock with the product's defaults
// (Poll 2s, lease 30s) except for the options given.
func (w *world) engine(o engine.Options) *engine.Engine {
	o.Store, o.Provider, o.Clock = w.store, w.dns, clock.Real{}
	return engine.New(o)
}
