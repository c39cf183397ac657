// Package load generates client traffic against the lab the way real
// clients behave during a DNS cutover: N virtual clients share a total
// request rate, each with its own resolver cache that honours the TTL it
// was given, except a configurable share that keep answers longer (the
// resolvers that extend TTLs, browsers that pin for 60 s); a share of the
// clients keep connections alive across DNS changes, the rest dial afresh.
//
// Resolution goes over the wire with miekg/dns to one server (the lab's
// authoritative server, or a real unbound in front of it), following CNAME
// chains to A records. Each request connects to one address of the cached
// answer with the real Host and TLS SNI, and is classified: which origin
// served it (X-Lab-Origin, or the ok-<name> marker body), the HTTP status,
// or the TLS, connection or DNS error that stopped it.
//
// Load is always bounded (a deadline or a request budget) and only ever
// goes to loopback addresses: it exists to rehearse cutovers on one machine,
// never to load anything real. Failed lookups are not cached (as in
// Chrome), so a client retries DNS on its next request.
package load
