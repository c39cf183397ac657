package iam

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMatchIAMWildcards(t *testing.T) {
	for _, c := range []struct {
		pattern, value string
		want           bool
	}{
		{"*", "*", true},
		{"*", "arn:aws:route53:::hostedzone/Z1", true},
		{"arn:aws:route53:::change/*", "arn:aws:route53:::change/C123", true},
		{"arn:aws:route53:::change/*", "arn:aws:route53:::hostedzone/Z1", false},
		{"arn:aws:route53:::hostedzone/Z1", "arn:aws:route53:::hostedzone/Z12", false},
		{"arn:aws:cloudfront::*:distribution/E1", "arn:aws:cloudfront::111111111111:distribution/E1", true},
		{"arn:aws:cloudfront::*:distribution/E1", "arn:aws:cloudfront::111111111111:distribution/E2", false},
		{"arn:aws:cloudfront::1111?1111111:distribution/*", "arn:aws:cloudfront::111111111111:distribution/E2", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		// An ARN grant does not allow an action evaluated on "*".
		{"arn:aws:route53:::hostedzone/*", "*", false},
		{"", "", true},
		{"Z1", "z1", false}, // ARNs are case-sensitive
	} {
		if got := Match(c.pattern, c.value); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.value, got, c.want)
		}
	}
}

func TestAllowsActionCaseInsensitiveResourceExact(t *testing.T) {
	g := NewGrants()
	g.Add("arn:aws:route53:::hostedzone/Z1", "route53:ListResourceRecordSets", "route53:ChangeResourceRecordSets")
	g.Add("arn:aws:route53:::change/*", "route53:GetChange")
	g.Add("*", "cloudwatch:GetMetricData")
	d := g.Document()
	for _, c := range []struct {
		action, resource string
		want             bool
	}{
		{"route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z1", true},
		{"Route53:listresourcerecordsets", "arn:aws:route53:::hostedzone/Z1", true},
		{"route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/Z2", false},
		{"route53:GetChange", "arn:aws:route53:::change/C9", true},
		{"route53:GetChange", "arn:aws:route53:::hostedzone/Z1", false},
		{"route53:DeleteHostedZone", "arn:aws:route53:::hostedzone/Z1", false},
		{"cloudwatch:GetMetricData", "*", true},
	} {
		if got := d.Allows(c.action, c.resource); got != c.want {
			t.Errorf("Allows(%s, %s) = %v, want %v", c.action, c.resource, got, c.want)
		}
	}
}

func TestDocumentDropsResourcesAWildcardCovers(t *testing.T) {
	g := NewGrants()
	g.Add("arn:aws:cloudfront::1:distribution/E1", "cloudfront:GetDistribution")
	g.Add("arn:aws:cloudfront::1:distribution/*", "cloudfront:GetDistribution")
	g.Add("arn:aws:cloudfront::2:distribution/E2", "cloudfront:GetDistribution")
	d := g.Document()
	if len(d.Statement) != 1 || strings.Join(d.Statement[0].Resource, " ") != "arn:aws:cloudfront::1:distribution/* arn:aws:cloudfront::2:distribution/E2" {
		t.Fatalf("statements %+v", d.Statement)
	}
}

func TestDocumentIsDeterministicAndGrouped(t *testing.T) {
	build := func(order []int) []byte {
		g := NewGrants()
		adds := []func(){
			func() { g.Add("arn:aws:route53:::hostedzone/Z1", "route53:ListResourceRecordSets") },
			func() { g.Add("arn:aws:route53:::change/*", "route53:GetChange") },
			func() { g.Add("arn:aws:route53:::hostedzone/Z1", "route53:ChangeResourceRecordSets") },
			func() { g.Add("*", "cloudwatch:GetMetricData") },
		}
		for _, i := range order {
			adds[i]()
		}
		b, _ := json.Marshal(g.Document())
		return b
	}
	a, b := build([]int{0, 1, 2, 3}), build([]int{3, 2, 1, 0})
	if string(a) != string(b) {
		t.Fatalf("order changes the document:\n%s\n%s", a, b)
	}
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"CloudwatchAll","Effect":"Allow","Action":["cloudwatch:GetMetricData"],"Resource":["*"]},` +
		`{"Sid":"Route53Change","Effect":"Allow","Action":["route53:GetChange"],"Resource":["arn:aws:route53:::change/*"]},` +
		`{"Sid":"Route53Hostedzone","Effect":"Allow","Action":["route53:ChangeResourceRecordSets","route53:ListResourceRecordSets"],"Resource":["arn:aws:route53:::hostedzone/Z1"]}]}`
	if string(a) != want {
		t.Fatalf("document:\n%s\nwant:\n%s", a, want)
	}
}

type fakeAPI interface {
	Get(ctx context.Context) error
	Put(ctx context.Context) error
}

func TestUnlistedFindsDriftBothWays(t *testing.T) {
	tab := Table{{Operation: "Get", Actions: []string{"x:Get"}}, {Operation: "Delete", Actions: []string{"x:Delete"}}}
	missing, extra := Unlisted(tab, (*fakeAPI)(nil))
	if !reflect.DeepEqual(missing, []string{"Put"}) || !reflect.DeepEqual(extra, []string{"Delete"}) {
		t.Fatalf("missing %v extra %v", missing, extra)
	}
}

func TestARN(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{ARN(HostedZone, "111111111111", "Z1"), "arn:aws:route53:::hostedzone/Z1"},
		{ARN(Change, "", "*"), "arn:aws:route53:::change/*"},
		{ARN(Distribution, "", "E1"), "arn:aws:cloudfront::*:distribution/E1"},
		{ARN(Distribution, "222222222222", "E1"), "arn:aws:cloudfront::222222222222:distribution/E1"},
		{ARN(Any, "1", "x"), "*"},
		{RegionalARN(Certificate, "eu-west-1", "222222222222", "*"), "arn:aws:acm:eu-west-1:222222222222:certificate/*"},
		{ARN(Certificate, "", "*"), "arn:aws:acm:*:*:certificate/*"},
		{RegionalARN(HostedZone, "eu-west-1", "1", "Z1"), "arn:aws:route53:::hostedzone/Z1"},
		{AccountOf("arn:aws:iam::222222222222:role/dns"), "222222222222"},
		{AccountOf("not-an-arn"), ""},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
