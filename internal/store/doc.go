// Package store keeps runs durable: a run's compiled runbook, its position,
// its durable timers, the operator requests not yet acted on, and its
// append-only event log. The engine must survive `kill -9` at any moment, so
// it saves progress after every transition and, on restart, reads the run
// back and continues from there: no step applied twice, no wait restarted
// from zero.
//
// Store is an interface so the backing can change without touching the
// engine: boltstore (one file, the default), memstore (tests) and etcdstore
// (an etcd cluster shared by several controllers, which take over each
// other's runs; storeurl opens one from `--store etcd://…`). Its guarantees
// are the ones the distributed backing gives too:
//
//   - Revisions. Every write bumps Run.Revision and Commit is a
//     compare-and-swap on it, so a writer that missed a write (an operator
//     request, another engine) gets ErrStale instead of overwriting it.
//   - One transaction per transition. Commit writes the run and appends its
//     events atomically: after a crash the log and the position agree.
//   - Leases with fencing. Writes go through a per-hostname Lease whose Token
//     grows with every new owner; a former owner that stalled past expiry is
//     refused (ErrLocked) even if it still believes it holds the lease.
//
// Run and Event are stored as plain JSON and must never carry secrets. An
// Event's Type is one of EventTypes (events.go): the constants are the
// contract the CLI, dashboards and webhooks match on, never message text.
//
// storetest holds the conformance suite every implementation passes.
package store
