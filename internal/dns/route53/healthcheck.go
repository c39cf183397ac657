package route53

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/retry"
)

// versionRetries bounds how often SetHealthCheckInverted re-reads a check
// whose version moved between its read and its update.
const versionRetries = 3

// SetHealthCheckInverted sets the Inverted flag of health check id:
// GetHealthCheck for its version, then UpdateHealthCheck with that version
// (Route 53 refuses a stale one with HealthCheckVersionMismatch, and the
// read is retried). A check that already has the flag is left alone.
func (p *Provider) SetHealthCheckInverted(ctx context.Context, id string, inverted bool) error {
	for attempt := 0; ; attempt++ {
		var got *route53.GetHealthCheckOutput
		err := p.call(ctx, retry.Read, func(ctx context.Context) error {
			var err error
			got, err = p.api.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
			return err
		})
		if err != nil {
			return fmt.Errorf("reading health check %s: %w", id, err)
		}
		hc := got.HealthCheck
		if hc == nil || hc.HealthCheckConfig == nil {
			return fmt.Errorf("reading health check %s: empty answer", id)
		}
		if aws.ToBool(hc.HealthCheckConfig.Inverted) == inverted {
			return nil
		}
		err = p.call(ctx, retry.Write, func(ctx context.Context) error {
			_, err := p.api.UpdateHealthCheck(ctx, &route53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: hc.HealthCheckVersion, Inverted: aws.Bool(inverted)})
			return err
		})
		var mismatch *types.HealthCheckVersionMismatch
		if errors.As(err, &mismatch) && attempt < versionRetries {
			continue
		}
		if err != nil {
			return fmt.Errorf("updating health check %s (inverted=%v): %w", id, inverted, err)
		}
		return nil
	}
}
