// Package edge reads the edges a plan names — CloudFront distributions,
// load balancers, plain DNS endpoints — and tells where each one answers:
// its DNS name and, for edges Route 53 can alias, the alias hosted zone id.
// It returns plain values of its own (Target); the observe package maps
// them to the runbook compiler's types.
//
// Each SDK sits behind a narrow interface of just the calls used.
package edge

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/plan"
)

type cloudfrontAPI interface {
	GetDistribution(ctx context.Context, in *cloudfront.GetDistributionInput, opts ...func(*cloudfront.Options)) (*cloudfront.GetDistributionOutput, error)
}

type elbAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elb.DescribeLoadBalancersInput, opts ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
}

var (
	_ cloudfrontAPI = (*cloudfront.Client)(nil)
	_ elbAPI        = (*elb.Client)(nil)
)

// Kinds of edge a Target names.
const (
	KindCloudFront = "cloudfront"
	KindALB        = "alb"
	KindEndpoint   = "endpoint"
)

// Target is where an edge answers.
type Target struct {
	Kind        string // KindCloudFront, KindALB or KindEndpoint
	ID          string // distribution id, load balancer name, or the endpoint itself
	DNSName     string
	AliasZoneID string // the hosted zone Route 53 aliases it through; "" for an endpoint
	// ARN of a distribution or load balancer; "" for an endpoint. A load
	// balancer's CloudWatch dimension is read from it.
	ARN string
}

// Config returns the AWS configuration to reach an edge, given its role.
type Config func(ctx context.Context, region, roleARN string) (aws.Config, error)

// Resolver reads edges through the AWS APIs.
type Resolver struct {
	Config Config
}

// Target resolves e.
func (r Resolver) Target(ctx context.Context, e plan.Edge) (Target, error) {
	switch e.Kind {
	case plan.EdgeEndpoint:
		return Target{Kind: KindEndpoint, ID: e.Value, DNSName: e.Value}, nil
	case plan.EdgeCloudFront:
		cfg, err := r.Config(ctx, "us-east-1", e.RoleARN)
		if err != nil {
			return Target{}, fmt.Errorf("edge %s: %w", e, err)
		}
		return cloudFrontTarget(ctx, cloudfront.NewFromConfig(cfg), e.Value)
	case plan.EdgeALB:
		region := regionOf(e.Value)
		cfg, err := r.Config(ctx, region, e.RoleARN)
		if err != nil {
			return Target{}, fmt.Errorf("edge %s: %w", e, err)
		}
		return albTarget(ctx, elb.NewFromConfig(cfg), e.Value)
	}
	return Target{}, fmt.Errorf("edge %s: unknown kind", e)
}

func cloudFrontTarget(ctx context.Context, api cloudfrontAPI, id string) (Target, error) {
	out, err := api.GetDistribution(ctx, &cloudfront.GetDistributionInput{Id: aws.String(id)})
	if err != nil {
		return Target{}, fmt.Errorf("reading distribution %s: %w", id, err)
	}
	return Target{Kind: KindCloudFront, ID: id, DNSName: aws.ToString(out.Distribution.DomainName), AliasZoneID: route53.AliasZoneForCloudFront, ARN: aws.ToString(out.Distribution.ARN)}, nil
}

// albTarget finds a load balancer by ARN or by DNS name and takes its
// canonical hosted zone id from the API, as the reference advises.
func albTarget(ctx context.Context, api elbAPI, ref string) (Target, error) {
	in := &elb.DescribeLoadBalancersInput{}
	byARN := strings.HasPrefix(ref, "arn:")
	if byARN {
		in.LoadBalancerArns = []string{ref}
	}
	p := elb.NewDescribeLoadBalancersPaginator(api, in)
	want := strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(ref), "dualstack."), ".")
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Target{}, fmt.Errorf("reading load balancer %s: %w", ref, err)
		}
		for _, lb := range page.LoadBalancers {
			if byARN || strings.EqualFold(aws.ToString(lb.DNSName), want) {
				return Target{Kind: KindALB, ID: aws.ToString(lb.LoadBalancerName), DNSName: strings.ToLower(aws.ToString(lb.DNSName)), AliasZoneID: aws.ToString(lb.CanonicalHostedZoneId), ARN: aws.ToString(lb.LoadBalancerArn)}, nil
			}
		}
	}
	return Target{}, fmt.Errorf("load balancer %s: not found", ref)
}

// regionOf reads the region from a load balancer ARN or DNS name
// (name-123.us-east-1.elb.amazonaws.com); default us-east-1.
func regionOf(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		if parts := strings.Split(ref, ":"); len(parts) > 3 && parts[3] != "" {
			return parts[3]
		}
	}
	labels := strings.Split(strings.TrimSuffix(ref, "."), ".")
	for i, l := range labels {
		if l == "elb" && i > 0 {
			return labels[i-1]
		}
	}
	return "us-east-1"
}
