package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/internal/core"
)

// DefaultTimeout is how long a call waits for another process to release the
// file when Options.Timeout is zero. Transactions last milliseconds, so a
// longer wait means something is wrong and the user should hear about it.
const DefaultTimeout = 5 * time.Second

// Options configure a Store. The zero value is usable.
type Options struct {
	// Clock stamps runs and events and decides lease expiry; the wall clock
	// when nil.
	Clock clock.Clock
	// Timeout bounds the wait for the file lock held by another process;
	// DefaultTimeout when zero. A context deadline shortens it.
	Timeout time.Duration
}

// Store is a store.Store backed by one bbolt file.
type Store struct {
	path    string
	clock   clock.Clock
	timeout time.Duration
	sem     chan struct{}
	live    core.Liveness
	closed  atomic.Bool
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.LeaseLister = (*Store)(nil)
)

// semaphores serialise this process's calls per file: bbolt's lock is a
// flock per open file, which would make two calls of one process poll each
// other in 50 ms steps.
var (
	semMu      sync.Mutex
	semaphores = map[string]chan struct{}{}
)

func semaphore(path string) chan struct{} {
	semMu.Lock()
	defer semMu.Unlock()
	s, ok := semaphores[path]
	if !ok {
		s = make(chan struct{}, 1)
		semaphores[path] = s
	}
	return s
}

var buckets = []string{"runs", "events", "leases"}

// Open prepares the state file at path (store.DefaultPath() when empty),
// creating its directory (0700) and the file (0600) if needed. It does not
// keep the file open.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		p, err := store.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening state file %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("creating state directory: %w", err)
	}
	s := &Store{
		path:    abs,
		clock:   opts.Clock,
		timeout: opts.Timeout,
		sem:     semaphore(abs),
		live:    newLiveness(),
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	// Create the file and its buckets now, so a bad path or a busy file is
	// reported at open rather than at the first write.
	err = s.update(context.Background(), func(btx *bolt.Tx, _ core.Tx, _ time.Time) error {
		for _, b := range buckets {
			if _, err := btx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the absolute path of the state file.
func (s *Store) Path() string { return s.path }

// lock takes this process's turn on the file.
func (s *Store) lock(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlock() { <-s.sem }

func (s *Store) open(ctx context.Context, readOnly bool) (*bolt.DB, error) {
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = left
		}
		if timeout <= 0 {
			return nil, ctx.Err()
		}
	}
	db, err := bolt.Open(s.path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: readOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("state file %s stayed locked by another process for %s: %w", s.path, timeout, store.ErrBusy)
	}
	if err != nil {
		return nil, fmt.Errorf("opening state file %s: %w", s.path, err)
	}
	return db, nil
}

// update runs fn in one write transaction, fsynced before it returns.
func (s *Store) update(ctx context.Context, fn func(btx *bolt.Tx, tx core.Tx, now time.Time) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	db, err := s.open(ctx, false)
	if err != nil {
		return err
	}
	err = db.Update(func(btx *bolt.Tx) error {
		return fn(btx, boltTx{btx}, s.clock.Now())
	})
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing state file %s: %w", s.path, cerr)
	}
	return err
}

// view runs fn in one read-only transaction under a shared lock. A file that
// does not exist yet reads as empty rather than being created by a reader.
func (s *Store) view(ctx context.Context, fn func(tx core.Tx) error) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.unlock()
	if fi, err := os.Stat(s.path); errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return fn(emptyTx{})
	}
	db, err := s.open(ctx, true)
	if err != nil {
		return err
	}
	err = db.View(func(btx *bolt.Tx) error { return fn(boltTx{btx}) })
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing state file %s: %w", s.path, cerr)
	}
	return err
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, r store.Run) (out store.Run, err error) {
	err = s.update(ctx, func(_ *bolt.Tx, tx core.Tx, now time.Time) error {
		out, err = core.CreateRun(tx, r, now)
		return err
	})
	return out, err
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, name string) (out store.Run, err error) {
	err = s.view(ctx, func(tx core.Tx) error {
		out, err = core.GetRun(tx, name)
		return err
	})
	return out, err
}

// ListRuns implements store.Store.
func (s *Store) ListRuns(ctx context.Context) (out []store.Run, err error) {
	err = s.view(ctx, func(tx core.Tx) error {
		out, err = core.ListRuns(tx)
		return err
	})
	return out, err
}

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, lease store.Lease, r store.Run, events ...store.Event) (out store.Run, evs []store.Event, err error) {
	err = s.update(ctx, func(_ *bolt.Tx, tx core.Tx, now time.Time) error {
		out, evs, err = core.Commit(tx, lease, r, events, now)
		return err
	})
	return out, evs, err
}

// Request implements store.Store.
func (s *Store) Request(ctx context.Context, name, action string) (out store.Run, err error) {
	actor := store.ActorFrom(ctx)
	err = s.update(ctx, func(_ *bolt.Tx, tx core.Tx, now time.Time) error {
		out, err = core.Request(tx, name, action, actor, now)
		return err
	})
	return out, err
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, name string, afterSeq int64) (out []store.Event, err error) {
	err = s.view(ctx, func(tx core.Tx) error {
		out, err = core.Events(tx, name, afterSeq)
		return err
	})
	return out, err
}

// Acquire implements store.Store, taking over leases of dead local processes.
func (s *Store) Acquire(ctx context.Context, hostname, owner string, ttl time.Duration) (out store.Lease, err error) {
	err = s.update(ctx, func(_ *bolt.Tx, tx core.Tx, now time.Time) error {
		out, err = core.Acquire(tx, hostname, owner, ttl, now, s.live)
		return err
	})
	return out, err
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, lease store.Lease) error {
	return s.update(ctx, func(_ *bolt.Tx, tx core.Tx, now time.Time) error {
		return core.Release(tx, lease, now)
	})
}

// Leases implements store.LeaseLister.
func (s *Store) Leases(ctx context.Context) (out []store.Lease, err error) {
	err = s.view(ctx, func(tx core.Tx) error {
		out, err = core.Leases(tx)
		return err
	})
	return out, err
}

// Close implements store.Store. The file is not held open between calls, so
// there is nothing to flush; Close only refuses later calls.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// boltTx adapts a bbolt transaction to core.Tx.
type boltTx struct{ tx *bolt.Tx }

func (t boltTx) bucket(b core.Bucket) *bolt.Bucket {
	if len(b) == 0 {
		return nil
	}
	bk := t.tx.Bucket([]byte(b[0]))
	for _, name := range b[1:] {
		if bk == nil {
			return nil
		}
		bk = bk.Bucket([]byte(name))
	}
	return bk
}

func (t boltTx) Get(b core.Bucket, key []byte) []byte {
	if bk := t.bucket(b); bk != nil {
		return bk.Get(key)
	}
	return nil
}

func (t boltTx) Put(b core.Bucket, key, value []byte) error {
	bk, err := t.tx.CreateBucketIfNotExists([]byte(b[0]))
	if err != nil {
		return err
	}
	for _, name := range b[1:] {
		if bk, err = bk.CreateBucketIfNotExists([]byte(name)); err != nil {
			return err
		}
	}
	return bk.Put(key, value)
}

func (t boltTx) Scan(b core.Bucket, after []byte, fn func(k, v []byte) error) error {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	c := bk.Cursor()
	var k, v []byte
	if after == nil {
		k, v = c.First()
	} else {
		k, v = c.Seek(after)
		if k != nil && string(k) == string(after) {
			k, v = c.Next()
		}
	}
	for ; k != nil; k, v = c.Next() {
		if v == nil { // a nested bucket, not a value
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

func (t boltTx) LastKey(b core.Bucket) []byte {
	bk := t.bucket(b)
	if bk == nil {
		return nil
	}
	k, _ := bk.Cursor().Last()
	return k
}

// emptyTx reads as a store with nothing in it.
type emptyTx struct{}

func (emptyTx) Get(core.Bucket, []byte) []byte { return nil }
func (emptyTx) Put(core.Bucket, []byte, []byte) error {
	return errors.New("writing through a read-only transaction")
}
func (emptyTx) Scan(core.Bucket, []byte, func(k, v []byte) error) error { return nil }
func (emptyTx) LastKey(core.Bucket) []byte                              { return nil }
