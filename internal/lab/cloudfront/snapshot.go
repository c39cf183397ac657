package cloudfront

import (
	"encoding/json"
	"fmt"
	"time"
)

type snapDistribution struct {
	ID         string    `json:"id"`
	Account    string    `json:"account"`
	DomainName string    `json:"domain_name"`
	ETag       string    `json:"etag"`
	Config     string    `json:"config"`
	Tags       string    `json:"tags,omitempty"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
	DeployAt   time.Time `json:"deploy_at"`
	Version    int64     `json:"version"`
	Change     uint64    `json:"change"`
}

type snapPolicy struct {
	ID       string    `json:"id"`
	Account  string    `json:"account"`
	ETag     string    `json:"etag"`
	Config   string    `json:"config"`
	Modified time.Time `json:"modified"`
}

type snapshot struct {
	Distributions []snapDistribution `json:"distributions"`
	Policies      []snapPolicy       `json:"continuous_deployment_policies"`
}

// Snapshot returns the whole state as JSON; configs are kept as the XML
// the clients sent, so a restore returns exactly what was put.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var snap snapshot
	for _, id := range s.order {
		d := s.dists[id]
		sd := snapDistribution{ID: d.ID, Account: d.Account, DomainName: d.DomainName, ETag: d.ETag,
			Config: d.Config.String(), Created: d.Created, Modified: d.Modified, DeployAt: d.DeployAt, Version: d.Version, Change: d.Change}
		if d.Tags != nil {
			sd.Tags = d.Tags.String()
		}
		snap.Distributions = append(snap.Distributions, sd)
	}
	for _, id := range s.porder {
		p := s.policies[id]
		snap.Policies = append(snap.Policies, snapPolicy{ID: p.ID, Account: p.Account, ETag: p.ETag, Config: p.Config.String(), Modified: p.Modified})
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return nil, fmt.Errorf("encoding cloudfront snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the whole state with a snapshot. Configs are parsed
// again, so a hand-edited snapshot cannot smuggle in a malformed one.
func (s *Service) Restore(raw json.RawMessage) error {
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return fmt.Errorf("decoding cloudfront snapshot: %w", err)
	}
	dists := map[string]*distribution{}
	var order []string
	var maxChange uint64
	for _, sd := range snap.Distributions {
		t, err := parseXML([]byte(sd.Config))
		if err != nil {
			return fmt.Errorf("restoring distribution %s: %w", sd.ID, err)
		}
		cfg, err := parseDistConfig(t)
		if err != nil {
			return fmt.Errorf("restoring distribution %s: %w", sd.ID, err)
		}
		d := &distribution{ID: sd.ID, Account: sd.Account, DomainName: sd.DomainName, ETag: sd.ETag, Config: t, cfg: cfg,
			Created: sd.Created, Modified: sd.Modified, DeployAt: sd.DeployAt, Version: sd.Version, Change: sd.Change}
		if sd.Tags != "" {
			if d.Tags, err = parseXML([]byte(sd.Tags)); err != nil {
				return fmt.Errorf("restoring tags of distribution %s: %w", sd.ID, err)
			}
		}
		if dists[d.ID] != nil {
			return fmt.Errorf("restoring distribution %s: duplicate id", sd.ID)
		}
		dists[d.ID] = d
		order = append(order, d.ID)
		if d.Change > maxChange {
			maxChange = d.Change
		}
	}
	policies := map[string]*policy{}
	var porder []string
	for _, sp := range snap.Policies {
		t, err := parseXML([]byte(sp.Config))
		if err != nil {
			return fmt.Errorf("restoring continuous deployment policy %s: %w", sp.ID, err)
		}
		pc, err := parsePolicyConfig(t)
		if err != nil {
			return fmt.Errorf("restoring continuous deployment policy %s: %w", sp.ID, err)
		}
		policies[sp.ID] = &policy{ID: sp.ID, Account: sp.Account, ETag: sp.ETag, Config: t, pc: pc, Modified: sp.Modified}
		porder = append(porder, sp.ID)
	}
	s.mu.Lock()
	s.dists, s.order, s.policies, s.porder = dists, order, policies, porder
	if maxChange > s.changes {
		s.changes = maxChange
	}
	s.mu.Unlock()
	return nil
}
