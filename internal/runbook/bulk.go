package runbook

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/dns"
)

// A bulk runbook moves many hostnames, in one or many zones, through the
// same steps together. Every hostname compiles on its own, exactly as a
// one-hostname plan would (so the strategy rules are the same), from the
// records observed for it when the runbook was compiled; the bulk runbook
// keeps those records and the spec, not thousands of change sets. Its
// steps are those of every hostname's runbook, with each Change replaced by
// a BulkChange at the same index: the engine compiles a hostname's own
// runbook again when it needs its change set (compilation is pure, so the
// result is the one compiled here), and packs the change sets of one zone
// into as few requests as Route 53 allows.

// HostSelector picks hostnames for a bulk plan: Names listed, or every name
// in Zone matching the glob Match ("*.cdn.example.com": `*` stands for
// one or more labels).
type HostSelector struct {
	// Zone is the zone's reference (a Route 53 hosted zone id).
	Zone  string   `json:"zone"`
	Match string   `json:"match,omitempty"`
	Names []string `json:"names,omitempty"`
}

// ObservedHost is one hostname of a bulk plan and every record set at it,
// as its zone served them.
type ObservedHost struct {
	Name    string          `json:"name"` // FQDN with trailing dot
	Zone    string          `json:"zone"`
	Records []dns.RecordSet `json:"records"`
}

// Bulk is what a bulk runbook keeps to compile each hostname again.
type Bulk struct {
	// Spec is the plan's spec as each hostname was compiled with
	// (Hostname and Zone are each host's own).
	Spec Spec `json:"spec"`
	// Hosts are the hostnames, sorted by zone then name, each with the
	// managed records it had (its Original).
	Hosts []BulkHost `json:"hosts"`
}

// BulkHost is one hostname of a bulk runbook.
type BulkHost struct {
	Name     string          `json:"name"`
	Zone     string          `json:"zone"`
	Original []dns.RecordSet `json:"original"`
}

// BulkChange applies, for every hostname still moving, the change its own
// runbook has at this step's index.
type BulkChange struct {
	// Weights is the split every hostname has once the change is live;
	// nil when not weighted.
	Weights *Weights `json:"weights,omitempty"`
	// Hosts is how many hostnames have a change at this step (some may
	// have none: their TTL was already low).
	Hosts int `json:"hosts"`
	// Rollback makes it the change of a rollback: every hostname goes from
	// what its zone serves now back to its original records.
	Rollback bool `json:"rollback,omitempty"`
}

// UnwindBulk is a bulk runbook's rollback: one bulk change back to every
// hostname's original records (each from wherever it is), propagation,
// then one TTL.
func UnwindBulk(rb *Runbook) []Step {
	ttl := rb.CutoverTTL
	if rb.AliasTTL > ttl {
		ttl = rb.AliasTTL
	}
	n := len(rb.Bulk.Hosts)
	return []Step{
		{ID: "01-bulk-change", Title: fmt.Sprintf("roll back %d hostnames to their original records", n), BulkChange: &BulkChange{Rollback: true, Hosts: n}},
		{ID: "02-insync", Title: "wait for the changes to reach every DNS server", InSync: &InSync{Timeout: Duration(10 * time.Minute)}},
		{ID: "03-wait", Title: "wait one TTL so cached answers expire", Wait: &Wait{Duration: Duration(time.Duration(ttl) * time.Second), Reason: fmt.Sprintf("TTL %ds", ttl)}},
	}
}

// BulkSize says how many hostnames in how many zones ("10000 hostnames in
// 20 zones").
func (rb *Runbook) BulkSize() string {
	zones := map[string]bool{}
	for _, h := range rb.Bulk.Hosts {
		zones[h.Zone] = true
	}
	return fmt.Sprintf("%d hostnames in %d zones", len(rb.Bulk.Hosts), len(zones))
}

// BulkZones counts the hostnames per zone ("ZA 400, ZB 12").
func (rb *Runbook) BulkZones() string {
	var order []string
	count := map[string]int{}
	for _, h := range rb.Bulk.Hosts {
		if count[h.Zone] == 0 {
			order = append(order, h.Zone)
		}
		count[h.Zone]++
	}
	parts := make([]string, 0, len(order))
	for _, z := range order {
		parts = append(parts, fmt.Sprintf("%s %d", z, count[z]))
	}
	return strings.Join(parts, ", ")
}

// Subject names what the runbook moves, for messages: its hostname, or for
// a bulk runbook how many hostnames in how many zones.
func (rb *Runbook) Subject() string {
	if rb.IsBulk() {
		return rb.BulkSize()
	}
	return rb.Hostname
}

// IsBulk reports whether the runbook moves a set of hostnames.
func (rb *Runbook) IsBulk() bool { return rb.Bulk != nil }

// bulkStrategies are the strategies a bulk plan can use: those that only
// change DNS records.
var bulkStrategies = map[string]bool{"weighted": true, "flip": true}

// compileBulk compiles every observed hostname and merges their runbooks.
func compileBulk(spec Spec, obs Observed) (*Runbook, error) {
	if len(obs.Hosts) == 0 {
		return nil, fmt.Errorf("compiling %s: no hostnames selected", spec.Name)
	}
	if spec.Strategy == "auto" {
		spec.Strategy = "weighted"
	}
	if !bulkStrategies[spec.Strategy] {
		return nil, fmt.Errorf("compiling %s: strategy %s moves one hostname at a time: a plan with hostnames uses weighted or flip", spec.Name, spec.Strategy)
	}
	hosts := append([]ObservedHost(nil), obs.Hosts...)
	sort.Slice(hosts, func(i, j int) bool {
		if hosts[i].Zone != hosts[j].Zone {
			return hosts[i].Zone < hosts[j].Zone
		}
		return dns.Fqdn(hosts[i].Name) < dns.Fqdn(hosts[j].Name)
	})
	// Every hostname waits out the longest old TTL of all of them, so that
	// their runbooks have the same steps.
	spec.Prepare = maxDuration(spec.Prepare, longestTTL(hosts, spec))
	webhooks, notify := spec.Webhooks, spec.Notify
	spec.Hosts = nil
	spec.Uniform = true
	spec.Webhooks, spec.Notify = nil, nil
	bulk := &Bulk{Spec: spec, Hosts: make([]BulkHost, 0, len(hosts))}
	var template *Runbook
	var shape string
	counts := map[int]int{}
	for i, h := range hosts {
		if i > 0 && dns.Fqdn(h.Name) == dns.Fqdn(hosts[i-1].Name) {
			return nil, fmt.Errorf("compiling %s: hostname %s is selected twice", spec.Name, strings.TrimSuffix(dns.Fqdn(h.Name), "."))
		}
		rb, err := compileHost(spec, obs, h.Name, h.Zone, h.Records)
		if err != nil {
			return nil, err
		}
		sh := rb.shape()
		if template == nil {
			template, shape = rb, sh
		} else if sh != shape {
			return nil, fmt.Errorf("compiling %s: hostname %s needs other steps than %s (%s, not %s): put hostnames whose records differ in shape (alias or CNAME, A and AAAA) in separate plans",
				spec.Name, strings.TrimSuffix(rb.Hostname, "."), strings.TrimSuffix(template.Hostname, "."), sh, shape)
		}
		for k, s := range rb.Steps {
			if s.Change != nil && len(s.Change.Set.Changes) > 0 {
				counts[k]++
			}
		}
		bulk.Hosts = append(bulk.Hosts, BulkHost{Name: rb.Hostname, Zone: h.Zone, Original: rb.Original})
	}
	steps := make([]Step, len(template.Steps))
	for k, s := range template.Steps {
		switch {
		case s.Change != nil:
			steps[k] = Step{ID: s.ID, Title: bulkTitle(s.Title, template.Hostname, len(hosts)), BulkChange: &BulkChange{Weights: s.Change.Weights, Hosts: counts[k]}}
		case s.Verify != nil:
			v := *s.Verify
			steps[k] = Step{ID: s.ID, Title: bulkTitle(s.Title, template.Hostname, len(hosts)), Verify: &v}
		default:
			steps[k] = s
			steps[k].Title = bulkTitle(s.Title, template.Hostname, len(hosts))
		}
	}
	zones := map[string]bool{}
	for _, h := range bulk.Hosts {
		zones[h.Zone] = true
	}
	rb := &Runbook{
		Name:       spec.Name,
		Hostname:   bulk.Hosts[0].Name,
		Zone:       bulk.Hosts[0].Zone,
		Strategy:   spec.Strategy,
		CutoverTTL: spec.CutoverTTL,
		AliasTTL:   template.AliasTTL,
		Gates:      spec.Gates,
		From:       template.From,
		To:         template.To,
		Bulk:       bulk,
		Steps:      steps,
		Notes: append([]string{fmt.Sprintf("%d hostnames in %d zones move together; each change step packs a zone's changes into as few Route 53 requests as its limits allow", len(bulk.Hosts), len(zones))},
			template.Notes...),
	}
	rb.Webhooks, rb.Notify = webhooks, notify
	rb.Fingerprint = bulkFingerprint(bulk.Hosts)
	if err := rb.Validate(); err != nil {
		return nil, fmt.Errorf("compiling %s: %w", spec.Name, err)
	}
	return rb, nil
}

// compileHost compiles one hostname of a bulk spec on its own.
func compileHost(spec Spec, obs Observed, name, zone string, records []dns.RecordSet) (*Runbook, error) {
	spec.Hosts = nil
	spec.Hostname = strings.TrimSuffix(dns.Fqdn(name), ".")
	spec.Zone = zone
	o := obs
	o.Hosts = nil
	o.Records = records
	o.Zone = dns.ZoneInfo{}
	return Compile(spec, o)
}

// HostRunbook compiles hostname i of a bulk runbook again: its own
// runbook, step for step aligned with rb.Steps.
func (rb *Runbook) HostRunbook(i int) (*Runbook, error) {
	h := rb.Bulk.Hosts[i]
	spec := rb.Bulk.Spec
	obs := Observed{}
	if rb.From != nil {
		obs.From = *rb.From
	}
	if rb.To != nil {
		obs.To = *rb.To
	}
	hr, err := compileHost(spec, obs, h.Name, h.Zone, h.Original)
	if err != nil {
		return nil, err
	}
	if len(hr.Steps) != len(rb.Steps) {
		return nil, fmt.Errorf("hostname %s compiles to %d steps, the bulk runbook has %d", h.Name, len(hr.Steps), len(rb.Steps))
	}
	return hr, nil
}

// HostStates returns, for hostname i's own runbook hr, the record sets it
// serves before each step (index len(hr.Steps): after the last).
func HostStates(hr *Runbook) [][]dns.RecordSet { return recordStates(hr) }

// Diff is the compare-and-swap change set that turns live into want, in the
// order a batch needs: deletes and replacements first, then creates.
func Diff(live, want []dns.RecordSet) []dns.Change {
	byKey := map[string]dns.RecordSet{}
	for _, r := range want {
		byKey[r.Key()] = r
	}
	var out, creates []dns.Change
	liveKeys := map[string]bool{}
	for _, old := range live {
		o := old
		liveKeys[o.Key()] = true
		if nw, ok := byKey[o.Key()]; ok {
			if nw.Equal(o) {
				continue
			}
			n := nw
			out = append(out, dns.Change{Old: &o, New: &n})
			continue
		}
		out = append(out, dns.Change{Old: &o})
	}
	for _, nw := range want {
		if !liveKeys[nw.Key()] {
			n := nw
			creates = append(creates, dns.Change{New: &n})
		}
	}
	return append(out, creates...)
}

// shape is what must be equal for hostnames to move together: the kind and
// timing of each step.
func (rb *Runbook) shape() string {
	var b strings.Builder
	for i, s := range rb.Steps {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(s.Kind())
		switch {
		case s.Change != nil && s.Change.Weights != nil:
			fmt.Fprintf(&b, "(%d)", s.Change.Weights.New)
		case s.Wait != nil:
			fmt.Fprintf(&b, "(%s)", s.Wait.Duration.D())
		case s.Observe != nil:
			fmt.Fprintf(&b, "(%s)", s.Observe.Duration.D())
		}
	}
	return b.String()
}

func bulkTitle(title, host string, n int) string {
	h := strings.TrimSuffix(host, ".")
	if strings.Contains(title, h) {
		return strings.ReplaceAll(title, h, fmt.Sprintf("%d hostnames", n))
	}
	return title
}

func longestTTL(hosts []ObservedHost, spec Spec) time.Duration {
	var ttl int64
	for _, h := range hosts {
		for _, r := range h.Records {
			if dns.Fqdn(r.Name) == dns.Fqdn(h.Name) && managed(r) && r.Alias == nil && r.TTL > ttl {
				ttl = r.TTL
			}
		}
	}
	if ttl <= spec.CutoverTTL {
		return 0
	}
	return time.Duration(ttl) * time.Second
}

func maxDuration(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func bulkFingerprint(hosts []BulkHost) string {
	var all []dns.RecordSet
	for _, h := range hosts {
		all = append(all, h.Original...)
	}
	return Fingerprint(all)
}
