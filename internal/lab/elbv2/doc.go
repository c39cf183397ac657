// Package elbv2 emulates the Elastic Load Balancing v2 calls a cutover between
// Application Load Balancers relies on: describing load balancers (their DNS
// name and canonical hosted zone, the alias target of a Route 53 record),
// target groups and target health, plus the writes needed to build a world
// to cut over between (load balancers, target groups, targets, listeners).
//
// ELBv2 speaks the query protocol (Version 2015-12-01). Target health follows
// the lifecycle AWS reports, computed lazily from the lab clock: a new target
// is initial (Elb.RegistrationInProgress) until the configured health-check
// delay has passed, then healthy unless the data plane has reported
// otherwise through SetTargetHealth; a deregistered target drains
// (Target.DeregistrationInProgress) for the deregistration delay and then
// disappears. A target group no listener forwards to reports its targets as
// unused (Target.NotInUse), as AWS does.
package elbv2
