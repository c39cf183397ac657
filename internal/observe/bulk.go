package observe

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dns/route53"
	"github.com/cutover/cutover/internal/fanout"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// ZoneLister lists every record set of a zone, following pagination. A
// bulk plan reads each of its zones once this way (Route 53: one
// ListResourceRecordSets per 300 record sets), never once per hostname:
// 10,000 hostnames at 5 requests per second would take 33 minutes.
type ZoneLister interface {
	AllRecords(ctx context.Context, zone string) ([]dns.RecordSet, error)
}

var _ ZoneLister = (*route53.Provider)(nil)

// zoneReaders bounds how many zones are listed at once; the provider's
// rate limiter, shared by the account, decides how fast.
const zoneReaders = 4

// maxListed bounds the hostnames an error lists.
const maxListed = 10

// observeBulk reads the zones of a bulk plan, each once, and selects its
// hostnames: a listed name must have A, AAAA or CNAME records, a glob
// selects every such name of its zone that matches. Each selected host
// carries every record set at its name.
func observeBulk(ctx context.Context, p *plan.Plan, prov dns.Provider) ([]runbook.ObservedHost, map[string]int, error) {
	lister, ok := prov.(ZoneLister)
	if !ok {
		return nil, nil, fmt.Errorf("zone provider %T cannot list a whole zone: a plan with hostnames needs route53", prov)
	}
	sels := p.Selections()
	var zones []string
	index := map[string]int{}
	for _, s := range sels {
		if _, ok := index[s.Zone]; !ok {
			index[s.Zone] = len(zones)
			zones = append(zones, s.Zone)
		}
	}
	listed, err := listZones(ctx, lister, zones)
	if err != nil {
		return nil, nil, err
	}
	type pick struct {
		host runbook.ObservedHost
		by   string
	}
	var (
		picked  []pick
		at      = map[string]int{} // FQDN → index in picked
		missing []string
		dups    []string
	)
	add := func(zone, fq string, z *zoneRecords, by string) {
		if i, dup := at[fq]; dup {
			dups = append(dups, fmt.Sprintf("%s (by %s and by %s)", strings.TrimSuffix(fq, "."), picked[i].by, by))
			return
		}
		at[fq] = len(picked)
		picked = append(picked, pick{host: runbook.ObservedHost{Name: fq, Zone: zone, Records: z.byName[fq]}, by: by})
	}
	for _, s := range sels {
		z := listed[index[s.Zone]]
		if s.Match != "" {
			by := fmt.Sprintf("match %s in zone %s", s.Match, s.Zone)
			n := 0
			for _, fq := range z.addressed {
				if plan.MatchHost(s.Match, fq) {
					add(s.Zone, fq, z, by)
					n++
				}
			}
			if n == 0 {
				return nil, nil, fmt.Errorf("hostnames: match %s selects no name with A, AAAA or CNAME records in zone %s (%d record sets)", s.Match, s.Zone, z.count)
			}
			continue
		}
		by := "the names of zone " + s.Zone
		for _, name := range s.Names {
			fq := dns.Fqdn(strings.ToLower(name))
			if !z.hasAddress[fq] {
				missing = append(missing, fmt.Sprintf("%s (zone %s)", strings.TrimSuffix(fq, "."), s.Zone))
				continue
			}
			add(s.Zone, fq, z, by)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("hostnames: %d listed hostnames have no A, AAAA or CNAME record in their zone: %s", len(missing), listSome(missing))
	}
	if len(dups) > 0 {
		return nil, nil, fmt.Errorf("hostnames: %d hostnames are selected twice: %s", len(dups), listSome(dups))
	}
	hosts := make([]runbook.ObservedHost, len(picked))
	for i, pk := range picked {
		hosts[i] = pk.host
	}
	sizes := make(map[string]int, len(zones))
	for i, z := range zones {
		sizes[z] = listed[i].count
	}
	return hosts, sizes, nil
}

// zoneRecords is one zone as a bulk plan needs it: the record sets at each
// name, and the names holding A, AAAA or CNAME records, sorted.
type zoneRecords struct {
	byName     map[string][]dns.RecordSet
	hasAddress map[string]bool
	addressed  []string
	count      int
}

// listZones lists each zone once, a few at a time, keeping their order.
func listZones(ctx context.Context, lister ZoneLister, zones []string) ([]*zoneRecords, error) {
	out := make([]*zoneRecords, len(zones))
	errs := make([]error, len(zones))
	fanout.Each(len(zones), zoneReaders, func(i int) {
		recs, err := lister.AllRecords(ctx, zones[i])
		if err != nil {
			errs[i] = fmt.Errorf("reading zone %s: %w", zones[i], err)
			return
		}
		out[i] = indexZone(recs)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func indexZone(recs []dns.RecordSet) *zoneRecords {
	z := &zoneRecords{byName: map[string][]dns.RecordSet{}, hasAddress: map[string]bool{}, count: len(recs)}
	for _, r := range recs {
		fq := dns.Fqdn(strings.ToLower(r.Name))
		z.byName[fq] = append(z.byName[fq], r)
		switch r.Type {
		case "A", "AAAA", "CNAME":
			if !z.hasAddress[fq] {
				z.hasAddress[fq] = true
				z.addressed = append(z.addressed, fq)
			}
		}
	}
	sort.Strings(z.addressed)
	return z
}

// listSome joins the first maxListed items and says how many more there are.
func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:maxListed], ", "), len(items)-maxListed)
}

// checkBulkCloudFront reads the plan's distributions once, never once per
// hostname: the to distribution, when CloudFront, must already carry every
// hostname as an alternate domain name (or a wildcard covering it), since
// CloudFront routes by Host and would refuse the others.
func checkBulkCloudFront(ctx context.Context, p *plan.Plan, d Deps, obs *runbook.Observed) error {
	if obs.To.Kind != runbook.TargetCloudFront {
		return nil
	}
	cf, err := d.CDN(ctx, CDNRole(p))
	if err != nil {
		return err
	}
	dist, err := cf.Distribution(ctx, obs.To.ID)
	if err != nil {
		return fmt.Errorf("reading distribution %s: %w", obs.To.ID, err)
	}
	obs.ToAliases = dist.Aliases
	obs.ToAccount = arnAccount(dist.ARN)
	var lacking []string
	for _, h := range obs.Hosts {
		if !coveredBy(dist.Aliases, h.Name) {
			lacking = append(lacking, strings.TrimSuffix(h.Name, "."))
		}
	}
	if len(lacking) > 0 {
		return fmt.Errorf("distribution %s does not carry %d of the hostnames as alternate domain names, so it would refuse their traffic (CloudFront routes by Host): %s; add them to it first",
			obs.To.ID, len(lacking), listSome(lacking))
	}
	// Every hostname is on the to distribution: it holds them all.
	obs.Holder = runbook.Holder{Distribution: dist.ID, Account: obs.ToAccount}
	return nil
}

// coveredBy reports whether an alias of the list answers for name: equal,
// or a wildcard alias (*.example.com) one label above it.
func coveredBy(aliases []string, name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	_, parent, _ := strings.Cut(name, ".")
	for _, a := range aliases {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if a == name || (parent != "" && a == "*."+parent) {
			return true
		}
	}
	return false
}
