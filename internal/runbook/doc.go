// Package runbook compiles a plan and the state observed in the world into
// the ordered steps a run executes.
//
// Compile is a pure, deterministic function: the same plan and the same
// observed state give byte-identical runbooks. A runbook remembers a
// fingerprint of the state it was computed from, so apply can refuse one
// whose world has moved on, and it is stored with the run and never
// recompiled on resume. Each Step is a struct with exactly one field set;
// the engine has one switch over them.
//
// Strategy rules live here, one function per strategy, registered in one
// explicit map (strategies).
package runbook
