// Package probe is the HTTP gate: it fetches a URL with the hostname's real
// Host header and TLS server name, optionally through a chosen edge address
// (like curl --resolve) or a chosen DNS server, and turns the answer into a
// gate.Measurement.
//
// A probe opens a fresh connection for every measurement: a kept-alive
// connection would outlive the DNS change being watched and keep reporting
// the edge it first reached.
//
// The package also resolves names through a given DNS server with
// miekg/dns, following CNAME chains (Lookup); the verifier builds on it.
package probe
