package route53

import (
	"encoding/json"
	"fmt"
	"sort"
)

// snapshotZone is one hosted zone in the lab's state file. Records are the
// API view; a restored zone serves them at once (pending changes of the
// saved lab are treated as propagated).
type snapshotZone struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Account     string   `json:"account"`
	CallerRef   string   `json:"callerReference"`
	Comment     string   `json:"comment,omitempty"`
	Private     bool     `json:"private,omitempty"`
	VPCRegion   string   `json:"vpcRegion,omitempty"`
	VPCID       string   `json:"vpcId,omitempty"`
	NameServers []string `json:"nameServers"`
	// DelegationSet is the id of the reusable delegation set it uses.
	DelegationSet string      `json:"delegationSet,omitempty"`
	Records       []RecordSet `json:"records"`
}

type snapshotDelegationSet struct {
	ID          string   `json:"id"`
	Account     string   `json:"account"`
	CallerRef   string   `json:"callerReference"`
	NameServers []string `json:"nameServers"`
}

type snapshotCheck struct {
	ID        string               `json:"id"`
	Account   string               `json:"account"`
	CallerRef string               `json:"callerReference"`
	Requested xmlHealthCheckConfig `json:"requested"`
	Config    xmlHealthCheckConfig `json:"config"`
	Version   int64                `json:"version"`
	Deleted   bool                 `json:"deleted,omitempty"`
}

type snapshotState struct {
	Zones  []snapshotZone               `json:"zones"`
	Checks []snapshotCheck              `json:"healthChecks,omitempty"`
	Health map[string]bool              `json:"health,omitempty"`
	Tags   map[string]map[string]string `json:"tags,omitempty"`
	// DelegationSets are the accounts' reusable delegation sets.
	DelegationSets []snapshotDelegationSet `json:"delegationSets,omitempty"`
	IDSeq          uint64                  `json:"idSeq"`
}

// Snapshot returns the zones, records and health checks as JSON.
func (s *Service) Snapshot() (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := snapshotState{Health: s.health, Tags: s.tags, IDSeq: s.idSeq}
	for _, z := range s.zones {
		st.Zones = append(st.Zones, snapshotZone{
			ID: z.id, Name: z.name, Account: z.account, CallerRef: z.callerRef, Comment: z.comment,
			Private: z.private, VPCRegion: z.vpcRegion, VPCID: z.vpcID, NameServers: z.nameServers,
			DelegationSet: z.delegationSet, Records: z.records.sorted(),
		})
	}
	for _, d := range s.delegationSets {
		st.DelegationSets = append(st.DelegationSets, snapshotDelegationSet{ID: d.id, Account: d.account, CallerRef: d.callerRef, NameServers: d.nameServers})
	}
	sort.Slice(st.DelegationSets, func(i, j int) bool { return st.DelegationSets[i].ID < st.DelegationSets[j].ID })
	sort.Slice(st.Zones, func(i, j int) bool { return st.Zones[i].ID < st.Zones[j].ID })
	seen := map[*healthCheck]bool{}
	for _, hc := range s.checkRefs {
		if seen[hc] {
			continue
		}
		seen[hc] = true
		st.Checks = append(st.Checks, snapshotCheck{ID: hc.id, Account: hc.account, CallerRef: hc.callerRef, Requested: hc.requested, Config: hc.config, Version: hc.version, Deleted: hc.deleted})
	}
	sort.Slice(st.Checks, func(i, j int) bool { return st.Checks[i].ID < st.Checks[j].ID })
	return json.Marshal(st)
}

// Restore replaces the service's state with a snapshot.
func (s *Service) Restore(raw json.RawMessage) error {
	var st snapshotState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("reading route53 snapshot: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zones = map[string]*zone{}
	s.zoneRefs = map[string]string{}
	s.changes = map[string]*changeRecord{}
	s.checks = map[string]*healthCheck{}
	s.checkRefs = map[string]*healthCheck{}
	s.health = map[string]bool{}
	s.tags = map[string]map[string]string{}
	s.delegationSets = map[string]*delegationSet{}
	for _, sd := range st.DelegationSets {
		s.delegationSets[sd.ID] = &delegationSet{id: sd.ID, account: sd.Account, callerRef: sd.CallerRef, nameServers: sd.NameServers}
	}
	for k, v := range st.Tags {
		s.tags[k] = v
	}
	for k, v := range st.Health {
		s.health[k] = v
	}
	if st.IDSeq > s.idSeq {
		s.idSeq = st.IDSeq
	}
	now := s.env.Clock.Now()
	for _, sz := range st.Zones {
		ix := newRecordIndex()
		for _, r := range sz.Records {
			ix.put(r)
		}
		s.seq++
		z := &zone{
			id: sz.ID, name: sz.Name, account: sz.Account, callerRef: sz.CallerRef, comment: sz.Comment,
			private: sz.Private, vpcRegion: sz.VPCRegion, vpcID: sz.VPCID, nameServers: sz.NameServers,
			delegationSet: sz.DelegationSet, seq: s.seq, visibleAt: now, records: ix, served: ix.clone(), lastInsync: now,
		}
		s.zones[z.id] = z
		s.zoneRefs[z.account+"\x00"+z.callerRef] = z.id
	}
	for _, sc := range st.Checks {
		hc := &healthCheck{id: sc.ID, account: sc.Account, callerRef: sc.CallerRef, requested: sc.Requested, config: sc.Config, version: sc.Version, deleted: sc.Deleted}
		s.checkRefs[sc.Account+"\x00"+sc.CallerRef] = hc
		if !hc.deleted {
			s.checks[hc.id] = hc
		}
	}
	return nil
}
