// Package split computes the chart of a run's traffic split: the share of
// requests the run intended for the new edge, from its change events, set
// against the share the edges actually served, from each edge's request
// metrics (CloudFront Requests, ALB RequestCount) per period.
//
// Intended and observed differ by design: resolvers keep the previous
// answer for its TTL, so the observed share follows the intended one with a
// lag, and an old edge that keeps answering after the DNS says otherwise
// shows up as the gap between the two lines.
package split
