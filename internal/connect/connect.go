// Package connect builds, from AWS credentials, the adapters a run needs:
// the zone's DNS provider (Route 53, or an RFC 2136 server with its TSIG
// key), a CloudFront client reaching each distribution with its own
// account's role, the runbook's gates, and what observe reads the world
// through. `cutover apply` and a long-running controller build their
// engines the same way, so neither holds this wiring itself.
//
// Credentials come from the standard chain (awsconfig): profiles, SSO,
// AWS_ENDPOINT_URL for the lab or moto, and a role per zone or edge,
// reached through its chain. A Credentials resolves each role once and
// shares it between every client of that account; the SDK's credentials
// cache renews it before it expires.
package connect

import (
	"context"
	"encoding/base64"
	"fmt"
	"github.com/cutover/cutover/internal/plan"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cutover/cutover/internal/awsconfig"
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/rfc2136"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/edge"
	"github.com/cutover/cutover/internal/edge/cloudfront"
	"github.com/cutover/cutover/internal/engine"
	"github.com/cutover/cutover/internal/gate/build"
	"github.com/cutover/cutover/internal/observe"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/verify"
	"github.com/cutover/cutover/internal/webhook"
)

// globalRegion is where the global services (Route 53, CloudFront) are
// signed for.
const globalRegion = "us-east-1"

// GateConfigError is a gate of the runbook that cannot be built from its
// settings: bad input, not a failure of AWS. Its message is the gate's own.
type GateConfigError struct{ Err error }

func (e *GateConfigError) Error() string { return e.Err.Error() }
func (e *GateConfigError) Unwrap() error { return e.Err }

// Config loads the AWS configuration for region (us-east-1 when empty),
// assuming roleARN when set.
func Config(ctx context.Context, region, roleARN string) (aws.Config, error) {
	return NewCredentials(nil).Config(ctx, region, roleARN)
}

// Credentials hands out AWS configurations by role, resolving each role
// (with its chain, external id and session name from identities) once:
// every client of that role shares one credentials cache, which the SDK
// refreshes before the session expires. The zero role is the caller's
// own credentials. Safe for concurrent use.
type Credentials struct {
	identities map[string]runbook.Identity

	mu     sync.Mutex
	byRole map[string]aws.Config
}

// NewCredentials returns a Credentials that assumes each role as
// identities say (a role absent there is assumed directly).
func NewCredentials(identities map[string]runbook.Identity) *Credentials {
	return &Credentials{identities: identities, byRole: map[string]aws.Config{}}
}

// Config returns the configuration for roleARN in region (us-east-1 when
// empty). The credentials are the role's, shared across regions.
func (c *Credentials) Config(ctx context.Context, region, roleARN string) (aws.Config, error) {
	if region == "" {
		region = globalRegion
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, ok := c.byRole[roleARN]
	if !ok {
		id := c.identities[roleARN]
		var err error
		cfg, err = awsconfig.Load(ctx, awsconfig.Options{Region: globalRegion, RoleARNs: id.Chain, RoleARN: roleARN,
			ExternalID: id.ExternalID, SessionName: id.SessionName})
		if err != nil {
			return aws.Config{}, err
		}
		c.byRole[roleARN] = cfg
	}
	cfg = cfg.Copy()
	cfg.Region = region
	return cfg, nil
}

// ZoneProvider returns the Route 53 provider reached with roleARN (the
// caller's own credentials when empty).
func ZoneProvider(ctx context.Context, roleARN string) (dns.Provider, error) {
	return zoneProvider(ctx, &runbook.Runbook{ZoneRoleARN: roleARN}, NewCredentials(nil))
}

// zoneProvider returns the provider of the zone rb names: its RFC 2136
// server, or Route 53 with the zone's role.
func zoneProvider(ctx context.Context, rb *runbook.Runbook, creds *Credentials) (dns.Provider, error) {
	if zs := rb.ZoneServer; zs != nil {
		return RFC2136(zs)
	}
	cfg, err := creds.Config(ctx, globalRegion, rb.ZoneRoleARN)
	if err != nil {
		return nil, fmt.Errorf("zone credentials: %w", err)
	}
	return route53.New(cfg, route53Options(rb)), nil
}

// route53Options gives every Route 53 client of a run (observation,
// preflight, the run itself) one client-side bucket per role and rate
// regime, sized just under the account's: they spend one budget, as
// Route 53 counts it.
func route53Options(rb *runbook.Runbook) route53.Options {
	rate, burst := route53.ClientBudget(rb.ZoneRateLimit == plan.RateLimitBuckets)
	return route53.Options{RatePerSecond: rate, Burst: burst, Account: rb.ZoneRoleARN + " " + rb.ZoneRateLimit}
}

// RFC2136 returns the provider for zs, reading its TSIG secret from the
// file or environment variable it names. The secret goes to the provider
// only: errors name where it was read from, never what it is.
func RFC2136(zs *runbook.ZoneServer) (*rfc2136.Provider, error) {
	o := rfc2136.Options{Server: zs.Server, Nameservers: zs.Nameservers}
	if t := zs.TSIG; t != nil {
		secret, err := tsigSecret(t)
		if err != nil {
			return nil, err
		}
		o.TSIG = &rfc2136.TSIG{Name: t.Name, Algorithm: t.Algorithm, Secret: secret}
	}
	p, err := rfc2136.New(o)
	if err != nil {
		return nil, fmt.Errorf("zone server %s: %w", zs.Server, err)
	}
	return p, nil
}

func tsigSecret(t *runbook.TSIGRef) (string, error) {
	var raw, from string
	switch {
	case t.SecretEnv != "":
		from = "environment variable " + t.SecretEnv
		v, ok := os.LookupEnv(t.SecretEnv)
		if !ok {
			return "", fmt.Errorf("tsig key %s: %s is not set", t.Name, from)
		}
		raw = v
	case t.SecretFile != "":
		from = "file " + t.SecretFile
		data, err := os.ReadFile(t.SecretFile)
		if err != nil {
			return "", fmt.Errorf("tsig key %s: reading the secret: %w", t.Name, err)
		}
		raw = string(data)
	default:
		return "", fmt.Errorf("tsig key %s: no secret_file or secret_env", t.Name)
	}
	secret := strings.TrimSpace(raw)
	if secret == "" {
		return "", fmt.Errorf("tsig key %s: %s is empty", t.Name, from)
	}
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil {
		return "", fmt.Errorf("tsig key %s: %s does not hold base64", t.Name, from)
	}
	return secret, nil
}

// CloudFront returns a CloudFront client reached with roleARN.
func CloudFront(ctx context.Context, roleARN string) (*cloudfront.Client, error) {
	return cloudFront(ctx, NewCredentials(nil), roleARN)
}

func cloudFront(ctx context.Context, creds *Credentials, roleARN string) (*cloudfront.Client, error) {
	cfg, err := creds.Config(ctx, globalRegion, roleARN)
	if err != nil {
		return nil, fmt.Errorf("CloudFront credentials: %w", err)
	}
	return cloudfront.New(cfg, cloudfront.Options{}), nil
}

// ObserveDeps reach the world a plan names, with the identities access
// says (observe.Access of the plan).
func ObserveDeps(access *runbook.Runbook) observe.Deps {
	creds := NewCredentials(access.Identities)
	return observe.Deps{
		Edges: edge.Resolver{Config: creds.Config},
		Zone: func(ctx context.Context, a *runbook.Runbook) (dns.Provider, error) {
			return zoneProvider(ctx, a, creds)
		},
		CDN: func(ctx context.Context, roleARN string) (observe.Distributions, error) {
			return cloudFront(ctx, creds, roleARN)
		},
	}
}

// EngineOptions returns the engine options a stored runbook needs: its
// zone's provider, its gates, the wall clock, the verifier of its verify
// steps and, when a step calls CloudFront, a client that reaches every
// distribution with its own role. The caller adds the store and the event
// subscriber. A gate
// that cannot be built is a *GateConfigError.
func EngineOptions(ctx context.Context, rb *runbook.Runbook) (engine.Options, error) {
	creds := NewCredentials(rb.Identities)
	prov, err := zoneProvider(ctx, rb, creds)
	if err != nil {
		return engine.Options{}, err
	}
	gates, err := build.Gates(rb, build.Deps{AWSConfig: func(region, roleARN string) (aws.Config, error) { return creds.Config(ctx, region, roleARN) }})
	if err != nil {
		return engine.Options{}, &GateConfigError{Err: err}
	}
	o := engine.Options{Provider: prov, Clock: clock.Real{}, Gates: gates, Verifier: verifier(rb)}
	if hc, ok := prov.(engine.HealthChecks); ok {
		o.HealthChecks = hc
	}
	if len(rb.Webhooks) > 0 {
		o.Webhooks = &webhook.Client{}
	}
	if rb.UsesCDN() {
		if o.CDN, err = distributions(ctx, rb, creds); err != nil {
			return engine.Options{}, err
		}
	}
	return o, nil
}

// verifier checks the runbook's verify steps as its plan's verify block
// says: the markers, through the listed resolvers and the system's, over
// HTTPS with the real Host and SNI. Nil (the engine then pauses at a
// verify step) when the runbook carries no markers, as runbooks stored
// before they did.
func verifier(rb *runbook.Runbook) engine.Verifier {
	for _, s := range rb.Steps {
		if v := s.Verify; v != nil && v.NewMarker != "" {
			return verify.New(verify.Options{System: true, Resolvers: v.Resolvers, NewMarker: v.NewMarker, OldMarker: v.OldMarker, Header: v.Header})
		}
	}
	return nil
}

// distributions is the runbook's CloudFront client: the CDN role's, and
// the distributions of other accounts through their own roles.
func distributions(ctx context.Context, rb *runbook.Runbook, creds *Credentials) (engine.CDN, error) {
	cf, err := cloudFront(ctx, creds, rb.CDNRoleARN)
	if err != nil {
		return nil, err
	}
	if len(rb.DistributionRoles) == 0 {
		return cf, nil
	}
	by := map[string]*cloudfront.Client{}
	for id, role := range rb.DistributionRoles {
		if by[id], err = cloudFront(ctx, creds, role); err != nil {
			return nil, err
		}
	}
	return cloudfront.NewAccounts(cf, by), nil
}
