package route53

import (
	"math/rand"
	"testing"
)

// draw runs Select n times and counts the SetIdentifier chosen.
func draw(sets []RecordSet, healthy func(string) bool, n int) map[string]int {
	rnd := rand.New(rand.NewSource(42))
	counts := map[string]int{}
	for i := 0; i < n; i++ {
		for _, rs := range Select(sets, healthy, rnd) {
			counts[rs.SetIdentifier]++
		}
	}
	return counts
}

// chiSquare fails the test when counts do not fit the expected shares at
// the 0.1% level (critical values for up to 4 degrees of freedom).
func chiSquare(t *testing.T, counts map[string]int, want map[string]float64, n int) {
	t.Helper()
	crit := []float64{0, 10.83, 13.82, 16.27, 18.47}
	x2 := 0.0
	df := -1
	for id, p := range want {
		if p == 0 {
			if counts[id] != 0 {
				t.Fatalf("%s drawn %d times, want never", id, counts[id])
			}
			continue
		}
		e := p * float64(n)
		d := float64(counts[id]) - e
		x2 += d * d / e
		df++
	}
	for id := range counts {
		if _, ok := want[id]; !ok {
			t.Fatalf("unexpected set %s drawn", id)
		}
	}
	if df > 0 && x2 > crit[df] {
		t.Fatalf("counts %v do not fit %v: chi² = %.1f > %.2f", counts, want, x2, crit[df])
	}
}

func w(id string, weight int64, hc string) RecordSet {
	rs := weighted("www.example.com.", "A", id, weight, 60, "192.0.2.1")
	rs.HealthCheckID = hc
	return rs
}

func TestSelectWeighted(t *testing.T) {
	const n = 100000
	down := map[string]bool{}
	healthy := func(id string) bool { return !down[id] }
	cases := []struct {
		name string
		sets []RecordSet
		down []string
		want map[string]float64
	}{
		{"P = w/Σw", []RecordSet{w("a", 1, ""), w("b", 9, ""), w("c", 90, "")}, nil, map[string]float64{"a": .01, "b": .09, "c": .90}},
		{"zero weight never served", []RecordSet{w("a", 0, ""), w("b", 1, ""), w("c", 3, "")}, nil, map[string]float64{"a": 0, "b": .25, "c": .75}},
		{"all zero: equal", []RecordSet{w("a", 0, ""), w("b", 0, ""), w("c", 0, "")}, nil, map[string]float64{"a": 1. / 3, "b": 1. / 3, "c": 1. / 3}},
		{"unhealthy dropped", []RecordSet{w("a", 50, "hA"), w("b", 25, "hB"), w("c", 25, "")}, []string{"hA"}, map[string]float64{"a": 0, "b": .5, "c": .5}},
		{"all unhealthy: all healthy", []RecordSet{w("a", 1, "hA"), w("b", 3, "hB")}, []string{"hA", "hB"}, map[string]float64{"a": .25, "b": .75}},
		{"zero weight when every non-zero set is down", []RecordSet{w("a", 10, "hA"), w("z1", 0, ""), w("z2", 0, "")}, []string{"hA"}, map[string]float64{"a": 0, "z1": .5, "z2": .5}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			down = map[string]bool{}
			for _, d := range tc.down {
				down[d] = true
			}
			chiSquare(t, draw(tc.sets, healthy, n), tc.want, n)
		})
	}
}

func TestSelectFailoverAndOthers(t *testing.T) {
	p := failover("f.example.com.", "p", FailoverPrimary, "192.0.2.1")
	p.HealthCheckID = "hp"
	sec := failover("f.example.com.", "s", FailoverSecondary, "192.0.2.2")
	sec.HealthCheckID = "hs"
	for _, tc := range []struct {
		down []string
		want string
	}{{nil, "p"}, {[]string{"hp"}, "s"}, {[]string{"hs"}, "p"}, {[]string{"hp", "hs"}, "p"}} {
		down := map[string]bool{}
		for _, d := range tc.down {
			down[d] = true
		}
		got := Select([]RecordSet{sec, p}, func(id string) bool { return !down[id] }, rand.New(rand.NewSource(1)))
		if len(got) != 1 || got[0].SetIdentifier != tc.want {
			t.Fatalf("down %v: got %v, want %s", tc.down, got, tc.want)
		}
	}
	// Simple routing returns the set; nil health means healthy.
	if got := Select([]RecordSet{aRec("a.example.com.", 60, "192.0.2.1")}, nil, nil); len(got) != 1 {
		t.Fatalf("simple: %v", got)
	}
	// Multivalue: healthy ones, at most eight.
	var mv []RecordSet
	for i := 0; i < 10; i++ {
		rs := aRec("m.example.com.", 60, "192.0.2.1")
		rs.SetIdentifier, rs.MultiValueAnswer, rs.HealthCheckID = itoa(i), Bool(true), itoa(i)
		mv = append(mv, rs)
	}
	got := Select(mv, func(id string) bool { return id != "00" }, nil)
	if len(got) != 8 || got[0].SetIdentifier == "00" {
		t.Fatalf("multivalue: %v", names(got))
	}
	if got := Select(mv, func(string) bool { return false }, nil); len(got) != 8 {
		t.Fatalf("multivalue all down: %d", len(got))
	}
	if Select(nil, nil, nil) != nil {
		t.Fatal("no sets, no answer")
	}
}
