package cloudwatch

import (
	"encoding/json"
	"fmt"
)

// snapshot is the persisted form of the service: every account's series
// (raw samples) and alarms.
type snapshot struct {
	Version  int                 `json:"version"`
	Accounts map[string]*account `json:"accounts"`
}

// Snapshot returns the whole state as JSON, for the lab's snapshot file.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.Marshal(snapshot{Version: 1, Accounts: s.accounts})
	if err != nil {
		return nil, fmt.Errorf("snapshotting cloudwatch: %w", err)
	}
	return b, nil
}

// Restore replaces the whole state with a Snapshot.
func (s *Service) Restore(raw json.RawMessage) error {
	var snap snapshot
	if err := json.Unmarshal(raw, &snap); err != nil {
		return fmt.Errorf("restoring cloudwatch: %w", err)
	}
	if snap.Version != 1 {
		return fmt.Errorf("restoring cloudwatch: unsupported snapshot version %d", snap.Version)
	}
	accounts := map[string]*account{}
	for id, a := range snap.Accounts {
		if a == nil {
			continue
		}
		if a.Series == nil {
			a.Series = map[string]*series{}
		}
		if a.Alarms == nil {
			a.Alarms = map[string]*alarm{}
		}
		// Keys are derived, so rebuild them rather than trust the file.
		rekeyed := make(map[string]*series, len(a.Series))
		for _, sr := range a.Series {
			if sr == nil {
				continue
			}
			sr.Dims = sortDims(sr.Dims)
			sortSamples(sr.Samples)
			rekeyed[metricKey(sr.Namespace, sr.Name, sr.Dims)] = sr
		}
		a.Series = rekeyed
		for name, al := range a.Alarms {
			if al == nil || al.Period <= 0 || al.EvaluationPeriods <= 0 {
				return fmt.Errorf("restoring cloudwatch: alarm %q in account %s is incomplete", name, id)
			}
		}
		accounts[id] = a
	}
	s.mu.Lock()
	s.accounts = accounts
	s.mu.Unlock()
	return nil
}
