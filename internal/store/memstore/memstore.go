package memstore

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/internal/core"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Clock stamps runs and events and decides lease expiry; the wall clock
	// when nil.
	Clock clock.Clock
	// OwnerGone, when set, reports that a lease owner no longer exists, so
	// Acquire by another owner takes the lease over before it expires. It
	// lets engine tests model "the process was killed" the way boltstore
	// detects it for real.
	OwnerGone func(owner string) bool
}

// data is what every handle of one store shares.
type data struct {
	mu      sync.Mutex
	buckets map[string]map[string][]byte
	clock   clock.Clock
	live    core.Liveness
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	d      *data
	closed atomic.Bool
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.LeaseLister = (*Store)(nil)
)

// New returns an empty store.
func New(opts Options) *Store {
	d := &data{buckets: map[string]map[string][]byte{}, clock: opts.Clock}
	if d.clock == nil {
		d.clock = clock.Real{}
	}
	if opts.OwnerGone != nil {
		d.live = gone(opts.OwnerGone)
	}
	return &Store{d: d}
}

// Handle returns another handle onto the same data, closed independently.
func (s *Store) Handle() *Store { return &Store{d: s.d} }

type gone func(owner string) bool

func (g gone) Stamp(string) string { return "" }
func (g gone) Check(owner, _ string) (bool, string) {
	if g(owner) {
		return true, "the owner is gone"
	}
	return false, ""
}

// do runs fn as one transaction: its writes are applied only if it succeeds.
func (s *Store) do(ctx context.Context, fn func(tx core.Tx, now time.Time) error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	tx := &memTx{d: s.d, pending: map[string]map[string][]byte{}}
	if err := fn(tx, s.d.clock.Now()); err != nil {
		return err
	}
	for bk, kv := range tx.pending {
		b := s.d.buckets[bk]
		if b == nil {
			b = map[string][]byte{}
			s.d.buckets[bk] = b
		}
		for k, v := range kv {
			b[k] = v
		}
	}
	return nil
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, r store.Run) (out store.Run, err error) {
	err = s.do(ctx, func(tx core.Tx, now time.Time) error {
		out, err = core.CreateRun(tx, r, now)
		return err
	})
	return out, err
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, name string) (out store.Run, err error) {
	err = s.do(ctx, func(tx core.Tx, _ time.Time) error {
		out, err = core.GetRun(tx, name)
		return err
	})
	return out, err
}

// ListRuns implements store.Store.
func (s *Store) ListRuns(ctx context.Context) (out []store.Run, err error) {
	err = s.do(ctx, func(tx core.Tx, _ time.Time) error {
		out, err = core.ListRuns(tx)
		return err
	})
	return out, err
}

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, lease store.Lease, r store.Run, events ...store.Event) (out store.Run, evs []store.Event, err error) {
	err = s.do(ctx, func(tx core.Tx, now time.Time) error {
		out, evs, err = core.Commit(tx, lease, r, events, now)
		return err
	})
	return out, evs, err
}

// Request implements store.Store.
func (s *Store) Request(ctx context.Context, name, action string) (out store.Run, err error) {
	actor := store.ActorFrom(ctx)
	err = s.do(ctx, func(tx core.Tx, now time.Time) error {
		out, err = core.Request(tx, name, action, actor, now)
		return err
	})
	return out, err
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, name string, afterSeq int64) (out []store.Event, err error) {
	err = s.do(ctx, func(tx core.Tx, _ time.Time) error {
		out, err = core.Events(tx, name, afterSeq)
		return err
	})
	return out, err
}

// Acquire implements store.Store. Without Options.OwnerGone a held lease is
// taken over only once it expires.
func (s *Store) Acquire(ctx context.Context, hostname, owner string, ttl time.Duration) (out store.Lease, err error) {
	err = s.do(ctx, func(tx core.Tx, now time.Time) error {
		out, err = core.Acquire(tx, hostname, owner, ttl, now, s.d.live)
		return err
	})
	return out, err
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, lease store.Lease) error {
	return s.do(ctx, func(tx core.Tx, now time.Time) error {
		return core.Release(tx, lease, now)
	})
}

// Leases implements store.LeaseLister.
func (s *Store) Leases(ctx context.Context) (out []store.Lease, err error) {
	err = s.do(ctx, func(tx core.Tx, _ time.Time) error {
		out, err = core.Leases(tx)
		return err
	})
	return out, err
}

// Close implements store.Store. It closes this handle only; the data stays
// reachable through other handles.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// memTx stages writes in pending so a failed transaction leaves no trace.
type memTx struct {
	d       *data
	pending map[string]map[string][]byte
}

func bucketKey(b core.Bucket) string { return strings.Join(b, "\x00") }

func (t *memTx) Get(b core.Bucket, key []byte) []byte {
	bk := bucketKey(b)
	if v, ok := t.pending[bk][string(key)]; ok {
		return v
	}
	return t.d.buckets[bk][string(key)]
}

func (t *memTx) Put(b core.Bucket, key, value []byte) error {
	bk := bucketKey(b)
	p := t.pending[bk]
	if p == nil {
		p = map[string][]byte{}
		t.pending[bk] = p
	}
	p[string(key)] = bytes.Clone(value)
	return nil
}

// merged is the bucket as the transaction sees it.
func (t *memTx) merged(b core.Bucket) map[string][]byte {
	bk := bucketKey(b)
	base, p := t.d.buckets[bk], t.pending[bk]
	if len(p) == 0 {
		return base
	}
	m := make(map[string][]byte, len(base)+len(p))
	for k, v := range base {
		m[k] = v
	}
	for k, v := range p {
		m[k] = v
	}
	return m
}

func (t *memTx) Scan(b core.Bucket, after []byte, fn func(k, v []byte) error) error {
	m := t.merged(b)
	for _, k := range core.SortedKeys(m) {
		if after != nil && k <= string(after) {
			continue
		}
		if err := fn([]byte(k), m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTx) LastKey(b core.Bucket) []byte {
	var last string
	found := false
	for k := range t.merged(b) {
		if !found || k > last {
			last, found = k, true
		}
	}
	if !found {
		return nil
	}
	return []byte(last)
}
