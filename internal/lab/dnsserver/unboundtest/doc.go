// Package unboundtest starts a real unbound caching resolver for tests,
// forwarding chosen zones to an authoritative server (normally the lab's
// DNS server), so tests observe TTL-honouring caching as clients see it.
package unboundtest
