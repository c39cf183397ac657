package etcdstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/store"
	"github.com/cutover/cutover/internal/store/internal/core"
)

// DefaultPrefix is where the keys live when Options.Prefix is empty.
const DefaultPrefix = "/cutover/"

// DefaultDialTimeout bounds the first contact with the cluster when
// Options.DialTimeout is zero.
const DefaultDialTimeout = 5 * time.Second

// maxAttempts bounds how often one call re-runs its transaction because
// another writer changed what it read. Each retry means someone else made
// progress, so running out means heavy contention, reported as ErrBusy.
const maxAttempts = 64

// Options configure a Store.
type Options struct {
	// Endpoints are the cluster members' client URLs
	// ("http://127.0.0.1:2379", "https://etcd-1:2379") or host:port pairs.
	Endpoints []string
	// TLS, when set, is used for every connection (CA, client certificate).
	TLS *tls.Config
	// Username and Password authenticate against etcd's auth, when the
	// cluster has it enabled.
	Username, Password string
	// Prefix namespaces every key, so several installations can share one
	// cluster; DefaultPrefix when empty. It should end with "/".
	Prefix string
	// Clock stamps runs and events and decides lease expiry, as in every
	// store; the wall clock when nil. The etcd lease behind each lease
	// expires on the cluster's clock besides (see the package comment).
	Clock clock.Clock
	// DialTimeout bounds connecting at Open; DefaultDialTimeout when zero.
	DialTimeout time.Duration
}

// Store is a store.Store kept in an etcd cluster.
type Store struct {
	cli    *clientv3.Client
	prefix string
	clock  clock.Clock
	closed atomic.Bool

	mu sync.Mutex
	// held are the etcd leases this handle granted, by hostname, so a
	// renewal keeps its etcd lease alive instead of granting a new one.
	held map[string]heldLease
}

type heldLease struct {
	owner string
	id    clientv3.LeaseID
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.LeaseLister = (*Store)(nil)
)

// Open connects to the cluster and checks that it answers.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if len(opts.Endpoints) == 0 {
		return nil, fmt.Errorf("opening etcd store: no endpoints: %w", store.ErrInvalid)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   opts.Endpoints,
		TLS:         opts.TLS,
		Username:    opts.Username,
		Password:    opts.Password,
		DialTimeout: opts.DialTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", strings.Join(opts.Endpoints, ","), err)
	}
	s := New(cli, opts)
	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if _, err := cli.Get(pctx, s.prefix, clientv3.WithCountOnly()); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("connecting to etcd at %s: %w", strings.Join(opts.Endpoints, ","), err)
	}
	return s, nil
}

// New returns a Store over an existing client; Close closes the client.
// Only Prefix and Clock of opts are used.
func New(cli *clientv3.Client, opts Options) *Store {
	s := &Store{cli: cli, prefix: opts.Prefix, clock: opts.Clock, held: map[string]heldLease{}}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	return s
}

// Prefix returns the key prefix under which the store keeps its data.
func (s *Store) Prefix() string { return s.prefix }

// do runs fn as one transaction, again on fresh reads when another writer
// changed anything fn read before the transaction could commit.
func (s *Store) do(ctx context.Context, fn func(tx *etcdTx, now time.Time) error) error {
	for attempt := 1; ; attempt++ {
		if s.closed.Load() {
			return store.ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		tx := &etcdTx{ctx: ctx, kv: s.cli, prefix: s.prefix, reads: map[string]int64{}, vals: map[string][]byte{}, writes: map[string]write{}}
		err := fn(tx, s.clock.Now())
		if errors.Is(tx.err, rpctypes.ErrCompacted) && attempt < maxAttempts {
			continue // the read revision was compacted away meanwhile: read again
		}
		if tx.err != nil {
			return s.etcdErr(ctx, tx.err)
		}
		if err != nil {
			return err
		}
		ok, err := tx.commit()
		if err != nil {
			return s.etcdErr(ctx, err)
		}
		if ok {
			return nil
		}
		if tx.fence != nil {
			if err := tx.fence(); err != nil {
				return err
			}
		}
		if attempt == maxAttempts {
			return fmt.Errorf("etcd transaction kept conflicting with other writers after %d attempts: %w", attempt, store.ErrBusy)
		}
		// Someone else committed in between: back off a little, at random,
		// so that contenders do not keep colliding.
		d := time.Duration(rand.Int64N(int64(attempt)*int64(time.Millisecond) + 1))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// etcdErr wraps a client error, telling a closed store and a canceled call
// apart from a cluster problem.
func (s *Store) etcdErr(ctx context.Context, err error) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("etcd: %w", err)
}

// CreateRun implements store.Store.
func (s *Store) CreateRun(ctx context.Context, r store.Run) (out store.Run, err error) {
	err = s.do(ctx, func(tx *etcdTx, now time.Time) error {
		out, err = core.CreateRun(tx, r, now)
		return err
	})
	return out, err
}

// GetRun implements store.Store.
func (s *Store) GetRun(ctx context.Context, name string) (out store.Run, err error) {
	err = s.do(ctx, func(tx *etcdTx, _ time.Time) error {
		out, err = core.GetRun(tx, name)
		return err
	})
	return out, err
}

// ListRuns implements store.Store.
func (s *Store) ListRuns(ctx context.Context) (out []store.Run, err error) {
	err = s.do(ctx, func(tx *etcdTx, _ time.Time) error {
		out, err = core.ListRuns(tx)
		return err
	})
	return out, err
}

// Commit implements store.Store. Besides what every store checks, the
// transaction is conditioned on the etcd lease behind the presented lease
// still being attached to the hostname's owner key: a lease whose owner
// stopped renewing is refused once the cluster expired it, whatever the
// committer's clock says.
func (s *Store) Commit(ctx context.Context, lease store.Lease, r store.Run, events ...store.Event) (out store.Run, evs []store.Event, err error) {
	err = s.do(ctx, func(tx *etcdTx, now time.Time) error {
		cur, stamp, err := core.LeaseStamp(tx, lease.Hostname)
		if err != nil {
			return err
		}
		if id, ok := parseStamp(stamp); ok && cur.Owner == lease.Owner && cur.Token == lease.Token {
			key := s.ownerKey(lease.Hostname)
			tx.cmps = append(tx.cmps, clientv3.Compare(clientv3.LeaseValue(key), "=", int64(id)))
			tx.fence = func() error { return s.checkBacking(ctx, r.Name, cur, id) }
		}
		out, evs, err = core.Commit(tx, lease, r, events, now)
		return err
	})
	return out, evs, err
}

// checkBacking tells a Commit refused because the etcd lease behind the
// hostname's lease expired from one that lost a race with another writer
// (nil: run the transaction again).
func (s *Store) checkBacking(ctx context.Context, run string, holder store.Lease, id clientv3.LeaseID) error {
	resp, err := s.cli.Get(ctx, s.ownerKey(holder.Hostname))
	if err != nil {
		return s.etcdErr(ctx, err)
	}
	if len(resp.Kvs) == 1 && clientv3.LeaseID(resp.Kvs[0].Lease) == id {
		return nil
	}
	return fmt.Errorf("committing run %s: %w", run, &store.LockedError{Holder: holder, OwnerInfo: fmt.Sprintf(
		"the etcd lease %x behind it expired: its owner did not renew it in time, and another controller may take the run over", int64(id))})
}

// Request implements store.Store.
func (s *Store) Request(ctx context.Context, name, action string) (out store.Run, err error) {
	actor := store.ActorFrom(ctx)
	err = s.do(ctx, func(tx *etcdTx, now time.Time) error {
		out, err = core.Request(tx, name, action, actor, now)
		return err
	})
	return out, err
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, name string, afterSeq int64) (out []store.Event, err error) {
	err = s.do(ctx, func(tx *etcdTx, _ time.Time) error {
		out, err = core.Events(tx, name, afterSeq)
		return err
	})
	return out, err
}

// Leases implements store.LeaseLister.
func (s *Store) Leases(ctx context.Context) (out []store.Lease, err error) {
	err = s.do(ctx, func(tx *etcdTx, _ time.Time) error {
		out, err = core.Leases(tx)
		return err
	})
	return out, err
}

// Acquire implements store.Store. The lease is backed by an etcd lease of
// the same TTL (rounded up to whole seconds) attached to the hostname's
// owner key; renewing keeps that etcd lease alive. A lease held by another
// owner is taken over when it expired by this store's clock or when the
// cluster expired its etcd lease: an owner that died is replaced within the
// TTL as the cluster counts it.
func (s *Store) Acquire(ctx context.Context, hostname, owner string, ttl time.Duration) (out store.Lease, err error) {
	if s.closed.Load() {
		return store.Lease{}, store.ErrClosed
	}
	if hostname == "" || owner == "" || ttl <= 0 {
		// Invalid: let the shared rules say why, before granting anything.
		err = s.do(ctx, func(tx *etcdTx, now time.Time) error {
			out, err = core.Acquire(tx, hostname, owner, ttl, now, nil)
			return err
		})
		return out, err
	}
	id, fresh, err := s.backing(ctx, hostname, owner, ttl)
	if err != nil {
		return store.Lease{}, fmt.Errorf("acquiring lease on %s: %w", hostname, s.etcdErr(ctx, err))
	}
	live := &liveness{ctx: ctx, cli: s.cli, id: id}
	err = s.do(ctx, func(tx *etcdTx, now time.Time) error {
		out, err = core.Acquire(tx, hostname, owner, ttl, now, live)
		if err != nil {
			return err
		}
		tx.put(s.ownerKey(hostname), []byte(owner), id)
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if fresh {
			_, _ = s.cli.Revoke(context.WithoutCancel(ctx), id)
		}
		return store.Lease{}, err
	}
	s.held[hostname] = heldLease{owner: owner, id: id}
	return out, nil
}

// backing returns the etcd lease to back owner's lease on hostname: the one
// this handle holds, kept alive, or a new grant (fresh).
func (s *Store) backing(ctx context.Context, hostname, owner string, ttl time.Duration) (clientv3.LeaseID, bool, error) {
	s.mu.Lock()
	h, ok := s.held[hostname]
	s.mu.Unlock()
	if ok && h.owner == owner {
		_, err := s.cli.KeepAliveOnce(ctx, h.id)
		if err == nil {
			return h.id, false, nil
		}
		if !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return 0, false, err
		}
		// The cluster expired it: grant another; the shared rules decide
		// whether this owner still holds the lease.
	}
	secs := int64(math.Ceil(ttl.Seconds()))
	if secs < 1 {
		secs = 1
	}
	g, err := s.cli.Grant(ctx, secs)
	if err != nil {
		return 0, false, err
	}
	return g.ID, true, nil
}

// Release implements store.Store, revoking the etcd lease behind it.
func (s *Store) Release(ctx context.Context, lease store.Lease) error {
	var stamp string
	err := s.do(ctx, func(tx *etcdTx, now time.Time) error {
		var err error
		if _, stamp, err = core.LeaseStamp(tx, lease.Hostname); err != nil {
			return err
		}
		return core.Release(tx, lease, now)
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.held, lease.Hostname)
	s.mu.Unlock()
	if id, ok := parseStamp(stamp); ok {
		if _, err := s.cli.Revoke(ctx, id); err != nil && !errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return fmt.Errorf("releasing lease on %s: revoking etcd lease %x: %w", lease.Hostname, int64(id), s.etcdErr(ctx, err))
		}
	}
	return nil
}

// Close implements store.Store: it closes the client. Leases are not
// released: an engine releases its own, and a lease left behind expires.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.cli.Close()
}

// ownerKey is the key, attached to the etcd lease, that names the owner of
// the lease on hostname while that etcd lease lives.
func (s *Store) ownerKey(hostname string) string {
	return bucketPrefix(s.prefix, core.Bucket{"owners"}) + hostname
}

// stampPrefix marks a liveness stamp that names an etcd lease.
const stampPrefix = "etcd-lease:"

func parseStamp(stamp string) (clientv3.LeaseID, bool) {
	rest, ok := strings.CutPrefix(stamp, stampPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 16, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return clientv3.LeaseID(id), true
}

// liveness is core.Liveness over etcd leases: an owner whose etcd lease the
// cluster expired is gone.
type liveness struct {
	ctx context.Context
	cli *clientv3.Client
	id  clientv3.LeaseID
}

func (l *liveness) Stamp(string) string { return stampPrefix + strconv.FormatInt(int64(l.id), 16) }

func (l *liveness) Check(_, stamp string) (bool, string) {
	id, ok := parseStamp(stamp)
	if !ok {
		return false, ""
	}
	resp, err := l.cli.TimeToLive(l.ctx, id)
	if errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return true, fmt.Sprintf("its etcd lease %x has expired", int64(id))
	}
	if err != nil {
		return false, fmt.Sprintf("its etcd lease %x could not be checked: %v", int64(id), err)
	}
	if resp.TTL < 0 { // -1: revoked; 0 is less than a second left
		return true, fmt.Sprintf("its etcd lease %x has expired", int64(id))
	}
	return false, fmt.Sprintf("its etcd lease %x has %ds left", int64(id), resp.TTL)
}
