package runbook

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestCallsNameEachIdentity(t *testing.T) {
	rb := &Runbook{
		Zone:              "Z1",
		ZoneRoleARN:       "arn:aws:iam::555555555555:role/dns",
		CDNRoleARN:        "arn:aws:iam::777777777777:role/new",
		DistributionRoles: map[string]string{"EOLD": "arn:aws:iam::666666666666:role/old"},
		Identities: map[string]Identity{
			"arn:aws:iam::555555555555:role/dns": {Chain: []string{"arn:aws:iam::444444444444:role/hub"}, ExternalID: "x1", SessionName: "ops"},
		},
		Steps: []Step{{Aliases: &Aliases{}}},
		Gates: []Gate{
			{Name: "errors", Kind: "cloudwatch", Spec: json.RawMessage(`{"role_arn": "arn:aws:iam::555555555555:role/dns"}`)},
			{Name: "home", Kind: "probe", Spec: json.RawMessage(`{"url": "https://x"}`)},
			{Name: "quiet", Kind: "drain", Spec: json.RawMessage(`{"cloudwatch": {"distribution_id": "EOLD"}}`)},
		},
	}
	want := []Call{
		{"zone Z1", "Route 53 as arn:aws:iam::555555555555:role/dns (via arn:aws:iam::444444444444:role/hub), with an external id, session ops"},
		{"distributions", "CloudFront as arn:aws:iam::777777777777:role/new, session cutover"},
		{"distribution EOLD", "CloudFront as arn:aws:iam::666666666666:role/old, session cutover"},
		{"gate errors", "CloudWatch as arn:aws:iam::555555555555:role/dns (via arn:aws:iam::444444444444:role/hub), with an external id, session ops"},
		{"gate quiet", "CloudWatch as " + DefaultIdentity},
	}
	if got := rb.Calls(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls\n got %q\nwant %q", got, want)
	}
	// The external id itself is not shown: some treat it as a secret.
	for _, c := range rb.Calls() {
		if strings.Contains(c.As, "x1") {
			t.Fatal("the external id is shown")
		}
	}
}
