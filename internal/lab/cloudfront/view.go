package cloudfront

import (
	"strings"
	"time"

	"github.com/cutover/cutover/internal/lab/awsapi"
)

// View is a distribution as the lab's data plane and seed file see it.
// Status is evaluated on the clock when the view is taken.
type View struct {
	ID             string    `json:"id"`
	ARN            string    `json:"arn"`
	AccountID      string    `json:"account_id"`
	DomainName     string    `json:"domain_name"`
	Status         string    `json:"status"`
	Enabled        bool      `json:"enabled"`
	Aliases        []string  `json:"aliases,omitempty"`
	Origins        []Origin  `json:"origins"`
	DefaultOrigin  string    `json:"default_origin"`
	CertificateArn string    `json:"certificate_arn,omitempty"`
	Staging        bool      `json:"staging,omitempty"`
	PolicyID       string    `json:"continuous_deployment_policy_id,omitempty"`
	Policy         *Policy   `json:"policy,omitempty"`
	ETag           string    `json:"etag"`
	Comment        string    `json:"comment,omitempty"`
	LastModified   time.Time `json:"last_modified_time"`
	// DeployedAt is when the current Version finishes deploying.
	DeployedAt time.Time `json:"deployed_at"`
	// Version grows with every change that edges must apply (config
	// writes and changes to the attached policy); edges apply a version
	// after their own propagation delay.
	Version int64 `json:"version"`
	// Change identifies the API operation that produced Version (shared
	// by the two distributions an AssociateAlias changes).
	Change uint64 `json:"change"`
}

// Policy is a continuous deployment policy as the data plane needs it.
type Policy struct {
	ID      string `json:"id"`
	Enabled bool   `json:"enabled"`
	// StagingDomainName is the staging distribution's *.cloudfront.net
	// name; StagingDistributionID is filled when it still exists.
	StagingDomainName     string  `json:"staging_domain_name"`
	StagingDistributionID string  `json:"staging_distribution_id,omitempty"`
	Type                  string  `json:"type,omitempty"` // SingleWeight or SingleHeader
	Weight                float64 `json:"weight,omitempty"`
	// IdleTTL and MaximumTTL are the session stickiness bounds; zero when
	// stickiness is off.
	IdleTTL     time.Duration `json:"idle_ttl,omitempty"`
	MaximumTTL  time.Duration `json:"maximum_ttl,omitempty"`
	Header      string        `json:"header,omitempty"`
	HeaderValue string        `json:"header_value,omitempty"`
	ETag        string        `json:"etag"`
}

func (s *Service) policyView(p *policy) *Policy {
	v := &Policy{
		ID: p.ID, Enabled: p.pc.Enabled, StagingDomainName: p.pc.StagingDNSNames[0],
		Type: p.pc.Type, Weight: p.pc.Weight,
		IdleTTL: time.Duration(p.pc.IdleTTL) * time.Second, MaximumTTL: time.Duration(p.pc.MaximumTTL) * time.Second,
		Header: p.pc.Header, HeaderValue: p.pc.Value, ETag: p.ETag,
	}
	for _, id := range s.order {
		if d := s.dists[id]; d.Account == p.Account && d.DomainName == v.StagingDomainName {
			v.StagingDistributionID = d.ID
		}
	}
	return v
}

func (s *Service) view(d *distribution, now time.Time) View {
	v := View{
		ID: d.ID, ARN: distributionARN(d.Account, d.ID), AccountID: d.Account, DomainName: d.DomainName,
		Status: d.status(now), Enabled: d.cfg.Enabled, Aliases: append([]string(nil), d.cfg.Aliases...),
		Origins: append([]Origin(nil), d.cfg.Origins...), DefaultOrigin: d.cfg.TargetOriginID,
		CertificateArn: d.cfg.CertificateArn, Staging: d.cfg.Staging, PolicyID: d.cfg.PolicyID,
		ETag: d.ETag, Comment: d.cfg.Comment, LastModified: d.Modified.UTC(), DeployedAt: d.DeployAt.UTC(),
		Version: d.Version, Change: d.Change,
	}
	if p := s.policies[d.cfg.PolicyID]; p != nil && p.Account == d.Account {
		v.Policy = s.policyView(p)
	}
	return v
}

func accountIdentity(account string) awsapi.Identity {
	return awsapi.Identity{AccountID: account, ARN: "arn:aws:iam::" + account + ":root"}
}

// CreateDistributionFor creates a distribution in account through the same
// validation as CreateDistribution (the lab's seed file uses it).
func (s *Service) CreateDistributionFor(account string, in DistributionInput) (View, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.createDistribution(accountIdentity(account), "CreateDistribution", in.tree(), nil)
	if err != nil {
		return View{}, err
	}
	return s.view(d, s.env.Clock.Now()), nil
}

// List returns every distribution of every account, oldest first.
func (s *Service) List() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	out := make([]View, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.view(s.dists[id], now))
	}
	return out
}

// Get returns one distribution by id, whatever its account.
func (s *Service) Get(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dists[id]
	if !ok {
		return View{}, false
	}
	return s.view(d, s.env.Clock.Now()), true
}

// Resolve says which distribution answers Host at the control-plane level:
// the exact alias, else the most specific covering wildcard alias, else the
// distribution whose own *.cloudfront.net name it is. Staging distributions
// are never reached directly. Disabled holders are returned too: the caller
// decides what a disabled distribution answers.
func (s *Service) Resolve(host string) (View, bool) {
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.env.Clock.Now()
	var best *distribution
	bestLen := -1
	for _, id := range s.order {
		d := s.dists[id]
		for _, a := range d.cfg.Aliases {
			if a == host {
				return s.view(d, now), true
			}
			if aliasCovers(a, host) && len(a) > bestLen {
				best, bestLen = d, len(a)
			}
		}
	}
	if best != nil {
		return s.view(best, now), true
	}
	for _, id := range s.order {
		if d := s.dists[id]; d.DomainName == host && !d.cfg.Staging {
			return s.view(d, now), true
		}
	}
	return View{}, false
}
