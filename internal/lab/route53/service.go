package route53

import (
	"math/rand"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/clock"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/ratelimit"
)

// Namespace is the XML namespace of every Route 53 request and response.
const Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// DefaultPropagation is how long a change stays PENDING when
// Options.Propagation is zero. Real Route 53 says "generally within 60
// seconds"; the lab defaults to something a demo can wait for.
const DefaultPropagation = 2 * time.Second

// RateLimit selects how the emulator throttles API calls.
type RateLimit string

const (
	// RateLimitLegacy is the documented classic limit: 5 requests per
	// second per account, as a token bucket of burst 5. It is the default
	// (the zero value) because it is the strictest a client must survive.
	RateLimitLegacy RateLimit = "legacy"
	// RateLimitBuckets is the token-bucket model of reference A4: an account
	// bucket (burst 50, 10/s) plus one bucket per action.
	RateLimitBuckets RateLimit = "buckets"
	// RateLimitOff disables throttling.
	RateLimitOff RateLimit = "off"
)

// Options tune the emulator. The zero value is the strict default: 2 s
// propagation, legacy rate limit, no change serialization.
type Options struct {
	// Propagation is how long a change stays PENDING before GetChange says
	// INSYNC and the served view shows it. Zero means DefaultPropagation; a
	// negative value makes changes INSYNC at once.
	Propagation time.Duration
	// PropagationMax, when greater than Propagation, makes each change's
	// delay uniform in [Propagation, PropagationMax] (per-change jitter).
	// INSYNC times still never go backwards within one zone.
	PropagationMax time.Duration
	// RateLimit selects the throttling model; "" means RateLimitLegacy.
	// Buckets refill on the Env's clock: with a fake clock that is not
	// advanced, spent tokens never come back.
	RateLimit RateLimit
	// SerializeChanges makes a ChangeResourceRecordSets (or
	// DeleteHostedZone) on a zone whose previous change is still PENDING
	// fail with PriorRequestNotComplete.
	SerializeChanges bool
	// Seed seeds ids, name servers and jitter; zero seeds from the time.
	Seed int64
}

// Service is the lab's Route 53: REST-XML API version 2013-04-01 over
// ServeHTTP, plus a Go API for seeding and for the lab's DNS server.
type Service struct {
	env  awsapi.Env
	opts Options

	mu             sync.Mutex
	rnd            *rand.Rand
	seq            uint64 // creation order of zones
	idSeq          uint64 // makes ids sort in creation order
	zones          map[string]*zone
	zoneRefs       map[string]string // account \x00 CallerReference → zone id
	changes        map[string]*changeRecord
	checks         map[string]*healthCheck
	checkRefs      map[string]*healthCheck      // account \x00 CallerReference, deleted ones kept
	health         map[string]bool              // probe results set by the data plane
	tags           map[string]map[string]string // "hostedzone/ID" or "healthcheck/ID" → key → value
	delegationSets map[string]*delegationSet
	limiter        limiter
	faults         []*Fault
}

// New returns an empty Route 53 on env.
func New(env awsapi.Env, opts Options) *Service {
	if env.Clock == nil {
		env.Clock = clock.Real{}
	}
	if env.History == nil {
		env.History = awsapi.NewHistory(env.Clock)
	}
	seed := opts.Seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	mode := opts.RateLimit
	if mode == "" {
		mode = RateLimitLegacy
	}
	return &Service{
		env:            env,
		opts:           opts,
		rnd:            rand.New(rand.NewSource(seed)),
		zones:          map[string]*zone{},
		zoneRefs:       map[string]string{},
		changes:        map[string]*changeRecord{},
		checks:         map[string]*healthCheck{},
		checkRefs:      map[string]*healthCheck{},
		health:         map[string]bool{},
		tags:           map[string]map[string]string{},
		delegationSets: map[string]*delegationSet{},
		limiter:        limiter{mode: mode, clock: env.Clock, buckets: map[string]*ratelimit.Limiter{}},
	}
}

// propagationDelay draws the PENDING time of one change.
func (s *Service) propagationDelay() time.Duration {
	lo := s.opts.Propagation
	switch {
	case lo == 0:
		lo = DefaultPropagation
	case lo < 0:
		lo = 0
	}
	if hi := s.opts.PropagationMax; hi > lo {
		return lo + time.Duration(s.rnd.Int63n(int64(hi-lo)+1))
	}
	return lo
}

const base36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newID returns a 20-character id like Route 53's: the prefix letter, six
// base-36 digits of a counter (so ids sort in creation order, which the
// Marker-based listings rely on) and thirteen random characters.
func (s *Service) newID(prefix byte) string {
	s.idSeq++
	b := make([]byte, 20)
	b[0] = prefix
	n := s.idSeq
	for i := 6; i >= 1; i-- {
		b[i] = base36[n%36]
		n /= 36
	}
	for i := 7; i < len(b); i++ {
		b[i] = base36[s.rnd.Intn(36)]
	}
	return string(b)
}
