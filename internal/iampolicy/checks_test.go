package iampolicy

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

func policyOf(t *testing.T, res *Result, principal string) iam.Document {
	t.Helper()
	for _, p := range res.Policies {
		if p.Principal == principal {
			return p.Document
		}
	}
	t.Fatalf("no policy for %q in %+v", principal, res.Policies)
	return iam.Document{}
}

// TestPreflightAndDecommissionReadWithTheEdgesRoles: preflight reads the
// new load balancer and its certificates with the to edge's role, in the
// region and account of that load balancer; the decommission checks read
// the old one, its alarms and its traffic with the from edge's role; the
// zone's reads stay with the caller.
func TestPreflightAndDecommissionReadWithTheEdgesRoles(t *testing.T) {
	res, err := ForPlan(load(t, `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {id: Z1}
from: {alb: old-1.eu-west-1.elb.amazonaws.com, role_arn: 'arn:aws:iam::333333333333:role/old'}
to: {alb: new-1.eu-west-1.elb.amazonaws.com, role_arn: 'arn:aws:iam::222222222222:role/new'}
strategy: flip
`), Options{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	newRole := policyOf(t, res, "arn:aws:iam::222222222222:role/new")
	oldRole := policyOf(t, res, "arn:aws:iam::333333333333:role/old")
	caller := policyOf(t, res, "")
	for _, c := range []struct {
		doc              iam.Document
		action, resource string
		want             bool
	}{
		{newRole, "acm:DescribeCertificate", "arn:aws:acm:eu-west-1:222222222222:certificate/abc", true},
		{newRole, "acm:DescribeCertificate", "arn:aws:acm:us-east-1:222222222222:certificate/abc", false},
		{newRole, "acm:DescribeCertificate", "arn:aws:acm:eu-west-1:333333333333:certificate/abc", false},
		{newRole, "acm:ListCertificates", "*", true},
		{newRole, "elasticloadbalancing:DescribeTargetHealth", "*", true},
		{newRole, "cloudwatch:DescribeAlarms", "*", false}, // only the old edge's alarms are read
		{oldRole, "elasticloadbalancing:DescribeTargetHealth", "*", true},
		{oldRole, "cloudwatch:DescribeAlarms", "*", true},
		{oldRole, "cloudwatch:GetMetricData", "*", true},
		{oldRole, "acm:DescribeCertificate", "arn:aws:acm:eu-west-1:333333333333:certificate/abc", false},
		{caller, "route53:ListHostedZones", "*", true},
		{caller, "route53:ListHealthChecks", "*", true},
		{caller, "route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/ZPARENT", true},
		{caller, "route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/ZPARENT", false},
		{caller, "cloudwatch:DescribeAlarms", "*", false},
		{caller, "elasticloadbalancing:DescribeLoadBalancers", "*", false},
	} {
		if got := c.doc.Allows(c.action, c.resource); got != c.want {
			t.Errorf("%s on %s: allowed %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

// TestCloudFrontPreflightReadsTheCertificateInUSEast1: a distribution's
// certificate is always in us-east-1, in the distribution's account.
func TestCloudFrontPreflightReadsTheCertificateInUSEast1(t *testing.T) {
	res, err := ForPlan(load(t, cdnPlan), Options{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	doc := policyOf(t, res, "")
	if !doc.Allows("acm:DescribeCertificate", "arn:aws:acm:us-east-1:111111111111:certificate/x") ||
		doc.Allows("acm:DescribeCertificate", "arn:aws:acm:eu-west-1:111111111111:certificate/x") {
		t.Fatalf("certificate grants: %+v", doc)
	}
	if doc.Allows("acm:ListCertificates", "*") {
		t.Fatal("a distribution's certificate is named by the distribution: ListCertificates is not needed")
	}
}

// TestRFC2136ZoneHasNoRoute53: a zone changed over DNS with TSIG needs no
// Route 53 action at all; the edges' and the gates' grants stay.
func TestRFC2136ZoneHasNoRoute53(t *testing.T) {
	res, err := ForPlan(load(t, `apiVersion: cutover/v1
kind: Cutover
name: api
hostname: api.example.com
zone: {provider: rfc2136, name: example.com, server: '127.0.0.1:53', tsig: {name: k, algorithm: hmac-sha256, secret_env: K}}
from: {alb: old-1.us-east-1.elb.amazonaws.com}
to: {alb: new-1.us-east-1.elb.amazonaws.com}
gates:
  - name: errors
    cloudwatch:
      metric: {namespace: AWS/ApplicationELB, name: HTTPCode_Target_5XX_Count, dimensions: {LoadBalancer: app/new/1}, stat: Sum}
      threshold: 0
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 1 {
		t.Fatalf("%d policies", len(res.Policies))
	}
	got := strings.Join(iamActions(res.Policies[0].Document), " ")
	if strings.Contains(got, "route53:") {
		t.Fatalf("an RFC 2136 zone is granted Route 53: %s", got)
	}
	for _, want := range []string{"elasticloadbalancing:DescribeLoadBalancers", "cloudwatch:GetMetricData", "cloudwatch:DescribeAlarms", "acm:DescribeCertificate"} {
		if !strings.Contains(got, want) {
			t.Errorf("%s missing from %s", want, got)
		}
	}
	if !strings.Contains(strings.Join(res.Notes, " "), "RFC 2136 updates signed with TSIG key k") {
		t.Errorf("notes %v", res.Notes)
	}
}

// TestRoleChainGrantsEachHopTheNext: the caller may assume the first role
// of a chain only, each role the next, the last the zone's role; each hop's
// policy is in its own account and holds nothing else.
func TestRoleChainGrantsEachHopTheNext(t *testing.T) {
	const a, b, zone = "arn:aws:iam::333333333333:role/a", "arn:aws:iam::444444444444:role/b", "arn:aws:iam::222222222222:role/dns"
	res, err := ForPlan(load(t, `apiVersion: cutover/v1
kind: Cutover
name: www
hostname: www.example.com
zone: {id: Z1, role_arn: '`+zone+`', role_chain: ['`+a+`', '`+b+`']}
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
strategy: flip
`), Options{Account: "111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 4 {
		t.Fatalf("%d policies, want the caller's, two hops' and the zone role's", len(res.Policies))
	}
	for _, c := range []struct{ principal, assumes, account string }{{"", a, "111111111111"}, {a, b, "333333333333"}, {b, zone, "444444444444"}} {
		var pol Policy
		for _, p := range res.Policies {
			if p.Principal == c.principal {
				pol = p
			}
		}
		if pol.Account != c.account || len(pol.Document.Statement) != 1 {
			t.Fatalf("policy of %q: %+v", c.principal, pol)
		}
		s := pol.Document.Statement[0]
		if strings.Join(s.Action, " ") != "sts:AssumeRole" || strings.Join(s.Resource, " ") != c.assumes {
			t.Errorf("%q is granted %v on %v, want sts:AssumeRole on %s", c.principal, s.Action, s.Resource, c.assumes)
		}
	}
	if !policyOf(t, res, zone).Allows("route53:ChangeResourceRecordSets", "arn:aws:route53:::hostedzone/Z1") {
		t.Fatal("the zone role may not change the zone")
	}
}

// TestMaintenanceHealthCheckInversion: failover maintenance that inverts
// the primary's health check reads and updates exactly that health check,
// with the zone's identity, on the way in and on rollback.
func TestMaintenanceHealthCheckInversion(t *testing.T) {
	body := `apiVersion: cutover/v1
kind: Cutover
name: maint
hostname: api.example.com
zone: {id: Z1, role_arn: 'arn:aws:iam::222222222222:role/dns'}
from: {alb: api-1.us-east-1.elb.amazonaws.com}
to: {alb: maint-1.us-east-1.elb.amazonaws.com}
strategy: maintenance
maintenance: {mode: failover, health_check: 0e1d5f3c-6a7b-4c8d-9e0f-123456789abc, invert_health_check: true}
`
	res, err := ForPlan(load(t, body), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dns := policyOf(t, res, "arn:aws:iam::222222222222:role/dns")
	const hc = "arn:aws:route53:::healthcheck/0e1d5f3c-6a7b-4c8d-9e0f-123456789abc"
	for _, a := range []string{"route53:GetHealthCheck", "route53:UpdateHealthCheck"} {
		if !dns.Allows(a, hc) || dns.Allows(a, "arn:aws:route53:::healthcheck/other") || policyOf(t, res, "").Allows(a, hc) {
			t.Errorf("%s: want it on %s for the zone's role only", a, hc)
		}
	}
	var why []string
	for _, p := range res.Policies {
		for _, u := range p.Uses {
			if u.Action == "route53:UpdateHealthCheck" {
				why = u.Why
			}
		}
	}
	if strings.Join(why, "; ") != "apply: health-check; rollback: health-check" {
		t.Errorf("UpdateHealthCheck is needed for %v, want apply and rollback", why)
	}
	if dns.Allows("route53:ListHealthChecks", "*") || policyOf(t, res, "").Allows("cloudwatch:DescribeAlarms", "*") {
		t.Error("a maintenance plan is granted the decommission checks of its live edge")
	}
	plain, err := ForPlan(load(t, strings.Replace(body, ", invert_health_check: true", "", 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if policyOf(t, plain, "arn:aws:iam::222222222222:role/dns").Allows("route53:UpdateHealthCheck", hc) {
		t.Error("failover without inversion never changes the health check, yet UpdateHealthCheck is granted")
	}
}
