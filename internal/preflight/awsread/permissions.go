package awsread

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of every call acmAPI, elbAPI,
// route53API and cloudwatchAPI make (Service Authorization Reference).
// An entry whose row in the reference has not been checked says so in
// Unverified; the lab's call log names the same resources, and the
// iam-policy acceptance tests hold every entry to it.
// The records the checks read go through the zone provider, whose own
// table (route53.Permissions) has ListResourceRecordSets; the
// distributions through the CloudFront adapter (cloudfront.Permissions).
var Permissions = iam.Table{
	// ACM: DescribeCertificate is authorized on the certificate;
	// ListCertificates has no resource-level permissions.
	{Operation: "DescribeCertificate", Actions: []string{"acm:DescribeCertificate"}, Resource: iam.Certificate,
		Unverified: "authorized on the certificate's ARN"},
	{Operation: "ListCertificates", Actions: []string{"acm:ListCertificates"}, Resource: iam.Any,
		Unverified: "no resource-level permissions"},
	// Elastic Load Balancing: no Describe action has resource-level
	// permissions.
	{Operation: "DescribeLoadBalancers", Actions: []string{"elasticloadbalancing:DescribeLoadBalancers"}, Resource: iam.Any},
	{Operation: "DescribeListeners", Actions: []string{"elasticloadbalancing:DescribeListeners"}, Resource: iam.Any,
		Unverified: "no resource-level permissions, like DescribeLoadBalancers"},
	{Operation: "DescribeTargetGroups", Actions: []string{"elasticloadbalancing:DescribeTargetGroups"}, Resource: iam.Any,
		Unverified: "no resource-level permissions, like DescribeLoadBalancers"},
	{Operation: "DescribeTargetHealth", Actions: []string{"elasticloadbalancing:DescribeTargetHealth"}, Resource: iam.Any,
		Unverified: "no resource-level permissions, like DescribeLoadBalancers"},
	// Route 53: the account-wide lists have no resource-level permissions.
	{Operation: "ListHostedZones", Actions: []string{"route53:ListHostedZones"}, Resource: iam.Any,
		Unverified: "no resource-level permissions"},
	{Operation: "ListHealthChecks", Actions: []string{"route53:ListHealthChecks"}, Resource: iam.Any,
		Unverified: "no resource-level permissions"},
	// CloudWatch: the reference gives DescribeAlarms the alarm resource
	// type, but its API reference asks for a grant on "*" to see
	// composite alarms, and the checks list every alarm of the region
	// with no name filter; GetMetricData has no resource-level
	// permissions.
	{Operation: "DescribeAlarms", Actions: []string{"cloudwatch:DescribeAlarms"}, Resource: iam.Any,
		Unverified: "a DescribeAlarms of every alarm, without names, is authorized on \"*\" rather than on alarm ARNs"},
	{Operation: "GetMetricData", Actions: []string{"cloudwatch:GetMetricData"}, Resource: iam.Any},
}

// LoadBalancerRegion is the region the checks read a load balancer in,
// from its ARN or DNS name (us-east-1 when neither names one).
func LoadBalancerRegion(ref string) string { return lbRegion(ref) }
