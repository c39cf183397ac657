package build

import (
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/cloudwatch"
	"github.com/cutover/cutover/internal/gate/drain"
	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/runbook"
)

// Deps are what gates need from the outside world.
type Deps struct {
	// AWSConfig loads the configuration for a region (empty: the default
	// region) and an optional role to assume. Required by cloudwatch gates;
	// it is called once per distinct region and role.
	AWSConfig func(region, roleARN string) (aws.Config, error)
	// Probe applies to every probe gate (lab CA, resolver, edge address).
	Probe probe.Options
	// CloudWatch tunes every cloudwatch gate's query window.
	CloudWatch cloudwatch.Options
	// Drain tunes every drain gate (CloudWatch data delay, Prometheus
	// HTTP client).
	Drain drain.Options
}

// Gates builds every gate of rb by name. Gates are built eagerly, so a
// runbook whose gate cannot be decoded, or whose AWS configuration cannot be
// loaded, fails before the run starts rather than at its first measurement.
func Gates(rb *runbook.Runbook, deps Deps) (map[string]gate.Gate, error) {
	out := make(map[string]gate.Gate, len(rb.Gates))
	clients := newClients(deps.AWSConfig)
	for _, g := range rb.Gates {
		if _, dup := out[g.Name]; dup {
			return nil, fmt.Errorf("gate %s: defined twice", g.Name)
		}
		built, err := one(g, deps, clients)
		if err != nil {
			return nil, fmt.Errorf("gate %s: %w", g.Name, err)
		}
		out[g.Name] = built
	}
	return out, nil
}

func one(g runbook.Gate, deps Deps, clients *clients) (gate.Gate, error) {
	switch g.Kind {
	case KindProbe:
		var s ProbeSpec
		if err := decodeStrict(g.Spec, &s); err != nil {
			return nil, fmt.Errorf("decoding probe spec: %w", err)
		}
		if s.URL == "" {
			return nil, fmt.Errorf("probe spec has no url")
		}
		return probe.New(s.Plan(), deps.Probe), nil
	case KindCloudWatch:
		var s CloudWatchSpec
		if err := decodeStrict(g.Spec, &s); err != nil {
			return nil, fmt.Errorf("decoding cloudwatch spec: %w", err)
		}
		c, err := clients.get(s.Region, s.RoleARN)
		if err != nil {
			return nil, err
		}
		return cloudwatch.New(s.Plan(), c, deps.CloudWatch), nil
	case KindDrain:
		var s drain.Spec
		if err := decodeStrict(g.Spec, &s); err != nil {
			return nil, fmt.Errorf("decoding drain spec: %w", err)
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("drain spec: %w", err)
		}
		if s.CloudWatch == nil {
			return drain.New(s, nil, deps.Drain), nil
		}
		region := s.CloudWatch.Region
		if region == "" && s.CloudWatch.DistributionID != "" {
			// CloudFront metrics exist only in us-east-1.
			region = "us-east-1"
		}
		c, err := clients.get(region, s.CloudWatch.RoleARN)
		if err != nil {
			return nil, err
		}
		return drain.New(s, c, deps.Drain), nil
	}
	return nil, fmt.Errorf("unknown gate kind %q", g.Kind)
}

// clients shares one CloudWatch client per region and role.
type clients struct {
	load func(region, roleARN string) (aws.Config, error)
	mu   sync.Mutex
	by   map[[2]string]*cw.Client
}

func newClients(load func(region, roleARN string) (aws.Config, error)) *clients {
	return &clients{load: load, by: map[[2]string]*cw.Client{}}
}

func (c *clients) get(region, role string) (*cw.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]string{region, role}
	if cl, ok := c.by[key]; ok {
		return cl, nil
	}
	if c.load == nil {
		return nil, fmt.Errorf("no AWS configuration for cloudwatch gates")
	}
	cfg, err := c.load(region, role)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration (region %q, role %q): %w", region, role, err)
	}
	cl := cw.NewFromConfig(cfg)
	c.by[key] = cl
	return cl, nil
}
