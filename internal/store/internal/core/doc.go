// Package core holds the semantics every run store shares, written once over
// a minimal ordered key-value transaction (Tx), so that the file-backed store
// and the in-memory one cannot drift apart: validation, compare-and-swap on
// revisions, gap-free event sequences, and lease fencing all live here.
//
// An implementation only has to provide Tx (buckets of sorted byte keys) and
// run each call in one atomic transaction. Values are encoded as JSON by this
// package, so both stores hand back exactly what a reload would.
package core
