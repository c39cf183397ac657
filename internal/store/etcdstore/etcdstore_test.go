package etcdstore

import (
	"errors"
	"strings"
	"time"

	"context"
	"fmt"
	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/store/internal/core"
	"sync/atomic"
	"testing"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/etcdstore/etcdtest"
	"github.com/cutover/cutover/internal/store/storetest"
)

var ctx = context.Background()

var prefixes atomic.Int64

func freshPrefix() string { return fmt.Sprintf("/cutover-test/%d/", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	c := etcdtest.Start(t, 3)
	storetest.Run(t, func(t *testing.T, clk clock.Clock) storetest.Opener {
		prefix := freshPrefix()
		return func() store.Store {
			s, err := Open(ctx, Options{Endpoints: c.Endpoints(), Prefix: prefix, Clock: clk})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	})
}

// TestBackingLeaseExpires: an owner whose clock says it still holds its
// lease (here a clock that never moves: a paused or partitioned process) is
// refused once the cluster expired the etcd lease behind it, and another
// owner takes the lease over within the TTL as the cluster counts it.
func TestBackingLeaseExpires(t *testing.T) {
	c := etcdtest.Start(t, 3)
	frozen := fakeclock.New(storetest.Epoch)
	prefix := freshPrefix()
	open := func() *Store {
		s, err := Open(ctx, Options{Endpoints: c.Endpoints(), Prefix: prefix, Clock: frozen})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	r, err := a.CreateRun(ctx, store.Run{Name: "stall", Hostname: "www.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 2 * time.Second
	start := time.Now()
	la, err := a.Acquire(ctx, r.Hostname, "engine-a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	if r, _, err = a.Commit(ctx, la, r); err != nil {
		t.Fatalf("commit under a fresh lease: %v", err)
	}
	_, err = b.Acquire(ctx, r.Hostname, "engine-b", ttl)
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("Acquire of a live lease: %v, want ErrLocked", err)
	}

	// engine-a stops renewing. Its clock never moves, so only the cluster
	// can tell the lease is gone.
	var lb store.Lease
	for {
		lb, err = b.Acquire(ctx, r.Hostname, "engine-b", ttl)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrLocked) {
			t.Fatalf("Acquire while waiting for the takeover: %v", err)
		}
		if time.Since(start) > 10*ttl {
			t.Fatalf("no takeover %s after the owner stopped renewing (ttl %s): %v", time.Since(start), ttl, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	if took < ttl-100*time.Millisecond {
		t.Fatalf("took over %s after the last renewal, before the ttl %s ran out", took, ttl)
	}
	t.Logf("takeover %s after the owner last renewed a %s lease", took.Round(time.Millisecond), ttl)
	if lb.Token != la.Token+1 {
		t.Fatalf("takeover token %d, want %d", lb.Token, la.Token+1)
	}
	_, _, err = a.Commit(ctx, la, r, store.Event{Type: store.EventChangeApplied})
	var le *store.LockedError
	if !errors.As(err, &le) || le.Holder.Owner != "engine-b" {
		t.Fatalf("ex-owner's commit: %v, want a LockedError naming engine-b", err)
	}
	if _, _, err := b.Commit(ctx, lb, r, store.Event{Type: store.EventRunResumed}); err != nil {
		t.Fatalf("new owner's commit: %v", err)
	}
	if evs, _ := b.Events(ctx, "stall", 0); len(evs) != 1 || evs[0].Type != store.EventRunResumed {
		t.Fatalf("events = %+v, want only the new owner's", evs)
	}
}

// TestStalledOwnerRefusedBeforeTakeover: once the cluster expired the etcd
// lease, the owner's commits are refused even before anyone took over.
func TestStalledOwnerRefusedBeforeTakeover(t *testing.T) {
	c := etcdtest.Start(t, 1)
	frozen := fakeclock.New(storetest.Epoch)
	s, err := Open(ctx, Options{Endpoints: c.Endpoints(), Prefix: freshPrefix(), Clock: frozen})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.CreateRun(ctx, store.Run{Name: "stall", Hostname: "www.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.Acquire(ctx, r.Hostname, "engine-a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := parseStamp(mustStamp(t, s, r.Hostname))
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := s.cli.TimeToLive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if resp.TTL == -1 { // revoked by the cluster, not only due
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not expire the 1s etcd lease within 10s (TTL still %d)", resp.TTL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, _, err = s.Commit(ctx, l, r, store.Event{Type: store.EventChangeApplied})
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "etcd lease") {
		t.Fatalf("commit after the etcd lease expired: %v, want ErrLocked about the etcd lease", err)
	}
	// Renewing by the same owner, nobody having taken over, is allowed: it
	// gets a new etcd lease and the same token.
	l2, err := s.Acquire(ctx, r.Hostname, "engine-a", time.Second)
	if err != nil || l2.Token != l.Token {
		t.Fatalf("renewal after expiry = %+v, %v; want token %d", l2, err, l.Token)
	}
	if _, _, err := s.Commit(ctx, l2, r); err != nil {
		t.Fatalf("commit after renewing: %v", err)
	}
}

func mustStamp(t *testing.T, s *Store, host string) string {
	t.Helper()
	var stamp string
	err := s.do(ctx, func(tx *etcdTx, _ time.Time) error {
		var err error
		_, stamp, err = core.LeaseStamp(tx, host)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return stamp
}
