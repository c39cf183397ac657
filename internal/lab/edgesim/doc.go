// Package edgesim runs the lab's edges: K CloudFront-like edge servers on
// distinct loopback addresses that route each request by its Host (and
// TLS SNI) the way CloudFront does, plus one address per Application Load
// Balancer that forwards to the load balancer's healthy targets.
//
// What makes the lab behave like the internet of the user stories:
//
//   - Routing is by name, not by address. Every *.cloudfront.net name
//     resolves to every edge; an edge picks the distribution whose exact
//     alternate domain name is the Host, else the most specific wildcard
//     alias covering it, else the distribution whose own domain name it is.
//     So a client sent by DNS to the "new" distribution's name still gets
//     the old origin while the old distribution holds the alias (seed 001).
//   - Each edge applies each configuration version after its own delay,
//     drawn per (edge, distribution, version) from a range. The alias table
//     is therefore per edge, and during a change some edges answer with the
//     old configuration and some with the new ("the cut will not be clean",
//     seed 003). The control plane's own Deployed status is separate; the
//     lab sets its deploy delay at least as long as the longest edge delay.
//   - Continuous deployment policies split traffic between a primary and
//     its staging distribution by weight (optionally sticky by cookie) or
//     by header; staging distributions are never reachable directly.
//   - Request and error counts are published to CloudWatch under the
//     AWS/CloudFront and AWS/ApplicationELB namespaces and exposed to
//     Prometheus; load balancer targets are health-checked and their health
//     reported to the ELBv2 emulator.
//
// Differences from AWS, on purpose:
//
//   - The edge always forwards the viewer's Host to the origin (CloudFront
//     does so only when the origin request policy says so); lab origins
//     answer any Host, and forwarding it lets them log what was asked.
//   - The viewer protocol policy is not enforced (the lab's distribution
//     view does not carry it): both HTTP and HTTPS are served.
//   - A TLS name that no distribution covers gets the default
//     *.cloudfront.net certificate, as CloudFront serves it, so the client
//     fails on the name check rather than on the handshake.
//   - Nothing is cached: X-Cache is always "Miss from cloudfront" (or
//     "Error from cloudfront" for responses the edge generates).
//   - A load balancer forwards to its first target group only (listener
//     rules are not modelled) and answers 503 when no target is healthy,
//     where a real ALB fails open and tries them all. Load balancer
//     configuration is applied at once, without per-edge propagation.
//   - Metrics are published only for periods with traffic (CloudWatch has
//     no datapoint then either; a gate reads a missing point as zero),
//     except HealthyHostCount and UnHealthyHostCount, published every period.
package edgesim
