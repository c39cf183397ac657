// Package verify proves which edge really serves a hostname.
//
// DNS answers say where clients are sent, not who answers them: a CloudFront
// edge picks the distribution by the Host and TLS server name, so a record
// can point at the new distribution while the old one still answers. The
// verifier therefore resolves the hostname through several resolvers,
// following CNAME chains and sampling each resolver several times (weighted
// records answer at random, so it reports shares, not one answer); then it
// fetches a marker path from every address those answers led to, with the
// real Host and server name, and classifies each answer by its marker as
// the new side, the old side, or unknown.
//
// The result is a Matrix (resolver × edge address) for people and a
// one-line runbook.VerifyResult for the engine, which advances only when every
// path reached the expected side.
//
// With Authoritative set, the zone's own name servers are asked as well
// (found through the first resolver), so an answer a resolver still caches
// can be told from what the zone says now.
//
// A verdict is not yet a reason. When paths reach the wrong side and DNS
// leads to CloudFront, a Diagnoser asks CloudFront (read-only:
// ListDistributions and ListConflictingAliases, which also sees other
// accounts' distributions, masked) which distribution holds the hostname,
// and says so: seed 001's old distribution kept serving because it still
// held the alias, whatever DNS said.
package verify
