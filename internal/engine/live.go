package engine

import (
	"fmt"
	"os"
	"sort"

	"github.com/cutover/cutover/internal/dns"
)

// applyToLive computes the records the zone holds after cs, from what it
// held before; it fails when cs does not fit (an Old the engine did not
// believe live), which means the runbook and the run disagree.
func applyToLive(live []dns.RecordSet, cs dns.ChangeSet) ([]dns.RecordSet, error) {
	byKey := map[string]dns.RecordSet{}
	for _, r := range live {
		byKey[r.Key()] = r
	}
	for _, c := range cs.Changes {
		if c.Old != nil {
			cur, ok := byKey[c.Old.Key()]
			if !ok || !cur.Equal(*c.Old) {
				return nil, fmt.Errorf("change expects %s, which the run does not hold live", c.Old)
			}
			delete(byKey, c.Old.Key())
		}
		if c.New != nil {
			if _, ok := byKey[c.New.Key()]; ok {
				return nil, fmt.Errorf("change creates %s, which already exists", c.New)
			}
			byKey[c.New.Key()] = *c.New
		}
	}
	out := make([]dns.RecordSet, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// managedOnly keeps the A, AAAA and CNAME sets at host: the ones a move
// manages.
func managedOnly(sets []dns.RecordSet, host string) []dns.RecordSet {
	var out []dns.RecordSet
	for _, r := range sets {
		if dns.Fqdn(r.Name) == dns.Fqdn(host) && (r.Type == "A" || r.Type == "AAAA" || r.Type == "CNAME") {
			out = append(out, r)
		}
	}
	return out
}

// sameSets compares two collections of record sets regardless of order.
func sameSets(a, b []dns.RecordSet) bool {
	if len(a) != len(b) {
		return false
	}
	idx := map[string]dns.RecordSet{}
	for _, r := range a {
		idx[r.Key()] = r
	}
	for _, r := range b {
		o, ok := idx[r.Key()]
		if !ok || !o.Equal(r) {
			return false
		}
	}
	return true
}

// DefaultOwner names this process for leases.
func DefaultOwner() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}
