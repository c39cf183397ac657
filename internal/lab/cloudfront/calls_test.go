package cloudfront

import (
	"net/http/httptest"
	"testing"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// TestOperationNamesEveryRoute names the API operation and resource of
// each route the service serves, as the call log records them; an unknown
// distribution is named in the caller's account.
func TestOperationNamesEveryRoute(t *testing.T) {
	s := New(awsapi.NewEnv(nil), Options{})
	d := "arn:aws:cloudfront::111111111111:distribution/E1"
	p := "arn:aws:cloudfront::111111111111:continuous-deployment-policy/P1"
	for _, c := range []struct{ method, target, op, resource string }{
		{"POST", "/2020-05-31/distribution", "CreateDistribution", "arn:aws:cloudfront::111111111111:distribution/*"},
		{"POST", "/2020-05-31/distribution?WithTags", "CreateDistributionWithTags", "arn:aws:cloudfront::111111111111:distribution/*"},
		{"GET", "/2020-05-31/distribution", "ListDistributions", ""},
		{"GET", "/2020-05-31/distribution/E1", "GetDistribution", d},
		{"DELETE", "/2020-05-31/distribution/E1", "DeleteDistribution", d},
		{"GET", "/2020-05-31/distribution/E1/config", "GetDistributionConfig", d},
		{"PUT", "/2020-05-31/distribution/E1/config", "UpdateDistribution", d},
		{"PUT", "/2020-05-31/distribution/E1/associate-alias?Alias=a.example.com", "AssociateAlias", d},
		{"POST", "/2020-05-31/distribution/E1/copy", "CopyDistribution", d},
		{"PUT", "/2020-05-31/distribution/E1/promote-staging-config?StagingDistributionId=E2", "UpdateDistributionWithStagingConfig", d},
		{"GET", "/2020-05-31/conflicting-alias?DistributionId=E1&Alias=a.example.com", "ListConflictingAliases", d},
		{"POST", "/2020-05-31/continuous-deployment-policy", "CreateContinuousDeploymentPolicy", "arn:aws:cloudfront::111111111111:continuous-deployment-policy/*"},
		{"GET", "/2020-05-31/continuous-deployment-policy", "ListContinuousDeploymentPolicies", ""},
		{"GET", "/2020-05-31/continuous-deployment-policy/P1", "GetContinuousDeploymentPolicy", p},
		{"GET", "/2020-05-31/continuous-deployment-policy/P1/config", "GetContinuousDeploymentPolicyConfig", p},
		{"PUT", "/2020-05-31/continuous-deployment-policy/P1", "UpdateContinuousDeploymentPolicy", p},
		{"DELETE", "/2020-05-31/continuous-deployment-policy/P1", "DeleteContinuousDeploymentPolicy", p},
		{"PATCH", "/2020-05-31/distribution/E1", "", ""},
		{"GET", "/2019-03-26/distribution", "", ""},
	} {
		op, res := s.operation(httptest.NewRequest(c.method, c.target, nil), "111111111111")
		if op != c.op || res != c.resource {
			t.Errorf("%s %s = %q %q, want %q %q", c.method, c.target, op, res, c.op, c.resource)
		}
	}
}
