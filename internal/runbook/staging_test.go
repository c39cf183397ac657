package runbook

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

var cfPrimary = Target{Kind: TargetCloudFront, ID: "E2QWRUHAPOMQZL", DNSName: "d111111abcdef8.cloudfront.net", AliasZoneID: "Z2FDTNDATAQYW2"}

func stagingRecords() []dns.RecordSet {
	return []dns.RecordSet{{Name: "www.example.com.", Type: "A", Alias: &dns.AliasTarget{ZoneID: "Z2FDTNDATAQYW2", DNSName: "d111111abcdef8.cloudfront.net."}}}
}

// stepText renders every step with its action's details, including the
// CloudFront steps, one line each.
func stepText(rb *Runbook) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "%s %s %s\n", rb.Name, rb.Strategy, rb.Hostname)
	for i, s := range rb.Steps {
		detail := ""
		switch {
		case s.Staging != nil:
			st := s.Staging
			detail = fmt.Sprintf("op=%s primary=%s", st.Op, st.Primary)
			if st.Weight != 0 {
				detail += fmt.Sprintf(" weight=%g", st.Weight)
			}
			if st.Header != "" {
				detail += fmt.Sprintf(" header=%s:%s", st.Header, st.HeaderValue)
			}
			if st.Idle != 0 || st.Max != 0 {
				detail += fmt.Sprintf(" sticky=%s/%s", st.Idle.D(), st.Max.D())
			}
		case s.Deployed != nil:
			detail = fmt.Sprintf("%s timeout=%s settle=%s", strings.Join(s.Deployed.Distributions, ","), s.Deployed.Timeout.D(), s.Deployed.Settle.D())
		case s.Observe != nil:
			detail = fmt.Sprintf("%s gates=%s", s.Observe.Duration.D(), strings.Join(s.Observe.Gates, ","))
			if w := s.Observe.Weights; w != nil {
				detail += fmt.Sprintf(" split=%d/%d", w.Old, w.New)
			}
		case s.Hold != nil:
			detail = fmt.Sprintf("%s gates=%s", s.Hold.Duration.D(), strings.Join(s.Hold.Gates, ","))
		case s.Verify != nil:
			detail = "expect=" + s.Verify.Expect
		case s.Change != nil:
			detail = s.Change.Set.Comment
		}
		fmt.Fprintf(&buf, "%2d. %-11s %-9s %s\n    %s\n", i+1, s.ID, s.Kind(), s.Title, detail)
	}
	for _, n := range rb.Notes {
		fmt.Fprintf(&buf, "note: %s\n", n)
	}
	return buf.Bytes()
}

func TestCompileStagingGolden(t *testing.T) {
	spec := loadExample(t, "staging.yaml")
	if spec.Staging == nil || spec.Staging.Header != "aws-cf-cd-test" || len(spec.Staging.Steps) != 2 || spec.Staging.Idle != 5*time.Minute {
		t.Fatalf("staging spec from the example plan: %+v", spec.Staging)
	}
	obs := Observed{Records: stagingRecords(), From: cfPrimary, To: cfPrimary}
	rb, err := Compile(spec, obs)
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "staging", stepText(rb))
	// No step touches DNS: the distribution splits traffic itself.
	if cs := rb.Changes(); len(cs) != 0 {
		t.Fatalf("staging runbook changes DNS: %+v", cs)
	}
	var ops []string
	for _, s := range rb.Steps {
		if s.Staging != nil {
			ops = append(ops, s.Staging.Op)
		}
	}
	if got := strings.Join(ops, ","); got != "copy,policy,traffic,traffic,promote" {
		t.Fatalf("staging ops %s", got)
	}
	rb2, _ := Compile(spec, obs)
	if !bytes.Equal(stepText(rb), stepText(rb2)) {
		t.Fatal("compile is not deterministic")
	}
}

func TestCompileStagingWeightOnlyStartsWithFirstWeight(t *testing.T) {
	spec := Spec{Name: "cfg", Hostname: "www.example.com", Zone: "Z1", Strategy: "staging", CutoverTTL: 60,
		Staging: &StagingSpec{Steps: []StagingStep{{Weight: 0.1, Pause: time.Minute}}}}
	rb, err := Compile(spec, Observed{Records: stagingRecords(), From: cfPrimary, To: cfPrimary})
	if err != nil {
		t.Fatal(err)
	}
	var pol *Staging
	for _, s := range rb.Steps {
		if s.Staging != nil && s.Staging.Op == StagingPolicy {
			pol = s.Staging
		}
		if s.Staging != nil && s.Staging.Op == StagingTraffic {
			t.Fatalf("a single weight needs no traffic step: %+v", s)
		}
	}
	if pol == nil || pol.Weight != 0.1 || pol.Header != "" {
		t.Fatalf("policy step %+v", pol)
	}
}

func TestCompileStagingRefusesWhatCloudFrontRefuses(t *testing.T) {
	other := cfPrimary
	other.ID = "EOTHER"
	cases := []struct {
		name     string
		staging  *StagingSpec
		from, to Target
		want     string
	}{
		{"weight above 15%", &StagingSpec{Steps: []StagingStep{{Weight: 0.05}, {Weight: 0.2}}}, cfPrimary, cfPrimary, "at most 0.15"},
		{"weight in percent", &StagingSpec{Steps: []StagingStep{{Weight: 15}}}, cfPrimary, cfPrimary, "at most 0.15"},
		{"zero weight", &StagingSpec{Steps: []StagingStep{{Weight: 0}}}, cfPrimary, cfPrimary, "greater than 0"},
		{"decreasing", &StagingSpec{Steps: []StagingStep{{Weight: 0.1}, {Weight: 0.05}}}, cfPrimary, cfPrimary, "greater than the step before"},
		{"header prefix", &StagingSpec{Header: "x-canary", HeaderValue: "1"}, cfPrimary, cfPrimary, "aws-cf-cd-"},
		{"stickiness range", &StagingSpec{Steps: []StagingStep{{Weight: 0.1}}, Idle: time.Minute, Max: time.Hour}, cfPrimary, cfPrimary, "between"},
		{"nothing to do", &StagingSpec{}, cfPrimary, cfPrimary, "at least one weight step"},
		{"two distributions", nil, cfPrimary, other, "same distribution"},
		{"not cloudfront", nil, Target{Kind: TargetALB, ID: "lb", DNSName: "d111111abcdef8.cloudfront.net"}, Target{Kind: TargetALB, ID: "lb"}, "same distribution"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := Spec{Name: "cfg", Hostname: "www.example.com", Zone: "Z1", Strategy: "staging", CutoverTTL: 60, Staging: c.staging}
			_, err := Compile(spec, Observed{Records: stagingRecords(), From: c.from, To: c.to})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestUnwindStagingAbortsUntilPromoted(t *testing.T) {
	spec := loadExample(t, "staging.yaml")
	rb, err := Compile(spec, Observed{Records: stagingRecords(), From: cfPrimary, To: cfPrimary})
	if err != nil {
		t.Fatal(err)
	}
	index := func(op string) int {
		for i, s := range rb.Steps {
			if s.Staging != nil && s.Staging.Op == op {
				return i
			}
		}
		t.Fatalf("no %s step", op)
		return -1
	}
	aborts := func(steps []Step) int {
		n := 0
		for _, s := range steps {
			if s.Staging != nil {
				if s.Staging.Op != StagingAbort || s.Staging.Primary != cfPrimary.ID {
					t.Fatalf("rollback runs staging op %+v", s.Staging)
				}
				n++
			}
			if s.Change != nil {
				t.Fatalf("rollback changes DNS that the run never changed: %+v", s.Change)
			}
		}
		return n
	}
	live := stagingRecords()
	if n := aborts(Unwind(rb, 0, live, false)); n != 0 {
		t.Fatalf("nothing done, yet %d aborts", n)
	}
	for _, done := range []int{index(StagingCopy) + 1, index(StagingPolicy) + 1, index(StagingTraffic) + 2, index(StagingPromote)} {
		if n := aborts(Unwind(rb, done, live, false)); n != 1 {
			t.Fatalf("done=%d: %d aborts, want exactly 1", done, n)
		}
	}
	for _, done := range []int{index(StagingPromote) + 1, len(rb.Steps)} {
		if n := aborts(Unwind(rb, done, live, false)); n != 0 {
			t.Fatalf("done=%d (after promote): %d aborts, want none", done, n)
		}
	}
}

func TestUnwindStagingLeavesCNAMEAlone(t *testing.T) {
	recs := []dns.RecordSet{{Name: "www.example.com.", Type: "CNAME", TTL: 300, Values: []string{"d111111abcdef8.cloudfront.net."}}}
	cname := cfPrimary
	cname.AliasZoneID = ""
	spec := Spec{Name: "cfg", Hostname: "www.example.com", Zone: "Z1", Strategy: "staging", CutoverTTL: 60,
		Staging: &StagingSpec{Steps: []StagingStep{{Weight: 0.1, Pause: time.Minute}}}}
	rb, err := Compile(spec, Observed{Records: recs, From: cname, To: cname})
	if err != nil {
		t.Fatal(err)
	}
	if len(rb.Changes()) != 0 {
		t.Fatalf("staging with a CNAME changes DNS: %+v", rb.Changes())
	}
	steps := Unwind(rb, 3, recs, false)
	if len(steps) != 1 || steps[0].Staging == nil || steps[0].Staging.Op != StagingAbort {
		t.Fatalf("rollback %+v, want one abort and no record change (not even the TTL)", steps)
	}
}
