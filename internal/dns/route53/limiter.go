package route53

import (
	"sync"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/ratelimit"
)

// Route 53's legacy API limit is five requests a second per account,
// shared by every principal. Staying under it client-side keeps a run from
// starving the console or another tool of the same budget.
const (
	DefaultRatePerSecond = 5
	DefaultBurst         = 5
)

// The token buckets that replaced the legacy limit (reference A4): the
// account's bucket holds 50 requests and refills 10 a second.
const (
	BucketsRatePerSecond = 10
	BucketsBurst         = 50
)

// ClientBudget is the bucket a run keeps to under the account's regime
// (legacy, or token buckets): one request smaller and a fiftieth slower.
// Started while the account's bucket is full, a bucket that holds one less
// and refills no faster always has less in it than the account's, however
// the network delays or reorders the calls (each arrives after it was
// sent): the run's own calls are never throttled. The slower refill leaves
// a little of the account's rate to other tools; a throttled call is
// retried with backoff either way.
func ClientBudget(buckets bool) (rate float64, burst int) {
	const share = 0.98
	if buckets {
		return BucketsRatePerSecond * share, BucketsBurst - 1
	}
	return DefaultRatePerSecond * share, DefaultBurst - 1
}

// NewLimiter returns a full bucket refilling at rate tokens a second on clk
// (the wall clock when nil); a non-positive rate or burst takes the default.
func NewLimiter(rate float64, burst int, clk clock.Clock) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Budget{PerSecond: rate, Burst: burst}.Or(ratelimit.Budget{PerSecond: DefaultRatePerSecond, Burst: DefaultBurst}), clk)
}

// shared holds one limiter per account key so every provider acting in an
// account draws from the same budget, as Route 53 counts it.
var shared = struct {
	sync.Mutex
	m map[string]*ratelimit.Limiter
}{m: map[string]*ratelimit.Limiter{}}

// SharedLimiter returns the process-wide limiter for account, creating it
// with rate and burst on first use; later calls get the same bucket whatever
// they pass.
func SharedLimiter(account string, rate float64, burst int) *ratelimit.Limiter {
	shared.Lock()
	defer shared.Unlock()
	if l, ok := shared.m[account]; ok {
		return l
	}
	l := NewLimiter(rate, burst, nil)
	shared.m[account] = l
	return l
}
