package route53_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/lab/route53"
)

func tagMap(tags []types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// TestSDKTagsCommentAndDNSSEC covers the zone metadata calls a suite makes
// around its record sets: tags on zones and health checks, the zone
// comment, DNSSEC status.
func TestSDKTagsCommentAndDNSSEC(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()
	z, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("z1"), HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("first")}})
	if err != nil {
		t.Fatal(err)
	}
	zid := aws.ToString(z.HostedZone.Id) // with its /hostedzone/ prefix: the SDK strips it
	bare := zid[len("/hostedzone/"):]

	empty, err := c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare)})
	if err != nil || len(empty.ResourceTagSet.Tags) != 0 || aws.ToString(empty.ResourceTagSet.ResourceId) != bare {
		t.Fatalf("tags of a new zone: %+v %v", empty, err)
	}
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare),
		AddTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("edge")}, {Key: aws.String("env"), Value: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare),
		AddTags: []types.Tag{{Key: aws.String("env"), Value: aws.String("staging")}}, RemoveTagKeys: []string{"team"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare)})
	if err != nil {
		t.Fatal(err)
	}
	if m := tagMap(got.ResourceTagSet.Tags); len(m) != 1 || m["env"] != "staging" {
		t.Fatalf("tags after add, overwrite, remove: %v", m)
	}

	hc, err := c.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String("hc"), HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FullyQualifiedDomainName: aws.String("origin.example.com")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: hc.HealthCheck.Id,
		AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("origin")}}}); err != nil {
		t.Fatal(err)
	}
	many, err := c.ListTagsForResources(ctx, &r53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceIds: []string{aws.ToString(hc.HealthCheck.Id)}})
	if err != nil || len(many.ResourceTagSets) != 1 || tagMap(many.ResourceTagSets[0].Tags)["Name"] != "origin" {
		t.Fatalf("ListTagsForResources: %+v %v", many, err)
	}

	var noZone *types.NoSuchHostedZone
	_, err = c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String("ZNOTHERE")})
	if !errors.As(err, &noZone) {
		t.Fatalf("tags of an unknown zone: %v", err)
	}
	var noCheck *types.NoSuchHealthCheck
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String("00000000-0000-0000-0000-000000000000"),
		AddTags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if !errors.As(err, &noCheck) {
		t.Fatalf("tags of an unknown health check: %v", err)
	}
	var invalid *types.InvalidInput
	eleven := make([]types.Tag, 11)
	for i := range eleven {
		eleven[i] = types.Tag{Key: aws.String(string(rune('a' + i))), Value: aws.String("v")}
	}
	_, err = c.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare), AddTags: eleven})
	if !errors.As(err, &invalid) {
		t.Fatalf("11 tags in one request: %v", err)
	}

	up, err := c.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String(zid), Comment: aws.String("second")})
	if err != nil || aws.ToString(up.HostedZone.Config.Comment) != "second" {
		t.Fatalf("UpdateHostedZoneComment: %+v %v", up, err)
	}
	read, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zid)})
	if err != nil || aws.ToString(read.HostedZone.Config.Comment) != "second" {
		t.Fatalf("comment after update: %+v %v", read, err)
	}

	st, err := c.GetDNSSEC(ctx, &r53.GetDNSSECInput{HostedZoneId: aws.String(zid)})
	if err != nil || aws.ToString(st.Status.ServeSignature) != "NOT_SIGNING" || len(st.KeySigningKeys) != 0 {
		t.Fatalf("GetDNSSEC: %+v %v", st, err)
	}

	// The tags survive a snapshot round trip, as the rest of the zone does.
	snap, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.svc.Restore(snap); err != nil {
		t.Fatal(err)
	}
	again, err := c.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(bare)})
	if err != nil || tagMap(again.ResourceTagSet.Tags)["env"] != "staging" {
		t.Fatalf("tags after restore: %+v %v", again, err)
	}
}

// TestCLITagsAndComment: the same calls from the aws CLI (botocore's wire
// form of the tags paths and the comment update).
func TestCLITagsAndComment(t *testing.T) {
	t.Parallel()
	l := newLab(t, route53.Options{})
	var zone struct{ HostedZone struct{ Id string } }
	l.cli(t, &zone, "route53", "create-hosted-zone", "--name", "example.org", "--caller-reference", "cli-tags")
	bare := zone.HostedZone.Id[len("/hostedzone/"):]
	l.cli(t, nil, "route53", "change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", bare, "--add-tags", "Key=owner,Value=platform")
	var tags struct {
		ResourceTagSet struct {
			ResourceId string
			Tags       []struct{ Key, Value string }
		}
	}
	l.cli(t, &tags, "route53", "list-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", bare)
	if tags.ResourceTagSet.ResourceId != bare || len(tags.ResourceTagSet.Tags) != 1 || tags.ResourceTagSet.Tags[0].Value != "platform" {
		t.Fatalf("list-tags-for-resource: %+v", tags)
	}
	var up struct {
		HostedZone struct{ Config struct{ Comment string } }
	}
	l.cli(t, &up, "route53", "update-hosted-zone-comment", "--id", zone.HostedZone.Id, "--comment", "moved by cutover")
	if up.HostedZone.Config.Comment != "moved by cutover" {
		t.Fatalf("update-hosted-zone-comment: %+v", up)
	}
}
