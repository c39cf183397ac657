// Package memstore is a run store held in memory, with the same semantics as
// the file-backed boltstore (both are built on the same core and pass the
// same storetest conformance suite). Engine unit tests use it so they run
// without a file, and can still rely on revisions, fencing and gap-free
// events behaving as in production.
//
// Nothing survives the process. Handle gives a second view onto the same
// data, standing in for "another process" in tests.
package memstore
