package iampolicy

import (
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/preflight/awsread"
)

// cloudFrontCertRegion is where every certificate a distribution uses
// lives: CloudFront takes ACM certificates from us-east-1 only.
const cloudFrontCertRegion = "us-east-1"

// preflight is what preflight.Preflight reads through connect.CheckWorld
// (`cutover preflight`, `cutover plan`, the start of apply): the new edge
// with its own role, the zone with the zone's. The marker check is HTTP.
func (c *collector) preflight() {
	p := c.p
	to := p.To
	const phase = "preflight: "
	switch to.Kind {
	case plan.EdgeALB:
		c.loadBalancer(to, phase+"the new load balancer's listeners and target health")
		// The listeners' certificates are known only once read; without
		// one, the checks list the region's certificates covering the
		// hostname and describe those.
		region := awsread.LoadBalancerRegion(to.Value)
		c.needIn(to.RoleARN, "DescribeCertificate", region, "*", phase+"the certificates of the new load balancer's listeners, or those covering "+p.Hostname)
		c.need(to.RoleARN, "ListCertificates", "*", phase+"the certificates covering "+p.Hostname+" when no listener has one")
	case plan.EdgeCloudFront:
		c.need(to.RoleARN, "GetDistribution", to.Value, phase+"the new distribution: deployed, enabled, its certificate")
		c.need(to.RoleARN, "ListConflictingAliases", to.Value, phase+"who else holds "+p.Hostname)
		c.needIn(to.RoleARN, "DescribeCertificate", cloudFrontCertRegion, "*", phase+"the new distribution's certificate")
	}
	if !c.route53Zone() {
		return
	}
	role, zone := p.Zone.RoleARN, p.Zone.ID
	c.need(role, "ListHostedZones", "*", phase+"the zone contains "+p.Hostname+", no other zone shadows it")
	c.need(role, "ListResourceRecordSets", zone, phase+"the TTL and owner of "+p.Hostname+", the zone's NS set")
	// The parent zone's id is known only from ListHostedZones.
	c.need(role, "ListResourceRecordSets", "*", phase+"the parent zone's delegation, when the account holds it")
}

// decommission is what preflight.Decommission reads (`cutover
// decommission-check`, the end of every hold): the old edge with its own
// role, every zone and health check of the account with the zone's. A
// maintenance plan has none: its from edge is the live one, which the
// page only stands in front of for a while, and its runbook has no hold.
func (c *collector) decommission() {
	p := c.p
	if p.Strategy == plan.StrategyMaintenance {
		return
	}
	from := p.From
	const phase = "decommission: "
	switch from.Kind {
	case plan.EdgeALB:
		c.loadBalancer(from, phase+"the old load balancer's CloudWatch dimension")
		c.oldEdgeMetrics(from)
	case plan.EdgeCloudFront:
		c.oldEdgeMetrics(from)
	}
	if !c.route53Zone() {
		return
	}
	role := p.Zone.RoleARN
	c.need(role, "ListHostedZones", "*", phase+"every zone of the account")
	c.need(role, "ListResourceRecordSets", "*", phase+"no record in any zone of the account points at the old edge")
	c.need(role, "ListHealthChecks", "*", phase+"no health check probes the old edge")
}

func (c *collector) oldEdgeMetrics(from plan.Edge) {
	const phase = "decommission: "
	c.need(from.RoleARN, "DescribeAlarms", "*", phase+"no CloudWatch alarm is scoped to the old edge")
	c.need(from.RoleARN, "GetMetricData", "*", phase+"the old edge's request rate")
}

// loadBalancer is awsread's read of one load balancer: itself, its
// listeners, its target groups and their targets' health.
func (c *collector) loadBalancer(e plan.Edge, why string) {
	for _, op := range []string{"DescribeLoadBalancers", "DescribeListeners", "DescribeTargetGroups", "DescribeTargetHealth"} {
		c.need(e.RoleARN, op, "*", why)
	}
}

// route53Zone reports whether the plan's zone is a Route 53 hosted zone;
// a zone on an RFC 2136 server is changed over DNS, signed with TSIG, and
// needs no Route 53 permission.
func (c *collector) route53Zone() bool { return c.p.Zone.Provider != plan.ProviderRFC2136 }
