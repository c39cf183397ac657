// Package engine executes a runbook durably.
//
// Every transition is committed to the store, with its events, before the
// engine acts on it, so a process killed at any moment resumes from the
// recorded position: a change whose intent was recorded but whose outcome
// was not is reconciled against what the provider serves (never applied
// twice), and every wait is a stored deadline (never restarted from zero).
//
// Time comes from an injected clock.Clock; with a fake clock a 48-hour TTL wait
// takes microseconds. Gates return measurements; the engine decides what a
// breach means (rollback or pause) from the gate's policy.
package engine
