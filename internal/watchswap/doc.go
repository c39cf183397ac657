// Package watchswap makes DNS follow a CloudFront alias the moment it
// moves. When AWS Support (or anyone with AssociateAlias) moves an
// alternate domain name from one distribution to another, viewers whose
// DNS still points at the old distribution fail TLS until the record
// follows; Run checks the record and the distribution, watches for the
// alias to arrive, then applies one compare-and-swap change, waits for
// INSYNC and verifies what is served.
//
// It reaches Route 53 through dns.Provider and CloudFront through CDN, so
// a command and a long-running controller share it.
package watchswap
