package scenarios

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/load"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
)

// seed001 is the blog post's setup: the old distribution holds
// cdn.example.com, the new one cdn-new.example.com, and cdn.example.com
// is a CNAME to the old distribution's name.
func seed001(initialTarget func(s *lab.Seeded) string) scenario {
	return scenario{
		origins: []world.OriginSpec{{Name: "old-cdn", Addr: "127.0.3.1:0"}, {Name: "new-cdn", Addr: "127.0.3.2:0"}},
		edges:   4,
		seed: `
zones: [{name: example.com}]
certificates: [{name: site, domains: [example.com, "*.example.com"]}]
distributions:
  - {name: old, aliases: [cdn.example.com], certificate: site, origin: {{old-cdn}}}
  - {name: new, aliases: [cdn-new.example.com], certificate: site, origin: {{new-cdn}}}
`,
		records: func(s *lab.Seeded) []labr53.RecordSet {
			return []labr53.RecordSet{
				cname("cdn.example.com", initialTarget(s)),
				cname("cdn-new.example.com", s.Distributions["new"].DomainName),
			}
		},
	}
}

// window is when an edge applies one configuration version: the write was
// accepted somewhere in [from, to] and the edge waits its own delay; the
// slack covers the poll and the request's latency.
type window struct{ lo, hi time.Time }

func applyWindow(h *harness, edge int, v cloudfront.View, from, to time.Time) window {
	d := h.w.Sim.Delay(edge, v)
	return window{lo: from.Add(d - 30*time.Millisecond), hi: to.Add(d + pollSlack)}
}

// overlaps reports whether the edge may have handled r inside the window:
// a request is handled somewhere between its start and its end, and
// under load that can be tens of milliseconds.
func (w window) overlaps(r load.Result) bool {
	return !r.At.Add(r.Latency).Before(w.lo) && !r.At.After(w.hi)
}

// before and after report that r was handled entirely outside the window.
func (w window) before(r load.Result) bool { return r.At.Add(r.Latency).Before(w.lo) }
func (w window) after(r load.Result) bool  { return r.At.After(w.hi) }

// TestSeed001 replays seed 001 under client load through the lab's DNS.
// Re-pointing the record (cdn → cdn-new → new distribution) changes what
// DNS answers but not who serves: the old distribution still holds the
// alias, and the edge routes by Host. Adding the alias to the new
// distribution first is refused (CNAMEAlreadyExists); removing it from the
// old one and then adding it to the new one moves the name edge by edge,
// each edge on its own delay within the propagation range, and the load
// ends on the new origin with no failures. An edge that applies the
// removal before the addition answers 403 meanwhile: the test predicts,
// per edge, exactly when.
func TestSeed001RepointThenMoveAliasUnderLoad(t *testing.T) {
	h := start(t, seed001(func(s *lab.Seeded) string { return s.Distributions["old"].DomainName }))
	oldD, newD := distByAlias(h, "cdn.example.com"), distByAlias(h, "cdn-new.example.com")
	h.startLoad("cdn.example.com")

	// Before anything changes: the old origin serves.
	t0 := time.Now().Add(300 * time.Millisecond)
	waitUntil(t0.Add(time.Second))
	only(t, "before the re-point", h.rec.between(t0, time.Now()), "old-cdn")

	// The blog's DNS change.
	repointed := h.upsertCNAME("cdn.example.com", "cdn-new.example.com")
	if chain := h.resolveChain("cdn.example.com"); len(chain) != 2 || chain[0] != "cdn-new.example.com" || chain[1] != newD.DomainName {
		t.Fatalf("lab DNS chain for cdn.example.com: %v, want [cdn-new.example.com %s]", chain, newD.DomainName)
	}
	// The new distribution itself works, on the very same edges.
	for _, a := range h.w.EdgeAddrs() {
		if got := fetchVia(t, a.String(), h.w.HTTPPort(), "cdn-new.example.com"); got != "ok-new-cdn" {
			t.Fatalf("cdn-new.example.com via edge %s: %q", a, got)
		}
	}
	// Once every client's cached answer has expired, every request follows
	// the new chain to the edges... and still reaches the old origin.
	afterTTL := repointed.Add(ttl*time.Second + 300*time.Millisecond)
	waitUntil(afterTTL.Add(1500 * time.Millisecond))
	only(t, "after the re-point and the TTL", h.rec.between(afterTTL, time.Now()), "old-cdn")

	// Add-then-remove is impossible.
	code, err := h.setAliases(newD.ID, "cdn-new.example.com", "cdn.example.com")
	if err == nil || code != "CNAMEAlreadyExists" {
		t.Fatalf("adding cdn.example.com to the new distribution while the old holds it: %s %v", code, err)
	}
	if v := h.dist(newD.ID); v.Version != newD.Version || len(v.Aliases) != 1 {
		t.Fatalf("the refused update changed the new distribution: %+v", v)
	}

	// Remove, then add.
	remFrom := time.Now()
	remTo := h.mustSetAliases(oldD.ID)
	addFrom := time.Now()
	addTo := h.mustSetAliases(newD.ID, "cdn-new.example.com", "cdn.example.com")
	vOld, vNew := h.dist(oldD.ID), h.dist(newD.ID)
	gone, has := map[int]window{}, map[int]window{}
	settled := addTo
	for e := 1; e <= len(h.w.EdgeAddrs()); e++ {
		gone[e] = applyWindow(h, e, vOld, remFrom, remTo)
		has[e] = applyWindow(h, e, vNew, addFrom, addTo)
		settled = latest(settled, gone[e].hi, has[e].hi)
	}
	waitUntil(settled.Add(2500 * time.Millisecond))
	end := time.Now()
	rep := h.stopLoad()

	// Every request outside the uncertain instants is what the per-edge
	// state predicts: old alias still applied → old; removal applied and
	// addition applied → new; removal applied, addition not yet → 403.
	moving := h.rec.between(remFrom, end)
	var wrong []string
	gaps := map[int]int{}
	for _, r := range moving {
		e := edgeNumber(t, r)
		if gone[e].overlaps(r) || has[e].overlaps(r) {
			continue
		}
		want := "old-cdn"
		switch {
		case gone[e].before(r):
		case has[e].after(r):
			want = "new-cdn"
		default:
			want = "403"
		}
		if got := outcome(r); got != want {
			wrong = append(wrong, fmt.Sprintf("edge %d at +%v: %s, want %s", e, r.At.Sub(remFrom).Round(time.Millisecond), got, want))
		}
		if want == "403" {
			gaps[e]++
		}
	}
	if len(wrong) > 0 {
		t.Fatalf("%d of %d requests contradict the per-edge propagation, e.g. %v", len(wrong), len(moving), wrong[:min(5, len(wrong))])
	}
	t.Logf("requests in a predicted removal-before-addition gap, by edge: %v", gaps)

	// Each edge switched once, on its own delay, within the range.
	switched := firstAfter(t, moving, "old-cdn")
	if len(switched) != len(h.w.EdgeAddrs()) {
		t.Fatalf("edges that stopped serving the old origin: %v", sortedEdges(switched))
	}
	var first, last time.Time
	for _, e := range sortedEdges(switched) {
		r := switched[e]
		at := r.At
		if r.At.Add(r.Latency).Before(remFrom.Add(propMin-30*time.Millisecond)) || at.After(remTo.Add(propMax+pollSlack)) {
			t.Fatalf("edge %d switched at +%v, outside %v..%v", e, at.Sub(remFrom), propMin, propMax)
		}
		if !gone[e].overlaps(r) {
			t.Fatalf("edge %d switched at +%v; its own delay puts the switch in +%v..+%v", e, at.Sub(remFrom), gone[e].lo.Sub(remFrom), gone[e].hi.Sub(remFrom))
		}
		if first.IsZero() || at.Before(first) {
			first = at
		}
		last = latest(last, at)
	}
	if last.Sub(first) < 300*time.Millisecond {
		t.Fatalf("edges switched within %v of one another; propagation must be per edge", last.Sub(first))
	}

	// The load ends on the new origin with zero failures.
	only(t, "after every edge applied the move", h.rec.between(settled, end), "new-cdn")
	if rep.Summary.ByOrigin["old-cdn"] == 0 || rep.Summary.ByOrigin["new-cdn"] == 0 || len(rep.Summary.ByEdge) != len(h.w.EdgeAddrs()) {
		t.Fatalf("load summary: origins %v edges %v", rep.Summary.ByOrigin, rep.Summary.ByEdge)
	}
	// In the report's per-second table, the complete seconds after the
	// move settled are all new, with no failures.
	settledSec := int(settled.Sub(h.loadStart)/time.Second) + 1
	checked := 0
	for _, s := range rep.Series[:len(rep.Series)-1] {
		if s.Second < settledSec {
			continue
		}
		checked++
		if s.Failures != 0 || s.ByOrigin["new-cdn"] != s.Total || s.Total == 0 {
			t.Fatalf("report second %d after the move: %+v", s.Second, s)
		}
	}
	if checked == 0 {
		t.Fatalf("the report has no complete second after the move settled (%d)", settledSec)
	}
}

// TestSeed001RightOrderNoFailures is the order that moves the name with
// zero failed requests: park a covering wildcard on the new distribution
// first (overlap with an exact alias is allowed), let it reach every edge,
// then remove the exact alias from the old one. Each edge falls from the
// old exact alias to the new wildcard in one step, so no edge ever has
// neither; the exact alias then replaces the wildcard on the new
// distribution in a single version.
func TestSeed001RightOrderNoFailures(t *testing.T) {
	// The record already points at the new distribution (the re-point of
	// the other test); only the aliases decide.
	h := start(t, seed001(func(*lab.Seeded) string { return "cdn-new.example.com" }))
	oldD, newD := distByAlias(h, "cdn.example.com"), distByAlias(h, "cdn-new.example.com")
	h.startLoad("cdn.example.com")
	t0 := time.Now().Add(300 * time.Millisecond)
	waitUntil(t0.Add(time.Second))
	only(t, "before the move", h.rec.between(t0, time.Now()), "old-cdn")

	wild := h.mustSetAliases(newD.ID, "cdn-new.example.com", "*.example.com")
	waitUntil(wild.Add(propMax + pollSlack + 500*time.Millisecond))
	only(t, "with the wildcard on the new distribution", h.rec.between(t0, time.Now()), "old-cdn")

	remFrom := time.Now()
	remTo := h.mustSetAliases(oldD.ID)
	vOld := h.dist(oldD.ID)
	waitUntil(remTo.Add(propMax + pollSlack + 500*time.Millisecond))
	moving := h.rec.between(remFrom, time.Now())
	if got := tally(moving); len(got) != 2 || got["old-cdn"] == 0 || got["new-cdn"] == 0 {
		t.Fatalf("while the removal propagates, want old and new only, got %v", got)
	}
	switched := firstAfter(t, moving, "old-cdn")
	if len(switched) != len(h.w.EdgeAddrs()) {
		t.Fatalf("edges that switched: %v", sortedEdges(switched))
	}
	for e, r := range switched {
		if w := applyWindow(h, e, vOld, remFrom, remTo); !w.overlaps(r) {
			t.Fatalf("edge %d switched at +%v, its delay says +%v..+%v", e, r.At.Sub(remFrom), w.lo.Sub(remFrom), w.hi.Sub(remFrom))
		}
	}

	exact := h.mustSetAliases(newD.ID, "cdn-new.example.com", "cdn.example.com")
	waitUntil(exact.Add(propMax + pollSlack + 500*time.Millisecond))
	only(t, "after the exact alias replaced the wildcard", h.rec.between(exact.Add(propMax+pollSlack), time.Now()), "new-cdn")
	rep := h.stopLoad()
	if n := rep.Summary.ByClass["ok"]; n != rep.Summary.Total || n < 500 {
		t.Fatalf("the right order must fail no request: %v (errors %v)", rep.Summary.ByClass, rep.Summary.Errors)
	}
	// Edges still route the new distribution's own alias throughout.
	if got := fetchVia(t, h.w.EdgeAddrs()[0].String(), h.w.HTTPPort(), "cdn-new.example.com"); got != "ok-new-cdn" {
		t.Fatalf("cdn-new.example.com: %q", got)
	}
}

// distRef is a distribution as it was when looked up.
type distRef struct {
	ID, DomainName string
	Version        int64
}

// startOldAndNew starts, on edges edges, the world of two distributions
// for www.example.com in one certificate's name: old holds the alias and
// the record points at it, new holds nothing; each with an origin of its
// own.
func startOldAndNew(t *testing.T, edges int) (h *harness, oldD, newD distRef) {
	t.Helper()
	h = start(t, scenario{
		origins: []world.OriginSpec{{Name: "old", Addr: "127.0.3.1:0"}, {Name: "new", Addr: "127.0.3.2:0"}},
		edges:   edges,
		seed: `
zones: [{name: example.com}]
certificates: [{name: site, domains: [example.com, "*.example.com"]}]
distributions:
  - {name: old, aliases: [www.example.com], certificate: site, origin: {{old}}}
  - {name: new, certificate: site, origin: {{new}}}
`,
		records: func(s *lab.Seeded) []labr53.RecordSet {
			return []labr53.RecordSet{cname("www.example.com", s.Distributions["old"].DomainName)}
		},
	})
	oldD = distByAlias(h, "www.example.com")
	for _, v := range h.w.Lab.CloudFront.List() {
		if v.ID != oldD.ID {
			newD = distRef{v.ID, v.DomainName, v.Version}
		}
	}
	return h, oldD, newD
}

// distByAlias finds the distribution holding alias now.
func distByAlias(h *harness, alias string) distRef {
	h.t.Helper()
	for _, v := range h.w.Lab.CloudFront.List() {
		for _, a := range v.Aliases {
			if a == alias {
				return distRef{v.ID, v.DomainName, v.Version}
			}
		}
	}
	h.t.Fatalf("no distribution holds %s", alias)
	return distRef{}
}

// fetchVia GETs /ruok from one edge with Host, the way curl --resolve
// does, and returns the body (or the status when it is not 200).
func fetchVia(t *testing.T, addr string, port int, host string) string {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(addr, strconv.Itoa(port))+"/ruok", nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		return strconv.Itoa(resp.StatusCode)
	}
	return strings.TrimSpace(string(body))
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
