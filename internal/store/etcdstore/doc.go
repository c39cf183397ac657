// Package etcdstore keeps runs in an etcd cluster, so that several
// controllers can share them and one takes over the runs of another that
// died. It is the same store as the others (it passes storetest): the
// semantics live in store/internal/core, written over a transaction that
// this package implements on etcd.
//
// Every call is one optimistic etcd transaction: reads are taken at one
// revision of the cluster, and the writes are submitted in a single Txn
// conditioned on nothing read having changed since (each key's ModRevision,
// each scanned range's newest ModRevision). A Commit therefore lands only if
// the run's revision and the hostname's lease (owner and fencing token) are
// still the ones it checked; an ex-owner's write is refused, never merged.
//
// A lease is backed by an etcd lease: Acquire grants one with the lease's
// TTL and attaches to it the hostname's owner key; renewing keeps it alive.
// Commit is also conditioned on that key still being attached to the same
// etcd lease, so an owner that stalled (paused, partitioned) past the TTL as
// the cluster counts it is refused even while its own clock says it still
// holds the lease, and Acquire by another owner takes over a lease whose
// etcd lease the cluster expired.
//
// Keys, under Options.Prefix (default /cutover/):
//
//	runs/<run>                 the run (JSON)
//	events/<run>/<seq>         its events, seq as 8 big-endian bytes
//	leases/<hostname>          the lease: owner, token, expiry, etcd lease
//	owners/<hostname>          the owner, attached to the etcd lease
//
// Bucket names in paths are escaped (url.PathEscape), so a run named "a/b"
// cannot read another's events.
package etcdstore
