// Package world starts the whole lab on loopback: the AWS control plane
// (one HTTP endpoint), the authoritative DNS server, the Host-routing edges
// and load balancers, and built-in origins. `cutover lab` and `cutover demo`
// run it; end-to-end tests start it in-process.
package world
