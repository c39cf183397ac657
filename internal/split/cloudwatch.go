package split

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/gate/drain"
	"github.com/cutover/cutover/internal/runbook"
)

// CloudWatch reads edges' request counts from CloudWatch, the way drain
// gates do: CloudFront Requests (DistributionId, Region=Global, in
// us-east-1) and ALB RequestCount (LoadBalancer, in the load balancer's
// region), Sum per period.
type CloudWatch struct {
	config func(ctx context.Context, region, roleARN string) (aws.Config, error)

	mu      sync.Mutex
	clients map[string]drain.MetricsAPI
}

var _ Metrics = (*CloudWatch)(nil)

// NewCloudWatch returns a reader that loads the AWS configuration of each
// region and role it needs with config (connect.Config), once.
func NewCloudWatch(config func(ctx context.Context, region, roleARN string) (aws.Config, error)) *CloudWatch {
	return &CloudWatch{config: config, clients: map[string]drain.MetricsAPI{}}
}

// NewCloudWatchClient returns a reader that sends every query through api,
// for a world where every metric lives behind one endpoint (the lab).
func NewCloudWatchClient(api drain.MetricsAPI) *CloudWatch {
	return &CloudWatch{clients: map[string]drain.MetricsAPI{"": api}}
}

// Requests implements Metrics.
func (c *CloudWatch) Requests(ctx context.Context, e Edge, start, end time.Time, period time.Duration) (map[int64]float64, error) {
	if period < time.Minute || period%time.Minute != 0 {
		return nil, fmt.Errorf("period %s: CloudWatch request metrics want whole minutes", period)
	}
	src := &drain.CloudWatchSource{Period: int(period / time.Second)}
	region := "us-east-1"
	switch e.Kind {
	case runbook.TargetCloudFront:
		src.DistributionID = e.ID
	case runbook.TargetALB:
		src.LoadBalancer = e.ARN
		if src.LoadBalancer == "" {
			return nil, fmt.Errorf("load balancer %s: no ARN in the runbook, so no LoadBalancer dimension: %w", e.ID, ErrNoMetrics)
		}
		region = regionOf(e.ARN)
	default:
		return nil, fmt.Errorf("%s %s: %w", e.Kind, e.ID, ErrNoMetrics)
	}
	api, err := c.client(ctx, region, e.RoleARN)
	if err != nil {
		return nil, err
	}
	metric, name := drain.RequestMetric(src)
	sums, err := drain.SumByPeriod(ctx, api, metric, int32(src.Period), start, end)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return sums, nil
}

func (c *CloudWatch) client(ctx context.Context, region, role string) (drain.MetricsAPI, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if api, ok := c.clients[""]; ok && c.config == nil {
		return api, nil
	}
	key := region + " " + role
	if api, ok := c.clients[key]; ok {
		return api, nil
	}
	cfg, err := c.config(ctx, region, role)
	if err != nil {
		return nil, fmt.Errorf("CloudWatch credentials for %s: %w", region, err)
	}
	api := cw.NewFromConfig(cfg)
	c.clients[key] = api
	return api, nil
}

// regionOf reads the region of an ARN (arn:aws:elasticloadbalancing:REGION:…).
func regionOf(arn string) string {
	if parts := strings.Split(arn, ":"); len(parts) > 3 && parts[3] != "" {
		return parts[3]
	}
	return "us-east-1"
}
