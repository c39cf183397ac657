package dnsserver

import (
	"math/rand"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/route53"
)

// fakeZones is a minimal served view: zones with record sets, most
// specific zone wins, RFC 4592 wildcards, and settable health checks.
type fakeZones struct {
	mu        sync.Mutex
	zones     []*fakeZone
	unhealthy map[string]bool
}

type fakeZone struct {
	id, name string
	sets     []route53.RecordSet
}

const defaultSOA = "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"

func newFakeZones() *fakeZones { return &fakeZones{unhealthy: map[string]bool{}} }

// add creates a zone with Route 53's default SOA (TTL 900) and NS sets.
func (f *fakeZones) add(id, name string, sets ...route53.RecordSet) *fakeZone {
	f.mu.Lock()
	defer f.mu.Unlock()
	z := &fakeZone{id: id, name: name}
	z.sets = append(z.sets,
		route53.RecordSet{Name: name, Type: "SOA", TTL: route53.Int64(900), Records: []string{defaultSOA}},
		route53.RecordSet{Name: name, Type: "NS", TTL: route53.Int64(172800), Records: []string{"ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."}},
	)
	z.sets = append(z.sets, sets...)
	f.zones = append(f.zones, z)
	return z
}

// replace swaps every set at (name, type) of zone z for sets.
func (f *fakeZones) replace(z *fakeZone, name, typ string, sets ...route53.RecordSet) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keep []route53.RecordSet
	for _, rs := range z.sets {
		if rs.Name != name || rs.Type != typ {
			keep = append(keep, rs)
		}
	}
	z.sets = append(keep, sets...)
}

func (f *fakeZones) setHealthy(id string, ok bool) {
	f.mu.Lock()
	f.unhealthy[id] = !ok
	f.mu.Unlock()
}

func within(name, zone string) bool { return name == zone || strings.HasSuffix(name, "."+zone) }

func (z *fakeZone) exists(name string) bool {
	for _, rs := range z.sets {
		if within(rs.Name, name) {
			return true
		}
	}
	return false
}

func (z *fakeZone) at(name string) []route53.RecordSet {
	var out []route53.RecordSet
	for _, rs := range z.sets {
		if rs.Name == name {
			out = append(out, rs)
		}
	}
	return out
}

func (f *fakeZones) Served(name string) (route53.ZoneView, []route53.RecordSet, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = strings.ToLower(dns.Fqdn(name))
	var best *fakeZone
	for _, z := range f.zones {
		if within(name, z.name) && (best == nil || len(z.name) > len(best.name)) {
			best = z
		}
	}
	if best == nil {
		return route53.ZoneView{}, nil, false
	}
	zv := route53.ZoneView{ID: best.id, Name: best.name}
	if found := best.at(name); len(found) > 0 || best.exists(name) {
		return zv, found, true
	}
	ce := name[strings.IndexByte(name, '.')+1:]
	for ce != best.name && !best.exists(ce) {
		ce = ce[strings.IndexByte(ce, '.')+1:]
	}
	var out []route53.RecordSet
	for _, rs := range best.at("*." + ce) {
		rs.Name = name
		out = append(out, rs)
	}
	return zv, out, true
}

func (f *fakeZones) ServedRecords(id string) ([]route53.RecordSet, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, z := range f.zones {
		if z.id == id {
			return append([]route53.RecordSet{}, z.sets...), true
		}
	}
	return nil, false
}

func (f *fakeZones) ServedZones() []route53.ZoneView {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []route53.ZoneView
	for _, z := range f.zones {
		out = append(out, route53.ZoneView{ID: z.id, Name: z.name})
	}
	return out
}

func (f *fakeZones) HealthCheckHealthy(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.unhealthy[id]
}

// fakeTargets knows a fixed set of AWS-managed names.
type fakeTargets struct {
	mu        sync.Mutex
	names     map[string]fakeTarget
	unhealthy map[string]bool
}

type fakeTarget struct {
	v4, v6 []netip.Addr
	ttl    uint32
}

func newFakeTargets() *fakeTargets {
	return &fakeTargets{names: map[string]fakeTarget{}, unhealthy: map[string]bool{}}
}

func (f *fakeTargets) add(name string, ttl uint32, addrs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var t fakeTarget
	t.ttl = ttl
	for _, a := range addrs {
		ip := netip.MustParseAddr(a)
		if ip.Is4() {
			t.v4 = append(t.v4, ip)
		} else {
			t.v6 = append(t.v6, ip)
		}
	}
	f.names[name] = t
}

func (f *fakeTargets) Addrs(name string) ([]netip.Addr, []netip.Addr, uint32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.names[name]
	return t.v4, t.v6, t.ttl, ok
}

func (f *fakeTargets) TargetHealthy(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.unhealthy[name]
}

// ---- record-set builders ----

func rset(name, typ string, ttl int64, values ...string) route53.RecordSet {
	return route53.RecordSet{Name: name, Type: typ, TTL: route53.Int64(ttl), Records: values}
}

func weighted(rs route53.RecordSet, id string, w int64) route53.RecordSet {
	rs.SetIdentifier, rs.Weight = id, route53.Int64(w)
	return rs
}

func alias(name, typ, zoneID, target string, eth bool) route53.RecordSet {
	return route53.RecordSet{Name: name, Type: typ, AliasTarget: &route53.AliasTarget{HostedZoneID: zoneID, DNSName: target, EvaluateTargetHealth: eth}}
}

// ---- querying ----

func newTestServer(z Zones, tg Targets, seed int64) *Server {
	opts := Options{Addr: "127.0.0.1:0", Rand: rand.New(rand.NewSource(seed))}
	if z != nil {
		opts.Zones = z
	}
	if tg != nil {
		opts.Targets = tg
	}
	return New(opts)
}

func ask(t *testing.T, s *Server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return s.Reply(m)
}

// answerStrings renders the answer section with TTLs, one record a line.
func answerStrings(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return out
}

func firstA(t *testing.T, m *dns.Msg) string {
	t.Helper()
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	t.Fatalf("no A record in %v", m)
	return ""
}

func soaOf(t *testing.T, m *dns.Msg) *dns.SOA {
	t.Helper()
	if len(m.Ns) != 1 {
		t.Fatalf("authority section %v, want one SOA", m.Ns)
	}
	soa, ok := m.Ns[0].(*dns.SOA)
	if !ok {
		t.Fatalf("authority %v is not a SOA", m.Ns[0])
	}
	return soa
}
