package route53_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/lab/route53"
)

// TestSDKReusableDelegationSets: a set created on its own or from a zone,
// zones created with it share its name servers, a set in use cannot be
// deleted, and all of it survives a snapshot.
func TestSDKReusableDelegationSets(t *testing.T) {
	l := newLab(t, route53.Options{})
	c, ctx := l.client(), context.Background()

	set, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds-1")})
	if err != nil {
		t.Fatal(err)
	}
	ds := set.DelegationSet
	if !strings.HasPrefix(aws.ToString(ds.Id), "/delegationset/N") || len(ds.NameServers) != 4 || !strings.Contains(aws.ToString(set.Location), "/delegationset/") {
		t.Fatalf("created set: %+v at %s", ds, aws.ToString(set.Location))
	}
	var dup *types.DelegationSetAlreadyCreated
	if _, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds-1")}); !errors.As(err, &dup) {
		t.Fatalf("same caller reference again: %v", err)
	}

	var zones []string
	for _, name := range []string{"a.example", "b.example"} {
		z, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name), DelegationSetId: ds.Id})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(z.DelegationSet.NameServers, ds.NameServers) || aws.ToString(z.DelegationSet.Id) != aws.ToString(ds.Id) {
			t.Fatalf("zone %s: delegation set %+v, want %+v", name, z.DelegationSet, ds)
		}
		zones = append(zones, aws.ToString(z.HostedZone.Id))
	}
	got, err := c.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zones[0])})
	if err != nil || aws.ToString(got.DelegationSet.Id) != aws.ToString(ds.Id) {
		t.Fatalf("GetHostedZone names the set: %+v %v", got, err)
	}

	var inUse *types.DelegationSetInUse
	if _, err := c.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: ds.Id}); !errors.As(err, &inUse) {
		t.Fatalf("deleting a set in use: %v", err)
	}

	// From an existing zone: its own name servers become reusable.
	plain, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("c.example"), CallerReference: aws.String("c")})
	if err != nil {
		t.Fatal(err)
	}
	from, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds-2"), HostedZoneId: plain.HostedZone.Id})
	if err != nil || !slices.Equal(from.DelegationSet.NameServers, plain.DelegationSet.NameServers) {
		t.Fatalf("set from a zone: %+v %v, zone has %v", from, err, plain.DelegationSet.NameServers)
	}
	var already *types.DelegationSetAlreadyReusable
	if _, err := c.CreateReusableDelegationSet(ctx, &r53.CreateReusableDelegationSetInput{CallerReference: aws.String("ds-3"), HostedZoneId: plain.HostedZone.Id}); !errors.As(err, &already) {
		t.Fatalf("the same zone's set again: %v", err)
	}

	list, err := c.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{})
	if err != nil || len(list.DelegationSets) != 2 || list.IsTruncated {
		t.Fatalf("list: %+v %v", list, err)
	}
	page, err := c.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(page.DelegationSets) != 1 || !page.IsTruncated || aws.ToString(page.NextMarker) == "" {
		t.Fatalf("first page of one: %+v %v", page, err)
	}
	rest, err := c.ListReusableDelegationSets(ctx, &r53.ListReusableDelegationSetsInput{MaxItems: aws.Int32(1), Marker: page.NextMarker})
	if err != nil || len(rest.DelegationSets) != 1 || rest.IsTruncated || aws.ToString(rest.DelegationSets[0].Id) == aws.ToString(page.DelegationSets[0].Id) {
		t.Fatalf("second page: %+v %v", rest, err)
	}

	snap, err := l.svc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.svc.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if again, err := c.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: ds.Id}); err != nil || !slices.Equal(again.DelegationSet.NameServers, ds.NameServers) {
		t.Fatalf("set after restore: %+v %v", again, err)
	}
	if _, err := c.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: ds.Id}); !errors.As(err, &inUse) {
		t.Fatalf("after restore the zones still use the set: %v", err)
	}

	for _, z := range zones {
		if _, err := c.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(z)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteReusableDelegationSet(ctx, &r53.DeleteReusableDelegationSetInput{Id: ds.Id}); err != nil {
		t.Fatalf("deleting the set once unused: %v", err)
	}
	var none *types.NoSuchDelegationSet
	if _, err := c.GetReusableDelegationSet(ctx, &r53.GetReusableDelegationSetInput{Id: ds.Id}); !errors.As(err, &none) {
		t.Fatalf("a deleted set: %v", err)
	}
	if _, err := c.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("d.example"), CallerReference: aws.String("d"), DelegationSetId: ds.Id}); !errors.As(err, &none) {
		t.Fatalf("a zone with a deleted set: %v", err)
	}
}
