package cloudfront

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of every call api makes (Service
// Authorization Reference, Amazon CloudFront, and the API reference's
// "requires the following IAM permissions"). Every distribution call is
// authorized on the distribution; some operations need more than their own
// action.
var Permissions = iam.Table{
	{Operation: "GetDistribution", Actions: []string{"cloudfront:GetDistribution"}, Resource: iam.Distribution},
	{Operation: "GetDistributionConfig", Actions: []string{"cloudfront:GetDistributionConfig"}, Resource: iam.Distribution},
	{Operation: "UpdateDistribution", Actions: []string{"cloudfront:UpdateDistribution"}, Resource: iam.Distribution},
	{Operation: "DeleteDistribution", Actions: []string{"cloudfront:DeleteDistribution"}, Resource: iam.Distribution},
	{Operation: "ListConflictingAliases", Actions: []string{"cloudfront:ListConflictingAliases"}, Resource: iam.Distribution,
		Unverified: "authorized on the distribution named by DistributionId"},
	// The reference's API operations table maps AssociateAlias to
	// cloudfront:AssociateAlias and cloudfront:UpdateDistribution.
	{Operation: "AssociateAlias", Actions: []string{"cloudfront:AssociateAlias", "cloudfront:UpdateDistribution"}, Resource: iam.Distribution,
		Unverified: "UpdateDistribution is required on the target distribution, not on the one losing the alias"},
	// CopyDistribution's dependent actions: it creates a distribution and
	// reads the primary.
	{Operation: "CopyDistribution", Actions: []string{"cloudfront:CopyDistribution", "cloudfront:CreateDistribution", "cloudfront:GetDistribution"}, Resource: iam.Distribution},
	{Operation: "CreateContinuousDeploymentPolicy", Actions: []string{"cloudfront:CreateContinuousDeploymentPolicy"}, Resource: iam.ContinuousDeploymentPolicy,
		Unverified: "continuous deployment policies as a resource type"},
	{Operation: "GetContinuousDeploymentPolicy", Actions: []string{"cloudfront:GetContinuousDeploymentPolicy"}, Resource: iam.ContinuousDeploymentPolicy,
		Unverified: "continuous deployment policies as a resource type"},
	{Operation: "UpdateContinuousDeploymentPolicy", Actions: []string{"cloudfront:UpdateContinuousDeploymentPolicy"}, Resource: iam.ContinuousDeploymentPolicy,
		Unverified: "continuous deployment policies as a resource type"},
	{Operation: "DeleteContinuousDeploymentPolicy", Actions: []string{"cloudfront:DeleteContinuousDeploymentPolicy"}, Resource: iam.ContinuousDeploymentPolicy,
		Unverified: "continuous deployment policies as a resource type"},
	// The API reference: "requires the following IAM permissions:
	// GetDistribution, UpdateDistribution", on the primary and the staging
	// distribution.
	{Operation: "UpdateDistributionWithStagingConfig", Actions: []string{"cloudfront:GetDistribution", "cloudfront:UpdateDistribution"}, Resource: iam.Distribution},
}
