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
	var out []dns.RecordSet
	err := p.listRecords(ctx, zoneID, nil, func(r dns.RecordSet) bool {
		out = append(out, r)
		return true
	}, func(string) bool { return true })
	if err != nil {
		return nil, fmt.Errorf("listing records of zone %s: %w", zoneID, err)
	}
	return out, nil
}

// listRecords lists the record sets of zoneID from the name start (nil:
// the zone's first), in Route 53's order, handing each to visit until it
// returns false. It follows pagination while follow accepts the name the
// next page starts at.
func (p *Provider) listRecords(ctx context.Context, zoneID string, start *string, visit func(dns.RecordSet) bool, follow func(next string) bool) error {
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), StartRecordName: start}
	for {
		var page *route53.ListResourceRecordSetsOutput
		err := p.call(ctx, retry.Read, func(ctx context.Context) error {
			var err error
			page, err = p.api.ListResourceRecordSets(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
		for _, rr := range page.ResourceRecordSets {
			if !visit(fromSDK(rr)) {
				return nil
			}
		}
		next := aws.ToString(page.NextRecordName)
		if !page.IsTruncated || next == "" || !follow(next) {
			return nil
		}
		in = &route53.ListResourceRecordSetsInput{
			HostedZoneId:          aws.String(zoneID),
			StartRecordName:       page.NextRecordName,
			StartRecordType:       page.NextRecordType,
			StartRecordIdentifier: page.NextRecordIdentifier,
		}
	}
}
