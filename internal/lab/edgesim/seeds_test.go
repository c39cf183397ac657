package edgesim

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/origin"
)

// TestSeed001HostBeatsDNS reproduces seed 001: whatever edge address (and
// so whatever *.cloudfront.net name) a client reached, Host decides; the
// old distribution keeps cdn.example.com until the alias moves, then the
// edges switch one by one within the propagation range.
func TestSeed001HostBeatsDNS(t *testing.T) {
	w := newWorld(t)
	oldO := startOrigin(t, "old-cdn", "127.0.0.1:0")
	newO := startOrigin(t, "new-cdn", "127.0.0.1:0")
	oldD := w.create(t, "old", true, oldO, "cdn.example.com")
	newD := w.create(t, "new", true, newO, "cdn-new.example.com")
	sim := w.start(t, Options{})

	for _, a := range sim.Addrs() {
		for host, want := range map[string]string{
			"cdn.example.com":     "ok-old-cdn",
			"cdn-new.example.com": "ok-new-cdn",
			newD.DomainName:       "ok-new-cdn",
			oldD.DomainName:       "ok-old-cdn",
		} {
			resp, body := fetch(t, a, sim.HTTPPort(), host, "/ruok", nil)
			if body != want || resp.StatusCode != 200 {
				t.Fatalf("edge %s Host %s: %d %q, want %q", a, host, resp.StatusCode, body, want)
			}
			if resp.Header.Get("X-Amz-Cf-Pop") == "" || !strings.HasSuffix(resp.Header.Get("Via"), ".cloudfront.net (CloudFront)") || resp.Header.Get("X-Cache") != "Miss from cloudfront" || resp.Header.Get("X-Amz-Cf-Id") == "" {
				t.Fatalf("missing CloudFront headers: %v", resp.Header)
			}
		}
	}
	// HTTPS: the certificate chosen by SNI covers the alias and verifies
	// against the lab CA; an unknown name gets *.cloudfront.net.
	if st, err := tlsDial(sim, sim.Addrs()[1], "cdn.example.com"); err != nil || st.PeerCertificates[0].VerifyHostname(oldD.DomainName) != nil {
		t.Fatalf("TLS for cdn.example.com: %v", err)
	}
	if _, err := tlsDial(sim, sim.Addrs()[0], "unknown.example.org"); err == nil || !strings.Contains(err.Error(), "cloudfront.net") {
		t.Fatalf("TLS for an uncovered name: %v", err)
	}

	// Move the alias: off the old distribution, onto the new one.
	w.setAliases(t, oldD.ID)
	w.setAliases(t, newD.ID, "cdn-new.example.com", "cdn.example.com")
	sim.Sync()
	oldV, _ := w.cf.Get(oldD.ID)
	newV, _ := w.cf.Get(newD.ID)

	// Expected answer of edge k at offset d after the change.
	expect := func(k int, d time.Duration) string {
		// Two UpdateDistribution calls are two changes: each edge applies
		// them independently, so the old one may let go first.
		oldGone := d >= sim.Delay(k, oldV)
		newHas := d >= sim.Delay(k, newV)
		switch {
		case !oldGone:
			return "ok-old-cdn" // exact alias still on old (and old was created first)
		case newHas:
			return "ok-new-cdn"
		default:
			return "403" // the gap seed 000 warns about
		}
	}
	switched := map[int]time.Duration{}
	for d := time.Duration(0); d <= 5*time.Second; d += 250 * time.Millisecond {
		w.clock.Set(t0.Add(d))
		for k, a := range sim.Addrs() {
			edge := k + 1
			resp, body := fetch(t, a, sim.HTTPPort(), "cdn.example.com", "/ruok", nil)
			got := body
			if resp.StatusCode != 200 {
				got = strconv.Itoa(resp.StatusCode)
			}
			if want := expect(edge, d); got != want {
				t.Fatalf("edge %d at +%v: got %q want %q", edge, d, got, want)
			}
			if resp.Header.Get(HeaderEdge) != strconv.Itoa(edge) {
				t.Fatalf("X-Lab-Edge %q on edge %d", resp.Header.Get(HeaderEdge), edge)
			}
			applied := sim.Applied(edge)
			if _, seen := switched[edge]; !seen && applied[newD.ID] == newV.Version && applied[oldD.ID] == oldV.Version {
				switched[edge] = d
			}
		}
	}
	if len(switched) != 4 {
		t.Fatalf("not every edge applied both versions: %v", switched)
	}
	distinct := map[time.Duration]bool{}
	for edge, d := range switched {
		if d < time.Second || d > 5*time.Second {
			t.Fatalf("edge %d switched at +%v, outside 1s..5s", edge, d)
		}
		distinct[d] = true
	}
	if len(distinct) < 2 {
		t.Fatalf("edges switched together (%v); propagation must be per edge", switched)
	}
	for _, a := range sim.Addrs() {
		if _, body := fetch(t, a, sim.HTTPPort(), "cdn.example.com", "/ruok", nil); body != "ok-new-cdn" {
			t.Fatalf("after the max delay edge %s serves %q", a, body)
		}
	}
}

// TestSeed003WildcardCutIsNotClean: old holds www.example.com, new holds
// *.example.com; removing www from old hands the name to the wildcard one
// edge at a time, so for a while the same name gets both answers.
func TestSeed003WildcardCutIsNotClean(t *testing.T) {
	w := newWorld(t)
	oldO := startOrigin(t, "old", "127.0.0.1:0")
	newO := startOrigin(t, "new", "127.0.0.1:0")
	oldD := w.create(t, "old", true, oldO, "www.example.com")
	w.create(t, "new", true, newO, "*.example.com")
	sim := w.start(t, Options{Edges: 6})
	for _, a := range sim.Addrs() {
		if _, body := fetch(t, a, sim.HTTPPort(), "www.example.com", "/ruok", nil); body != "ok-old" {
			t.Fatalf("exact alias must beat the wildcard: %q", body)
		}
		if _, body := fetch(t, a, sim.HTTPPort(), "api.example.com", "/ruok", nil); body != "ok-new" {
			t.Fatalf("wildcard serves other names: %q", body)
		}
	}
	w.setAliases(t, oldD.ID)
	sim.Sync()
	mixed := false
	for d := time.Duration(0); d <= 5*time.Second; d += 200 * time.Millisecond {
		w.clock.Set(t0.Add(d))
		seen := map[string]int{}
		for _, a := range sim.Addrs() {
			_, body := fetch(t, a, sim.HTTPPort(), "www.example.com", "/ruok", nil)
			seen[body]++
		}
		if len(seen) > 2 || (seen["ok-old"]+seen["ok-new"] != len(sim.Addrs())) {
			t.Fatalf("at +%v unexpected answers %v", d, seen)
		}
		if d < time.Second && seen["ok-new"] > 0 {
			t.Fatalf("an edge switched before the minimum delay: %v", seen)
		}
		mixed = mixed || (seen["ok-old"] > 0 && seen["ok-new"] > 0)
	}
	if !mixed {
		t.Fatalf("never saw old and new served at the same time")
	}
	for _, a := range sim.Addrs() {
		if _, body := fetch(t, a, sim.HTTPPort(), "www.example.com", "/ruok", nil); body != "ok-new" {
			t.Fatalf("after propagation: %q", body)
		}
	}
}

func TestUnknownHostAndDisabled(t *testing.T) {
	w := newWorld(t)
	o := startOrigin(t, "o", "127.0.0.1:0")
	w.create(t, "off", false, o, "off.example.com")
	sim := w.start(t, Options{Edges: 1})
	for _, host := range []string{"nobody.example.org", "off.example.com"} {
		resp, body := fetch(t, sim.Addrs()[0], sim.HTTPPort(), host, "/ruok", nil)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "The request could not be satisfied") || !strings.Contains(body, "Bad request") {
			t.Fatalf("Host %s: %d %q", host, resp.StatusCode, body)
		}
		if resp.Header.Get("X-Cache") != "Error from cloudfront" || resp.Header.Get(origin.HeaderOrigin) != "" {
			t.Fatalf("Host %s headers %v", host, resp.Header)
		}
	}
}

// A distribution created after Start appears on each edge only after that
// edge's delay, and a deleted one disappears the same way.
func TestNewDistributionPropagates(t *testing.T) {
	w := newWorld(t)
	o := startOrigin(t, "late", "127.0.0.1:0")
	sim := w.start(t, Options{Edges: 2})
	d := w.create(t, "late", true, o, "late.example.com")
	sim.Sync()
	if resp, _ := fetch(t, sim.Addrs()[0], sim.HTTPPort(), "late.example.com", "/ruok", nil); resp.StatusCode != 403 {
		t.Fatalf("new distribution served before any delay: %d", resp.StatusCode)
	}
	if len(sim.Applied(1)) != 0 {
		t.Fatalf("applied %v", sim.Applied(1))
	}
	w.clock.Advance(5 * time.Second)
	if _, body := fetch(t, sim.Addrs()[1], sim.HTTPPort(), "late.example.com", "/ruok", nil); body != "ok-late" {
		t.Fatalf("after the max delay: %q", body)
	}
	if got := sim.Applied(2)[d.ID]; got != d.Version {
		t.Fatalf("Applied(2)[%s] = %d", d.ID, got)
	}
}
