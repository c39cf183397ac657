package cloudfront

import (
	"sync"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/ratelimit"
)

// CloudFront publishes no control-plane request rate, and its console, other
// tools and this one all draw from the same account. Five requests a second
// is a conservative budget that still lets a watch poll every 200 ms.
const (
	DefaultRequestsPerSecond = 5
	DefaultBurst             = 5
)

// NewLimiter returns a full bucket refilling at rate tokens a second on clk
// (the wall clock when nil); a non-positive rate or burst takes the default.
func NewLimiter(rate float64, burst int, clk clock.Clock) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Budget{PerSecond: rate, Burst: burst}.Or(ratelimit.Budget{PerSecond: DefaultRequestsPerSecond, Burst: DefaultBurst}), clk)
}

var (
	sharedOnce    sync.Once
	sharedLimiter *ratelimit.Limiter
)

// SharedLimiter is the process-wide budget every Client uses unless
// Options.Limiter says otherwise: the default rate on the wall clock.
func SharedLimiter() *ratelimit.Limiter {
	sharedOnce.Do(func() { sharedLimiter = NewLimiter(DefaultRequestsPerSecond, DefaultBurst, clock.Real{}) })
	return sharedLimiter
}
