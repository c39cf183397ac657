package cloudfront

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/cutover/cutover/internal/edge/cdn"
)

// Traffic is a continuous deployment split; the type lives in the SDK-free
// package cdn.
type Traffic = cdn.Traffic

// Continuous deployment limits CloudFront enforces.
const (
	MaxStagingWeight = cdn.MaxStagingWeight
	HeaderPrefix     = cdn.HeaderPrefix
	MinStickiness    = cdn.MinStickiness
	MaxStickiness    = cdn.MaxStickiness
)

// ErrInvalidTraffic marks a Traffic CloudFront would refuse; it is caught
// before any call.
var ErrInvalidTraffic = cdn.ErrInvalidTraffic

// trafficConfig is t as the SDK spells it.
func trafficConfig(t Traffic) *types.TrafficConfig {
	if t.HeaderName != "" {
		return &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleHeader,
			SingleHeaderConfig: &types.ContinuousDeploymentSingleHeaderConfig{Header: aws.String(t.HeaderName), Value: aws.String(t.HeaderValue)}}
	}
	w := &types.ContinuousDeploymentSingleWeightConfig{Weight: aws.Float32(float32(t.Weight))}
	if t.Idle > 0 || t.Max > 0 {
		w.SessionStickinessConfig = &types.SessionStickinessConfig{
			IdleTTL: aws.Int32(int32(t.Idle / time.Second)), MaximumTTL: aws.Int32(int32(t.Max / time.Second))}
	}
	return &types.TrafficConfig{Type: types.ContinuousDeploymentPolicyTypeSingleWeight, SingleWeightConfig: w}
}

// CopyToStaging copies the primary into a new staging distribution (no
// aliases, unreachable directly) identified by callerRef.
func (c *Client) CopyToStaging(ctx context.Context, primaryID, callerRef string) (Distribution, error) {
	var result Distribution
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		p, err := c.get(ctx, primaryID)
		if err != nil {
			return err
		}
		var out *cf.CopyDistributionOutput
		err = c.call(ctx, writeCall, func(ctx context.Context) error {
			var err error
			out, err = c.api.CopyDistribution(ctx, &cf.CopyDistributionInput{
				PrimaryDistributionId: aws.String(primaryID), CallerReference: aws.String(callerRef),
				Staging: aws.Bool(true), Enabled: aws.Bool(true), IfMatch: aws.String(p.ETag)})
			return err
		})
		if err != nil {
			return err
		}
		result = fromSDK(out.Distribution, aws.ToString(out.ETag))
		return nil
	})
	if err != nil {
		return Distribution{}, fmt.Errorf("copying distribution %s to staging: %w", primaryID, err)
	}
	return result, nil
}

// CreatePolicy creates an enabled continuous deployment policy sending t
// to the staging distribution named stagingDomain.
func (c *Client) CreatePolicy(ctx context.Context, stagingDomain string, t Traffic) (id, etag string, err error) {
	if err := t.Validate(); err != nil {
		return "", "", fmt.Errorf("creating policy for %s: %w", stagingDomain, err)
	}
	cfg := policyConfig(stagingDomain, t, true)
	var out *cf.CreateContinuousDeploymentPolicyOutput
	err = c.call(ctx, writeCall, func(ctx context.Context) error {
		var err error
		out, err = c.api.CreateContinuousDeploymentPolicy(ctx, &cf.CreateContinuousDeploymentPolicyInput{ContinuousDeploymentPolicyConfig: cfg})
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("creating policy for %s: %w", stagingDomain, err)
	}
	if out.ContinuousDeploymentPolicy == nil {
		return "", "", fmt.Errorf("creating policy for %s: empty answer", stagingDomain)
	}
	return aws.ToString(out.ContinuousDeploymentPolicy.Id), aws.ToString(out.ETag), nil
}

func policyConfig(stagingDomain string, t Traffic, enabled bool) *types.ContinuousDeploymentPolicyConfig {
	return &types.ContinuousDeploymentPolicyConfig{
		Enabled:                     aws.Bool(enabled),
		StagingDistributionDnsNames: &types.StagingDistributionDnsNames{Quantity: aws.Int32(1), Items: []string{stagingDomain}},
		TrafficConfig:               trafficConfig(t),
	}
}

// AttachPolicy sets the primary's ContinuousDeploymentPolicyId; the split
// starts once the primary has deployed.
func (c *Client) AttachPolicy(ctx context.Context, primaryID, policyID string) (Distribution, error) {
	d, err := c.setPolicy(ctx, primaryID, policyID)
	if err != nil {
		return Distribution{}, fmt.Errorf("attaching policy %s to distribution %s: %w", policyID, primaryID, err)
	}
	return d, nil
}

// setPolicy writes the primary's policy id ("" detaches) unless it is
// already so.
func (c *Client) setPolicy(ctx context.Context, primaryID, policyID string) (Distribution, error) {
	var result Distribution
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		cfg, etag, err := c.config(ctx, primaryID)
		if err != nil {
			return err
		}
		if aws.ToString(cfg.ContinuousDeploymentPolicyId) == policyID {
			result, err = c.get(ctx, primaryID)
			return err
		}
		cfg.ContinuousDeploymentPolicyId = nil
		if policyID != "" {
			cfg.ContinuousDeploymentPolicyId = aws.String(policyID)
		}
		result, err = c.update(ctx, primaryID, etag, cfg)
		return err
	})
	return result, err
}

// UpdatePolicy sets a policy's traffic and whether it is enabled, keeping
// its staging distribution. Changing it restarts every sticky session.
func (c *Client) UpdatePolicy(ctx context.Context, policyID string, t Traffic, enabled bool) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("updating policy %s: %w", policyID, err)
	}
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		cur, etag, err := c.policy(ctx, policyID)
		if err != nil {
			return err
		}
		cfg := &types.ContinuousDeploymentPolicyConfig{Enabled: aws.Bool(enabled), StagingDistributionDnsNames: cur.StagingDistributionDnsNames, TrafficConfig: trafficConfig(t)}
		return c.call(ctx, writeCall, func(ctx context.Context) error {
			_, err := c.api.UpdateContinuousDeploymentPolicy(ctx, &cf.UpdateContinuousDeploymentPolicyInput{
				Id: aws.String(policyID), IfMatch: aws.String(etag), ContinuousDeploymentPolicyConfig: cfg})
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("updating policy %s: %w", policyID, err)
	}
	return nil
}

func (c *Client) policy(ctx context.Context, id string) (*types.ContinuousDeploymentPolicyConfig, string, error) {
	var out *cf.GetContinuousDeploymentPolicyOutput
	err := c.call(ctx, readCall, func(ctx context.Context) error {
		var err error
		out, err = c.api.GetContinuousDeploymentPolicy(ctx, &cf.GetContinuousDeploymentPolicyInput{Id: aws.String(id)})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if out.ContinuousDeploymentPolicy == nil || out.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig == nil {
		return nil, "", fmt.Errorf("policy %s: empty answer", id)
	}
	return out.ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig, aws.ToString(out.ETag), nil
}

// Promote copies the staging config onto the primary (all but its aliases
// and policy); CloudFront then disables the policy, so all traffic goes to
// the primary. Both ETags are sent, primary first.
func (c *Client) Promote(ctx context.Context, primaryID, stagingID string) (Distribution, error) {
	var result Distribution
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		p, err := c.get(ctx, primaryID)
		if err != nil {
			return err
		}
		s, err := c.get(ctx, stagingID)
		if err != nil {
			return err
		}
		var out *cf.UpdateDistributionWithStagingConfigOutput
		err = c.call(ctx, writeCall, func(ctx context.Context) error {
			var err error
			out, err = c.api.UpdateDistributionWithStagingConfig(ctx, &cf.UpdateDistributionWithStagingConfigInput{
				Id: aws.String(primaryID), StagingDistributionId: aws.String(stagingID), IfMatch: aws.String(p.ETag + ", " + s.ETag)})
			return err
		})
		if err != nil {
			return err
		}
		result = fromSDK(out.Distribution, aws.ToString(out.ETag))
		return nil
	})
	if err != nil {
		return Distribution{}, fmt.Errorf("promoting staging distribution %s onto %s: %w", stagingID, primaryID, err)
	}
	return result, nil
}

// Abort undoes continuous deployment: detach the policy from the primary,
// delete the policy, disable the staging distribution and, once that has
// deployed, delete it. Each step tolerates having been done already, so a
// retried Abort finishes what an interrupted one started.
func (c *Client) Abort(ctx context.Context, primaryID, stagingID, policyID string) error {
	if _, err := c.setPolicy(ctx, primaryID, ""); err != nil && !notFound(err) {
		return fmt.Errorf("aborting: detaching policy from distribution %s: %w", primaryID, err)
	}
	if policyID != "" {
		if err := c.deletePolicy(ctx, policyID); err != nil && !notFound(err) {
			return fmt.Errorf("aborting: deleting policy %s: %w", policyID, err)
		}
	}
	if stagingID == "" {
		return nil
	}
	if err := c.deleteDistribution(ctx, stagingID); err != nil && !notFound(err) {
		return fmt.Errorf("aborting: deleting staging distribution %s: %w", stagingID, err)
	}
	return nil
}

func notFound(err error) bool {
	switch errorCode(err) {
	case "NoSuchDistribution", "NoSuchContinuousDeploymentPolicy":
		return true
	}
	return false
}

func (c *Client) deletePolicy(ctx context.Context, id string) error {
	return c.readModifyWrite(ctx, func(ctx context.Context) error {
		_, etag, err := c.policy(ctx, id)
		if err != nil {
			return err
		}
		return c.call(ctx, writeCall, func(ctx context.Context) error {
			_, err := c.api.DeleteContinuousDeploymentPolicy(ctx, &cf.DeleteContinuousDeploymentPolicyInput{Id: aws.String(id), IfMatch: aws.String(etag)})
			return err
		})
	})
}

// deleteDistribution disables id if needed, waits for that to deploy (a
// distribution is deleted only disabled and Deployed), then deletes it
// with the latest ETag.
func (c *Client) deleteDistribution(ctx context.Context, id string) error {
	err := c.readModifyWrite(ctx, func(ctx context.Context) error {
		cfg, etag, err := c.config(ctx, id)
		if err != nil {
			return err
		}
		if !aws.ToBool(cfg.Enabled) {
			return nil
		}
		cfg.Enabled = aws.Bool(false)
		_, err = c.update(ctx, id, etag, cfg)
		return err
	})
	if err != nil {
		return err
	}
	return c.readModifyWrite(ctx, func(ctx context.Context) error {
		d, err := c.WaitDeployed(ctx, id, c.opts.DeployPoll)
		if err != nil {
			return err
		}
		return c.call(ctx, writeCall, func(ctx context.Context) error {
			_, err := c.api.DeleteDistribution(ctx, &cf.DeleteDistributionInput{Id: aws.String(id), IfMatch: aws.String(d.ETag)})
			return err
		})
	})
}
