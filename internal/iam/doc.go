// Package iam holds what least privilege needs and nothing of AWS's SDK:
// the permission tables each adapter declares next to the calls it makes
// (Table: API operation → IAM actions and the resource type they are
// authorized on), ARNs of the resources a plan names, and IAM policy
// documents with the evaluation of an Allow under IAM's wildcard rules.
//
// Every adapter that calls AWS exports its Table (route53.Permissions,
// cloudfront.Permissions, …) and tests it against its narrow SDK
// interface with Unlisted, so a new call cannot be added without saying
// which permission it needs. The iampolicy package turns a plan into the
// policy its run needs from these tables.
package iam
