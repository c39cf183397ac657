// Package route53 is the lab's Route 53: a wire-compatible emulator of the
// Route 53 REST-XML API (version 2013-04-01) that unchanged SDKs and the
// aws CLI talk to, following reference/aws-behavior.md section A.
//
// It serves hosted zones (default SOA and four NS records, CallerReference
// rules, pagination), change batches, changes that go PENDING → INSYNC on
// the injected clock, health checks, tags on zones and health checks, zone
// comments, reusable delegation sets, and DNSSEC status (every zone is
// NOT_SIGNING: the lab does not sign). Throttling follows the legacy
// 5 req/s limit or the token-bucket model, PriorRequestNotComplete can be
// switched on, and faults can be injected per operation and zone.
//
// Change batches are the heart of it, because the product's compare-and-swap
// relies on them: every batch is checked in order against a working copy of
// the zone and then committed whole, or rejected whole with every problem
// listed ("[msg1, msg2]"). One code path serves ChangeResourceRecordSets and
// the Go API's ApplyChanges.
//
// Each zone keeps two views. The API view is what ListResourceRecordSets
// shows, PENDING changes included. The served view is what a resolver gets:
// the zone as of the newest change that is INSYNC now, kept as a base plus
// the committed batches not yet INSYNC, folded in lazily on read. The lab's
// DNS server answers from Served; Select holds the weighted and failover
// rules it applies to the sets it gets.
//
// Names cross the Go API in raw form (lower case, trailing dot, "*" for the
// wildcard label) and the wire in Route 53's escaped form (\052 for "*").
package route53
