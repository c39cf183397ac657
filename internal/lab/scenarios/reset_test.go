package scenarios

import (
	"net/http"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab/origin"
)

// TestResetServesTheSeedAgainAtOnce: a test moves an alias, re-points DNS
// and faults an origin; after POST /_lab/reset the lab's DNS answers the
// seed's record and every edge serves the seed's distribution at once —
// no propagation, since the world the edges had seen is gone — from an
// origin without its fault.
func TestResetServesTheSeedAgainAtOnce(t *testing.T) {
	h, oldD, newD := startOldAndNew(t, 3)
	// What the seed's world serves, before the test changes it.
	seedRecords, _ := h.w.Lab.Route53.Records(h.zone)

	h.mustSetAliases(oldD.ID)
	h.mustSetAliases(newD.ID, "www.example.com")
	h.upsertCNAME("www.example.com", newD.DomainName)
	oldOrigin, _ := h.w.Origins.Get("old")
	if err := oldOrigin.SetFault(origin.Fault{ErrorRate: 1, Status: 503}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "every edge to serve www.example.com from the new origin", func() bool {
		for _, a := range h.w.EdgeAddrs() {
			if fetchVia(t, a.String(), h.w.HTTPPort(), "www.example.com") != "ok-new" {
				return false
			}
		}
		return true
	})

	resp, err := http.Post(h.w.API+"/_lab/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset: %s", resp.Status)
	}

	if got := h.resolveChain("www.example.com"); len(got) == 0 || got[0] != oldD.DomainName {
		t.Fatalf("lab DNS after reset: www.example.com → %v, want %s", got, oldD.DomainName)
	}
	if got, _ := h.w.Lab.Route53.Records(h.zone); len(got) != len(seedRecords) {
		t.Fatalf("records after reset: %d, seed had %d", len(got), len(seedRecords))
	}
	for _, a := range h.w.EdgeAddrs() {
		if got := fetchVia(t, a.String(), h.w.HTTPPort(), "www.example.com"); got != "ok-old" {
			t.Fatalf("edge %s right after reset: www.example.com → %q, want ok-old (the seed's distribution, origin fault cleared)", a, got)
		}
	}
}
