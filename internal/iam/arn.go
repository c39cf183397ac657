package iam

import "strings"

// Partition is the ARN partition of every resource cutover names.
const Partition = "aws"

// ARN returns the ARN of a resource of type rt with id (which may be a
// wildcard) in account, the way the Service Authorization Reference
// writes it: Route 53's resources have no account or region, CloudFront's
// have an account and no region. account "" is written as "*", any
// account, for a principal whose account the plan does not name. Any
// returns "*". A regional resource (an ACM certificate) is in any region:
// see RegionalARN.
func ARN(rt ResourceType, account, id string) string {
	return RegionalARN(rt, "", account, id)
}

// RegionalARN is ARN for a resource of a regional service (ACM's
// certificates: arn:aws:acm:REGION:ACCOUNT:certificate/ID) in region; ""
// is any region. Global resources ignore region.
func RegionalARN(rt ResourceType, region, account, id string) string {
	if account == "" {
		account = "*"
	}
	if region == "" {
		region = "*"
	}
	switch rt {
	case Certificate:
		return "arn:" + Partition + ":acm:" + region + ":" + account + ":" + string(rt) + "/" + id
	case HostedZone, Change, HealthCheck:
		return "arn:" + Partition + ":route53:::" + string(rt) + "/" + id
	case Distribution, ContinuousDeploymentPolicy:
		return "arn:" + Partition + ":cloudfront::" + account + ":" + string(rt) + "/" + id
	case Role:
		return id // a role is always named by its full ARN
	}
	return "*"
}

// AccountOf returns the account field of an ARN ("" when it has none).
func AccountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
