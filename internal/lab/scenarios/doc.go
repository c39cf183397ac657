// Package scenarios replays the field reports the product exists for on the
// whole lab, under client load: clients resolve through the lab's
// authoritative DNS (honouring TTLs) and fetch through the Host-routing
// edges, while the scenario changes Route 53 records and CloudFront aliases
// over the AWS API exactly as an operator would. The load's per-request
// record (which edge, which origin, which failure) is the evidence.
//
// The package holds tests only.
package scenarios
