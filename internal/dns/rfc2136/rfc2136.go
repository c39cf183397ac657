package rfc2136

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/cutover/cutover/internal/dns"
)

// Algorithms maps the TSIG algorithm names a plan accepts to miekg/dns's.
var Algorithms = map[string]string{
	"hmac-sha1":   mdns.HmacSHA1,
	"hmac-sha224": mdns.HmacSHA224,
	"hmac-sha256": mdns.HmacSHA256,
	"hmac-sha384": mdns.HmacSHA384,
	"hmac-sha512": mdns.HmacSHA512,
}

// DefaultAlgorithm is the TSIG algorithm used when TSIG.Algorithm is empty.
const DefaultAlgorithm = "hmac-sha256"

// TSIG is the key that signs every message to the server.
type TSIG struct {
	// Name is the key's name, as the server knows it.
	Name string
	// Algorithm is one of Algorithms' keys; default DefaultAlgorithm.
	Algorithm string
	// Secret is the key, base64 as in a BIND or Knot key file.
	Secret string
}

// Options configure a Provider.
type Options struct {
	// Server is the primary ("host:port"; port 53 when missing), where
	// updates and reads go.
	Server string
	// TSIG signs every message; nil sends them unsigned (a server should
	// refuse unsigned updates).
	TSIG *TSIG
	// Nameservers are the authoritative servers InSync waits for
	// ("host:port"). Empty: the zone's NS records, each at the port of
	// Server, addresses from the zone's glue or the system resolver.
	Nameservers []string
	// Timeout bounds each exchange; default 5s.
	Timeout time.Duration
}

// Provider reads and changes one server's zones.
type Provider struct {
	opts Options

	mu     sync.Mutex
	noAXFR map[string]bool // zones whose transfer the server refused
}

var (
	_ dns.Provider      = (*Provider)(nil)
	_ dns.InSyncChecker = (*Provider)(nil)
)

// ErrUnsupported is returned for a record set plain DNS cannot hold
// (weights, failover, alias targets, health checks).
var ErrUnsupported = errors.New("not supported by rfc2136 dynamic updates")

// New returns a Provider for o. It checks o without contacting the server.
func New(o Options) (*Provider, error) {
	if o.Server == "" {
		return nil, errors.New("rfc2136: no server")
	}
	o.Server = withPort(o.Server, "53")
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if t := o.TSIG; t != nil {
		if t.Algorithm == "" {
			t.Algorithm = DefaultAlgorithm
		}
		if _, ok := Algorithms[strings.ToLower(strings.TrimSuffix(t.Algorithm, "."))]; !ok {
			return nil, fmt.Errorf("rfc2136: tsig algorithm %q not one of %s", t.Algorithm, strings.Join(AlgorithmNames(), ", "))
		}
		if t.Name == "" || t.Secret == "" {
			return nil, errors.New("rfc2136: tsig needs a key name and a secret")
		}
	}
	return &Provider{opts: o, noAXFR: map[string]bool{}}, nil
}

// AlgorithmNames lists the accepted TSIG algorithm names, sorted.
func AlgorithmNames() []string {
	var out []string
	for k := range Algorithms {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func withPort(hostport, port string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(strings.Trim(hostport, "[]"), port)
}

// client is a miekg/dns client over netw that knows the TSIG key.
func (p *Provider) client(netw string) *mdns.Client {
	c := &mdns.Client{Net: netw, Timeout: p.opts.Timeout}
	if t := p.opts.TSIG; t != nil {
		c.TsigSecret = map[string]string{mdns.Fqdn(t.Name): t.Secret}
	}
	return c
}

// sign adds the TSIG record to m when a key is set.
func (p *Provider) sign(m *mdns.Msg) {
	if t := p.opts.TSIG; t != nil {
		m.SetTsig(mdns.Fqdn(t.Name), Algorithms[strings.ToLower(strings.TrimSuffix(t.Algorithm, "."))], 300, time.Now().Unix())
	}
}

// exchange sends m to server over TCP (updates and reads of a zone are
// small but must not be truncated), signed.
func (p *Provider) exchange(ctx context.Context, m *mdns.Msg, server string) (*mdns.Msg, error) {
	p.sign(m)
	r, _, err := p.client("tcp").ExchangeContext(ctx, m, server)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// query sends m unsigned: the SOA of a zone is public, and secondaries
// need not know the key.
func (p *Provider) query(ctx context.Context, m *mdns.Msg, server string) (*mdns.Msg, error) {
	c := &mdns.Client{Net: "tcp", Timeout: p.opts.Timeout}
	r, _, err := c.ExchangeContext(ctx, m, server)
	return r, err
}

// queryTypes are asked one by one when the server refuses a transfer.
var queryTypes = []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeCNAME, mdns.TypeTXT, mdns.TypeMX, mdns.TypeSRV, mdns.TypeCAA, mdns.TypeNS}

// Records returns every record set at name in zone, grouped by type.
func (p *Provider) Records(ctx context.Context, zone, name string) ([]dns.RecordSet, error) {
	zone, name = dns.Fqdn(zone), dns.Fqdn(name)
	p.mu.Lock()
	skip := p.noAXFR[zone]
	p.mu.Unlock()
	if !skip {
		rrs, err := p.transfer(ctx, zone)
		if err == nil {
			return group(rrs, name), nil
		}
		if !errors.Is(err, errRefused) {
			return nil, fmt.Errorf("transferring zone %s from %s: %w", zone, p.opts.Server, err)
		}
		p.mu.Lock()
		p.noAXFR[zone] = true
		p.mu.Unlock()
	}
	var rrs []mdns.RR
	for _, qt := range queryTypes {
		m := new(mdns.Msg)
		m.SetQuestion(name, qt)
		r, err := p.exchange(ctx, m, p.opts.Server)
		if err != nil {
			return nil, fmt.Errorf("asking %s for %s %s: %w", p.opts.Server, name, mdns.TypeToString[qt], err)
		}
		if r.Rcode != mdns.RcodeSuccess && r.Rcode != mdns.RcodeNameError {
			return nil, fmt.Errorf("asking %s for %s %s: %s", p.opts.Server, name, mdns.TypeToString[qt], mdns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			if rr.Header().Rrtype == qt {
				rrs = append(rrs, rr)
			}
		}
	}
	return group(rrs, name), nil
}

var errRefused = errors.New("transfer refused")

// transfer reads the whole zone by AXFR.
func (p *Provider) transfer(ctx context.Context, zone string) ([]mdns.RR, error) {
	m := new(mdns.Msg)
	m.SetAxfr(zone)
	p.sign(m)
	tr := &mdns.Transfer{DialTimeout: p.opts.Timeout, ReadTimeout: p.opts.Timeout, WriteTimeout: p.opts.Timeout}
	if t := p.opts.TSIG; t != nil {
		tr.TsigSecret = map[string]string{mdns.Fqdn(t.Name): t.Secret}
	}
	ch, err := tr.In(m, p.opts.Server)
	if err != nil {
		return nil, err
	}
	var out []mdns.RR
	for env := range ch {
		if env.Error != nil {
			if refusedTransfer(env.Error) {
				err = errRefused
			} else if err == nil {
				err = env.Error
			}
			continue
		}
		out = append(out, env.RR...)
	}
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return out, nil
}

// refusedTransfer reports whether a transfer failed because the server
// does not give this key the zone (REFUSED, NOTAUTH, NOTIMP, or a TSIG
// rejection, which Knot sends unsigned), rather than on the way.
func refusedTransfer(err error) bool {
	if errors.Is(err, mdns.ErrAuth) {
		return true
	}
	var rcode int
	if _, scanErr := fmt.Sscanf(err.Error(), "dns: bad xfr rcode: %d", &rcode); scanErr == nil {
		return rcode == mdns.RcodeRefused || rcode == mdns.RcodeNotAuth || rcode == mdns.RcodeNotImplemented
	}
	return false
}

// group turns the RRs owned by name into record sets, one per type,
// sorted by type; values keep the order the server gave.
func group(rrs []mdns.RR, name string) []dns.RecordSet {
	by := map[string]*dns.RecordSet{}
	var order []string
	for _, rr := range rrs {
		h := rr.Header()
		if dns.Fqdn(h.Name) != name || h.Class != mdns.ClassINET || h.Rrtype == mdns.TypeRRSIG || h.Rrtype == mdns.TypeNSEC {
			continue
		}
		typ := mdns.TypeToString[h.Rrtype]
		set := by[typ]
		if set == nil {
			set = &dns.RecordSet{Name: name, Type: typ, TTL: int64(h.Ttl)}
			by[typ] = set
			order = append(order, typ)
		}
		if int64(h.Ttl) < set.TTL {
			set.TTL = int64(h.Ttl)
		}
		v := rdata(rr)
		dup := false
		for _, x := range set.Values {
			dup = dup || x == v
		}
		if !dup {
			set.Values = append(set.Values, v)
		}
	}
	sort.Strings(order)
	out := make([]dns.RecordSet, 0, len(order))
	for _, t := range order {
		out = append(out, *by[t])
	}
	return out
}

// rdata is an RR's data in presentation form, names lower-cased (CNAME
// targets compare as cutover's FQDNs do).
func rdata(rr mdns.RR) string {
	v := strings.TrimPrefix(rr.String(), rr.Header().String())
	switch rr.Header().Rrtype {
	case mdns.TypeCNAME, mdns.TypeNS:
		v = strings.ToLower(v)
	}
	return v
}

// rrs renders a record set as the RRs it stands for, each with ttl.
func rrs(r dns.RecordSet, ttl int64) ([]mdns.RR, error) {
	if r.SetIdentifier != "" || r.Weight != nil || r.Failover != "" || r.Alias != nil || r.HealthCheckID != "" {
		return nil, fmt.Errorf("record set %s: weights, failover, alias targets and health checks are %w", r.String(), ErrUnsupported)
	}
	out := make([]mdns.RR, 0, len(r.Values))
	for _, v := range r.Values {
		rr, err := mdns.NewRR(fmt.Sprintf("%s %d IN %s %s", dns.Fqdn(r.Name), ttl, r.Type, v))
		if err != nil {
			return nil, fmt.Errorf("record set %s: value %q: %w", r.String(), v, err)
		}
		if rr == nil {
			return nil, fmt.Errorf("record set %s: empty value", r.String())
		}
		out = append(out, rr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("record set %s: no values", r.String())
	}
	return out, nil
}

// Update builds the UPDATE message for cs: prerequisites first, then the
// changes in the order cs gives them. It is exported for tests and for
// tools that show what would be sent.
func Update(cs dns.ChangeSet) (*mdns.Msg, error) {
	m := new(mdns.Msg)
	m.SetUpdate(dns.Fqdn(cs.Zone))
	for _, c := range cs.Changes {
		switch {
		case c.Old != nil:
			old, err := rrs(*c.Old, 0)
			if err != nil {
				return nil, err
			}
			// RRset exists (value dependent): class IN, TTL 0, every RR.
			m.Answer = append(m.Answer, old...)
		case c.New != nil:
			// RRset does not exist: class NONE, type, empty rdata.
			m.RRsetNotUsed([]mdns.RR{&mdns.ANY{Hdr: mdns.RR_Header{Name: dns.Fqdn(c.New.Name), Rrtype: mdns.StringToType[c.New.Type]}}})
		}
	}
	for _, c := range cs.Changes {
		if c.Old != nil {
			m.RemoveRRset([]mdns.RR{&mdns.ANY{Hdr: mdns.RR_Header{Name: dns.Fqdn(c.Old.Name), Rrtype: mdns.StringToType[c.Old.Type]}}})
		}
		if c.New != nil {
			nw, err := rrs(*c.New, c.New.TTL)
			if err != nil {
				return nil, err
			}
			m.Insert(nw)
		}
	}
	return m, nil
}

// Apply sends cs as one UPDATE. A failed prerequisite is a
// *dns.ConflictError; nothing was changed then.
func (p *Provider) Apply(ctx context.Context, cs dns.ChangeSet) (string, error) {
	zone := dns.Fqdn(cs.Zone)
	for _, c := range cs.Changes {
		for _, r := range []*dns.RecordSet{c.Old, c.New} {
			if r != nil && !inZone(r.Name, zone) {
				return "", fmt.Errorf("applying to zone %s: %s is outside the zone", zone, r.Name)
			}
		}
	}
	m, err := Update(cs)
	if err != nil {
		return "", fmt.Errorf("applying to zone %s: %w", zone, err)
	}
	r, err := p.exchange(ctx, m, p.opts.Server)
	if err != nil {
		return "", fmt.Errorf("applying to zone %s at %s: %w", zone, p.opts.Server, err)
	}
	switch r.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNXRrset, mdns.RcodeYXRrset, mdns.RcodeNameError, mdns.RcodeYXDomain:
		return "", p.conflict(ctx, cs, r.Rcode)
	default:
		return "", fmt.Errorf("applying to zone %s at %s: server answered %s", zone, p.opts.Server, mdns.RcodeToString[r.Rcode])
	}
	serial, err := p.serial(ctx, zone, p.opts.Server)
	if err != nil {
		return "", fmt.Errorf("reading zone %s's serial after the update: %w", zone, err)
	}
	return ChangeID(zone, serial), nil
}

func inZone(name, zone string) bool {
	name = dns.Fqdn(name)
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// conflict reads what the zone holds at the names cs expected and builds
// the conflict error.
func (p *Provider) conflict(ctx context.Context, cs dns.ChangeSet, rcode int) error {
	ce := &dns.ConflictError{Zone: strings.TrimSuffix(dns.Fqdn(cs.Zone), "."), Cause: fmt.Errorf("update prerequisite failed: %s", mdns.RcodeToString[rcode])}
	names := map[string]bool{}
	types := map[string]bool{}
	for _, c := range cs.Changes {
		for _, r := range []*dns.RecordSet{c.Old, c.New} {
			if r != nil {
				names[dns.Fqdn(r.Name)] = true
				types[dns.Fqdn(r.Name)+" "+r.Type] = true
			}
		}
		if c.Old != nil {
			ce.Expected = append(ce.Expected, *c.Old)
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		sets, err := p.Records(ctx, cs.Zone, n)
		if err != nil {
			ce.Cause = errors.Join(ce.Cause, err)
			continue
		}
		for _, s := range sets {
			if types[n+" "+s.Type] || s.Type == "CNAME" {
				ce.Actual = append(ce.Actual, s)
			}
		}
	}
	return ce
}

// ChangeID is the change id of an update that left zone at serial.
func ChangeID(zone string, serial uint32) string {
	return dns.Fqdn(zone) + "@" + strconv.FormatUint(uint64(serial), 10)
}

func parseChangeID(id string) (string, uint32, error) {
	zone, s, ok := strings.Cut(id, "@")
	if !ok {
		return "", 0, fmt.Errorf("change id %q is not zone@serial", id)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("change id %q: %w", id, err)
	}
	return zone, uint32(n), nil
}

// serial is the SOA serial server answers for zone.
func (p *Provider) serial(ctx context.Context, zone, server string) (uint32, error) {
	m := new(mdns.Msg)
	m.SetQuestion(zone, mdns.TypeSOA)
	r, err := p.query(ctx, m, server)
	if err != nil {
		return 0, err
	}
	if r.Rcode != mdns.RcodeSuccess {
		return 0, fmt.Errorf("%s answered %s for %s SOA", server, mdns.RcodeToString[r.Rcode], zone)
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*mdns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("%s has no SOA for %s", server, zone)
}

// InSync reports whether every authoritative server serves the serial the
// change left, or a later one.
func (p *Provider) InSync(ctx context.Context, changeID string) (bool, error) {
	zone, want, err := parseChangeID(changeID)
	if err != nil {
		return false, err
	}
	servers, err := p.Servers(ctx, zone)
	if err != nil {
		return false, err
	}
	for _, s := range servers {
		got, err := p.serial(ctx, zone, s)
		if err != nil {
			return false, fmt.Errorf("reading zone %s's serial from %s: %w", zone, s, err)
		}
		if !serialAtLeast(got, want) {
			return false, nil
		}
	}
	return true, nil
}

// serialAtLeast compares SOA serials as RFC 1982 says: a is at least b
// when it is b or lies less than 2^31 after it.
func serialAtLeast(a, b uint32) bool {
	return a == b || (a-b) < 1<<31
}

// Servers lists the authoritative servers InSync asks: Options.Nameservers,
// or the zone's NS records at the primary's port.
func (p *Provider) Servers(ctx context.Context, zone string) ([]string, error) {
	if len(p.opts.Nameservers) > 0 {
		out := make([]string, len(p.opts.Nameservers))
		for i, s := range p.opts.Nameservers {
			out[i] = withPort(s, "53")
		}
		return out, nil
	}
	zone = dns.Fqdn(zone)
	_, port, _ := net.SplitHostPort(p.opts.Server)
	m := new(mdns.Msg)
	m.SetQuestion(zone, mdns.TypeNS)
	r, err := p.exchange(ctx, m, p.opts.Server)
	if err != nil {
		return nil, fmt.Errorf("reading zone %s's name servers: %w", zone, err)
	}
	seen := map[string]bool{p.opts.Server: true}
	out := []string{p.opts.Server}
	for _, rr := range r.Answer {
		ns, ok := rr.(*mdns.NS)
		if !ok {
			continue
		}
		addrs, err := p.addresses(ctx, ns.Ns, r)
		if err != nil {
			return nil, fmt.Errorf("resolving zone %s's name server %s: %w", zone, ns.Ns, err)
		}
		for _, a := range addrs {
			s := net.JoinHostPort(a, port)
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// addresses finds a name server's addresses: the glue in r, then the
// primary (for names inside its zones), then the system resolver.
func (p *Provider) addresses(ctx context.Context, host string, r *mdns.Msg) ([]string, error) {
	var out []string
	for _, rr := range r.Extra {
		if dns.Fqdn(rr.Header().Name) != dns.Fqdn(host) {
			continue
		}
		switch a := rr.(type) {
		case *mdns.A:
			out = append(out, a.A.String())
		case *mdns.AAAA:
			out = append(out, a.AAAA.String())
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, qt := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
		m := new(mdns.Msg)
		m.SetQuestion(dns.Fqdn(host), qt)
		if ans, err := p.exchange(ctx, m, p.opts.Server); err == nil && ans.Rcode == mdns.RcodeSuccess {
			for _, rr := range ans.Answer {
				switch a := rr.(type) {
				case *mdns.A:
					out = append(out, a.A.String())
				case *mdns.AAAA:
					out = append(out, a.AAAA.String())
				}
			}
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	return net.DefaultResolver.LookupHost(ctx, strings.TrimSuffix(host, "."))
}
