// Package pack packs DNS changes into Route 53 requests and sends them.
// (Provisional minimal version; replaced by the full package.)
package pack

import (
	"context"
	"fmt"
	"sync"

	"github.com/cutover/cutover/internal/dns"
)

// Limits bound one request.
type Limits struct{ Records, Chars int }

// Route53 are Route 53's limits per ChangeResourceRecordSets request.
var Route53 = Limits{Records: 1000, Chars: 32000}

// Size counts a group's records and value characters.
func Size(changes []dns.Change) (records, chars int) {
	add := func(r *dns.RecordSet) {
		if r == nil {
			return
		}
		if r.Alias != nil {
			records++
			return
		}
		records += len(r.Values)
		for _, v := range r.Values {
			chars += len(v)
		}
	}
	for _, c := range changes {
		add(c.Old)
		add(c.New)
	}
	return records, chars
}

// Batch is one request: the groups it carries.
type Batch struct {
	Zone           string
	Groups         []int
	Records, Chars int
}

// Pack packs groups in order.
func Pack(zone string, groups [][]dns.Change, lim Limits) ([]Batch, error) {
	var out []Batch
	var cur *Batch
	for i, g := range groups {
		r, c := Size(g)
		if r > lim.Records || c > lim.Chars {
			return nil, fmt.Errorf("group %d alone exceeds the limits", i)
		}
		if cur == nil || cur.Records+r > lim.Records || cur.Chars+c > lim.Chars {
			out = append(out, Batch{Zone: zone})
			cur = &out[len(out)-1]
		}
		cur.Groups = append(cur.Groups, i)
		cur.Records += r
		cur.Chars += c
	}
	return out, nil
}

// Result is one set's outcome.
type Result struct {
	ChangeID string
	Err      error
}

// Send applies sets, one at a time per zone, zones concurrently.
func Send(ctx context.Context, p dns.Provider, sets []dns.ChangeSet, zoneConcurrency int) []Result {
	res := make([]Result, len(sets))
	byZone := map[string][]int{}
	var zones []string
	for i, s := range sets {
		if _, ok := byZone[s.Zone]; !ok {
			zones = append(zones, s.Zone)
		}
		byZone[s.Zone] = append(byZone[s.Zone], i)
	}
	var wg sync.WaitGroup
	for _, z := range zones {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			for _, i := range idx {
				id, err := p.Apply(ctx, sets[i])
				res[i] = Result{ChangeID: id, Err: err}
			}
		}(byZone[z])
	}
	wg.Wait()
	return res
}

// Remaining returns the ids not yet INSYNC.
func Remaining(ctx context.Context, c dns.InSyncChecker, ids []string) ([]string, error) {
	var out []string
	for i, id := range ids {
		ok, err := c.InSync(ctx, id)
		if err != nil {
			return append(out, ids[i:]...), err
		}
		if !ok {
			out = append(out, id)
		}
	}
	return out, nil
}
