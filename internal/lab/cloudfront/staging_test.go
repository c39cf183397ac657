package cloudfront

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
)

func sdkPolicy(stagingDomain string, enabled bool, traffic *types.TrafficConfig) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(enabled),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig:               traffic,
	}
}

func weight(w float32, stick *types.SessionStickinessConfig) *types.TrafficConfig {
	return &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleWeight,
		SingleWeightConfig: &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(w), SessionStickinessConfig: stick}}
}

func TestContinuousDeploymentStagingAndPromote(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	prim := l.create(t, l.cf, sdkConfig("primary", certA, true, "www.example.com"))
	primID := aws.ToString(prim.Distribution.Id)

	// Copy needs the primary's ETag.
	_, err := l.cf.CopyDistribution(ctx, &cf.CopyDistributionInput{PrimaryDistributionId: aws.String(primID), CallerReference: aws.String("stg"), Staging: aws.Bool(true)})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400, "")
	_, err = l.cf.CopyDistribution(ctx, &cf.CopyDistributionInput{PrimaryDistributionId: aws.String(primID), CallerReference: aws.String("stg"), Staging: aws.Bool(true), IfMatch: aws.String("EWRONG")})
	wantAPIError(t, err, "PreconditionFailed", 412, "")
	cp, err := l.cf.CopyDistribution(ctx, &cf.CopyDistributionInput{PrimaryDistributionId: aws.String(primID), CallerReference: aws.String("stg"), Staging: aws.Bool(true), IfMatch: prim.ETag})
	if err != nil {
		t.Fatal(err)
	}
	st := cp.Distribution
	stID := aws.ToString(st.Id)
	if !aws.ToBool(st.DistributionConfig.Staging) || aws.ToInt32(st.DistributionConfig.Aliases.Quantity) != 0 ||
		aws.ToString(st.DistributionConfig.CallerReference) != "stg" || aws.ToString(st.DistributionConfig.Origins.Items[0].Id) != "app" {
		t.Fatalf("staging copy: %+v", st.DistributionConfig)
	}
	if aws.ToString(cp.Location) == "" || aws.ToString(cp.ETag) == "" {
		t.Fatalf("copy result lacks Location/ETag")
	}
	// A staging distribution cannot hold aliases, nor be reached directly.
	cfg, etag := l.getConfig(t, l.cf, stID)
	cfg.Aliases = &types.Aliases{Quantity: aws.Int32(1), Items: []string{"stg.example.com"}}
	_, err = l.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(stID), IfMatch: aws.String(etag), DistributionConfig: cfg})
	wantAPIError(t, err, "InvalidArgument", 400, "")
	if _, ok := l.svc.Resolve(aws.ToString(st.DomainName)); ok {
		t.Fatalf("staging distribution reachable by its own name")
	}

	stDomain := aws.ToString(st.DomainName)
	bad := []struct {
		name string
		cfg  *types.ContinuousDeploymentPolicyConfig
	}{
		{"weight above 15%", sdkPolicy(stDomain, true, weight(0.2, nil))},
		{"idle above max", sdkPolicy(stDomain, true, weight(0.1, &types.SessionStickinessConfig{IdleTTL: aws.Int32(600), MaximumTTL: aws.Int32(300)}))},
		{"ttl below 300", sdkPolicy(stDomain, true, weight(0.1, &types.SessionStickinessConfig{IdleTTL: aws.Int32(60), MaximumTTL: aws.Int32(300)}))},
		{"header without prefix", sdkPolicy(stDomain, true, &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String("x-canary"), Value: aws.String("1")}})},
		{"not a staging distribution", sdkPolicy(aws.ToString(prim.Distribution.DomainName), true, weight(0.1, nil))},
	}
	for _, b := range bad {
		_, err := l.cf.CreateContinuousDeploymentPolicy(ctx, &cf.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: b.cfg})
		if err == nil {
			t.Fatalf("%s: accepted", b.name)
		}
		wantAPIError(t, err, "InvalidArgument", 400, "")
	}
	pol, err := l.cf.CreateContinuousDeploymentPolicy(ctx, &cf.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: sdkPolicy(stDomain, true,
		weight(0.1, &types.SessionStickinessConfig{IdleTTL: aws.Int32(300), MaximumTTL: aws.Int32(600)}))})
	if err != nil {
		t.Fatal(err)
	}
	polID := aws.ToString(pol.ContinuousDeploymentPolicy.Id)
	if aws.ToString(pol.Location) == "" || aws.ToString(pol.ETag) == "" || polID == "" {
		t.Fatalf("policy create result %+v", pol)
	}
	_, err = l.cf.CreateContinuousDeploymentPolicy(ctx, &cf.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: sdkPolicy(stDomain, true, weight(0.05, nil))})
	wantAPIError(t, err, "StagingDistributionInUse", 409, "")
	_, err = l.cfB.GetContinuousDeploymentPolicy(ctx, &cf.GetContinuousDeploymentPolicyInput{Id: aws.String(polID)})
	wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404, "")
	gp, err := l.cf.GetContinuousDeploymentPolicyConfig(ctx, &cf.GetContinuousDeploymentPolicyConfigInput{Id: aws.String(polID)})
	if err != nil || aws.ToFloat32(gp.ContinuousDeploymentPolicyConfig.TrafficConfig.SingleWeightConfig.Weight) != 0.1 {
		t.Fatalf("get policy config: %v %+v", err, gp)
	}
	lp, err := l.cf.ListContinuousDeploymentPolicies(ctx, &cf.ListContinuousDeploymentPoliciesInput{})
	if err != nil || aws.ToInt32(lp.ContinuousDeploymentPolicyList.Quantity) != 1 ||
		aws.ToString(lp.ContinuousDeploymentPolicyList.Items[0].ContinuousDeploymentPolicy.Id) != polID {
		t.Fatalf("list policies: %v %+v", err, lp)
	}

	// Attach the policy to the primary.
	l.update(t, l.cf, primID, func(c *types.DistributionConfig) { c.ContinuousDeploymentPolicyId = aws.String(polID) })
	v, _ := l.svc.Get(primID)
	if v.Policy == nil || !v.Policy.Enabled || v.Policy.Weight != 0.1 || v.Policy.StagingDistributionID != stID || v.Policy.IdleTTL != 5*time.Minute {
		t.Fatalf("primary view policy %+v", v.Policy)
	}
	_, err = l.cf.DeleteContinuousDeploymentPolicy(ctx, &cf.DeleteContinuousDeploymentPolicyInput{Id: aws.String(polID), IfMatch: pol.ETag})
	wantAPIError(t, err, "ContinuousDeploymentPolicyInUse", 409, "")

	// Raising the weight redeploys the primary without touching its ETag.
	l.clock.Advance(time.Minute)
	before, _ := l.svc.Get(primID)
	up, err := l.cf.UpdateContinuousDeploymentPolicy(ctx, &cf.UpdateContinuousDeploymentPolicyInput{Id: aws.String(polID), IfMatch: pol.ETag,
		ContinuousDeploymentPolicyConfig: sdkPolicy(stDomain, true, weight(0.15, nil))})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := l.svc.Get(primID)
	if after.Version != before.Version+1 || after.ETag != before.ETag || after.Status != "InProgress" || after.Policy.Weight != 0.15 {
		t.Fatalf("policy update: before %+v after %+v", before, after)
	}

	// Change the staging config, then promote.
	l.update(t, l.cf, stID, func(c *types.DistributionConfig) {
		c.Origins.Items[0].DomainName = aws.String("v2.origin.test")
		c.Comment = aws.String("v2")
	})
	pcfg, pETag := l.getConfig(t, l.cf, primID)
	_, sETag := l.getConfig(t, l.cf, stID)
	_, err = l.cf.UpdateDistributionWithStagingConfig(ctx, &cf.UpdateDistributionWithStagingConfigInput{Id: aws.String(primID), StagingDistributionId: aws.String(stID), IfMatch: aws.String(pETag)})
	wantAPIError(t, err, "InvalidIfMatchVersion", 400, "")
	_, err = l.cf.UpdateDistributionWithStagingConfig(ctx, &cf.UpdateDistributionWithStagingConfigInput{Id: aws.String(primID), StagingDistributionId: aws.String(stID), IfMatch: aws.String(pETag + ", " + aws.ToString(pol.ETag))})
	wantAPIError(t, err, "PreconditionFailed", 412, "")
	pr, err := l.cf.UpdateDistributionWithStagingConfig(ctx, &cf.UpdateDistributionWithStagingConfigInput{Id: aws.String(primID), StagingDistributionId: aws.String(stID), IfMatch: aws.String(pETag + ", " + sETag)})
	if err != nil {
		t.Fatal(err)
	}
	got := pr.Distribution.DistributionConfig
	if aws.ToString(got.Origins.Items[0].DomainName) != "v2.origin.test" || aws.ToString(got.Comment) != "v2" ||
		!slices.Equal(got.Aliases.Items, pcfg.Aliases.Items) || aws.ToString(got.ContinuousDeploymentPolicyId) != polID ||
		aws.ToBool(got.Staging) || aws.ToString(got.CallerReference) != "primary" || aws.ToString(pr.ETag) == pETag {
		t.Fatalf("promoted config %+v", got)
	}
	gpol, err := l.cf.GetContinuousDeploymentPolicy(ctx, &cf.GetContinuousDeploymentPolicyInput{Id: aws.String(polID)})
	if err != nil || aws.ToBool(gpol.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.Enabled) || aws.ToString(gpol.ETag) == aws.ToString(up.ETag) {
		t.Fatalf("policy after promote must be disabled with a new ETag: %v %+v", err, gpol)
	}

	// Detach, then the policy can go.
	l.update(t, l.cf, primID, func(c *types.DistributionConfig) { c.ContinuousDeploymentPolicyId = aws.String("") })
	if _, err := l.cf.DeleteContinuousDeploymentPolicy(ctx, &cf.DeleteContinuousDeploymentPolicyInput{Id: aws.String(polID), IfMatch: gpol.ETag}); err != nil {
		t.Fatal(err)
	}
	_, err = l.cf.GetContinuousDeploymentPolicy(ctx, &cf.GetContinuousDeploymentPolicyInput{Id: aws.String(polID)})
	wantAPIError(t, err, "NoSuchContinuousDeploymentPolicy", 404, "")
}

func TestPolicyQuota(t *testing.T) {
	l := newLab(t)
	ctx := context.Background()
	prim := l.create(t, l.cf, sdkConfig("primary", "", true))
	etag := prim.ETag
	for i := range maxPolicies + 1 {
		cp, err := l.cf.CopyDistribution(ctx, &cf.CopyDistributionInput{PrimaryDistributionId: prim.Distribution.Id, CallerReference: aws.String(string(rune('a'+i)) + "-stg"), Staging: aws.Bool(true), IfMatch: etag})
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.cf.CreateContinuousDeploymentPolicy(ctx, &cf.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: sdkPolicy(aws.ToString(cp.Distribution.DomainName), false, nil)})
		if i < maxPolicies && err != nil {
			t.Fatalf("policy %d: %v", i, err)
		}
		if i == maxPolicies {
			wantAPIError(t, err, "TooManyContinuousDeploymentPolicies", 400, "")
		}
	}
}
