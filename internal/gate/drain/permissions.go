package drain

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of the calls metricsAPI makes.
// GetMetricData has no resource-level permissions: it is granted on "*".
var Permissions = iam.Table{
	{Operation: "GetMetricData", Actions: []string{"cloudwatch:GetMetricData"}, Resource: iam.Any},
}
