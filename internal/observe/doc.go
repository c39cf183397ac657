// Package observe reads the world a plan names — its edges, the records at
// its hostname, who holds the hostname as a CloudFront alias — and compiles
// the plan's runbook from what it saw. It is what `cutover plan` and
// `cutover apply` run before anything changes, and what a long-running
// controller runs without a command line.
//
// Every reach into the world goes through Deps, so tests hand it fakes.
package observe
