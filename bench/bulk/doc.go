// Command bulk measures a bulk run: many hostnames in many Route 53 zones
// moved through weighted steps together by `cutover apply`, against a
// `cutover lab` whose Route 53 throttles as AWS does.
//
// For every rate-limit mode (legacy: 5 requests a second per account;
// buckets: a burst of 50, then 10 a second) and every hostname count, it
// writes a lab seed of N CNAME hostnames hI.zK.example.com → old.example.net
// spread over the zones, starts `cutover lab` with it, writes a plan that
// selects every hostname by zone (`hostnames: [{zone: ID, match:
// "*.zK.example.com"}]`) and runs `cutover apply --auto-approve` on it. Then
// it reads the lab's call log and the run's stored runbook and events and
// reports, per change step:
//
//   - ChangeResourceRecordSets and GetChange calls the lab answered during
//     the step, against the minimum: the requests the step's changes need
//     at least (pack.Minimum of each zone's hostnames' changes, computed
//     from the runbook the run stored), and one GetChange per request;
//   - the step's wall time, from its first event to its last change event
//     (the last INSYNC), against the rate-limit floor: the minimum calls
//     beyond the tokens the account's bucket holds when the step starts
//     (replayed from the lab's call log), at the account's rate, plus one
//     propagation delay;
//   - and for the whole apply, its wall time and its peak resident memory
//     (VmHWM of /proc/PID/status, read every 20 ms while it runs: wait4's
//     Maxrss would carry this harness's own peak across the exec).
//
// The table is markdown on stdout.
//
//	go build -o /tmp/cutover ./cmd/cutover
//	go run ./bench/bulk -cutover /tmp/cutover [-n 1000,10000,50000] [-zones 20] [-modes legacy,buckets]
//
// bench/bulk/run.sh does both; N=200 ZONES=4 bench/bulk/run.sh is a quick
// check.
package main
