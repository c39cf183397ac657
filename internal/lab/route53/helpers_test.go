package route53

import (
	"errors"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/clock/fakeclock"
	"github.com/cutover/cutover/internal/lab/awsapi"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// newLab returns a service on a fake clock; unless opts say otherwise it
// does not throttle and is seeded, so tests are deterministic.
func newLab(t testing.TB, opts Options) (*Service, *fakeclock.Clock) {
	t.Helper()
	clock := fakeclock.New(t0)
	if opts.RateLimit == "" {
		opts.RateLimit = RateLimitOff
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	return New(awsapi.NewEnv(clock), opts), clock
}

func mustZone(t testing.TB, s *Service, name string) string {
	t.Helper()
	id, err := s.CreateZone("", name, false)
	if err != nil {
		t.Fatalf("CreateZone(%s): %v", name, err)
	}
	return id
}

func mustApply(t testing.TB, s *Service, zoneID string, changes ...Change) string {
	t.Helper()
	id, err := s.ApplyChanges("", zoneID, changes)
	if err != nil {
		t.Fatalf("ApplyChanges: %v", err)
	}
	return id
}

// wantAWSError checks the code and, when msg is not empty, the exact message.
func wantAWSError(t testing.TB, err error, status int, code, msg string) {
	t.Helper()
	var e *awsapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want %s", err, code)
	}
	if e.Code != code || (status != 0 && e.Status != status) {
		t.Fatalf("got %d %s: %s\nwant %d %s", e.Status, e.Code, e.Message, status, code)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message\n got: %s\nwant: %s", e.Message, msg)
	}
}

func simple(name, typ string, ttl int64, values ...string) RecordSet {
	return RecordSet{Name: name, Type: typ, TTL: Int64(ttl), Records: values}
}

func aRec(name string, ttl int64, values ...string) RecordSet {
	return simple(name, "A", ttl, values...)
}

func weighted(name, typ, id string, w, ttl int64, values ...string) RecordSet {
	rs := simple(name, typ, ttl, values...)
	rs.SetIdentifier, rs.Weight = id, Int64(w)
	return rs
}

func failover(name, id, role string, values ...string) RecordSet {
	rs := aRec(name, 60, values...)
	rs.SetIdentifier, rs.Failover = id, role
	return rs
}

func alias(name, typ, zoneID, target string, eth bool) RecordSet {
	return RecordSet{Name: name, Type: typ, AliasTarget: &AliasTarget{HostedZoneID: zoneID, DNSName: target, EvaluateTargetHealth: eth}}
}

func create(rs RecordSet) Change { return Change{Action: ActionCreate, Set: rs} }
func del(rs RecordSet) Change    { return Change{Action: ActionDelete, Set: rs} }
func upsert(rs RecordSet) Change { return Change{Action: ActionUpsert, Set: rs} }

func awsapiFilter() awsapi.Filter { return awsapi.Filter{Service: "route53"} }
