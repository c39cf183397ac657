package cloudfront

import (
	"context"

	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// api is the subset of the CloudFront client this package calls.
type api interface {
	GetDistribution(ctx context.Context, in *cf.GetDistributionInput, opts ...func(*cf.Options)) (*cf.GetDistributionOutput, error)
	GetDistributionConfig(ctx context.Context, in *cf.GetDistributionConfigInput, opts ...func(*cf.Options)) (*cf.GetDistributionConfigOutput, error)
	UpdateDistribution(ctx context.Context, in *cf.UpdateDistributionInput, opts ...func(*cf.Options)) (*cf.UpdateDistributionOutput, error)
	DeleteDistribution(ctx context.Context, in *cf.DeleteDistributionInput, opts ...func(*cf.Options)) (*cf.DeleteDistributionOutput, error)
	ListConflictingAliases(ctx context.Context, in *cf.ListConflictingAliasesInput, opts ...func(*cf.Options)) (*cf.ListConflictingAliasesOutput, error)
	AssociateAlias(ctx context.Context, in *cf.AssociateAliasInput, opts ...func(*cf.Options)) (*cf.AssociateAliasOutput, error)
	CopyDistribution(ctx context.Context, in *cf.CopyDistributionInput, opts ...func(*cf.Options)) (*cf.CopyDistributionOutput, error)
	CreateContinuousDeploymentPolicy(ctx context.Context, in *cf.CreateContinuousDeploymentPolicyInput, opts ...func(*cf.Options)) (*cf.CreateContinuousDeploymentPolicyOutput, error)
	GetContinuousDeploymentPolicy(ctx context.Context, in *cf.GetContinuousDeploymentPolicyInput, opts ...func(*cf.Options)) (*cf.GetContinuousDeploymentPolicyOutput, error)
	UpdateContinuousDeploymentPolicy(ctx context.Context, in *cf.UpdateContinuousDeploymentPolicyInput, opts ...func(*cf.Options)) (*cf.UpdateContinuousDeploymentPolicyOutput, error)
	DeleteContinuousDeploymentPolicy(ctx context.Context, in *cf.DeleteContinuousDeploymentPolicyInput, opts ...func(*cf.Options)) (*cf.DeleteContinuousDeploymentPolicyOutput, error)
	UpdateDistributionWithStagingConfig(ctx context.Context, in *cf.UpdateDistributionWithStagingConfigInput, opts ...func(*cf.Options)) (*cf.UpdateDistributionWithStagingConfigOutput, error)
}

var _ api = (*cf.Client)(nil)
