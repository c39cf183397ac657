// Package memdns is an in-memory dns.Provider with the same compare-and-swap
// semantics as Route 53: a change set is checked in order against a working
// copy and applied whole or not at all. Engine tests use it, and so can a
// dry run.
package memdns

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/cutover/cutover/internal/dns"
)

// Provider holds zones in memory.
type Provider struct {
	mu      sync.Mutex
	zones   map[string]map[string]dns.RecordSet
	pending map[string]int // change id → InSync calls left before INSYNC
	seq     int
	// InSyncAfter is how many InSync calls report false before true.
	InSyncAfter int
	// Applied records every accepted change set, in order.
	Applied []dns.ChangeSet
	// Listings counts AllRecords calls.
	Listings int
	// ListErr, when set, is asked before each AllRecords; an error it
	// returns is the listing's.
	ListErr func(zone string) error
	// BeforeApply, when set, runs before each Apply; an error it returns is
	// returned by Apply with nothing applied (fault injection).
	BeforeApply func(cs dns.ChangeSet) error
	// AfterApply, when set, runs after a change set was applied; an error it
	// returns is returned by Apply although the change took effect (a lost
	// response).
	AfterApply func(cs dns.ChangeSet) error
}

var (
	_ dns.Provider      = (*Provider)(nil)
	_ dns.InSyncChecker = (*Provider)(nil)
)

// New returns an empty provider.
func New() *Provider {
	return &Provider{zones: map[string]map[string]dns.RecordSet{}, pending: map[string]int{}}
}

// Put stores record sets directly, bypassing the change protocol (test
// setup, or an edit "behind the run's back").
func (p *Provider) Put(zone string, sets ...dns.RecordSet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	z := p.zone(zone)
	for _, r := range sets {
		r.Name = dns.Fqdn(r.Name)
		z[r.Key()] = r
	}
}

// Delete removes record sets directly, bypassing the change protocol.
func (p *Provider) Delete(zone string, sets ...dns.RecordSet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	z := p.zone(zone)
	for _, r := range sets {
		r.Name = dns.Fqdn(r.Name)
		delete(z, r.Key())
	}
}

func (p *Provider) zone(id string) map[string]dns.RecordSet {
	z, ok := p.zones[id]
	if !ok {
		z = map[string]dns.RecordSet{}
		p.zones[id] = z
	}
	return z
}

// Records returns the record sets at name, sorted by key.
func (p *Provider) Records(_ context.Context, zone, name string) ([]dns.RecordSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []dns.RecordSet
	for _, r := range p.zone(zone) {
		if r.Name == dns.Fqdn(name) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// All returns every record set in zone, sorted by key.
func (p *Provider) All(zone string) []dns.RecordSet {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []dns.RecordSet
	for _, r := range p.zone(zone) {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out
}

// AllRecords returns every record set of zone, as a zone-wide listing does.
func (p *Provider) AllRecords(_ context.Context, zone string) ([]dns.RecordSet, error) {
	p.mu.Lock()
	p.Listings++
	p.mu.Unlock()
	if p.ListErr != nil {
		if err := p.ListErr(zone); err != nil {
			return nil, err
		}
	}
	return p.All(zone), nil
}

// Apply checks cs in order against a working copy and applies it whole.
func (p *Provider) Apply(ctx context.Context, cs dns.ChangeSet) (string, error) {
	if p.BeforeApply != nil {
		if err := p.BeforeApply(cs); err != nil {
			return "", err
		}
	}
	p.mu.Lock()
	z := p.zone(cs.Zone)
	work := make(map[string]dns.RecordSet, len(z))
	for k, v := range z {
		work[k] = v
	}
	var conflict []dns.RecordSet
	for _, c := range cs.Changes {
		if c.Old != nil {
			cur, ok := work[keyOf(*c.Old)]
			if !ok || !cur.Equal(*c.Old) {
				conflict = append(conflict, *c.Old)
				continue
			}
			delete(work, keyOf(*c.Old))
		}
		if c.New != nil {
			if _, ok := work[keyOf(*c.New)]; ok {
				conflict = append(conflict, *c.New)
				continue
			}
			n := *c.New
			n.Name = dns.Fqdn(n.Name)
			work[n.Key()] = n
		}
	}
	if len(conflict) > 0 {
		var actual []dns.RecordSet
		seen := map[string]bool{}
		for _, r := range conflict {
			if seen[dns.Fqdn(r.Name)] {
				continue
			}
			seen[dns.Fqdn(r.Name)] = true
			for _, cur := range z {
				if cur.Name == dns.Fqdn(r.Name) {
					actual = append(actual, cur)
				}
			}
		}
		sort.Slice(actual, func(i, j int) bool { return actual[i].Key() < actual[j].Key() })
		p.mu.Unlock()
		return "", &dns.ConflictError{Zone: cs.Zone, Expected: conflict, Actual: actual, Cause: fmt.Errorf("change set does not match zone %s", cs.Zone)}
	}
	p.zones[cs.Zone] = work
	p.seq++
	id := fmt.Sprintf("C%06d", p.seq)
	p.pending[id] = p.InSyncAfter
	p.Applied = append(p.Applied, cs)
	p.mu.Unlock()
	if p.AfterApply != nil {
		if err := p.AfterApply(cs); err != nil {
			return "", err
		}
	}
	return id, nil
}

func keyOf(r dns.RecordSet) string { r.Name = dns.Fqdn(r.Name); return r.Key() }

// InSync reports true once InSyncAfter calls have been made for id.
func (p *Provider) InSync(_ context.Context, id string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.pending[id]
	if !ok {
		return false, fmt.Errorf("no such change %s", id)
	}
	if n <= 0 {
		return true, nil
	}
	p.pending[id] = n - 1
	return false, nil
}
