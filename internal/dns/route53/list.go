package route53

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/retry"
)

// AllRecords returns every record set of zone, following pagination, for
// checks that look for anything still pointing at an edge.
func (p *Provider) AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error) {
	zoneID := bareID(zone)
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)}
	var out []dns.RecordSet
	for {
		var page *route53.ListResourceRecordSetsOutput
		err := p.call(ctx, retry.Read, func(ctx context.Context) error {
			var err error
			page, err = p.api.ListResourceRecordSets(ctx, in)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("listing records of zone %s: %w", zoneID, err)
		}
		for _, rr := range page.ResourceRecordSets {
			out = append(out, fromSDK(rr))
		}
		if !page.IsTruncated || page.NextRecordName == nil {
			return out, nil
		}
		in = &route53.ListResourceRecordSetsInput{
			HostedZoneId:          aws.String(zoneID),
			StartRecordName:       page.NextRecordName,
			StartRecordType:       page.NextRecordType,
			StartRecordIdentifier: page.NextRecordIdentifier,
		}
	}
}
