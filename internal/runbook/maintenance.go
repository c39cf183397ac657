package runbook

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// Maintenance modes: how the maintenance strategy puts the page in front
// of the hostname.
const (
	// MaintenanceWeight turns the records into a weighted group (or keeps
	// the one there) where every live set gets weight 0 and the page gets
	// MaintenancePageWeight: the page answers as soon as the change is
	// live (seed 002's "extreme weight on the maintenance record set").
	MaintenanceWeight = "weight"
	// MaintenanceFailover makes the live record the PRIMARY of a failover
	// pair with the plan's health check and the page the SECONDARY: the
	// page answers while that health check fails (the backend is down for
	// the maintenance, or the check is inverted).
	MaintenanceFailover = "failover"
)

// MaintenancePageWeight is the page's weight in weight mode: Route 53's
// maximum, against 0 for every live set.
const MaintenancePageWeight = 255

// Set identifiers of the maintenance strategy.
const (
	// SetLive names the live record once it joins a routing group.
	SetLive = "cutover-live"
	// SetPage names the maintenance page's record set.
	SetPage = "cutover-maintenance"
)

// StrategyMaintenanceOff is the strategy of the run that ends a
// maintenance: it restores the records the maintenance run found.
const StrategyMaintenanceOff = "maintenance-off"

// MaintenanceSpec configures the maintenance strategy.
type MaintenanceSpec struct {
	// Mode is MaintenanceWeight or MaintenanceFailover.
	Mode string
	// HealthCheck is the Route 53 health check id of the PRIMARY in
	// failover mode.
	HealthCheck string
	// Invert inverts HealthCheck once the failover pair is live, so the
	// page answers at once (failover mode); off puts the flag back.
	Invert bool
}

// prepareMaintenance takes every A, AAAA or CNAME set at the hostname as
// it is (simple or weighted; From, when the plan names it, must be what
// they point at), so that switching the maintenance off can restore them
// byte for byte.
func (b *builder) prepareMaintenance() error {
	for _, r := range b.obs.Records {
		if dns.Fqdn(r.Name) == b.host && managed(r) {
			r.Name = b.host
			b.original = append(b.original, r)
		}
	}
	sort.Slice(b.original, func(i, j int) bool { return b.original[i].Key() < b.original[j].Key() })
	if len(b.original) == 0 {
		return fmt.Errorf("no A, AAAA or CNAME record at %s in zone %s: nothing serves it, so there is nothing to put a maintenance page in front of", b.host, b.spec.Zone)
	}
	from := ""
	if b.obs.From.DNSName != "" {
		from = dns.Fqdn(b.obs.From.DNSName)
	}
	for _, r := range b.original {
		switch {
		case r.Failover != "":
			return fmt.Errorf("%s already has failover records (set %q): switch the maintenance off (or remove the failover pair) first", b.host, r.SetIdentifier)
		case r.SetIdentifier == SetPage:
			return fmt.Errorf("%s already has the maintenance page record (set %q): the maintenance is on; switch it off first", b.host, r.SetIdentifier)
		case r.SetIdentifier != "" && r.Weight == nil:
			return fmt.Errorf("%s has %s records with a routing policy cutover does not manage (set %q); maintenance works on simple or weighted records", b.host, r.Type, r.SetIdentifier)
		case from != "" && r.SetIdentifier == "" && pointsAt(r) != from:
			return fmt.Errorf("%s %s points at %s, not at the plan's from edge %s (%s)", b.host, r.Type, strings.TrimSuffix(pointsAt(r), "."), strings.TrimSuffix(from, "."), b.obs.From.ID)
		}
	}
	b.live = cloneSets(b.original)
	for _, r := range b.original {
		if r.Alias != nil {
			b.oldTTL = max(b.oldTTL, b.aliasTTL())
		} else {
			b.oldTTL = max(b.oldTTL, r.TTL)
		}
	}
	return nil
}

// compileMaintenance puts the page (the plan's to edge) in front of the
// hostname: one compare-and-swap change, propagation, the longest TTL a
// resolver may hold, then verification that the page answers.
func compileMaintenance(b *builder) error {
	m := b.spec.Maintenance
	if m == nil {
		m = &MaintenanceSpec{}
	}
	mode := m.Mode
	if mode == "" {
		mode = MaintenanceWeight
	}
	if err := b.checkMaintenancePage(); err != nil {
		return err
	}
	var want []dns.RecordSet
	var err error
	switch mode {
	case MaintenanceWeight:
		want, err = b.maintenanceWeighted()
	case MaintenanceFailover:
		want, err = b.maintenanceFailover(m.HealthCheck)
	default:
		err = fmt.Errorf("maintenance mode %q: want %s or %s", mode, MaintenanceWeight, MaintenanceFailover)
	}
	if err != nil {
		return err
	}
	title := fmt.Sprintf("put the maintenance page %s in front of %s (%s)", b.obs.To.ID, b.hostNoDot(), mode)
	if mode == MaintenanceFailover && m.Invert {
		// The pair goes live first with the primary still healthy:
		// nothing changes for clients until the check is inverted.
		b.change(strings.Replace(title, "put", "arm", 1), want, nil)
		b.add(Step{Title: fmt.Sprintf("invert health check %s: the primary fails, the page answers", m.HealthCheck), HealthCheck: &HealthCheck{ID: m.HealthCheck, Inverted: true}})
		b.note("Route 53 acts on an inverted check once its checkers report (request interval × failure threshold); the verify step waits for it")
	} else {
		b.change(title, want, &Weights{Old: 0, New: 100})
	}
	wait := time.Duration(b.oldTTL) * time.Second
	b.add(Step{Title: "wait out the TTL resolvers may hold", Wait: &Wait{Duration: Duration(wait), Reason: fmt.Sprintf("TTL %ds: resolvers may keep sending clients to the live edge that long", b.oldTTL)}})
	if v := b.spec.Verify; v != nil {
		b.add(Step{Title: "verify the maintenance page answers", Verify: &Verify{Expect: "new", Path: v.Path, Samples: v.Samples}})
	}
	switch {
	case m.Invert && mode != MaintenanceFailover:
		return errors.New("inverting the health check goes with maintenance mode failover")
	case mode == MaintenanceFailover && !m.Invert:
		b.note("failover: the page answers only while health check %s fails; while it passes the live edge keeps serving", m.HealthCheck)
	}
	b.note("the records found are kept in the run: `cutover maintenance off` restores them byte for byte")
	return nil
}

// checkMaintenancePage refuses a page Route 53 cannot put next to the live
// records.
func (b *builder) checkMaintenancePage() error {
	page := b.obs.To
	if page.DNSName == "" {
		return errors.New("maintenance needs a page edge (the plan's to)")
	}
	for _, r := range b.original {
		if r.Type == "CNAME" {
			continue
		}
		if page.AliasZoneID == "" {
			return fmt.Errorf("%s is an %s record, and the page %s (%s) cannot be an alias target: give a cloudfront or alb page, or make %s a CNAME", b.host, r.Type, page.ID, page.Kind, b.hostNoDot())
		}
		if page.Kind == TargetCloudFront && r.Alias != nil && r.Alias.ZoneID == page.AliasZoneID {
			return fmt.Errorf("%s is served by a CloudFront distribution and the page %s is one too: the alternate domain name lives on one distribution only and CloudFront routes by Host, not by DNS, so the page could never answer; host the page on a load balancer or an S3 website behind an endpoint", b.hostNoDot(), page.ID)
		}
	}
	return b.checkCloudFrontTarget()
}

// pageRecord is the page's record set of type typ.
func (b *builder) pageRecord(typ string, ttl int64) dns.RecordSet {
	page := b.obs.To
	r := dns.RecordSet{Name: b.host, Type: typ, SetIdentifier: SetPage}
	if typ != "CNAME" {
		// CloudFront aliases must not evaluate target health; a load
		// balancer page may.
		r.Alias = &dns.AliasTarget{ZoneID: page.AliasZoneID, DNSName: dns.Fqdn(page.DNSName), EvaluateTargetHealth: page.Kind == TargetALB}
		return r
	}
	r.TTL = ttl
	r.Values = []string{dns.Fqdn(page.DNSName)}
	return r
}

func (b *builder) maintenanceWeighted() ([]dns.RecordSet, error) {
	var want []dns.RecordSet
	ttls := map[string]int64{}
	for _, r := range cloneSets(b.original) {
		if r.SetIdentifier == "" {
			r.SetIdentifier = SetLive
		}
		zero := int64(0)
		r.Weight = &zero
		want = append(want, r)
		if r.Alias == nil {
			// Every set of a weighted group carries the same TTL.
			ttls[r.Type] = r.TTL
		}
	}
	for _, typ := range typesOf(b.original) {
		ttl, ok := ttls[typ]
		if !ok {
			ttl = b.spec.CutoverTTL
		}
		w := int64(MaintenancePageWeight)
		p := b.pageRecord(typ, ttl)
		p.Weight = &w
		want = append(want, p)
	}
	return want, nil
}

func (b *builder) maintenanceFailover(healthCheck string) ([]dns.RecordSet, error) {
	if healthCheck == "" {
		return nil, errors.New("maintenance mode failover needs the health check of the primary (maintenance.health_check)")
	}
	var want []dns.RecordSet
	for _, r := range cloneSets(b.original) {
		if r.SetIdentifier != "" {
			return nil, fmt.Errorf("%s has weighted records (set %q): failover cannot join a weighted group; use maintenance mode weight", b.host, r.SetIdentifier)
		}
		r.SetIdentifier, r.Failover, r.HealthCheckID = SetLive, "PRIMARY", healthCheck
		want = append(want, r)
	}
	for _, typ := range typesOf(b.original) {
		p := b.pageRecord(typ, b.spec.CutoverTTL)
		p.Failover = "SECONDARY"
		want = append(want, p)
	}
	return want, nil
}

// Side names the side a verify step expects, for messages: "new" or
// "old" edge, and for the maintenance strategies the maintenance page
// (new) or the live edge (old).
func (rb *Runbook) Side(expect string) string {
	if rb.Strategy == "maintenance" || rb.Strategy == StrategyMaintenanceOff {
		if expect == "new" {
			return "maintenance page"
		}
		return "live edge"
	}
	return expect + " edge"
}

// typesOf lists the record types of sets, sorted, once each.
func typesOf(sets []dns.RecordSet) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range sets {
		if !seen[r.Type] {
			seen[r.Type] = true
			out = append(out, r.Type)
		}
	}
	sort.Strings(out)
	return out
}

// EndState is what the zone holds at the hostname once every change step
// of the runbook has been applied, starting from its Original.
func (rb *Runbook) EndState() []dns.RecordSet {
	live := cloneSets(rb.Original)
	for _, s := range rb.Steps {
		if s.Change == nil {
			continue
		}
		byKey := map[string]dns.RecordSet{}
		for _, r := range live {
			byKey[r.Key()] = r
		}
		for _, c := range s.Change.Set.Changes {
			if c.Old != nil {
				delete(byKey, c.Old.Key())
			}
			if c.New != nil {
				byKey[c.New.Key()] = *c.New
			}
		}
		live = live[:0:0]
		for _, r := range byKey {
			live = append(live, r)
		}
		sort.Slice(live, func(i, j int) bool { return live[i].Key() < live[j].Key() })
	}
	return cloneSets(live)
}

// ErrMaintenanceChanged is returned by CompileMaintenanceOff when the zone
// no longer holds what the maintenance run left.
var ErrMaintenanceChanged = errors.New("records changed during the maintenance")

// CompileMaintenanceOff compiles the run that ends the maintenance run on:
// one compare-and-swap change from what the zone holds now (current, which
// must be what on left) back to on's Original, byte for byte, then
// propagation, the page's TTL, and, when on verified the page, a
// verification that the live edge answers again. It is pure.
func CompileMaintenanceOff(name string, on *Runbook, current []dns.RecordSet) (*Runbook, error) {
	if on.Strategy != "maintenance" {
		return nil, fmt.Errorf("compiling %s: run %s is a %s run, not a maintenance", name, on.Name, on.Strategy)
	}
	var live []dns.RecordSet
	for _, r := range current {
		if dns.Fqdn(r.Name) == on.Hostname && managed(r) {
			r.Name = on.Hostname
			live = append(live, r)
		}
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Key() < live[j].Key() })
	if end := on.EndState(); !sameRecordSets(live, end) {
		ce := &dns.ConflictError{Zone: on.Zone, Expected: end, Actual: live}
		return nil, fmt.Errorf("compiling %s: %w since run %s: %v", name, ErrMaintenanceChanged, on.Name, ce)
	}
	b := &builder{spec: Spec{Name: name, Zone: on.Zone, CutoverTTL: on.CutoverTTL, AliasTTL: on.AliasTTL}, host: on.Hostname, live: cloneSets(live)}
	b.change(fmt.Sprintf("restore the records of %s from before the maintenance (run %s)", strings.TrimSuffix(on.Hostname, "."), on.Name), on.Original, &Weights{Old: 100, New: 0})
	for _, s := range on.Steps {
		if hc := s.HealthCheck; hc != nil {
			b.add(Step{Title: fmt.Sprintf("put health check %s back (inverted %v)", hc.ID, !hc.Inverted), HealthCheck: &HealthCheck{ID: hc.ID, Inverted: !hc.Inverted}})
		}
	}
	var ttl int64
	for _, r := range live {
		if r.Alias != nil {
			ttl = max(ttl, on.AliasTTL)
		} else {
			ttl = max(ttl, r.TTL)
		}
	}
	b.add(Step{Title: "wait out the page's TTL", Wait: &Wait{Duration: Duration(time.Duration(ttl) * time.Second), Reason: fmt.Sprintf("TTL %ds: resolvers may keep sending clients to the page that long", ttl)}})
	for _, s := range on.Steps {
		if s.Verify != nil {
			b.add(Step{Title: "verify the live edge answers again", Verify: &Verify{Expect: "old", Path: s.Verify.Path, Samples: s.Verify.Samples}})
			break
		}
	}
	rb := &Runbook{
		Name:          name,
		Hostname:      on.Hostname,
		Zone:          on.Zone,
		ZoneRoleARN:   on.ZoneRoleARN,
		Strategy:      StrategyMaintenanceOff,
		MaintenanceOf: on.Name,
		Original:      live,
		Fingerprint:   Fingerprint(live),
		CutoverTTL:    on.CutoverTTL,
		AliasTTL:      on.AliasTTL,
		Steps:         b.steps,
		Notes:         []string{fmt.Sprintf("restores the %d record sets run %s found, byte for byte", len(on.Original), on.Name)},
	}
	if err := rb.Validate(); err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	return rb, nil
}

func sameRecordSets(a, b []dns.RecordSet) bool {
	if len(a) != len(b) {
		return false
	}
	byKey := map[string]dns.RecordSet{}
	for _, r := range a {
		byKey[r.Key()] = r
	}
	for _, r := range b {
		o, ok := byKey[r.Key()]
		if !ok || !o.Equal(r) {
			return false
		}
	}
	return true
}
