package runbook

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/dns"
)

// Brake is the safety brake: limits beyond which a runbook's changes are
// refused unless the operator forces them. Like octoDNS's update
// thresholds, the share applies only to zones large enough for a share to
// mean something; NS, SOA and the apex are refused in any zone.
type Brake struct {
	// MaxShare is the largest share (0–1) of the zone's record sets the
	// runbook may touch.
	MaxShare float64 `json:"max_share"`
	// MinRecordSets is the zone size from which MaxShare applies.
	MinRecordSets int `json:"min_record_sets"`
}

// Defaults of the safety brake (octoDNS's: 30 %, zones of 10 or more).
const (
	DefaultBrakeShare      = 0.3
	DefaultBrakeMinRecords = 10
)

// BrakeCheck is what the brake found: the record sets the runbook touches
// and, when it refuses, why.
type BrakeCheck struct {
	Zone dns.ZoneInfo `json:"zone"`
	// Touched are the name/type pairs any change creates, replaces or
	// deletes, sorted.
	Touched []string `json:"touched"`
	Share   float64  `json:"share"`
	// Reasons is empty when the brake lets the runbook through.
	Reasons []string `json:"reasons,omitempty"`
}

// Engaged reports whether the brake refuses the runbook.
func (c BrakeCheck) Engaged() bool { return len(c.Reasons) > 0 }

// CheckBrake weighs the runbook's changes against the zone. It is pure: zone
// is what the provider said (Name "" and RecordSets 0 when it could not
// say, which skips the checks that need them).
func CheckBrake(rb *Runbook, zone dns.ZoneInfo, b Brake) BrakeCheck {
	c := BrakeCheck{Zone: zone}
	touched := map[string]bool{}
	apex := ""
	if zone.Name != "" {
		apex = dns.Fqdn(zone.Name)
	}
	var sensitive, atApex []string
	for _, s := range rb.Steps {
		if s.Change == nil {
			continue
		}
		for _, ch := range s.Change.Set.Changes {
			for _, r := range []*dns.RecordSet{ch.Old, ch.New} {
				if r == nil {
					continue
				}
				key := dns.Fqdn(r.Name) + " " + r.Type
				if touched[key] {
					continue
				}
				touched[key] = true
				if r.Type == "NS" || r.Type == "SOA" {
					sensitive = append(sensitive, key)
				}
				if apex != "" && dns.Fqdn(r.Name) == apex {
					atApex = append(atApex, key)
				}
			}
		}
	}
	for k := range touched {
		c.Touched = append(c.Touched, k)
	}
	sort.Strings(c.Touched)
	sort.Strings(sensitive)
	sort.Strings(atApex)
	if len(sensitive) > 0 {
		c.Reasons = append(c.Reasons, fmt.Sprintf("changes the zone's delegation records (%s)", strings.Join(sensitive, ", ")))
	}
	if len(atApex) > 0 {
		c.Reasons = append(c.Reasons, fmt.Sprintf("changes the zone apex %s (%s)", strings.TrimSuffix(apex, "."), strings.Join(atApex, ", ")))
	}
	if zone.RecordSets > 0 {
		c.Share = float64(len(c.Touched)) / float64(zone.RecordSets)
		if zone.RecordSets >= b.MinRecordSets && c.Share > b.MaxShare {
			c.Reasons = append(c.Reasons, fmt.Sprintf("touches %d of the zone's %d record sets (%.0f%%), more than the brake's %.0f%%", len(c.Touched), zone.RecordSets, 100*c.Share, 100*b.MaxShare))
		}
	}
	return c
}
