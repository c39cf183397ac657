package route53

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
)

func names(sets []RecordSet) []string {
	var out []string
	for _, rs := range sets {
		out = append(out, rs.Name+" "+rs.Type)
	}
	return out
}

// TestServedViewFollowsInsync: the API view shows a change at once, the
// served view only once the change is INSYNC; a new zone is served only
// once its creation is INSYNC.
func TestServedViewFollowsInsync(t *testing.T) {
	s, clock := newLab(t, Options{Propagation: 10 * time.Second})
	zid := mustZone(t, s, "example.com")
	if _, _, ok := s.Served("www.example.com"); ok {
		t.Fatal("zone served before its creation is INSYNC")
	}
	if len(s.ServedZones()) != 0 {
		t.Fatal("ServedZones lists a PENDING zone")
	}
	clock.Advance(10 * time.Second)
	if zs := s.ServedZones(); len(zs) != 1 || zs[0].ID != zid {
		t.Fatalf("ServedZones = %+v", zs)
	}

	cid := mustApply(t, s, zid, create(aRec("www.example.com", 60, "192.0.2.1")))
	if recs, _ := s.Records(zid); len(recs) != 3 {
		t.Fatalf("API view has %d sets, want 3 (PENDING change included)", len(recs))
	}
	if _, sets, ok := s.Served("www.example.com"); !ok || len(sets) != 0 {
		t.Fatalf("served a PENDING record: ok=%v %v", ok, sets)
	}
	if st, _ := s.ChangeInfo(cid); st.Status != StatusPending {
		t.Fatalf("status %s, want PENDING", st.Status)
	}
	clock.Advance(9 * time.Second)
	if st, _ := s.ChangeInfo("/change/" + cid); st.Status != StatusPending {
		t.Fatalf("status %s at 9s, want PENDING", st.Status)
	}
	clock.Advance(time.Second)
	if st, _ := s.ChangeInfo(cid); st.Status != StatusInSync {
		t.Fatalf("status %s at 10s, want INSYNC", st.Status)
	}
	z, sets, ok := s.Served("WWW.example.com.")
	if !ok || z.ID != zid || len(sets) != 1 || sets[0].Records[0] != "192.0.2.1" {
		t.Fatalf("Served = %v %+v %v", ok, sets, z)
	}

	// An update is served old until INSYNC, then new.
	mustApply(t, s, zid, del(aRec("www.example.com", 60, "192.0.2.1")), create(aRec("www.example.com", 60, "192.0.2.2")))
	_, sets, _ = s.Served("www.example.com")
	if sets[0].Records[0] != "192.0.2.1" {
		t.Fatalf("served %v before INSYNC, want the old value", sets[0].Records)
	}
	clock.Advance(10 * time.Second)
	_, sets, _ = s.Served("www.example.com")
	if sets[0].Records[0] != "192.0.2.2" {
		t.Fatalf("served %v after INSYNC, want the new value", sets[0].Records)
	}
}

// TestServedIsNewestInsyncState: with several batches in flight, the served
// view is the state after the newest INSYNC one, and jitter never lets a
// later change overtake an earlier one in the same zone.
func TestServedIsNewestInsyncState(t *testing.T) {
	s, clock := newLab(t, Options{Propagation: time.Second, PropagationMax: 20 * time.Second, Seed: 7})
	zid := mustZone(t, s, "example.com")
	clock.Advance(time.Minute)
	var ids []string
	for i := 1; i <= 20; i++ {
		ids = append(ids, mustApply(t, s, zid, upsert(aRec("www.example.com", 60, "192.0.2."+strconv.Itoa(i)))))
		clock.Advance(100 * time.Millisecond)
	}
	var last time.Time
	for _, id := range ids {
		st, _ := s.ChangeInfo(id)
		if st.InSyncAt.Before(last) {
			t.Fatalf("change %s INSYNC at %v, before the previous change (%v)", id, st.InSyncAt, last)
		}
		last = st.InSyncAt
	}
	for step := 0; step < 300; step++ {
		now := clock.Now()
		want := ""
		for i, id := range ids {
			if st, _ := s.ChangeInfo(id); !now.Before(st.InSyncAt) {
				want = "192.0.2." + strconv.Itoa(i+1)
			}
		}
		_, sets, _ := s.Served("www.example.com")
		got := ""
		if len(sets) > 0 {
			got = sets[0].Records[0]
		}
		if got != want {
			t.Fatalf("at %v served %q, want %q", now.Sub(t0), got, want)
		}
		clock.Advance(100 * time.Millisecond)
	}
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

// TestServedWildcardAndZones covers the DNS rules of Served: most specific
// zone, exact names, empty non-terminals, wildcards at the closest
// encloser, literal stars, and private zones.
func TestServedWildcardAndZones(t *testing.T) {
	s, clock := newLab(t, Options{Propagation: -1})
	parent := mustZone(t, s, "example.com")
	child := mustZone(t, s, "sub.example.com")
	if _, err := s.CreateZone(otherAccount, "private.example.com", true); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, parent,
		create(aRec("*.example.com", 60, "192.0.2.1")),
		create(aRec("a.b.example.com", 60, "192.0.2.2")),
		create(aRec("x*.example.com", 60, "192.0.2.3")),
		create(simple("_www.example.com", "TXT", 60, `"d111.cloudfront.net"`, `"part1" "part2"`)),
		create(simple("_acm.example.com", "CNAME", 60, "_X.ACM-Validations.AWS")),
	)
	mustApply(t, s, child, create(aRec("www.sub.example.com", 60, "192.0.2.9")))
	clock.Advance(time.Millisecond)

	check := func(name, wantZone string, want ...string) {
		t.Helper()
		z, sets, ok := s.Served(name)
		if !ok {
			t.Fatalf("%s: not served", name)
		}
		if z.Name != wantZone {
			t.Fatalf("%s: zone %s, want %s", name, z.Name, wantZone)
		}
		var got []string
		for _, rs := range sets {
			got = append(got, rs.Name+"="+rs.Records[0])
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %v, want %v", name, got, want)
		}
	}
	check("www.sub.example.com", "sub.example.com.", "www.sub.example.com.=192.0.2.9")
	check("nope.sub.example.com", "sub.example.com.")                                // NXDOMAIN in the child: no wildcard from the parent
	check("foo.example.com", "example.com.", "foo.example.com.=192.0.2.1")           // wildcard
	check("deep.foo.example.com", "example.com.", "deep.foo.example.com.=192.0.2.1") // wildcard covers several labels
	check("b.example.com", "example.com.")                                           // empty non-terminal blocks the wildcard
	check("z.b.example.com", "example.com.")                                         // closest encloser b has no wildcard
	check("*.example.com", "example.com.", "*.example.com.=192.0.2.1")               // the wildcard itself
	check("x*.example.com", "example.com.", "x*.example.com.=192.0.2.3")             // literal star
	check("private.example.com", "example.com.", "private.example.com.=192.0.2.1")   // private zones are never served
	if _, _, ok := s.Served("example.org"); ok {
		t.Fatal("served a name in no zone")
	}
	if got := s.LookupTXT("_www.example.com"); !reflect.DeepEqual(got, []string{"d111.cloudfront.net", "part1part2"}) {
		t.Fatalf("LookupTXT = %q", got)
	}
	if got, ok := s.LookupCNAME("_acm.example.com."); !ok || got != "_x.acm-validations.aws." {
		t.Fatalf("LookupCNAME = %q %v", got, ok)
	}
	if _, ok := s.LookupCNAME("www.sub.example.com"); ok {
		t.Fatal("LookupCNAME found a CNAME where there is an A")
	}
	zs := s.ServedZones()
	if len(zs) != 2 || zs[0].Name != "example.com." || zs[1].Name != "sub.example.com." {
		t.Fatalf("ServedZones = %+v", zs)
	}
}

// TestHistoryRecordsAcceptedWrites: each accepted write is in the history
// with the sets before and after; the JSON names the change id.
func TestHistoryRecordsAcceptedWrites(t *testing.T) {
	s, _ := newLab(t, Options{})
	zid := mustZone(t, s, "example.com")
	mustApply(t, s, zid, create(aRec("www.example.com", 60, "192.0.2.1")))
	cid := mustApply(t, s, zid, upsert(aRec("www.example.com", 300, "192.0.2.2")))
	h := s.env.History.List(awsapiFilter())
	var ops []string
	for _, c := range h {
		ops = append(ops, c.Operation)
	}
	if !reflect.DeepEqual(ops, []string{"CreateHostedZone", "ChangeResourceRecordSets", "ChangeResourceRecordSets"}) {
		t.Fatalf("history ops %v", ops)
	}
	last := h[2]
	if last.Resource != "/hostedzone/"+zid || last.Account != "111111111111" {
		t.Fatalf("history entry %+v", last)
	}
	var before, after historyState
	if err := json.Unmarshal(last.Before, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(last.After, &after); err != nil {
		t.Fatal(err)
	}
	if after.ChangeID != "/change/"+cid || len(before.Sets) != 1 || *before.Sets[0].TTL != 60 || len(after.Sets) != 1 || after.Sets[0].Records[0] != "192.0.2.2" {
		t.Fatalf("before %+v after %+v", before, after)
	}
}

// TestSerializeChanges: with SerializeChanges, a change on a zone whose
// previous change is PENDING gets PriorRequestNotComplete; other zones are
// not affected.
func TestSerializeChanges(t *testing.T) {
	s, clock := newLab(t, Options{SerializeChanges: true, Propagation: 5 * time.Second})
	z1 := mustZone(t, s, "one.example")
	z2 := mustZone(t, s, "two.example")
	_, err := s.ApplyChanges("", z1, []Change{create(aRec("a.one.example", 60, "192.0.2.1"))})
	wantAWSError(t, err, 400, "PriorRequestNotComplete", "The request was rejected because Route 53 was still processing a prior request.")
	clock.Advance(5 * time.Second)
	mustApply(t, s, z1, create(aRec("a.one.example", 60, "192.0.2.1")))
	mustApply(t, s, z2, create(aRec("a.two.example", 60, "192.0.2.1")))
	_, err = s.ApplyChanges("", z1, []Change{create(aRec("b.one.example", 60, "192.0.2.1"))})
	wantAWSError(t, err, 400, "PriorRequestNotComplete", "")
}

// TestHealthStatus covers SetHealthCheckStatus, Inverted, Disabled and
// CALCULATED checks.
func TestHealthStatus(t *testing.T) {
	s, _ := newLab(t, Options{})
	id := identityFor("")
	mk := func(ref string, cfg xmlHealthCheckConfig) string {
		t.Helper()
		hc, err := s.createHealthCheck(id, ref, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return hc.id
	}
	a := mk("a", xmlHealthCheckConfig{Type: "HTTPS", FullyQualifiedDomainName: "a.example.com"})
	b := mk("b", xmlHealthCheckConfig{Type: "TCP", IPAddress: "192.0.2.1", Port: i32(443), Inverted: Bool(true)})
	c := mk("c", xmlHealthCheckConfig{Type: "CALCULATED", HealthThreshold: i32(2), ChildHealthChecks: &xmlChildHealthChecks{Items: []string{a, b}}})
	if !s.HealthCheckHealthy(a) || !s.HealthCheckHealthy("unknown") {
		t.Fatal("a check is healthy until the data plane says otherwise")
	}
	if s.HealthCheckHealthy(b) {
		t.Fatal("an inverted check of a healthy endpoint is unhealthy")
	}
	if s.HealthCheckHealthy(c) {
		t.Fatal("calculated: only one of two children healthy, threshold 2")
	}
	s.SetHealthCheckStatus(b, false)
	if !s.HealthCheckHealthy(b) || !s.HealthCheckHealthy(c) {
		t.Fatal("inverted check of a failing endpoint is healthy, and so is the calculated parent")
	}
	s.SetHealthCheckStatus(a, false)
	if s.HealthCheckHealthy(a) || s.HealthCheckHealthy(c) {
		t.Fatal("a failing endpoint is unhealthy")
	}
	if _, err := s.updateHealthCheck(id, a, &updateHealthCheckRequest{Disabled: Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if !s.HealthCheckHealthy(a) {
		t.Fatal("a disabled check is healthy")
	}
	// Same reference and settings: the same check; other settings: refused.
	again, err := s.createHealthCheck(id, "a", xmlHealthCheckConfig{Type: "HTTPS", FullyQualifiedDomainName: "a.example.com"})
	if err != nil || again.id != a {
		t.Fatalf("idempotent create gave %v, %v", again, err)
	}
	_, err = s.createHealthCheck(id, "a", xmlHealthCheckConfig{Type: "HTTPS", FullyQualifiedDomainName: "other.example.com"})
	wantAWSError(t, err, 409, "HealthCheckAlreadyExists", "")
	if err := s.deleteHealthCheck(id, a); err != nil {
		t.Fatal(err)
	}
	_, err = s.createHealthCheck(id, "a", xmlHealthCheckConfig{Type: "HTTPS", FullyQualifiedDomainName: "a.example.com"})
	wantAWSError(t, err, 409, "HealthCheckAlreadyExists", "")
}

const otherAccount = "222222222222"
