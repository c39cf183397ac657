// Package maintenance switches a hostname's maintenance page on and off
// (seed 002), through the same runbook compiler and engine as every
// cutover: `on` compiles strategy maintenance against the records the zone
// serves now (a Route 53 weight override or a failover pair in front of a
// page edge) and the run keeps those records; `off` finds that run and
// compiles the run that restores them, byte for byte, with one
// compare-and-swap change. A server can call it as the CLI does.
//
// The lab's acceptance test (lab_test.go) runs both modes under client
// load: the page's 503 is an answer, never a failed request, and the
// records after off equal those before on as ListResourceRecordSets
// returns them.
package maintenance
