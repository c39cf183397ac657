package awsread

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/iam"
)

// TestPermissionsCoverEveryCall fails when acmAPI, elbAPI, route53API or
// cloudwatchAPI gains a method without a Permissions entry (or loses one
// that still has an entry).
func TestPermissionsCoverEveryCall(t *testing.T) {
	missing, extra := iam.Unlisted(Permissions, (*acmAPI)(nil), (*elbAPI)(nil), (*route53API)(nil), (*cloudwatchAPI)(nil))
	if len(missing)+len(extra) > 0 {
		t.Fatalf("methods without a permission: %v; permissions without a method: %v", missing, extra)
	}
}

// TestPermissionsNameTheirService: each action belongs to the service of
// the interface the operation is on.
func TestPermissionsNameTheirService(t *testing.T) {
	want := map[string]string{
		"DescribeCertificate": "acm", "ListCertificates": "acm",
		"DescribeLoadBalancers": "elasticloadbalancing", "DescribeListeners": "elasticloadbalancing",
		"DescribeTargetGroups": "elasticloadbalancing", "DescribeTargetHealth": "elasticloadbalancing",
		"ListHostedZones": "route53", "ListHealthChecks": "route53",
		"DescribeAlarms": "cloudwatch", "GetMetricData": "cloudwatch",
	}
	for _, p := range Permissions {
		for _, a := range p.Actions {
			if svc, _, _ := strings.Cut(a, ":"); svc != want[p.Operation] {
				t.Errorf("%s needs %s, want an action of %s", p.Operation, a, want[p.Operation])
			}
		}
	}
}
