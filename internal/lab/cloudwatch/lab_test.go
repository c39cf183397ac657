package cloudwatch

import (
	"math"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
)

// t0 is the fake "now" of every test: a round hour, so bucket arithmetic in
// the tests stays readable.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type lab struct {
	svc   *Service
	clock *fakeclock.Clock
	env   awsapi.Env
	url   string
}

// newLab serves a fresh Service behind the same identity middleware the lab
// server uses: SigV4 scope → keyring → identity in the context.
func newLab(t *testing.T, opts Options) *lab {
	t.Helper()
	clock := fakeclock.New(t0)
	env := awsapi.NewEnv(clock)
	svc := New(env, opts)
	srv := httptest.NewServer(awstest.Authenticate(env, awstest.XMLErrors(""), nil, svc))
	t.Cleanup(srv.Close)
	return &lab{svc: svc, clock: clock, env: env, url: srv.URL}
}

// expectedBuckets is an independent reference for period aggregation: it
// groups (time, value) pairs by epoch-aligned period and computes Sum,
// Average and the nearest-rank percentile p by sorting each bucket.
type refPoint struct {
	t time.Time
	v float64
}

type refBucket struct {
	start    time.Time
	sum, avg float64
	pct      float64
	n        int
}

func expectedBuckets(points []refPoint, period time.Duration, p float64) []refBucket {
	groups := map[int64][]float64{}
	for _, pt := range points {
		k := pt.t.Unix() / int64(period/time.Second) * int64(period/time.Second)
		groups[k] = append(groups[k], pt.v)
	}
	var out []refBucket
	for k, vs := range groups {
		sort.Float64s(vs)
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		rank := int(math.Ceil(p / 100 * float64(len(vs))))
		if rank < 1 {
			rank = 1
		}
		out = append(out, refBucket{start: time.Unix(k, 0).UTC(), sum: sum, avg: sum / float64(len(vs)), pct: vs[rank-1], n: len(vs)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
