package route53

import (
	"time"
)

// tokenBucket is a bucket of burst tokens refilled at rate per second,
// measured on the service's clock.
type tokenBucket struct {
	burst, rate float64
	tokens      float64
	last        time.Time
}

func (b *tokenBucket) refill(now time.Time) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens += dt * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
}

// bucketSize is a bucket's burst and refill rate.
type bucketSize struct{ burst, rate float64 }

// Sizes from reference A4.
var (
	legacyBucket  = bucketSize{5, 5}
	accountBucket = bucketSize{50, 10}
	defaultAction = bucketSize{50, 10}
	actionBuckets = map[string]bucketSize{
		"CreateHealthCheck":    {50, 0.5},
		"DeleteHealthCheck":    {15, 3},
		"GetHealthCheckStatus": {4, 1},
		"CreateHostedZone":     {40, 2},
	}
)

// limiter holds every account's buckets. It is guarded by Service.mu.
type limiter struct {
	mode    RateLimit
	buckets map[string]*tokenBucket // account \x00 action ("" = whole account)
}

func (l *limiter) bucket(key string, size bucketSize, now time.Time) *tokenBucket {
	b := l.buckets[key]
	if b == nil {
		b = &tokenBucket{burst: size.burst, rate: size.rate, tokens: size.burst, last: now}
		l.buckets[key] = b
	}
	b.refill(now)
	return b
}

// allow takes a token for one call of action by account, or reports that
// the call is throttled. A throttled call takes nothing.
func (l *limiter) allow(account, action string, now time.Time) bool {
	switch l.mode {
	case RateLimitOff:
		return true
	case RateLimitBuckets:
		size, ok := actionBuckets[action]
		if !ok {
			size = defaultAction
		}
		acct := l.bucket(account+"\x00", accountBucket, now)
		act := l.bucket(account+"\x00"+action, size, now)
		if acct.tokens < 1 || act.tokens < 1 {
			return false
		}
		acct.tokens--
		act.tokens--
		return true
	default: // legacy
		b := l.bucket(account+"\x00", legacyBucket, now)
		if b.tokens < 1 {
			return false
		}
		b.tokens--
		return true
	}
}
