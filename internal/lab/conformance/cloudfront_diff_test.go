package conformance

import "testing"

// cloudFrontDifferences are the ways moto departs from CloudFront and ACM.
// Lab is what AWS answers, per the cited section of the AWS behaviour
// reference.
var cloudFrontDifferences = []difference{
	{
		Step: "acm/describe-validated",
		Ref:  "D ACM DescribeCertificate: DNS validation through DomainValidationOptions[].ResourceRecord (CNAME); ValidationStatus SUCCESS, Status ISSUED",
		Why:  "moto issues a requested certificate on a timer (MOTO_ACM_VALIDATION_WAIT, 60 s) whatever DNS holds, and not before",
		Lab:  `{"ARN":"arn:aws:acm:us-east-1:account#1:certificate/cert#1","Domain":"www.example.com","Status":"ISSUED","Type":"AMAZON_ISSUED","SANs":["cdn.example.com","www.example.com"],"Validation":["cdn.example.com DNS SUCCESS CNAME _<token>.cdn.example.com. → _<token>.acm-validations.aws.","www.example.com DNS SUCCESS CNAME _<token>.www.example.com. → _<token>.acm-validations.aws."]}`,
		Moto: `{"ARN":"arn:aws:acm:us-east-1:account#1:certificate/cert#1","Domain":"www.example.com","Status":"PENDING_VALIDATION","Type":"AMAZON_ISSUED","SANs":["cdn.example.com","www.example.com"],"Validation":["cdn.example.com DNS PENDING_VALIDATION CNAME _<token>.cdn.example.com. → _<token>.acm-validations.aws.","www.example.com DNS PENDING_VALIDATION CNAME _<token>.www.example.com. → _<token>.acm-validations.aws."]}`,
	},
	{
		Step: "cf/arn",
		Ref:  "B1 API: CloudFront is global (SigV4 us-east-1, no regional endpoint), so its ARNs carry an empty region field",
		Why:  "moto's distribution ARN has no region field at all",
		Lab:  `"arn:aws:cloudfront::{account}:distribution/{id}"`,
		Moto: `"arn:aws:cloudfront:{account}:distribution/{id}"`,
	},
	{
		Step: "cf/status-at-write",
		Ref:  "B1 UpdateDistribution: returns 200, Status InProgress, and a new ETag",
		Why:  "moto answers UpdateDistribution with the status the distribution had, Deployed",
		Lab:  `["InProgress","InProgress"]`,
		Moto: `["InProgress","Deployed"]`,
	},
	{
		Step: "cf/update-stale-if-match",
		Ref:  "B1 Errors: PreconditionFailed (412) for a stale ETag",
		Why:  "moto accepts any non-empty If-Match",
		Lab:  `{"error":"PreconditionFailed","status":412,"message":"The request failed because it didn't meet the preconditions in one or more request-header fields."}`,
		Moto: `{"error":"none: the call was accepted","status":0,"message":""}`,
	},
	{
		Step: "cf/etags",
		Ref:  "B1 UpdateDistribution: returns … a new ETag",
		Why:  "moto keeps one ETag for a distribution across updates",
		Lab:  `{"allNonEmpty":true,"configMatchesGet":true,"configMatchesUpdate":true,"getMatchesCreate":true,"updateIssuesNew":true}`,
		Moto: `{"allNonEmpty":true,"configMatchesGet":true,"configMatchesUpdate":true,"getMatchesCreate":true,"updateIssuesNew":false}`,
	},
	{
		Step: "cf/list",
		Ref:  "BC-cloudfront DistributionSummary: Aliases, Comment and Enabled are required members",
		Why:  "moto's ListDistributions leaves out each summary's aliases, comment and enabled flag",
		Lab:  `{"items":[{"aliases":["www.example.com"],"arn":"arn:aws:cloudfront::account#1:distribution/dist#1","comment":"moved by cutover","domain":"domain#1","enabled":true,"id":"dist#1"}],"quantity":1,"truncated":false}`,
		Moto: `{"items":[{"aliases":null,"arn":"arn:aws:cloudfront::account#1:distribution/dist#1","comment":"","domain":"domain#1","enabled":false,"id":"dist#1"}],"quantity":1,"truncated":false}`,
	},
	{
		Step: "cf/create-taken-alias",
		Ref:  "B2 Alias rules: an exact alias may exist on only one distribution, across all accounts; a duplicate gives CNAMEAlreadyExists (409)",
		Why:  "moto accepts the same alias on several distributions",
		Lab:  `{"error":"CNAMEAlreadyExists","status":409,"message":"One or more of the CNAMEs you provided are already associated with a different resource."}`,
		Moto: `{"error":"none: the call was accepted","status":0,"message":""}`,
	},
}

func TestCloudFrontMatchesMoto(t *testing.T) {
	w := startMoto(t)
	w.differ(t, cloudFrontBasics, cloudFrontDifferences)
}
