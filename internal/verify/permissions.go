package verify

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of the calls the diagnosis makes
// (cloudFrontAPI); it only reads. ListDistributions has no resource-level
// permissions.
var Permissions = iam.Table{
	{Operation: "ListDistributions", Actions: []string{"cloudfront:ListDistributions"}, Resource: iam.Any},
	{Operation: "ListConflictingAliases", Actions: []string{"cloudfront:ListConflictingAliases"}, Resource: iam.Distribution,
		Unverified: "authorized on the distribution named by DistributionId"},
}
