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
// one-line engine.VerifyResult for the engine, which advances only when every
// path reached the expected side.
package verify
