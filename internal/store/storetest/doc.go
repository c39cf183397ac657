// Package storetest is the conformance suite every store.Store must pass, and
// a controllable clock for tests that depend on lease expiry. Running one
// suite against every implementation is what lets engine tests use the
// in-memory store and trust that production on a file behaves the same.
package storetest
