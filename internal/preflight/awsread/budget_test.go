package awsread

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/dns"
)

// pagedZones answers ListHostedZones in pages of one zone and
// ListHealthChecks in pages of one check, counting the calls.
type pagedZones struct {
	zones, checks int
	calls         int
}

func (p *pagedZones) ListHostedZones(_ context.Context, in *route53.ListHostedZonesInput, _ ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error) {
	p.calls++
	i := 0
	if in.Marker != nil {
		i = int(aws.ToString(in.Marker)[0] - '0')
	}
	out := &route53.ListHostedZonesOutput{HostedZones: []types.HostedZone{{Id: aws.String("/hostedzone/Z" + string(rune('0'+i))), Name: aws.String("z.example.com.")}}}
	if i+1 < p.zones {
		out.IsTruncated, out.NextMarker = true, aws.String(string(rune('0'+i+1)))
	}
	return out, nil
}

func (p *pagedZones) ListHealthChecks(_ context.Context, in *route53.ListHealthChecksInput, _ ...func(*route53.Options)) (*route53.ListHealthChecksOutput, error) {
	p.calls++
	i := 0
	if in.Marker != nil {
		i = int(aws.ToString(in.Marker)[0] - '0')
	}
	out := &route53.ListHealthChecksOutput{HealthChecks: []types.HealthCheck{{Id: aws.String("hc")}}}
	if i+1 < p.checks {
		out.IsTruncated, out.NextMarker = true, aws.String(string(rune('0'+i+1)))
	}
	return out, nil
}

// budgetReader counts what the listings spend of its budget.
type budgetReader struct{ spent int }

func (b *budgetReader) Records(context.Context, string, string) ([]dns.RecordSet, error) {
	return nil, nil
}

func (b *budgetReader) AllRecords(context.Context, string) ([]dns.RecordSet, error) {
	return nil, nil
}

func (b *budgetReader) Wait(context.Context) error { b.spent++; return nil }

// Every page the raw client lists is counted against the run's Route 53
// budget (the zone provider's), as Route 53 counts it.
func TestListingsSpendTheProvidersBudget(t *testing.T) {
	api := &pagedZones{zones: 3, checks: 2}
	rr := &budgetReader{}
	r := Route53{API: api, RR: rr}
	zones, err := r.HostedZones(context.Background())
	if err != nil || len(zones) != 3 {
		t.Fatalf("zones %v, %v", zones, err)
	}
	checks, err := r.HealthChecks(context.Background())
	if err != nil || len(checks) != 2 {
		t.Fatalf("checks %v, %v", checks, err)
	}
	if api.calls != 5 || rr.spent != api.calls {
		t.Fatalf("%d calls made, %d spent from the budget: want every call spent", api.calls, rr.spent)
	}
}
