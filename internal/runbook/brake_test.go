package runbook

import (
	"strings"
	"testing"

	"github.com/cutover/cutover/internal/dns"
)

func changeStep(sets ...dns.RecordSet) Step {
	var cs dns.ChangeSet
	for i := range sets {
		cs.Changes = append(cs.Changes, dns.Change{New: &sets[i]})
	}
	return Step{ID: "c", Change: &Change{Set: cs}}
}

func TestBrake(t *testing.T) {
	a := dns.RecordSet{Name: "api.example.com.", Type: "A"}
	aaaa := dns.RecordSet{Name: "api.example.com.", Type: "AAAA"}
	a2 := a
	a2.SetIdentifier = "cutover-to" // a weighted leg: the same name and type
	def := Brake{MaxShare: DefaultBrakeShare, MinRecordSets: DefaultBrakeMinRecords}
	for _, tc := range []struct {
		name  string
		rb    *Runbook
		zone  dns.ZoneInfo
		brake Brake
		want  string // "" when the brake lets it through
	}{
		{"small share", &Runbook{Steps: []Step{changeStep(a, a2)}}, dns.ZoneInfo{Name: "example.com.", RecordSets: 20}, def, ""},
		{"40 percent of a zone", &Runbook{Steps: []Step{changeStep(a, aaaa)}}, dns.ZoneInfo{Name: "example.com.", RecordSets: 5}, Brake{MaxShare: 0.3, MinRecordSets: 5}, "touches 2 of the zone's 5 record sets (40%)"},
		{"small zone below the minimum", &Runbook{Steps: []Step{changeStep(a, aaaa)}}, dns.ZoneInfo{Name: "example.com.", RecordSets: 5}, def, ""},
		{"apex", &Runbook{Steps: []Step{changeStep(dns.RecordSet{Name: "example.com.", Type: "A"})}}, dns.ZoneInfo{Name: "example.com.", RecordSets: 50}, def, "changes the zone apex example.com"},
		{"NS", &Runbook{Steps: []Step{changeStep(dns.RecordSet{Name: "sub.example.com.", Type: "NS"})}}, dns.ZoneInfo{Name: "example.com.", RecordSets: 50}, def, "delegation records (sub.example.com. NS)"},
		{"unknown zone", &Runbook{Steps: []Step{changeStep(a, aaaa)}}, dns.ZoneInfo{}, def, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CheckBrake(tc.rb, tc.zone, tc.brake)
			if tc.want == "" {
				if c.Engaged() {
					t.Fatalf("brake engaged: %v", c.Reasons)
				}
				return
			}
			if !c.Engaged() || !strings.Contains(strings.Join(c.Reasons, "; "), tc.want) {
				t.Fatalf("reasons %q, want one containing %q", c.Reasons, tc.want)
			}
		})
	}
}
