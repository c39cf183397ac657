// Package pack packs the changes of many hostnames into as few Route 53
// requests as its limits allow, sends them across zones concurrently and
// tells which of them are still propagating.
//
// A group is one hostname's changes at one step: it is applied atomically,
// so it is never split between requests. Groups of one zone are packed in
// order, greedily: a request takes the next group while it fits, else a new
// request starts. A request holds changes of one zone only (the zone is
// part of the request's address).
//
// Sizes are counted the way Route 53 counts them (reference A2): the
// ResourceRecord elements of every change of a request, and the characters
// of their values, UPSERT counting double. cutover never sends UPSERT: a
// change's Old is a DELETE and its New a CREATE, each counted once. An
// alias record carries no ResourceRecord element; AWS does not say how it
// counts toward the limit, so it is counted here as one record of no
// characters, which can only make a request smaller than it could be.
//
// The package is pure: it talks to DNS through dns.Provider and
// dns.InSyncChecker only, and adds no rate limit of its own (the Route 53
// provider holds the account's shared bucket).
package pack

import (
	"context"
	"fmt"
	"sync"

	"github.com/cutover/cutover/internal/dns"
)

// Limits bound one change request.
type Limits struct {
	// Records is the most ResourceRecord elements one request may hold.
	Records int
	// Chars is the most value characters one request may hold.
	Chars int
}

// Route53 is Route 53's change-batch limit: 1,000 ResourceRecord elements
// and 32,000 value characters per ChangeResourceRecordSets request.
var Route53 = Limits{Records: 1000, Chars: 32000}

// Size is what changes count toward Limits: a DELETE of every Old and a
// CREATE of every New, each record set counting its values (an alias: one
// record, no characters).
func Size(changes []dns.Change) (records, chars int) {
	for _, c := range changes {
		for _, rs := range []*dns.RecordSet{c.Old, c.New} {
			if rs == nil {
				continue
			}
			r, ch := setSize(*rs)
			records += r
			chars += ch
		}
	}
	return records, chars
}

func setSize(rs dns.RecordSet) (records, chars int) {
	if rs.Alias != nil {
		return 1, 0
	}
	for _, v := range rs.Values {
		chars += len(v)
	}
	return len(rs.Values), chars
}

// Batch is one request's worth of groups of one zone.
type Batch struct {
	Zone string
	// Groups are the indexes of the groups the batch holds, ascending.
	Groups []int
	// Records and Chars are the batch's size as Size counts it.
	Records, Chars int
}

// Pack packs groups (one hostname's changes each) of zone into batches
// within lim: a group is never split, groups keep their order, and each
// batch takes the next group while it fits. Groups with no changes are in
// no batch. A group that alone exceeds lim is an error naming its index.
func Pack(zone string, groups [][]dns.Change, lim Limits) ([]Batch, error) {
	sizes := make([]GroupSize, len(groups))
	for i, g := range groups {
		sizes[i].Records, sizes[i].Chars = Size(g)
	}
	return PackSizes(zone, sizes, lim)
}

// GroupSize is what one group's changes count toward Limits (Size); zero
// records means the group has no changes.
type GroupSize struct{ Records, Chars int }

// PackSizes is Pack from the groups' sizes alone: the batches depend on
// nothing else, so a caller may pack first and build each request's
// changes only when it is sent.
func PackSizes(zone string, sizes []GroupSize, lim Limits) ([]Batch, error) {
	if lim.Records <= 0 || lim.Chars <= 0 {
		return nil, fmt.Errorf("packing zone %s: limits %d records, %d characters: want both positive", zone, lim.Records, lim.Chars)
	}
	var out []Batch
	var cur *Batch
	for i, sz := range sizes {
		r, c := sz.Records, sz.Chars
		if r == 0 {
			continue
		}
		if r > lim.Records || c > lim.Chars {
			return nil, fmt.Errorf("packing zone %s: group %d needs %d records and %d characters, over the limit of %d and %d for one request", zone, i, r, c, lim.Records, lim.Chars)
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

// Minimum is a lower bound on the batches any packing of groups within lim
// needs, groups unsplit: the largest of the total records over the record
// limit and the total characters over the character limit (rounded up),
// and of the number of groups over half of either limit (no two of those
// share a request). When every group has the same size it is exact: the
// groups over how many fit in one request, rounded up. A group over the
// limits alone counts as one batch (Pack refuses it). No changes need no
// batch.
func Minimum(groups [][]dns.Change, lim Limits) int {
	if lim.Records <= 0 || lim.Chars <= 0 {
		return 0
	}
	var n, records, chars, halfR, halfC int
	uniform := true
	var r0, c0 int
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		r, c := Size(g)
		if n == 0 {
			r0, c0 = r, c
		} else if r != r0 || c != c0 {
			uniform = false
		}
		n++
		records += r
		chars += c
		if 2*r > lim.Records {
			halfR++
		}
		if 2*c > lim.Chars {
			halfC++
		}
	}
	if n == 0 {
		return 0
	}
	if uniform && r0 <= lim.Records && c0 <= lim.Chars {
		per := n
		if r0 > 0 {
			per = min(per, lim.Records/r0)
		}
		if c0 > 0 {
			per = min(per, lim.Chars/c0)
		}
		return ceilDiv(n, per)
	}
	return max(1, ceilDiv(records, lim.Records), ceilDiv(chars, lim.Chars), halfR, halfC)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Sets turns batches into the change sets to apply, each batch's groups'
// changes in order, with comment on every set.
func Sets(batches []Batch, groups [][]dns.Change, comment string) []dns.ChangeSet {
	out := make([]dns.ChangeSet, len(batches))
	for i, b := range batches {
		n := 0
		for _, g := range b.Groups {
			n += len(groups[g])
		}
		cs := dns.ChangeSet{Zone: b.Zone, Comment: comment, Changes: make([]dns.Change, 0, n)}
		for _, g := range b.Groups {
			cs.Changes = append(cs.Changes, groups[g]...)
		}
		out[i] = cs
	}
	return out
}

// Result is what applying one change set gave.
type Result struct {
	ChangeID string
	Err      error
}

// Send applies every set through p: sets of one zone one at a time, in
// their order (Route 53 answers PriorRequestNotComplete to concurrent
// changes of one zone), and at most zoneConcurrency zones at once (all of
// them when zoneConcurrency <= 0). The results are in the order of sets. A
// failing set does not stop the others; once ctx is done, the sets not
// sent yet fail with its error.
func Send(ctx context.Context, p dns.Provider, sets []dns.ChangeSet, zoneConcurrency int) []Result {
	reqs := make([]Request, len(sets))
	for i := range sets {
		cs := sets[i]
		reqs[i] = Request{Zone: cs.Zone, Build: func() (dns.ChangeSet, error) { return cs, nil }}
	}
	return SendRequests(ctx, p, reqs, zoneConcurrency)
}

// Request is one request SendRequests makes: its zone, and Build, called
// when the request's turn comes, which makes its change set.
type Request struct {
	Zone  string
	Build func() (dns.ChangeSet, error)
}

// SendRequests is Send with each change set built shortly before it is
// sent (a Build error is that request's result), so that only the requests
// in flight are in memory: at 50,000 hostnames the change sets are most of
// a bulk step's memory. A zone builds its next request while the current
// one is in flight, so building adds no time between them; at most one
// request per zone waits built, and at most MaxBuilt over all zones are
// built and not yet answered.
func SendRequests(ctx context.Context, p dns.Provider, reqs []Request, zoneConcurrency int) []Result {
	results := make([]Result, len(reqs))
	var zones []string
	byZone := map[string][]int{}
	for i, r := range reqs {
		if _, ok := byZone[r.Zone]; !ok {
			zones = append(zones, r.Zone)
		}
		byZone[r.Zone] = append(byZone[r.Zone], i)
	}
	if zoneConcurrency <= 0 || zoneConcurrency > len(zones) {
		zoneConcurrency = len(zones)
	}
	slots := make(chan struct{}, zoneConcurrency)
	builtSlots := make(chan struct{}, MaxBuilt)
	var wg sync.WaitGroup
	for _, z := range zones {
		wg.Add(1)
		go func(idx []int) {
			defer wg.Done()
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			case <-ctx.Done():
				for _, i := range idx {
					results[i] = Result{Err: fmt.Errorf("applying batch %d to zone %s: %w", i, reqs[i].Zone, ctx.Err())}
				}
				return
			}
			next := prebuild(ctx, reqs, idx, builtSlots)
			for _, i := range idx {
				b, ok := <-next
				if !ok {
					results[i] = Result{Err: fmt.Errorf("applying batch %d to zone %s: %w", i, reqs[i].Zone, ctx.Err())}
					continue
				}
				results[i] = send(ctx, p, i, reqs[i].Zone, b)
				<-builtSlots
			}
		}(byZone[z])
	}
	wg.Wait()
	return results
}

type built struct {
	cs  dns.ChangeSet
	err error
}

// MaxBuilt bounds the requests SendRequests has built and not yet had
// answered, over all zones. A request of 1,000 records is about a
// megabyte in its forms (change set, SDK input, XML body); eight in
// flight outrun Route 53's rate (at most 10 a second) at any round trip
// under 800 ms.
const MaxBuilt = 8

// prebuild builds the requests idx in order on its own goroutine, each
// once it holds one of slots (the sender gives it back when the request
// is answered) and handed over when the sender takes it; it stops once
// ctx is done and closes the channel.
func prebuild(ctx context.Context, reqs []Request, idx []int, slots chan struct{}) <-chan built {
	out := make(chan built)
	go func() {
		defer close(out)
		for _, i := range idx {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			cs, err := reqs[i].Build()
			select {
			case out <- built{cs, err}:
			case <-ctx.Done():
				<-slots
				return
			}
		}
	}()
	return out
}

func send(ctx context.Context, p dns.Provider, i int, zone string, b built) Result {
	if err := ctx.Err(); err != nil {
		return Result{Err: fmt.Errorf("applying batch %d to zone %s: %w", i, zone, err)}
	}
	if b.err != nil {
		return Result{Err: fmt.Errorf("building batch %d for zone %s: %w", i, zone, b.err)}
	}
	id, err := p.Apply(ctx, b.cs)
	if err != nil {
		err = fmt.Errorf("applying batch %d to zone %s: %w", i, zone, err)
	}
	return Result{ChangeID: id, Err: err}
}

// Remaining asks c once about every change id and returns those not INSYNC
// yet, in their order. An empty id (a provider that had nothing to wait
// for) is in sync.
func Remaining(ctx context.Context, c dns.InSyncChecker, ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		if id == "" {
			continue
		}
		ok, err := c.InSync(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("checking change %s: %w", id, err)
		}
		if !ok {
			out = append(out, id)
		}
	}
	return out, nil
}
