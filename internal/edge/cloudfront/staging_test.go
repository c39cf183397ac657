package cloudfront

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

func TestContinuousDeploymentPromote(t *testing.T) {
	w := newWorld(t, "", time.Minute)
	ctx := context.Background()
	st, err := w.client.CopyToStaging(ctx, w.old(), "stage-1")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Staging || len(st.Aliases) != 0 || st.ID == w.old() || st.ETag == "" {
		t.Fatalf("staging copy %+v", st)
	}
	id, etag, err := w.client.CreatePolicy(ctx, st.DomainName, Traffic{Weight: 0.1, Idle: 5 * time.Minute, Max: 10 * time.Minute})
	if err != nil || id == "" || etag == "" {
		t.Fatalf("policy %q %q: %v", id, etag, err)
	}
	p, err := w.client.AttachPolicy(ctx, w.old(), id)
	if err != nil || p.PolicyID != id {
		t.Fatalf("attach: %+v %v", p, err)
	}
	v, _ := w.lab.CloudFront.Get(w.old())
	if v.Policy == nil || !v.Policy.Enabled || v.Policy.Weight < 0.099 || v.Policy.Weight > 0.101 || v.Policy.IdleTTL != 5*time.Minute || v.Policy.MaximumTTL != 10*time.Minute {
		t.Fatalf("lab policy %+v", v.Policy)
	}
	if err := w.client.UpdatePolicy(ctx, id, Traffic{HeaderName: "aws-cf-cd-canary", HeaderValue: "yes"}, true); err != nil {
		t.Fatal(err)
	}
	v, _ = w.lab.CloudFront.Get(w.old())
	if v.Policy.Type != "SingleHeader" || v.Policy.Header != "aws-cf-cd-canary" || v.Policy.HeaderValue != "yes" || v.Policy.StagingDomainName != st.DomainName {
		t.Fatalf("updated policy %+v", v.Policy)
	}
	// Edit the staging config, then promote it.
	out, err := w.raw.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(st.ID)})
	if err != nil {
		t.Fatal(err)
	}
	out.DistributionConfig.Comment = aws.String("v2")
	if _, err := w.raw.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(st.ID), IfMatch: out.ETag, DistributionConfig: out.DistributionConfig}); err != nil {
		t.Fatal(err)
	}
	promoted, err := w.client.Promote(ctx, w.old(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	v, _ = w.lab.CloudFront.Get(w.old())
	if !promoted.HasAlias("www.example.com") || promoted.PolicyID != id || v.Comment != "v2" || v.Policy.Enabled {
		t.Fatalf("after promote: %+v, lab %+v", promoted, v)
	}
}

func TestAbortRemovesStagingAndPolicy(t *testing.T) {
	w := newWorld(t, "", 3*time.Minute)
	ctx := context.Background()
	st, err := w.client.CopyToStaging(ctx, w.old(), "stage-2")
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := w.client.CreatePolicy(ctx, st.DomainName, Traffic{Weight: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.AttachPolicy(ctx, w.old(), id); err != nil {
		t.Fatal(err)
	}
	start := w.clock.Now()
	if err := w.client.Abort(ctx, w.old(), st.ID, id); err != nil {
		t.Fatal(err)
	}
	if took := w.clock.Now().Sub(start); took < 3*time.Minute {
		t.Fatalf("staging deleted after %s, before its disabling deployed", took)
	}
	if _, ok := w.lab.CloudFront.Get(st.ID); ok {
		t.Fatal("staging distribution still exists")
	}
	if v, _ := w.lab.CloudFront.Get(w.old()); v.PolicyID != "" || !v.Enabled || len(v.Aliases) != 1 {
		t.Fatalf("primary after abort %+v", v)
	}
	if _, err := w.raw.GetContinuousDeploymentPolicy(ctx, &cf.GetContinuousDeploymentPolicyInput{Id: aws.String(id)}); errorCode(err) != "NoSuchContinuousDeploymentPolicy" {
		t.Fatalf("policy after abort: %v", err)
	}
	// A second abort finds everything done and succeeds.
	if err := w.client.Abort(ctx, w.old(), st.ID, id); err != nil {
		t.Fatalf("repeated abort: %v", err)
	}
}

func TestTrafficRefusedBeforeAnyCall(t *testing.T) {
	w := newWorld(t, "", -1)
	bad := []Traffic{
		{Weight: 0.2},
		{Weight: 0.1, Idle: time.Minute, Max: 10 * time.Minute},
		{Weight: 0.1, Idle: 20 * time.Minute, Max: 10 * time.Minute},
		{HeaderName: "x-canary", HeaderValue: "1"},
		{HeaderName: "aws-cf-cd-canary"},
	}
	for _, tr := range bad {
		_, _, err := w.client.CreatePolicy(context.Background(), "d1.cloudfront.net", tr)
		if !errors.Is(err, ErrInvalidTraffic) {
			t.Fatalf("%+v: %v", tr, err)
		}
	}
	if n := w.cfRequests.Load(); n != 0 {
		t.Fatalf("%d requests for refused traffic", n)
	}
}
