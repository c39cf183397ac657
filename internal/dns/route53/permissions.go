package route53

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of every call route53API makes
// (Service Authorization Reference, Amazon Route 53). The record calls are
// authorized on the hosted zone; GetChange on the change, whose id exists
// only once the change is submitted, so policies grant it on change/*.
var Permissions = iam.Table{
	{Operation: "ListResourceRecordSets", Actions: []string{"route53:ListResourceRecordSets"}, Resource: iam.HostedZone},
	{Operation: "ChangeResourceRecordSets", Actions: []string{"route53:ChangeResourceRecordSets"}, Resource: iam.HostedZone},
	{Operation: "GetChange", Actions: []string{"route53:GetChange"}, Resource: iam.Change},
	{Operation: "GetHostedZone", Actions: []string{"route53:GetHostedZone"}, Resource: iam.HostedZone},
}
