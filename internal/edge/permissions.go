package edge

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of the calls cloudfrontAPI and
// elbAPI make. DescribeLoadBalancers, like every Describe action of
// Elastic Load Balancing, has no resource-level permissions.
var Permissions = iam.Table{
	{Operation: "GetDistribution", Actions: []string{"cloudfront:GetDistribution"}, Resource: iam.Distribution},
	{Operation: "DescribeLoadBalancers", Actions: []string{"elasticloadbalancing:DescribeLoadBalancers"}, Resource: iam.Any},
}
