package awsconfig

import "github.com/cutover/cutover/internal/iam"

// Permissions are the IAM permissions of the calls a role chain makes:
// each hop's AssumeRole, authorized on the role, made by the SDK's
// stscreds provider (so there is no narrow interface to check it
// against). The role's trust policy must also trust the caller.
var Permissions = iam.Table{
	{Operation: "AssumeRole", Actions: []string{"sts:AssumeRole"}, Resource: iam.Role},
}
