package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// bulk runs the checks of a plan with many hostnames: the edges once (for
// the first hostname: one certificate must cover the set, and the
// distribution's aliases were checked for every hostname when the plan
// compiled), then every zone the hostnames are in, and the longest TTL
// among them. The per-name checks (ownership records, the marker) are not
// repeated per hostname: they are reported as not checked.
func (c *checker) bulk(ctx context.Context) {
	hosts := c.in.Hosts
	p := *c.in.Plan
	p.Hostname = strings.TrimSuffix(hosts[0].Name, ".")
	c.in.Plan = &p
	c.host = dns.Fqdn(hosts[0].Name)
	c.edge(ctx)
	c.bulkZones(ctx)
	var ttl int64
	var longest string
	for _, h := range hosts {
		for _, r := range h.Original {
			t := r.TTL
			if r.Alias != nil {
				t = 60
			}
			if t > ttl {
				ttl, longest = t, r.String()
			}
		}
	}
	wait := max(time.Duration(ttl)*time.Second, c.in.Plan.TTL.Prepare.Std())
	status := Pass
	detail := fmt.Sprintf("TTL prep waits %s after Route 53 reports INSYNC, for every hostname (the longest old TTL, %ds, or ttl.prepare)", wait, ttl)
	if wait > time.Hour {
		status = Warn
		detail += "; lower the TTLs well ahead so the window does not carry it"
	}
	c.add(CheckTTL, status, fmt.Sprintf("%d hostnames read by zone listings; longest: %s", len(hosts), longest), detail)
	c.add(CheckRecordOwner, Warn, "not checked per hostname in a bulk plan", "check that no controller (external-dns) owns these records before the run")
	c.add(CheckMarker, Warn, "not checked per hostname in a bulk plan", "the run's verify step samples the hostnames")
}

// bulkZones checks that every zone the hostnames are in is in the account
// and contains its hostnames.
func (c *checker) bulkZones(ctx context.Context) {
	if c.w.Zones == nil {
		c.add(CheckZoneContains, Warn, "no Route 53 reader", "zones not checked")
		return
	}
	zones, err := c.w.Zones.HostedZones(ctx)
	if err != nil {
		c.add(CheckZoneContains, Fail, "route53 ListHostedZones: "+err.Error(), "")
		return
	}
	byID := map[string]HostedZone{}
	for _, z := range zones {
		byID[strings.ToUpper(z.ID)] = z
	}
	count := map[string]int{}
	var missing, outside []string
	for _, h := range c.in.Hosts {
		count[h.Zone]++
		z, ok := byID[strings.ToUpper(h.Zone)]
		if !ok {
			if count[h.Zone] == 1 {
				missing = append(missing, h.Zone)
			}
			continue
		}
		if !inZone(dns.Fqdn(h.Name), z.Name) {
			outside = append(outside, strings.TrimSuffix(h.Name, ".")+" (zone "+z.Name+")")
		}
	}
	ids := make([]string, 0, len(count))
	for id := range count {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ev := fmt.Sprintf("route53 ListHostedZones: %d zones hold the %d hostnames: %s", len(ids), len(c.in.Hosts), strings.Join(ids, ", "))
	switch {
	case len(missing) > 0:
		c.add(CheckZoneContains, Fail, ev, "not in this account: "+strings.Join(missing, ", "))
	case len(outside) > 0:
		c.add(CheckZoneContains, Fail, ev, fmt.Sprintf("%d hostnames are not inside their zone: %s", len(outside), strings.Join(first(outside, 5), ", ")))
	default:
		c.add(CheckZoneContains, Pass, ev, "")
	}
}

func first(xs []string, n int) []string {
	if len(xs) > n {
		return append(xs[:n:n], fmt.Sprintf("%d more", len(xs)-n))
	}
	return xs
}
