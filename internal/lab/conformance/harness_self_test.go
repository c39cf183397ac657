package conformance

import (
	"strings"
	"testing"
)

// TestCompareCatchesEveryKindOfDrift checks the comparison itself, without
// any server: a green differential run means something only if each kind
// of disagreement is reported.
func TestCompareCatchesEveryKindOfDrift(t *testing.T) {
	known := []difference{{Step: "q", Why: "moto quirk", Ref: "X1", Lab: `"aws"`, Moto: `"moto"`}}
	obs := func(kv ...string) []observation {
		var o []observation
		for i := 0; i < len(kv); i += 2 {
			o = append(o, observation{kv[i], kv[i+1]})
		}
		return o
	}
	cases := []struct {
		name      string
		lab, moto []observation
		want      string // a substring of the only problem; "" means none
	}{
		{"agreement and a documented quirk", obs("a", "1", "q", `"aws"`), obs("a", "1", "q", `"moto"`), ""},
		{"plain disagreement", obs("a", "1", "q", `"aws"`), obs("a", "2", "q", `"moto"`), "a: lab and moto disagree"},
		{"lab departs from AWS on a known step", obs("a", "1", "q", `"lab"`), obs("a", "1", "q", `"moto"`), "the lab does not answer as AWS does"},
		{"moto now agrees", obs("a", "1", "q", `"aws"`), obs("a", "1", "q", `"aws"`), "is stale"},
		{"moto changed its answer", obs("a", "1", "q", `"aws"`), obs("a", "1", "q", `"other"`), "moto no longer answers as documented"},
		{"known step never ran", obs("a", "1"), obs("a", "1"), "which the scenario never ran"},
		{"different paths", obs("a", "1", "q", `"aws"`), obs("a", "1"), "different paths"},
		{"steps out of order", obs("a", "1", "q", `"aws"`), obs("q", `"moto"`, "a", "1"), "lab ran"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := compare(c.lab, c.moto, known)
			if c.want == "" {
				if len(got) != 0 {
					t.Fatalf("problems reported for a clean run: %q", got)
				}
				return
			}
			if len(got) == 0 || !strings.Contains(got[0], c.want) {
				t.Fatalf("problems %q, want one containing %q", got, c.want)
			}
		})
	}
}

// TestPlaceholdersKeepIdentity checks that normalisation maps equal values
// to equal placeholders and distinct values to distinct ones, per kind.
func TestPlaceholdersKeepIdentity(t *testing.T) {
	r := &run{ids: map[string]string{}, count: map[string]int{}}
	a, b, a2 := r.id("etag", "E1"), r.id("etag", "E2"), r.id("etag", "E1")
	if a != "etag#1" || b != "etag#2" || a2 != a {
		t.Fatalf("placeholders %s %s %s", a, b, a2)
	}
	if z := r.id("zone", "E1"); z != "zone#1" {
		t.Fatalf("kinds share a counter: %s", z)
	}
	if got := r.arn("arn:aws:cloudfront::111111111111:distribution/EX", "dist"); got != "arn:aws:cloudfront::account#1:distribution/dist#1" {
		t.Fatalf("arn %s", got)
	}
	r.mend = true
	if got := r.arn("arn:aws:cloudfront:123456789012:distribution/EY", "dist"); got != "arn:aws:cloudfront::account#2:distribution/dist#2" {
		t.Fatalf("mended arn %s", got)
	}
}
