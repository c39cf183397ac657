// Package labtest starts the lab for tests that drive cutover end to end
// over the wire: a seeded lab served over HTTP on 127.0.0.1 with the AWS
// SDK's default configuration pointing at it, and the weighted plan most
// of those tests run.
package labtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/route53"
)

// Seed is the world of a weighted move: api.example.com a CNAME to
// old.example.net (TTL 2) in the zone example.com, and two load balancers.
const Seed = `
load_balancers:
  - {name: api-old, targets: ["127.0.0.1:8081"]}
  - {name: api-new, targets: ["127.0.0.1:8082"]}
zones:
  - name: example.com
records:
  - {zone: example.com, name: api.example.com, type: CNAME, ttl: 2, values: [old.example.net]}
`

// Options are the lab options of a run driven over the wire: a record
// change is INSYNC after 50 ms, a distribution deploys at once, and no API
// call is throttled.
func Options() lab.Options {
	return lab.Options{Propagation: 50 * time.Millisecond, DeployDelay: -1, RateLimit: route53.RateLimitOff}
}

// Start applies seed to a new lab with Options, serves it over HTTP until
// the test ends and points the AWS SDK's default configuration at it
// (awstest.SetEnv).
func Start(t testing.TB, seed string) (*lab.Lab, *lab.Seeded) {
	t.Helper()
	return StartBehind(t, seed, nil)
}

// StartBehind is Start with the lab served through front(lab), for a test
// that changes how the lab's answers arrive; a nil front serves the lab as
// it is.
func StartBehind(t testing.TB, seed string, front func(http.Handler) http.Handler) (*lab.Lab, *lab.Seeded) {
	t.Helper()
	l := lab.New(Options())
	s, err := lab.ParseSeed("seed", []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := l.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = l
	if front != nil {
		h = front(l)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	awstest.SetEnv(t, srv.URL)
	return l, seeded
}

// Steps are WeightedPlan's usual steps: 10 %, then 100 %.
const Steps = "  - {weight: 10}\n  - {weight: 100}\n"

// WeightedPlan is the plan named name that moves api.example.com of Seed
// in the zone zoneID from old.example.net to new.example.net by weight,
// with a 1 s cutover TTL, no hold, the given steps (YAML list items, as
// Steps) and extra appended as it is (top-level fields such as gates).
func WeightedPlan(name, zoneID, steps, extra string) string {
	return fmt.Sprintf(`apiVersion: cutover/v1
kind: Cutover
name: %s
hostname: api.example.com
zone: {id: %s}
from: {endpoint: old.example.net}
to: {endpoint: new.example.net}
strategy: weighted
ttl: {cutover: 1}
hold: 0s
steps:
%s%s`, name, zoneID, steps, extra)
}
