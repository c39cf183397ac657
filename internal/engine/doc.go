// Package engine executes a runbook durably.
//
// Every transition is committed to the store, with its events, before the
// engine acts on it, so a process killed at any moment resumes from the
// recorded position: a change whose intent was recorded but whose outcome
// was not is reconciled against what the provider serves (never applied
// twice), and every wait is a stored deadline (never restarted from zero).
//
// A run is executed under its hostname's lease, renewed as the run goes and,
// whatever is left of it, right before every call that changes the world (a
// DNS change, an alias move): a process that was stopped past its lease and
// lost the run to another controller learns it from the store there and
// never makes the call, and its commits are refused (fencing). Standby lets a
// second controller wait for the lease and take the run over when its owner
// dies; a change the earlier owner made that the new one then finds in place
// is recorded as reconciled, not applied again.
//
// Time comes from an injected clock.Clock; with a fake clock a 48-hour TTL wait
// takes microseconds. Gates return measurements; the engine decides what a
// breach means (rollback or pause) from the gate's policy.
package engine
