// Package dnsserver is the lab's authoritative DNS server: it answers, over
// UDP and TCP, for the lab's public hosted zones with Route 53's semantics,
// and for the AWS-managed names those zones point at (dXXXX.cloudfront.net,
// *.elb.amazonaws.com), so that a stub or caching resolver pointed at it
// sees the same internet a migration would see.
//
// What it serves comes from two small interfaces: Zones (the lab's Route 53
// served view, which only shows a change once it is INSYNC, plus health
// check state) and Targets (the addresses of the lab's edges). Each query
// is answered as Route 53 would:
//
//   - routing policies are applied per query with route53.Select, so a
//     weighted name gets one set per answer with probability wᵢ/Σw, and the
//     choice is counted per name for tests and demos (Stats);
//   - alias records answer with the target's records under the queried
//     name and with the target's TTL (60 s for CloudFront and ELB);
//   - a CNAME is answered as such and, when its target is a name this
//     server is authoritative for, the target's records are appended (what
//     Route 53 does in-zone; the lab also does it across zones because it
//     plays every authority at once);
//   - negative answers carry the zone's SOA with TTL min(SOA TTL, MINIMUM),
//     the negative-caching TTL of RFC 2308;
//   - ANY is answered with RFC 8482's single HINFO record;
//   - UDP answers larger than 512 bytes (or the EDNS0 size advertised) are
//     truncated with TC set, so clients retry over TCP.
//
// Where the lab differs from the internet: one server plays every
// authority, so the most specific lab zone answers directly instead of
// its parent returning a referral, and NS records below a zone apex are
// served as data. Names under cloudfront.net and elb.amazonaws.com that
// Targets does not know are NXDOMAIN with Route 53's default SOA (negative
// TTL 900 s), the behaviour that pins a name resolved before it exists.
package dnsserver
