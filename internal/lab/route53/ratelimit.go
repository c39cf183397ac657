package route53

import (
	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/ratelimit"
)

// Sizes from reference A4.
var (
	legacyBucket  = ratelimit.Budget{Burst: 5, PerSecond: 5}
	accountBucket = ratelimit.Budget{Burst: 50, PerSecond: 10}
	defaultAction = ratelimit.Budget{Burst: 50, PerSecond: 10}
	actionBuckets = map[string]ratelimit.Budget{
		"CreateHealthCheck":    {Burst: 50, PerSecond: 0.5},
		"DeleteHealthCheck":    {Burst: 15, PerSecond: 3},
		"GetHealthCheckStatus": {Burst: 4, PerSecond: 1},
		"CreateHostedZone":     {Burst: 40, PerSecond: 2},
	}
)

// limiter holds every account's buckets, refilled on the service's clock.
// It is guarded by Service.mu.
type limiter struct {
	mode    RateLimit
	clock   clock.Clock
	buckets map[string]*ratelimit.Limiter // account \x00 action ("" = whole account)
}

func (l *limiter) bucket(key string, size ratelimit.Budget) *ratelimit.Limiter {
	b := l.buckets[key]
	if b == nil {
		b = ratelimit.New(size, l.clock)
		l.buckets[key] = b
	}
	return b
}

// allow takes a token for one call of action by account, or reports that
// the call is throttled. A throttled call takes nothing.
func (l *limiter) allow(account, action string) bool {
	switch l.mode {
	case RateLimitOff:
		return true
	case RateLimitBuckets:
		size, ok := actionBuckets[action]
		if !ok {
			size = defaultAction
		}
		acct := l.bucket(account+"\x00", accountBucket)
		act := l.bucket(account+"\x00"+action, size)
		if acct.Tokens() < 1 || act.Tokens() < 1 {
			return false
		}
		return acct.Allow() && act.Allow()
	default: // legacy
		return l.bucket(account+"\x00", legacyBucket).Allow()
	}
}
