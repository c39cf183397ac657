// Command engine measures the engine's own time on the real clock: how long
// it takes, after a gate's metric turns bad, until the rollback change set
// reaches the DNS provider, and what one step of a run costs with each
// state store.
//
// The physical limit of a rollback is the gate interval: a breach is seen
// at the next scheduled evaluation, not earlier. Everything after that
// evaluation falls due is the engine's own time (timer wake-up, re-reading
// the run, the gate's commit, the rollback's commits), which is what this
// command isolates. A run of no-wait steps shows the per-step cost, set
// against the raw cost of one state-file commit measured in the same run:
// the floor a step cannot go below.
//
//	go run ./bench/engine [-trials 50] [-intervals 100ms,500ms,1s] [-steps 50] [-results bench/RESULTS.md]
//
// Results are ratios and distributions from one run on one machine; no
// threshold is asserted.
package main
