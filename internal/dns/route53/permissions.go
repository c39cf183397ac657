package route53

import (
	"fmt"
	"strings"

	"github.com/cutover/cutover/internal/iam"
)

// Permissions are the IAM permissions of every call route53API makes
// (Service Authorization Reference, Amazon Route 53). The record calls are
// authorized on the hosted zone; GetChange on the change, whose id exists
// only once the change is submitted, so policies grant it on change/*.
var Permissions = iam.Table{
	{Operation: "ListResourceRecordSets", Actions: []string{"route53:ListResourceRecordSets"}, Resource: iam.HostedZone},
	{Operation: "ChangeResourceRecordSets", Actions: []string{"route53:ChangeResourceRecordSets"}, Resource: iam.HostedZone},
	{Operation: "GetChange", Actions: []string{"route53:GetChange"}, Resource: iam.Change},
	{Operation: "GetHostedZone", Actions: []string{"route53:GetHostedZone"}, Resource: iam.HostedZone},
	// Maintenance mode's failover inversion reads and updates the health
	// check with a version compare-and-swap.
	{Operation: "GetHealthCheck", Actions: []string{"route53:GetHealthCheck"}, Resource: iam.HealthCheck},
	{Operation: "UpdateHealthCheck", Actions: []string{"route53:UpdateHealthCheck"}, Resource: iam.HealthCheck},
}

// The condition keys IAM evaluates ChangeResourceRecordSets with (Route 53
// Developer Guide, "Using IAM policy conditions for fine-grained access
// control"): the batch's record names (lower case, no trailing dot;
// characters outside a–z, 0–9, -, _ and . as \ooo octal escapes), its
// record types and its change actions.
const (
	ConditionRecordNames   = "route53:ChangeResourceRecordSetsNormalizedRecordNames"
	ConditionRecordTypes   = "route53:ChangeResourceRecordSetsRecordTypes"
	ConditionRecordActions = "route53:ChangeResourceRecordSetsActions"
)

// BatchActions are the change actions Apply sends: a compare-and-swap is
// an exact DELETE and a CREATE, never an UPSERT.
var BatchActions = []string{"CREATE", "DELETE"}

// NormalizedName is a record name as ConditionRecordNames compares it.
func NormalizedName(name string) string {
	var b strings.Builder
	for _, r := range strings.TrimSuffix(strings.ToLower(name), ".") {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		case r < 256:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
