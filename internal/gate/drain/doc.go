// Package drain is the gate that says when the old edge has gone quiet.
//
// DNS changes reach clients in steps, with a tail of resolvers and
// long-lived connections that keeps reaching the old edge for many minutes
// (and, as seed 001 shows, a CDN alias can keep the old edge serving no
// matter what DNS says). So the old edge is decommissioned only once its own
// request metric has stayed under a threshold for a whole window: an
// absolute rate, or a fraction of the rate measured when the gate started.
//
// The metric comes from CloudWatch (AWS/CloudFront Requests for a
// distribution, AWS/ApplicationELB RequestCount for a load balancer), read
// as a window of one-minute sums, or from Prometheus through an instant
// query.
//
// Draining slowly is not a breach: a measurement is Successful once the
// edge has been quiet for the window and Inconclusive ("still draining: 41
// req/min > 5") until then, never Failed. What to do about an edge that
// does not drain — keep waiting, pause for a human, roll back — is the
// engine's decision, named by the spec's Policy. The spec and its policies
// are defined in package drainspec, which the engine reads without linking
// the CloudWatch SDK; this package re-exports them.
package drain
