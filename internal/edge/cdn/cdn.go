package cdn

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Distribution is what cutover needs to know about a distribution.
type Distribution struct {
	ID             string    `json:"id"`
	ARN            string    `json:"arn"`
	DomainName     string    `json:"domain_name"`
	Status         string    `json:"status"` // InProgress or Deployed
	Enabled        bool      `json:"enabled"`
	Aliases        []string  `json:"aliases,omitempty"`
	CertificateARN string    `json:"certificate_arn,omitempty"`
	ETag           string    `json:"etag"`
	Staging        bool      `json:"staging,omitempty"`
	PolicyID       string    `json:"continuous_deployment_policy_id,omitempty"`
	LastModified   time.Time `json:"last_modified"`
}

// Distribution statuses.
const (
	StatusDeployed   = "Deployed"
	StatusInProgress = "InProgress"
)

// Deployed reports whether every edge location has the current config.
func (d Distribution) Deployed() bool { return d.Status == StatusDeployed }

// HasAlias reports whether alias (any case, trailing dot or not) is one of
// d's alternate domain names.
func (d Distribution) HasAlias(alias string) bool {
	return slices.Contains(d.Aliases, NormAlias(alias))
}

// NormAlias is CloudFront's spelling of an alias: lower case, no trailing
// dot.
func NormAlias(a string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a)), ".")
}

// Traffic is a continuous deployment split: either a weight (with optional
// session stickiness) or, when HeaderName is set, every request carrying
// HeaderName: HeaderValue.
type Traffic struct {
	Weight      float64       // share sent to staging, 0 to MaxStagingWeight
	Idle, Max   time.Duration // stickiness TTLs; both zero for none
	HeaderName  string        // must start with HeaderPrefix
	HeaderValue string
}

// Continuous deployment limits CloudFront enforces.
const (
	MaxStagingWeight = 0.15
	HeaderPrefix     = "aws-cf-cd-"
	MinStickiness    = 300 * time.Second
	MaxStickiness    = 3600 * time.Second
)

// Validate reports a Traffic CloudFront would refuse, wrapping
// ErrInvalidTraffic, so it can be caught before any call.
func (t Traffic) Validate() error {
	if t.HeaderName != "" {
		if !strings.HasPrefix(strings.ToLower(t.HeaderName), HeaderPrefix) {
			return fmt.Errorf("%w: header %q must start with %s", ErrInvalidTraffic, t.HeaderName, HeaderPrefix)
		}
		if t.HeaderValue == "" {
			return fmt.Errorf("%w: header %s needs a value", ErrInvalidTraffic, t.HeaderName)
		}
		return nil
	}
	if t.Weight < 0 || t.Weight > MaxStagingWeight {
		return fmt.Errorf("%w: weight %g outside 0–%g", ErrInvalidTraffic, t.Weight, MaxStagingWeight)
	}
	if t.Idle == 0 && t.Max == 0 {
		return nil
	}
	for _, d := range []time.Duration{t.Idle, t.Max} {
		if d < MinStickiness || d > MaxStickiness {
			return fmt.Errorf("%w: stickiness TTL %s outside %s–%s", ErrInvalidTraffic, d, MinStickiness, MaxStickiness)
		}
	}
	if t.Idle > t.Max {
		return fmt.Errorf("%w: idle TTL %s above maximum TTL %s", ErrInvalidTraffic, t.Idle, t.Max)
	}
	return nil
}

// Errors an adapter returns, matched with errors.Is. The adapter's own
// message (and the API's error, for errors.As) stays in the chain.
var (
	// ErrNotFound: the distribution or continuous deployment policy named
	// does not exist (CloudFront's NoSuch... codes).
	ErrNotFound = errors.New("no such distribution or policy")
	// ErrCallerRefUsed: a distribution was already created with this
	// caller reference (DistributionAlreadyExists), so repeating a copy
	// after a crash never creates a second one.
	ErrCallerRefUsed = errors.New("caller reference already used")
	// ErrStagingInUse: the staging distribution already has a continuous
	// deployment policy (StagingDistributionInUse).
	ErrStagingInUse = errors.New("staging distribution already has a policy")
	// ErrAliasTaken: an alias to add is held by another distribution
	// (CNAMEAlreadyExists).
	ErrAliasTaken = errors.New("alias already on another distribution")
	// ErrInvalidTraffic marks a Traffic CloudFront would refuse; it is
	// caught before any call.
	ErrInvalidTraffic = errors.New("invalid continuous deployment traffic")
)
