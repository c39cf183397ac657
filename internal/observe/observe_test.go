package observe

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/memdns"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// edges resolves every edge to a CloudFront target of the same id.
type edges struct{}

func (edges) Target(_ context.Context, e plan.Edge) (edge.Target, error) {
	return edge.Target{Kind: edge.KindCloudFront, ID: e.Value, DNSName: strings.ToLower(e.Value) + ".cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}, nil
}

// distributions is a CloudFront reader over a fixed world.
type distributions struct {
	by        map[string]cloudfront.Distribution
	conflicts []cloudfront.Conflict
	err       error // from Conflicts
}

func (d *distributions) Distribution(_ context.Context, id string) (cloudfront.Distribution, error) {
	if x, ok := d.by[id]; ok {
		return x, nil
	}
	return cloudfront.Distribution{}, errors.New("no such distribution")
}

func (d *distributions) Conflicts(context.Context, string, string) ([]cloudfront.Conflict, error) {
	return d.conflicts, d.err
}

func cloudFrontPlan() *plan.Plan {
	return &plan.Plan{
		Hostname: "cdn.example.com",
		Zone:     plan.Zone{ID: "Z1"},
		From:     plan.Edge{Kind: plan.EdgeCloudFront, Value: "EOLD"},
		To:       plan.Edge{Kind: plan.EdgeCloudFront, Value: "ENEW"},
	}
}

func deps(cf *distributions) Deps {
	zone := memdns.New()
	zone.Put("Z1", dns.RecordSet{Name: "cdn.example.com.", Type: "CNAME", TTL: 300, Values: []string{"eold.cloudfront.net"}})
	return Deps{
		Edges: edges{},
		Zone:  func(context.Context, *runbook.Runbook) (dns.Provider, error) { return zone, nil },
		CDN:   func(context.Context, string) (Distributions, error) { return cf, nil },
	}
}

// Neither distribution of the plan holds the hostname (another account's
// does): the holder comes from the conflicting aliases.
func TestObserveFindsAHolderElsewhere(t *testing.T) {
	cf := &distributions{
		by: map[string]cloudfront.Distribution{
			"EOLD": {ID: "EOLD", ARN: "arn:aws:cloudfront::111111111111:distribution/EOLD"},
			"ENEW": {ID: "ENEW", ARN: "arn:aws:cloudfront::222222222222:distribution/ENEW", Aliases: []string{"other.example.com"}},
		},
		conflicts: []cloudfront.Conflict{{Alias: "cdn.example.com.", DistributionID: "E***", AccountID: "******333333"}},
	}
	obs, err := Observe(context.Background(), cloudFrontPlan(), deps(cf))
	if err != nil {
		t.Fatal(err)
	}
	if obs.Holder.Distribution != "E***" || obs.Holder.Account != "******333333" {
		t.Fatalf("holder %+v", obs.Holder)
	}
	if obs.ToAccount != "222222222222" || len(obs.ToAliases) != 1 || len(obs.Records) != 1 {
		t.Fatalf("observed %+v", obs)
	}
}

// A failure to list the conflicting aliases is not "nobody holds it": the
// compiler would plan an alias move the world does not allow.
func TestObserveReportsAConflictsFailure(t *testing.T) {
	cf := &distributions{
		by: map[string]cloudfront.Distribution{
			"EOLD": {ID: "EOLD"},
			"ENEW": {ID: "ENEW"},
		},
		err: errors.New("AccessDenied: not authorized to ListConflictingAliases"),
	}
	_, err := Observe(context.Background(), cloudFrontPlan(), deps(cf))
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "cdn.example.com") {
		t.Fatalf("want the listing's error, got %v", err)
	}
}

func TestCDNRoleIsTheNewDistributions(t *testing.T) {
	p := cloudFrontPlan()
	p.From.RoleARN, p.To.RoleARN = "arn:old", "arn:new"
	if got := CDNRole(p); got != "arn:new" {
		t.Fatalf("CDNRole = %q", got)
	}
	p.To = plan.Edge{Kind: plan.EdgeEndpoint, Value: "new.example.net"}
	if got := CDNRole(p); got != "arn:old" {
		t.Fatalf("CDNRole with an endpoint to = %q", got)
	}
}
