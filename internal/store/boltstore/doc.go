// Package boltstore is the default run store: one bbolt file, by default at
// store.DefaultPath(), shared by every cutover process of the user.
//
// `cutover apply` runs for hours while `cutover status`, `pause` and
// `rollback` come and go. bbolt takes an exclusive file lock for as long as a
// database is open, so this store never keeps the file open: every call
// opens it, runs one transaction and closes it again, and a call that finds
// the file locked waits up to Options.Timeout before failing with
// store.ErrBusy. Reads open the file read-only under a shared lock. Within one
// process, calls on the same file queue on an in-process semaphore instead of
// polling the file lock.
//
// Every write transaction is fsynced before it returns (bbolt's default):
// after a crash the file holds exactly the transactions that returned, so a
// resumed run never repeats a step it recorded nor forgets one.
//
// Layout: bucket "runs" maps a run name to its JSON; bucket "events" holds one
// sub-bucket per run mapping the big-endian sequence number to the event's
// JSON; bucket "leases" maps a hostname to its lease. The file is plain text
// JSON on disk (mode 0600, directory 0700): runs and events must never carry
// secrets.
//
// A lease owned by "host:pid" (store.ProcessOwner) on this machine whose
// process no longer exists (or whose pid now belongs to a process started
// later) is taken over at once, so `kill -9` followed by an immediate resume
// does not wait for the lease to expire.
package boltstore
