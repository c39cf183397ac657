package pack

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

func w(n int64) *int64 { return &n }

func cname(name, target string) *dns.RecordSet {
	return &dns.RecordSet{Name: name, Type: "CNAME", TTL: 60, Values: []string{target}}
}

func weighted(name, id string, weight int64, target string) *dns.RecordSet {
	return &dns.RecordSet{Name: name, Type: "CNAME", SetIdentifier: id, Weight: w(weight), TTL: 60, Values: []string{target}}
}

// toWeighted is one hostname's move from a CNAME to a weighted pair: a
// DELETE and two CREATEs, three records.
func toWeighted(i int) []dns.Change {
	name := fmt.Sprintf("h%d.example.com.", i)
	return []dns.Change{
		{Old: cname(name, "old.example.net")},
		{New: weighted(name, "old", 90, "old.example.net")},
		{New: weighted(name, "new", 10, "new.example.net")},
	}
}

// txt is a group of one TXT record replaced by another, each of one value
// of n characters: two records, 2n characters.
func txt(i, n int) []dns.Change {
	name := fmt.Sprintf("t%d.example.com.", i)
	v := `"` + strings.Repeat("x", n-2) + `"`
	return []dns.Change{{
		Old: &dns.RecordSet{Name: name, Type: "TXT", TTL: 60, Values: []string{v}},
		New: &dns.RecordSet{Name: name, Type: "TXT", TTL: 30, Values: []string{v}},
	}}
}

// records is a group of one record set of n A values created.
func records(n int) []dns.Change {
	rs := &dns.RecordSet{Name: "a.example.com.", Type: "A", TTL: 60}
	for i := range n {
		rs.Values = append(rs.Values, fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	return []dns.Change{{New: rs}}
}

func repeat(n int, f func(int) []dns.Change) [][]dns.Change {
	out := make([][]dns.Change, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestSize(t *testing.T) {
	alias := &dns.RecordSet{Name: "a.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "d1.cloudfront.net."}}
	for _, tc := range []struct {
		name           string
		changes        []dns.Change
		records, chars int
	}{
		{"nothing", nil, 0, 0},
		{"create", []dns.Change{{New: cname("a.example.com.", "old.example.net")}}, 1, 15},
		{"delete and create count once each", []dns.Change{{Old: cname("a.example.com.", "old.example.net"), New: cname("a.example.com.", "new.example.net")}}, 2, 30},
		{"cname to weighted pair", toWeighted(1), 3, 45},
		{"alias is one record, no characters", []dns.Change{{Old: alias, New: cname("a.example.com.", "abc")}}, 2, 3},
		{"every value counts", records(3), 3, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, c := Size(tc.changes)
			if r != tc.records || c != tc.chars {
				t.Fatalf("Size = %d records, %d chars; want %d, %d", r, c, tc.records, tc.chars)
			}
		})
	}
}

func TestPack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups [][]dns.Change
		lim    Limits
		want   [][]int // groups per batch
		err    string
	}{
		{name: "nothing", groups: nil, lim: Route53},
		{name: "exactly 1000 records is one batch", groups: [][]dns.Change{records(400), records(400), records(200)}, lim: Route53, want: [][]int{{0, 1, 2}}},
		{name: "1001 records split", groups: [][]dns.Change{records(400), records(400), records(201)}, lim: Route53, want: [][]int{{0, 1}, {2}}},
		{name: "333 weighted moves per batch", groups: repeat(700, toWeighted), lim: Route53,
			want: [][]int{seq(0, 333), seq(333, 666), seq(666, 700)}},
		// 2 records, 8,000 characters a group: records allow 500, characters 4.
		{name: "characters bind before records", groups: repeat(10, func(i int) []dns.Change { return txt(i, 4000) }), lim: Route53,
			want: [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}},
		{name: "order kept, no reordering to fill", groups: [][]dns.Change{records(600), records(500), records(400)}, lim: Route53,
			want: [][]int{{0}, {1, 2}}},
		{name: "empty groups are in no batch", groups: [][]dns.Change{records(1), nil, records(1)}, lim: Route53, want: [][]int{{0, 2}}},
		{name: "a group too large alone", groups: [][]dns.Change{records(1), records(1001)}, lim: Route53, err: "group 1 needs 1001 records"},
		{name: "a group with too many characters", groups: [][]dns.Change{txt(0, 16001)}, lim: Route53, err: "group 0 needs 2 records and 32002 characters"},
		{name: "zero limits", groups: [][]dns.Change{records(1)}, lim: Limits{}, err: "want both positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batches, err := Pack("Z1", tc.groups, tc.lim)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "zone Z1") {
					t.Fatalf("err = %v, want one naming zone Z1 and %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got [][]int
			for _, b := range batches {
				if b.Zone != "Z1" {
					t.Errorf("batch zone %q", b.Zone)
				}
				var parts [][]dns.Change
				for _, g := range b.Groups {
					parts = append(parts, tc.groups[g])
				}
				r, c := Size(slices.Concat(parts...))
				if r != b.Records || c != b.Chars || r > tc.lim.Records || c > tc.lim.Chars {
					t.Errorf("batch %v says %d records %d chars, holds %d, %d (limit %v)", b.Groups, b.Records, b.Chars, r, c, tc.lim)
				}
				got = append(got, b.Groups)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
			if m := Minimum(tc.groups, tc.lim); m > len(batches) {
				t.Fatalf("Minimum %d is more than the %d batches packed", m, len(batches))
			}
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestMinimum(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups [][]dns.Change
		want   int
	}{
		{"nothing", nil, 0},
		{"one small group", [][]dns.Change{records(1)}, 1},
		{"exactly 1000 records", [][]dns.Change{records(500), records(500)}, 1},
		{"1001 records", [][]dns.Change{records(500), records(501)}, 2},
		// 1,200 moves of 3 records: 333 a request, so 4 (and 3,600 records need 4 too).
		{"1200 weighted moves", repeat(1200, toWeighted), 4},
		// 1,000 moves: 3,000 records fit 3 requests by volume, but 333 a request need 4.
		{"uniform groups are exact", repeat(1000, toWeighted), 4},
		{"characters bind", repeat(10, func(i int) []dns.Change { return txt(i, 4000) }), 3},
		// Three groups over half the records limit: none shares a request.
		{"groups over half the limit", [][]dns.Change{records(501), records(502), records(503), records(1)}, 3},
		{"volume bound of mixed groups", [][]dns.Change{records(300), records(400), records(300), records(300), records(1)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Minimum(tc.groups, Route53); got != tc.want {
				t.Fatalf("Minimum = %d, want %d", got, tc.want)
			}
			if tc.want == 0 {
				return
			}
			b, err := Pack("Z", tc.groups, Route53)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < tc.want {
				t.Fatalf("Pack made %d batches, fewer than the lower bound %d", len(b), tc.want)
			}
		})
	}
}

func TestSets(t *testing.T) {
	groups := repeat(4, toWeighted)
	sets := Sets([]Batch{{Zone: "Z1", Groups: []int{0, 2}}, {Zone: "Z1", Groups: []int{3}}}, groups, "step 1")
	if len(sets) != 2 || len(sets[0].Changes) != 6 || len(sets[1].Changes) != 3 {
		t.Fatalf("sets %+v", sets)
	}
	if sets[0].Changes[3].Old.Name != "h2.example.com." || sets[1].Comment != "step 1" || sets[1].Zone != "Z1" {
		t.Fatalf("sets %+v", sets)
	}
}

// fakeProvider applies a set after every zone named in hold has started
// one, counting what is in flight per zone and in all.
type fakeProvider struct {
	mu          sync.Mutex
	inZone      map[string]int
	inFlight    int
	maxInZone   int
	maxInFlight int
	order       map[string][]string // zone → comments, in the order applied
	fail        map[string]bool     // comments that fail
	// gate, when set, is waited for by every Apply once it is in flight,
	// so a test can see how many are in flight at once.
	gate    chan struct{}
	arrived chan string
}

func newFake() *fakeProvider {
	return &fakeProvider{inZone: map[string]int{}, order: map[string][]string{}, fail: map[string]bool{}}
}

func (f *fakeProvider) Records(context.Context, string, string) ([]dns.RecordSet, error) {
	return nil, nil
}

func (f *fakeProvider) Apply(ctx context.Context, cs dns.ChangeSet) (string, error) {
	f.mu.Lock()
	f.inZone[cs.Zone]++
	f.inFlight++
	f.maxInZone = max(f.maxInZone, f.inZone[cs.Zone])
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.order[cs.Zone] = append(f.order[cs.Zone], cs.Comment)
	f.mu.Unlock()
	if f.arrived != nil {
		f.arrived <- cs.Comment
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.inZone[cs.Zone]--
	f.inFlight--
	f.mu.Unlock()
	if f.fail[cs.Comment] {
		return "", errors.New("refused " + cs.Comment)
	}
	return "C-" + cs.Comment, nil
}

// sets is k sets in each of zones zones, interleaved: set j of zone z has
// comment "zZ-J".
func sets(zones, k int) []dns.ChangeSet {
	var out []dns.ChangeSet
	for j := range k {
		for z := range zones {
			out = append(out, dns.ChangeSet{Zone: fmt.Sprintf("Z%d", z), Comment: fmt.Sprintf("z%d-%d", z, j), Changes: toWeighted(j)})
		}
	}
	return out
}

func TestSendSerializesZonesAndRunsThemConcurrently(t *testing.T) {
	f := newFake()
	f.gate = make(chan struct{})
	f.arrived = make(chan string)
	in := sets(4, 3)
	done := make(chan []Result)
	go func() { done <- Send(context.Background(), f, in, 0) }()
	// Every zone's first set must be in flight at once before any returns.
	first := map[string]bool{}
	for range 4 {
		first[<-f.arrived] = true
	}
	for z := range 4 {
		if !first[fmt.Sprintf("z%d-0", z)] {
			t.Fatalf("in flight together: %v, want the first set of every zone", first)
		}
	}
	// Release one at a time from here on: no zone may start its next set
	// before its previous one returned.
	go func() {
		for range f.arrived {
		}
	}()
	close(f.gate)
	res := <-done
	close(f.arrived)
	if f.maxInZone != 1 {
		t.Fatalf("%d sets of one zone in flight at once, want 1", f.maxInZone)
	}
	if f.maxInFlight != 4 {
		t.Fatalf("at most %d in flight, want 4 (one per zone)", f.maxInFlight)
	}
	for i, r := range res {
		if r.Err != nil || r.ChangeID != "C-"+in[i].Comment {
			t.Fatalf("result %d = %+v, want C-%s", i, r, in[i].Comment)
		}
	}
	for z := range 4 {
		want := []string{fmt.Sprintf("z%d-0", z), fmt.Sprintf("z%d-1", z), fmt.Sprintf("z%d-2", z)}
		if got := f.order[fmt.Sprintf("Z%d", z)]; !slices.Equal(got, want) {
			t.Fatalf("zone Z%d applied %v, want %v", z, got, want)
		}
	}
}

func TestSendBoundsZoneConcurrency(t *testing.T) {
	f := newFake()
	f.gate = make(chan struct{})
	f.arrived = make(chan string)
	done := make(chan []Result)
	go func() { done <- Send(context.Background(), f, sets(5, 2), 2) }()
	<-f.arrived
	<-f.arrived
	// A third would arrive only if more than two zones ran at once: let
	// the two in flight finish while counting.
	go func() {
		for range f.arrived {
		}
	}()
	close(f.gate)
	res := <-done
	close(f.arrived)
	if f.maxInFlight != 2 || f.maxInZone != 1 {
		t.Fatalf("max in flight %d (per zone %d), want 2 (1)", f.maxInFlight, f.maxInZone)
	}
	if len(res) != 10 {
		t.Fatalf("%d results", len(res))
	}
}

func TestSendIsolatesErrors(t *testing.T) {
	f := newFake()
	f.fail["z1-0"] = true
	in := sets(3, 2)
	res := Send(context.Background(), f, in, 0)
	for i, r := range res {
		if in[i].Comment == "z1-0" {
			if r.Err == nil || !strings.Contains(r.Err.Error(), "refused z1-0") || !strings.Contains(r.Err.Error(), "zone Z1") {
				t.Fatalf("result %d = %+v, want the refusal naming zone Z1", i, r)
			}
			continue
		}
		if r.Err != nil || r.ChangeID != "C-"+in[i].Comment {
			t.Fatalf("result %d (%s) = %+v: one failed set must not stop another, even in its zone", i, in[i].Comment, r)
		}
	}
}

// SendRequests builds a zone's requests in order, at most one ahead of the
// one in flight: request j is built only after request j-2 was answered.
// A request that cannot be built fails alone.
func TestSendRequestsBuildsEachRequestWhenItIsSent(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var log []string // "build c" and "sent c", in order
	in := sets(3, 3)
	reqs := lazy(in, func(cs dns.ChangeSet) (dns.ChangeSet, error) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, "build "+cs.Comment)
		if cs.Comment == "z2-1" {
			return dns.ChangeSet{}, errors.New("cannot compile")
		}
		return cs, nil
	})
	p := providerFunc(func(ctx context.Context, cs dns.ChangeSet) (string, error) {
		id, err := f.Apply(ctx, cs)
		mu.Lock()
		log = append(log, "sent "+cs.Comment)
		mu.Unlock()
		return id, err
	})
	res := SendRequests(context.Background(), p, reqs, 0)
	pos := map[string]int{}
	for i, l := range log {
		pos[l] = i
	}
	for z := 0; z < 3; z++ {
		for j := 1; j < 3; j++ {
			prev, this := fmt.Sprintf("z%d-%d", z, j-1), fmt.Sprintf("z%d-%d", z, j)
			if pos["build "+this] < pos["build "+prev] {
				t.Fatalf("%s was built before %s: %v", this, prev, log)
			}
		}
		first, third := fmt.Sprintf("z%d-0", z), fmt.Sprintf("z%d-2", z)
		if pos["build "+third] < pos["sent "+first] {
			t.Fatalf("%s was built before %s was answered: more than one request ahead: %v", third, first, log)
		}
	}
	for i, r := range res {
		switch {
		case in[i].Comment == "z2-1":
			if r.Err == nil || !strings.Contains(r.Err.Error(), "building batch") || !strings.Contains(r.Err.Error(), "cannot compile") {
				t.Fatalf("result of the request that cannot be built = %+v", r)
			}
		case r.Err != nil || r.ChangeID != "C-"+in[i].Comment:
			t.Fatalf("result %d (%s) = %+v", i, in[i].Comment, r)
		}
	}
	if got := f.order["Z2"]; !slices.Equal(got, []string{"z2-0", "z2-2"}) {
		t.Fatalf("zone Z2 got %v, want the two requests that were built", got)
	}
}

// Over many zones, no more than MaxBuilt requests are built and not yet
// answered at once, and every request is still sent.
func TestSendRequestsBoundsTheRequestsBuilt(t *testing.T) {
	f := newFake()
	f.gate = make(chan struct{})
	f.arrived = make(chan string, 64)
	in := sets(MaxBuilt+4, 3)
	var mu sync.Mutex
	open, most := 0, 0
	reqs := lazy(in, func(cs dns.ChangeSet) (dns.ChangeSet, error) {
		mu.Lock()
		defer mu.Unlock()
		open++
		most = max(most, open)
		return cs, nil
	})
	p := providerFunc(func(ctx context.Context, cs dns.ChangeSet) (string, error) {
		id, err := f.Apply(ctx, cs)
		mu.Lock()
		open--
		mu.Unlock()
		return id, err
	})
	done := make(chan []Result)
	go func() { done <- SendRequests(context.Background(), p, reqs, 0) }()
	// With the gate shut nothing is answered: the builds stop at the bound
	// (without one, they would run on to every zone's next request).
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := open
		mu.Unlock()
		if n >= MaxBuilt {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests built after 5s, want %d", n, MaxBuilt)
		}
		runtime.Gosched()
	}
	close(f.gate)
	res := <-done
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if most > MaxBuilt {
		t.Fatalf("%d requests were built and unanswered at once, want at most %d", most, MaxBuilt)
	}
}

// lazy makes a request of each set, built by build from it.
func lazy(in []dns.ChangeSet, build func(dns.ChangeSet) (dns.ChangeSet, error)) []Request {
	reqs := make([]Request, len(in))
	for i := range in {
		cs := in[i]
		reqs[i] = Request{Zone: cs.Zone, Build: func() (dns.ChangeSet, error) { return build(cs) }}
	}
	return reqs
}

type providerFunc func(context.Context, dns.ChangeSet) (string, error)

func (providerFunc) Records(context.Context, string, string) ([]dns.RecordSet, error) {
	return nil, nil
}

func (f providerFunc) Apply(ctx context.Context, cs dns.ChangeSet) (string, error) { return f(ctx, cs) }

func TestSendCancelled(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := Send(ctx, f, sets(2, 2), 1)
	for i, r := range res {
		if !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("result %d = %+v, want context.Canceled", i, r)
		}
	}
	if len(f.order) != 0 {
		t.Fatalf("applied %v after cancel", f.order)
	}
}

type syncer map[string]bool

func (s syncer) InSync(_ context.Context, id string) (bool, error) {
	ok, known := s[id]
	if !known {
		return false, errors.New("no such change")
	}
	return ok, nil
}

func TestRemaining(t *testing.T) {
	c := syncer{"a": true, "b": false, "c": false, "d": true}
	got, err := Remaining(context.Background(), c, []string{"c", "a", "", "b", "d"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"c", "b"}) {
		t.Fatalf("Remaining = %v, want [c b]", got)
	}
	if _, err := Remaining(context.Background(), c, []string{"a", "x"}); err == nil || !strings.Contains(err.Error(), "change x") {
		t.Fatalf("err = %v, want one naming change x", err)
	}
}

// BenchmarkPack packs 50,000 hostnames' moves to weighted pairs in one
// zone: the work grows with the changes, one pass.
func BenchmarkPack(b *testing.B) {
	groups := repeat(50000, toWeighted)
	b.ReportAllocs()
	for b.Loop() {
		batches, err := Pack("Z1", groups, Route53)
		if err != nil || len(batches) != Minimum(groups, Route53) {
			b.Fatalf("%d batches, %v", len(batches), err)
		}
	}
}
