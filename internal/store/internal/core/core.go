package core

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/cutover/cutover/internal/store"
)

// Bucket names a bucket by its path: {"runs"}, {"events", "<run>"}.
type Bucket []string

// Tx is one atomic transaction over buckets of byte keys kept in ascending
// byte order. Writes become visible to others only if the whole transaction
// succeeds.
type Tx interface {
	// Get returns the value under key, or nil when absent. The slice may be
	// valid only until the transaction ends.
	Get(b Bucket, key []byte) []byte
	// Put stores value under key, creating the bucket as needed.
	Put(b Bucket, key, value []byte) error
	// Scan calls fn for every key greater than after (every key when after is
	// nil), in ascending order; an error from fn stops the scan.
	Scan(b Bucket, after []byte, fn func(k, v []byte) error) error
	// LastKey returns the greatest key of b, or nil when b is empty or absent.
	LastKey(b Bucket) []byte
}

// Liveness lets a store that knows about processes take over a lease whose
// owner died without waiting for it to expire.
type Liveness interface {
	// Stamp returns what identifies owner's process beyond its name (e.g. its
	// start time, so a reused pid is not mistaken for the owner), or "".
	Stamp(owner string) string
	// Check reports whether owner is known to be gone, with a human-readable
	// note either way ("" when nothing is known).
	Check(owner, stamp string) (dead bool, info string)
}

var (
	runsBucket   = Bucket{"runs"}
	leasesBucket = Bucket{"leases"}
	// runbooksBucket keeps each run's runbook apart from the run: it is
	// fixed at creation and can be large (a bulk run's thousands of
	// hostnames), so a commit neither decodes nor rewrites it.
	runbooksBucket = Bucket{"runbooks"}
)

func eventsBucket(run string) Bucket { return Bucket{"events", run} }

// leaseRecord is a lease as stored, with what Liveness needs to judge it.
type leaseRecord struct {
	store.Lease
	Stamp string `json:"stamp,omitempty"`
}

// maxNameLen bounds run names and hostnames: they are keys, and they are
// shown in terminals.
const maxNameLen = 253

func checkName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("%s is empty: %w", kind, store.ErrInvalid)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%s %.20q… is longer than %d bytes: %w", kind, name, maxNameLen, store.ErrInvalid)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s %q contains control characters: %w", kind, name, store.ErrInvalid)
	}
	return nil
}

func checkRun(r *store.Run) error {
	if err := checkName("run name", r.Name); err != nil {
		return err
	}
	if err := checkName("hostname", r.Hostname); err != nil {
		return fmt.Errorf("run %s: %w", r.Name, err)
	}
	if !r.State.Valid() {
		return fmt.Errorf("run %s: unknown state %q: %w", r.Name, r.State, store.ErrInvalid)
	}
	if r.Requested != "" && !store.ValidRequest(r.Requested) {
		return fmt.Errorf("run %s: unknown request %q: %w", r.Name, r.Requested, store.ErrInvalid)
	}
	if len(r.Runbook) > 0 && !json.Valid(r.Runbook) {
		return fmt.Errorf("run %s: runbook is not valid JSON: %w", r.Name, store.ErrInvalid)
	}
	for k, v := range r.Data {
		if len(v) > 0 && !json.Valid(v) {
			return fmt.Errorf("run %s: data %q is not valid JSON: %w", r.Name, k, store.ErrInvalid)
		}
	}
	return nil
}

func getRun(tx Tx, name string) (store.Run, bool, error) {
	r, ok, err := getRunOnly(tx, name)
	if ok {
		withRunbook(tx, &r)
	}
	return r, ok, err
}

// getRunOnly reads a run without the runbook kept apart from it: a
// runbook of many hostnames is megabytes, and a commit only compares it.
func getRunOnly(tx Tx, name string) (store.Run, bool, error) {
	v := tx.Get(runsBucket, []byte(name))
	if v == nil {
		return store.Run{}, false, nil
	}
	var r store.Run
	if err := json.Unmarshal(v, &r); err != nil {
		return store.Run{}, false, fmt.Errorf("decoding run %s: %w", name, err)
	}
	return r, true, nil
}

// withRunbook fills in the runbook kept apart from the run (runs written
// before it was kept apart hold it inline).
func withRunbook(tx Tx, r *store.Run) {
	if len(r.Runbook) == 0 {
		if v := tx.Get(runbooksBucket, []byte(r.Name)); v != nil {
			r.Runbook = append(json.RawMessage(nil), v...)
		}
	}
}

// putRun stores r and returns it as a reload would see it.
func putRun(tx Tx, r store.Run) (store.Run, error) {
	rb := r.Runbook
	if len(rb) > 0 && !bytes.Equal(tx.Get(runbooksBucket, []byte(r.Name)), rb) {
		if err := tx.Put(runbooksBucket, []byte(r.Name), rb); err != nil {
			return store.Run{}, fmt.Errorf("writing the runbook of run %s: %w", r.Name, err)
		}
	}
	r.Runbook = nil
	v, err := json.Marshal(r)
	if err != nil {
		return store.Run{}, fmt.Errorf("encoding run %s: %w", r.Name, err)
	}
	if err := tx.Put(runsBucket, []byte(r.Name), v); err != nil {
		return store.Run{}, fmt.Errorf("writing run %s: %w", r.Name, err)
	}
	var out store.Run
	if err := json.Unmarshal(v, &out); err != nil {
		return store.Run{}, fmt.Errorf("decoding run %s: %w", r.Name, err)
	}
	// The caller's bytes, not a copy: runbooks are never changed in place.
	out.Runbook = rb
	if len(rb) == 0 {
		withRunbook(tx, &out)
	}
	return out, nil
}

// CreateRun stores a new run at revision 1.
func CreateRun(tx Tx, r store.Run, now time.Time) (store.Run, error) {
	if r.State == "" {
		r.State = store.StatePending
	}
	if err := checkRun(&r); err != nil {
		return store.Run{}, fmt.Errorf("creating run: %w", err)
	}
	if _, ok, err := getRun(tx, r.Name); err != nil {
		return store.Run{}, err
	} else if ok {
		return store.Run{}, fmt.Errorf("creating run %s: %w", r.Name, store.ErrExists)
	}
	r.CreatedAt, r.UpdatedAt, r.Revision = now, now, 1
	return putRun(tx, r)
}

// GetRun reads one run.
func GetRun(tx Tx, name string) (store.Run, error) {
	r, ok, err := getRun(tx, name)
	if err != nil {
		return store.Run{}, err
	}
	if !ok {
		return store.Run{}, fmt.Errorf("run %s: %w", name, store.ErrNotFound)
	}
	return r, nil
}

// ListRuns reads every run in name order (the byte order of the keys).
func ListRuns(tx Tx) ([]store.Run, error) {
	runs := []store.Run{}
	err := tx.Scan(runsBucket, nil, func(k, v []byte) error {
		var r store.Run
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decoding run %s: %w", k, err)
		}
		withRunbook(tx, &r)
		runs = append(runs, r)
		return nil
	})
	return runs, err
}

func getLease(tx Tx, hostname string) (leaseRecord, bool, error) {
	v := tx.Get(leasesBucket, []byte(hostname))
	if v == nil {
		return leaseRecord{Lease: store.Lease{Hostname: hostname}}, false, nil
	}
	var l leaseRecord
	if err := json.Unmarshal(v, &l); err != nil {
		return leaseRecord{}, false, fmt.Errorf("decoding lease on %s: %w", hostname, err)
	}
	return l, true, nil
}

func putLease(tx Tx, l leaseRecord) error {
	v, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding lease on %s: %w", l.Hostname, err)
	}
	if err := tx.Put(leasesBucket, []byte(l.Hostname), v); err != nil {
		return fmt.Errorf("writing lease on %s: %w", l.Hostname, err)
	}
	return nil
}

// checkLease verifies that lease is the current, unexpired one for hostname.
func checkLease(tx Tx, hostname string, lease store.Lease, now time.Time) error {
	cur, ok, err := getLease(tx, hostname)
	if err != nil {
		return err
	}
	switch {
	case !ok:
		return &store.LockedError{Holder: cur.Lease, OwnerInfo: "no lease was ever acquired"}
	case lease.Hostname != hostname:
		return &store.LockedError{Holder: cur.Lease,
			OwnerInfo: fmt.Sprintf("the lease presented is for %s", lease.Hostname)}
	case cur.Owner != lease.Owner || cur.Token != lease.Token:
		return &store.LockedError{Holder: cur.Lease, OwnerInfo: fmt.Sprintf(
			"token %d of %s is superseded", lease.Token, ownerOrNobody(lease.Owner))}
	case !now.Before(cur.Expires):
		return &store.LockedError{Holder: cur.Lease, OwnerInfo: fmt.Sprintf(
			"the lease expired at %s; renew it before it lapses", cur.Expires.UTC().Format(time.RFC3339Nano))}
	}
	return nil
}

func ownerOrNobody(o string) string {
	if o == "" {
		return "nobody"
	}
	return o
}

func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func seqKey(seq int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(seq))
	return k
}

func lastSeq(tx Tx, run string) int64 {
	k := tx.LastKey(eventsBucket(run))
	if len(k) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(k))
}

// appendEvents numbers events after the run's last one and stores them.
func appendEvents(tx Tx, run string, events []store.Event, now time.Time) ([]store.Event, error) {
	for i, e := range events {
		if e.Type == "" {
			return nil, fmt.Errorf("run %s: event %d has no type: %w", run, i, store.ErrInvalid)
		}
		if len(e.Data) > 0 && !json.Valid(e.Data) {
			return nil, fmt.Errorf("run %s: event %d (%s) data is not valid JSON: %w", run, i, e.Type, store.ErrInvalid)
		}
	}
	seq := lastSeq(tx, run)
	out := make([]store.Event, 0, len(events))
	for _, e := range events {
		seq++
		e.Seq, e.Run = seq, run
		if e.Time.IsZero() {
			e.Time = now
		}
		v, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encoding event %d of run %s: %w", seq, run, err)
		}
		if err := tx.Put(eventsBucket(run), seqKey(seq), v); err != nil {
			return nil, fmt.Errorf("writing event %d of run %s: %w", seq, run, err)
		}
		var back store.Event
		if err := json.Unmarshal(v, &back); err != nil {
			return nil, fmt.Errorf("decoding event %d of run %s: %w", seq, run, err)
		}
		out = append(out, back)
	}
	return out, nil
}

// Commit writes r under lease if its revision is current and appends events.
// Every check runs before the first write, so a refused commit writes nothing.
func Commit(tx Tx, lease store.Lease, r store.Run, events []store.Event, now time.Time) (store.Run, []store.Event, error) {
	if err := checkName("run name", r.Name); err != nil {
		return store.Run{}, nil, fmt.Errorf("committing run: %w", err)
	}
	cur, ok, err := getRunOnly(tx, r.Name)
	if err != nil {
		return store.Run{}, nil, err
	}
	if !ok {
		return store.Run{}, nil, fmt.Errorf("committing run %s: %w", r.Name, store.ErrNotFound)
	}
	stored := cur.Runbook // inline in runs written before runbooks were kept apart
	if len(stored) == 0 {
		stored = tx.Get(runbooksBucket, []byte(r.Name))
	}
	if err := checkLease(tx, cur.Hostname, lease, now); err != nil {
		return store.Run{}, nil, fmt.Errorf("committing run %s: %w", r.Name, err)
	}
	if r.Revision != cur.Revision {
		return store.Run{}, nil, fmt.Errorf("committing run %s at revision %d, stored is %d: %w",
			r.Name, r.Revision, cur.Revision, store.ErrStale)
	}
	if r.Hostname != cur.Hostname {
		return store.Run{}, nil, fmt.Errorf("committing run %s: hostname is fixed at %s, got %s: %w",
			r.Name, cur.Hostname, r.Hostname, store.ErrInvalid)
	}
	keepRunbook := len(r.Runbook) == 0
	if !keepRunbook && !sameJSON(r.Runbook, stored) {
		return store.Run{}, nil, fmt.Errorf("committing run %s: the runbook is fixed at creation: %w", r.Name, store.ErrInvalid)
	}
	if r.PlanDigest == "" {
		r.PlanDigest = cur.PlanDigest
	} else if r.PlanDigest != cur.PlanDigest {
		return store.Run{}, nil, fmt.Errorf("committing run %s: the plan digest is fixed at creation: %w", r.Name, store.ErrInvalid)
	}
	if err := checkRun(&r); err != nil {
		return store.Run{}, nil, fmt.Errorf("committing run: %w", err)
	}
	if keepRunbook {
		// Checked when it was stored; kept apart, so not rewritten.
		r.Runbook = cur.Runbook
	}
	r.CreatedAt, r.UpdatedAt, r.Revision = cur.CreatedAt, now, cur.Revision+1
	evs, err := appendEvents(tx, r.Name, events, now)
	if err != nil {
		return store.Run{}, nil, fmt.Errorf("committing run %s: %w", r.Name, err)
	}
	saved, err := putRun(tx, r)
	if err != nil {
		return store.Run{}, nil, err
	}
	return saved, evs, nil
}

// Request records an operator request by actor and logs it.
func Request(tx Tx, name, action, actor string, now time.Time) (store.Run, error) {
	if !store.ValidRequest(action) {
		return store.Run{}, fmt.Errorf("requesting %q on run %s: unknown action (want one of %s): %w",
			action, name, strings.Join(store.Requests, ", "), store.ErrInvalid)
	}
	r, err := GetRun(tx, name)
	if err != nil {
		return store.Run{}, fmt.Errorf("requesting %s: %w", action, err)
	}
	if r.State.Terminal() {
		return store.Run{}, fmt.Errorf("requesting %s on run %s: the run is %s: %w", action, name, r.State, store.ErrInvalid)
	}
	r.Requested, r.UpdatedAt, r.Revision = action, now, r.Revision+1
	data, _ := json.Marshal(map[string]string{"action": action, "by": actor})
	ev := store.Event{Type: store.EventRequested, Step: r.Step, Message: action, Data: data}
	if _, err := appendEvents(tx, name, []store.Event{ev}, now); err != nil {
		return store.Run{}, fmt.Errorf("requesting %s: %w", action, err)
	}
	return putRun(tx, r)
}

// Events reads the run's events after afterSeq.
func Events(tx Tx, name string, afterSeq int64) ([]store.Event, error) {
	if _, err := GetRun(tx, name); err != nil {
		return nil, err
	}
	var after []byte
	if afterSeq > 0 {
		after = seqKey(afterSeq)
	}
	events := []store.Event{}
	err := tx.Scan(eventsBucket(name), after, func(k, v []byte) error {
		var e store.Event
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decoding event of run %s: %w", name, err)
		}
		events = append(events, e)
		return nil
	})
	return events, err
}

// Acquire takes or renews the lease on hostname for owner.
func Acquire(tx Tx, hostname, owner string, ttl time.Duration, now time.Time, live Liveness) (store.Lease, error) {
	if err := checkName("hostname", hostname); err != nil {
		return store.Lease{}, fmt.Errorf("acquiring lease: %w", err)
	}
	if err := checkName("lease owner", owner); err != nil {
		return store.Lease{}, fmt.Errorf("acquiring lease on %s: %w", hostname, err)
	}
	if ttl <= 0 {
		return store.Lease{}, fmt.Errorf("acquiring lease on %s: ttl %s is not positive: %w", hostname, ttl, store.ErrInvalid)
	}
	cur, _, err := getLease(tx, hostname)
	if err != nil {
		return store.Lease{}, err
	}
	next := cur
	switch {
	case cur.Owner == owner:
		// Renewal keeps the token: nobody else wrote in between, because
		// taking the lease would have changed the owner.
	case cur.Owner == "":
		next.Token++
	default:
		expired := !now.Before(cur.Expires)
		var dead bool
		var info string
		if live != nil {
			dead, info = live.Check(cur.Owner, cur.Stamp)
		}
		if !expired && !dead {
			return store.Lease{}, fmt.Errorf("acquiring lease on %s for %s: %w", hostname, owner,
				&store.LockedError{Holder: cur.Lease, OwnerInfo: info})
		}
		next.Token++
	}
	next.Owner, next.Expires, next.Stamp = owner, now.Add(ttl), ""
	if live != nil {
		next.Stamp = live.Stamp(owner)
	}
	if err := putLease(tx, next); err != nil {
		return store.Lease{}, err
	}
	return next.Lease, nil
}

// Release gives up lease if it is the current one; the token is kept so the
// next owner's token is higher still.
func Release(tx Tx, lease store.Lease, now time.Time) error {
	cur, ok, err := getLease(tx, lease.Hostname)
	if err != nil {
		return err
	}
	if !ok || cur.Owner == "" || cur.Owner != lease.Owner || cur.Token != lease.Token {
		return fmt.Errorf("releasing lease on %s: %w", lease.Hostname, &store.LockedError{
			Holder: cur.Lease, OwnerInfo: fmt.Sprintf("token %d of %s is not the current lease", lease.Token, ownerOrNobody(lease.Owner))})
	}
	cur.Owner, cur.Expires, cur.Stamp = "", now, ""
	return putLease(tx, cur)
}

// SortedKeys returns the keys of m in ascending byte order, for
// map-backed Tx implementations.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Leases reads every lease ever acquired, in hostname order; a released one
// has an empty Owner and keeps its token.
func Leases(tx Tx) ([]store.Lease, error) {
	leases := []store.Lease{}
	err := tx.Scan(leasesBucket, nil, func(k, v []byte) error {
		var l leaseRecord
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("decoding lease on %s: %w", k, err)
		}
		leases = append(leases, l.Lease)
		return nil
	})
	return leases, err
}

// LeaseStamp returns the liveness stamp stored with the lease on hostname,
// or "" when there is none.
func LeaseStamp(tx Tx, hostname string) (store.Lease, string, error) {
	l, _, err := getLease(tx, hostname)
	return l.Lease, l.Stamp, err
}
