// Package rfc2136 is the dns.Provider for any authoritative server that
// takes RFC 2136 dynamic updates signed with TSIG (Knot, BIND, PowerDNS,
// …), over github.com/miekg/dns.
//
// Records reads the zone by AXFR when the server allows it to the key, and
// otherwise asks the server for each record type at the name. Apply sends a
// change set as one UPDATE whose prerequisites (RFC 2136 §2.4) make it a
// compare-and-swap: "RRset exists (value dependent)" for every record set a
// change replaces or deletes, "RRset does not exist" for every one it
// creates. The server applies all of it or none of it; a failed
// prerequisite comes back as a *dns.ConflictError naming what the zone
// holds now. A prerequisite compares values, not TTLs (RFC 2136 §2.4.2
// requires TTL 0 there), so an edit that changes only a TTL is not a
// conflict.
//
// The change id Apply returns names the zone's SOA serial after the
// update; InSync reports true once every authoritative server of the zone
// (its NS records, or the servers Options names) serves that serial or a
// later one (RFC 1982 serial arithmetic).
//
// Plain DNS has no weights, failover or aliases: change sets that carry
// them are refused before anything is sent.
package rfc2136
