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

// CheckBulkBrake weighs a bulk runbook against each of its zones (sizes:
// record sets per zone, as listed): it refuses when the hostnames it moves
// are more than MaxShare of a zone large enough. A bulk plan is big by
// design; the brake asks that it be meant (brake.max_share: 1, or
// --force), so that a glob matching more of a zone than intended stops
// before anything changes.
func CheckBulkBrake(rb *Runbook, sizes map[string]int, b Brake) BrakeCheck {
	var c BrakeCheck
	perZone := map[string]int{}
	var zones []string
	for _, h := range rb.Bulk.Hosts {
		if perZone[h.Zone] == 0 {
			zones = append(zones, h.Zone)
		}
		for _, r := range h.Original {
			c.Touched = append(c.Touched, dns.Fqdn(r.Name)+" "+r.Type)
			perZone[h.Zone]++
		}
	}
	sort.Strings(c.Touched)
	for _, z := range zones {
		size := sizes[z]
		if size == 0 {
			continue
		}
		share := float64(perZone[z]) / float64(size)
		c.Share = max(c.Share, share)
		if size >= b.MinRecordSets && share > b.MaxShare {
			c.Reasons = append(c.Reasons, fmt.Sprintf("touches %d of zone %s's %d record sets (%.0f%%), more than the brake's %.0f%%", perZone[z], z, size, 100*share, 100*b.MaxShare))
		}
	}
	if len(c.Reasons) > 3 {
		c.Reasons = append(c.Reasons[:3], fmt.Sprintf("and %d more zones", len(c.Reasons)-3))
	}
	return c
}
