package scenarios

import (
	"testing"
	"time"
)

// TestSeed003 replays seed 003 under client load. Blue/green between two
// distributions with the same exact alias is impossible
// (CNAMEAlreadyExists on the second one); the accepted answer's wildcard
// trick (old holds www.example.com, new holds *.example.com, DNS points
// at the new one, then www is removed from old) does move the name, but
// not cleanly: the exact alias beats the wildcard on every edge that has
// not applied the removal yet, so for the length of the propagation the
// same name is served by both origins, then only by the new one.
func TestSeed003WildcardTrickUncleanCutUnderLoad(t *testing.T) {
	h, oldD, newD := startOldAndNew(t, 6)
	h.startLoad("www.example.com")
	t0 := time.Now().Add(300 * time.Millisecond)
	waitUntil(t0.Add(time.Second))
	only(t, "before", h.rec.between(t0, time.Now()), "old")

	// The question's first attempt: the same name on both distributions.
	if code, err := h.setAliases(newD.ID, "www.example.com"); code != "CNAMEAlreadyExists" {
		t.Fatalf("www.example.com on the second distribution: %s %v", code, err)
	}
	// The answer's trick: a wildcard may overlap the exact name.
	wild := h.mustSetAliases(newD.ID, "*.example.com")
	repointed := h.upsertCNAME("www.example.com", newD.DomainName)
	steady := latest(wild.Add(propMax+pollSlack), repointed.Add(ttl*time.Second+300*time.Millisecond))
	waitUntil(steady.Add(time.Second))
	// DNS now sends every client to the new distribution's name, and the
	// wildcard is on every edge, yet the exact alias still wins.
	only(t, "wildcard on new, DNS on new, www still on old", h.rec.between(steady, time.Now()), "old")
	for _, a := range h.w.EdgeAddrs() {
		if got := fetchVia(t, a.String(), h.w.HTTPPort(), "api.example.com"); got != "ok-new" {
			t.Fatalf("the wildcard serves other names: edge %s api.example.com → %q", a, got)
		}
	}

	remFrom := time.Now()
	remTo := h.mustSetAliases(oldD.ID)
	vOld := h.dist(oldD.ID)
	settled := remTo
	var lo, hi time.Duration
	for e := 1; e <= len(h.w.EdgeAddrs()); e++ {
		w := applyWindow(h, e, vOld, remFrom, remTo)
		settled = latest(settled, w.hi)
		d := h.w.Sim.Delay(e, vOld)
		if e == 1 || d < lo {
			lo = d
		}
		hi = max(hi, d)
	}
	waitUntil(settled.Add(time.Second))
	end := time.Now()
	rep := h.stopLoad()

	moving := h.rec.between(remFrom, settled)
	if got := tally(moving); len(got) != 2 || got["old"] == 0 || got["new"] == 0 {
		t.Fatalf("during the window want both origins and nothing else, got %v", got)
	}
	// Each edge goes from old to new once and never back, at its own
	// delay.
	state := map[int]string{}
	for _, r := range moving {
		e, got := edgeNumber(t, r), outcome(r)
		if state[e] == "new" && got == "old" {
			t.Fatalf("edge %d served old again at +%v after serving new", e, r.At.Sub(remFrom))
		}
		state[e] = got
	}
	switched := firstAfter(t, moving, "old")
	if len(switched) != len(h.w.EdgeAddrs()) {
		t.Fatalf("edges that switched: %v", sortedEdges(switched))
	}
	for e, r := range switched {
		if w := applyWindow(h, e, vOld, remFrom, remTo); !w.overlaps(r) {
			t.Fatalf("edge %d switched at +%v; its delay says +%v..+%v", e, r.At.Sub(remFrom), w.lo.Sub(remFrom), w.hi.Sub(remFrom))
		}
	}
	// The unclean cut itself: while some edges have switched and others
	// have not, the same name gets both answers within one short
	// interval. The edges' delays put such an interval between the first
	// and the last switch.
	if hi-lo < 2*pollSlack+200*time.Millisecond {
		t.Fatalf("edge delays %v..%v leave no interval to observe; pick another seed", lo, hi)
	}
	mixedFrom, mixedTo := remTo.Add(lo+pollSlack), remFrom.Add(hi-30*time.Millisecond)
	if got := tally(h.rec.between(mixedFrom, mixedTo)); got["old"] == 0 || got["new"] == 0 || len(got) != 2 {
		t.Fatalf("between the first and the last edge's switch (+%v..+%v) want both origins, got %v", mixedFrom.Sub(remFrom), mixedTo.Sub(remFrom), got)
	}
	only(t, "after propagation", h.rec.between(settled, end), "new")
	if rep.Summary.Total != rep.Summary.ByClass["ok"] {
		t.Fatalf("the wildcard trick fails no request, only splits them: %v %v", rep.Summary.ByClass, rep.Summary.Errors)
	}
}
