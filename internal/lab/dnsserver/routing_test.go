package dnsserver

import (
	"fmt"
	"math"
	"testing"

	"github.com/miekg/dns"
)

// shares queries name n times and counts answers by the first A value.
func shares(t *testing.T, s *Server, name string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		m := ask(t, s, name, dns.TypeA)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
			t.Fatalf("query %d: rcode %s, answer %v", n, dns.RcodeToString[m.Rcode], m.Answer)
		}
		got[firstA(t, m)]++
	}
	return got
}

// within4Sigma checks a binomial count against its expectation.
func within4Sigma(t *testing.T, what string, count, n int, p float64) {
	t.Helper()
	mean := float64(n) * p
	sigma := math.Sqrt(float64(n) * p * (1 - p))
	if d := math.Abs(float64(count) - mean); d > 4*sigma {
		t.Errorf("%s: %d of %d, want %.0f ± %.0f (4σ)", what, count, n, mean, 4*sigma)
	}
}

func weightedZone() *fakeZones {
	z := newFakeZones()
	z.add("Z1", "example.com.",
		weighted(rset("www.example.com.", "A", 60, "192.0.2.1"), "blue", 1),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.2"), "green", 3),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.3"), "red", 6),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.4"), "off", 0),
	)
	return z
}

func checkWeightedShares(t *testing.T, seed int64) map[string]int {
	s := newTestServer(weightedZone(), nil, seed)
	const n = 10000
	got := shares(t, s, "www.example.com.", n)
	want := map[string]float64{"192.0.2.1": 0.1, "192.0.2.2": 0.3, "192.0.2.3": 0.6}
	for ip, p := range want {
		within4Sigma(t, fmt.Sprintf("seed %d, %s", seed, ip), got[ip], n, p)
	}
	if got["192.0.2.4"] != 0 {
		t.Errorf("seed %d: weight-0 set answered %d times while others have weight", seed, got["192.0.2.4"])
	}
	// The per-name counters report the same split by set identifier.
	st := s.Stats()
	chosen := st.Chosen["www.example.com. A"]
	if chosen["blue"] != uint64(got["192.0.2.1"]) || chosen["green"] != uint64(got["192.0.2.2"]) || chosen["red"] != uint64(got["192.0.2.3"]) {
		t.Errorf("Stats.Chosen = %v, answers = %v", chosen, got)
	}
	if st.Queries != n || st.Rcodes["NOERROR"] != n {
		t.Errorf("Stats.Queries = %d, Rcodes = %v, want %d NOERROR", st.Queries, st.Rcodes, n)
	}
	return got
}

func TestWeightedSharesFixedSeed(t *testing.T) {
	checkWeightedShares(t, 42)
}

func TestWeightedSharesTwoSeeds(t *testing.T) {
	a := checkWeightedShares(t, 1)
	b := checkWeightedShares(t, 2)
	// Different seeds must draw differently, or the seed is not used.
	if fmt.Sprint(a) == fmt.Sprint(b) {
		t.Errorf("seeds 1 and 2 gave identical counts %v", a)
	}
}

func TestWeightedSameSeedReproducible(t *testing.T) {
	a := shares(t, newTestServer(weightedZone(), nil, 7), "www.example.com.", 500)
	b := shares(t, newTestServer(weightedZone(), nil, 7), "www.example.com.", 500)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different counts: %v vs %v", a, b)
	}
}

func TestWeightedAllZeroEqual(t *testing.T) {
	z := newFakeZones()
	z.add("Z1", "example.com.",
		weighted(rset("www.example.com.", "A", 60, "192.0.2.1"), "a", 0),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.2"), "b", 0),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.3"), "c", 0),
		weighted(rset("www.example.com.", "A", 60, "192.0.2.4"), "d", 0),
	)
	const n = 8000
	got := shares(t, newTestServer(z, nil, 3), "www.example.com.", n)
	for i := 1; i <= 4; i++ {
		within4Sigma(t, fmt.Sprintf("192.0.2.%d", i), got[fmt.Sprintf("192.0.2.%d", i)], n, 0.25)
	}
}

func TestWeightedUnhealthyDropped(t *testing.T) {
	z := newFakeZones()
	sick := weighted(rset("www.example.com.", "A", 60, "192.0.2.1"), "sick", 9)
	sick.HealthCheckID = "hc-sick"
	well := weighted(rset("www.example.com.", "A", 60, "192.0.2.2"), "well", 1)
	well.HealthCheckID = "hc-well"
	z.add("Z1", "example.com.", sick, well)
	s := newTestServer(z, nil, 5)

	z.setHealthy("hc-sick", false)
	if got := shares(t, s, "www.example.com.", 500); got["192.0.2.1"] != 0 || got["192.0.2.2"] != 500 {
		t.Errorf("with hc-sick failing: %v, want every answer 192.0.2.2", got)
	}
	// All unhealthy: all are considered, so the weights apply again.
	z.setHealthy("hc-well", false)
	got := shares(t, s, "www.example.com.", 2000)
	within4Sigma(t, "all unhealthy, sick set", got["192.0.2.1"], 2000, 0.9)
	// Healthy again: back to the weights.
	z.setHealthy("hc-sick", true)
	z.setHealthy("hc-well", true)
	got = shares(t, s, "www.example.com.", 2000)
	within4Sigma(t, "all healthy, well set", got["192.0.2.2"], 2000, 0.1)
}

func TestFailover(t *testing.T) {
	z := newFakeZones()
	primary := rset("www.example.com.", "A", 60, "192.0.2.1")
	primary.SetIdentifier, primary.Failover, primary.HealthCheckID = "p", "PRIMARY", "hc-p"
	secondary := rset("www.example.com.", "A", 60, "192.0.2.2")
	secondary.SetIdentifier, secondary.Failover, secondary.HealthCheckID = "s", "SECONDARY", "hc-s"
	z.add("Z1", "example.com.", secondary, primary)
	s := newTestServer(z, nil, 1)

	steps := []struct {
		pOK, sOK bool
		want     string
	}{
		{true, true, "192.0.2.1"},
		{false, true, "192.0.2.2"},
		{false, false, "192.0.2.1"}, // both down: the primary
		{true, false, "192.0.2.1"},
	}
	for _, st := range steps {
		z.setHealthy("hc-p", st.pOK)
		z.setHealthy("hc-s", st.sOK)
		for range 20 {
			if got := firstA(t, ask(t, s, "www.example.com.", dns.TypeA)); got != st.want {
				t.Fatalf("primary healthy=%v secondary healthy=%v: answered %s, want %s", st.pOK, st.sOK, got, st.want)
			}
		}
	}
}

func TestMultiValueAndSimpleSetsAnswerEveryValue(t *testing.T) {
	z := newFakeZones()
	z.add("Z1", "example.com.", rset("www.example.com.", "A", 60, "192.0.2.1", "192.0.2.2", "192.0.2.3"))
	m := ask(t, newTestServer(z, nil, 1), "www.example.com.", dns.TypeA)
	if len(m.Answer) != 3 {
		t.Fatalf("answer %v, want all three values", m.Answer)
	}
}

// EvaluateTargetHealth on an ELB alias: an unhealthy load balancer takes
// its weighted set out of rotation.
func TestEvaluateTargetHealthELB(t *testing.T) {
	z := newFakeZones()
	z.add("Z1", "example.com.",
		weighted(alias("app.example.com.", "A", "Z35SXDOTRQ7X7K", "blue-1.us-east-1.elb.amazonaws.com.", true), "blue", 1),
		weighted(alias("app.example.com.", "A", "Z35SXDOTRQ7X7K", "green-2.us-east-1.elb.amazonaws.com.", true), "green", 1),
	)
	tg := newFakeTargets()
	tg.add("blue-1.us-east-1.elb.amazonaws.com.", 60, "198.51.100.1")
	tg.add("green-2.us-east-1.elb.amazonaws.com.", 60, "198.51.100.2")
	tg.unhealthy["blue-1.us-east-1.elb.amazonaws.com."] = true
	s := newTestServer(z, tg, 9)
	got := shares(t, s, "app.example.com.", 300)
	if got["198.51.100.2"] != 300 {
		t.Errorf("unhealthy ELB still answered: %v", got)
	}
	if c := s.Stats().Chosen["app.example.com. A"]; c["green"] != 300 || c["blue"] != 0 {
		t.Errorf("Stats.Chosen = %v", c)
	}
}
