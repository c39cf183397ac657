package dnsserver

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab/route53"
)

const (
	// maxChase bounds alias and CNAME chains, which a zone may make loop.
	maxChase = 8
	// maxUDPSize caps the EDNS0 buffer size the server honours (RFC 9715
	// style guidance; 1232 is what it advertises itself).
	maxUDPSize     = 4096
	advertisedEDNS = 1232
	// defaultTTL is used for a set that carries no TTL, which the Route 53
	// validation never lets through; it only guards against a fake Zones.
	defaultTTL = 300
	// targetTTL is the TTL of CloudFront and ELB addresses when Targets
	// gives none (reference A5: 60 s for both).
	targetTTL = 60
	// unhealthyTarget marks an alias set whose EvaluateTargetHealth found
	// its target unhealthy, so route53.Select treats it as failing a
	// health check without changing Select.
	unhealthyTarget = "\x00target-unhealthy"
)

// result is the outcome of resolving one name and type.
type result struct {
	rcode  int
	auth   bool
	answer []dns.RR
	ns     []dns.RR
}

func refused() result { return result{rcode: dns.RcodeRefused} }

// ServeDNS answers one query. UDP answers are truncated to 512 bytes, or
// to the EDNS0 size the client advertised, with TC set when records had
// to go, so the client retries over TCP.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := s.Reply(req)
	size := dns.MaxMsgSize
	if w.LocalAddr() != nil && w.LocalAddr().Network() == "udp" {
		size = dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = max(dns.MinMsgSize, min(int(opt.UDPSize()), maxUDPSize))
		}
	}
	resp.Compress = true
	resp.Truncate(size)
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("dns reply not sent", "err", err)
	}
}

// Reply builds the full, untruncated answer to req: the in-process form of
// ServeDNS, which also counts and logs the query.
func (s *Server) Reply(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = false
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(advertisedEDNS, false)
	}
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	case req.Question[0].Qclass != dns.ClassINET:
		m.Rcode = dns.RcodeRefused
	default:
		q := req.Question[0]
		r := refused()
		if raw, ok := toRaw(q.Name); ok {
			r = s.lookup(raw, q.Name, q.Qtype, 0)
		}
		m.Rcode, m.Authoritative = r.rcode, r.auth
		m.Answer, m.Ns = r.answer, r.ns
	}
	s.countReply(m.Rcode)
	if len(req.Question) > 0 {
		q := req.Question[0]
		s.log.Debug("dns query", "name", q.Name, "type", dns.TypeToString[q.Qtype],
			"rcode", dns.RcodeToString[m.Rcode], "answers", len(m.Answer))
	}
	return m
}

// lookup resolves raw (owner is the same name as the answer should spell
// it) for qtype: from the most specific lab zone, else from Targets.
func (s *Server) lookup(raw, owner string, qtype uint16, depth int) result {
	if depth > maxChase {
		return result{rcode: dns.RcodeServerFailure}
	}
	if s.opts.Zones != nil {
		if zv, sets, ok := s.opts.Zones.Served(route53Name(raw)); ok {
			return s.fromZone(zv, sets, raw, owner, qtype, depth)
		}
	}
	return s.fromTargets(raw, owner, qtype)
}

// fromZone answers from the record sets served at raw in zone zv.
func (s *Server) fromZone(zv route53.ZoneView, sets []route53.RecordSet, raw, owner string, qtype uint16, depth int) result {
	if qtype == dns.TypeANY && len(sets) > 0 {
		return result{rcode: dns.RcodeSuccess, auth: true, answer: []dns.RR{rfc8482(owner)}}
	}
	typ := dns.TypeToString[qtype]
	var typed, cname []route53.RecordSet
	for _, rs := range sets {
		switch rs.Type {
		case typ:
			typed = append(typed, rs)
		case "CNAME":
			cname = append(cname, rs)
		}
	}
	switch {
	case len(typed) > 0:
		rrs := s.setRRs(s.route(raw, typ, typed, depth), owner, qtype, depth)
		if len(rrs) == 0 {
			// An alias whose target has nothing of this type.
			return s.negative(zv, dns.RcodeSuccess)
		}
		return result{rcode: dns.RcodeSuccess, auth: true, answer: rrs}
	case len(cname) > 0:
		rrs := s.setRRs(s.route(raw, "CNAME", cname, depth), owner, dns.TypeCNAME, depth)
		r := result{rcode: dns.RcodeSuccess, auth: true, answer: rrs}
		if len(rrs) == 0 {
			return s.negative(zv, dns.RcodeSuccess)
		}
		c, ok := rrs[len(rrs)-1].(*dns.CNAME)
		if !ok {
			return r
		}
		target, ok := toRaw(c.Target)
		if !ok {
			return r
		}
		// Chase the target when this server is its authority; otherwise
		// the CNAME alone is the answer and a resolver follows it.
		sub := s.lookup(target, c.Target, qtype, depth+1)
		if sub.rcode == dns.RcodeRefused || sub.rcode == dns.RcodeServerFailure {
			return r
		}
		r.answer = dns.Dedup(append(r.answer, sub.answer...), nil)
		r.rcode, r.ns = sub.rcode, sub.ns
		return r
	case len(sets) > 0 || s.exists(zv, raw):
		return s.negative(zv, dns.RcodeSuccess)
	default:
		return s.negative(zv, dns.RcodeNameError)
	}
}

// exists reports whether raw owns records or is an empty non-terminal in
// the served zone: NODATA rather than NXDOMAIN (RFC 8020 consistency).
func (s *Server) exists(zv route53.ZoneView, raw string) bool {
	all, ok := s.opts.Zones.ServedRecords(zv.ID)
	if !ok {
		return false
	}
	for _, rs := range all {
		if rs.Name == raw || strings.HasSuffix(rs.Name, "."+raw) {
			return true
		}
	}
	return false
}

// negative is NXDOMAIN or NODATA with the zone's SOA in the authority
// section, its TTL lowered to the negative-caching TTL (RFC 2308).
func (s *Server) negative(zv route53.ZoneView, rcode int) result {
	apex := toPresentation(zv.Name)
	var soa *dns.SOA
	if _, sets, ok := s.opts.Zones.Served(route53Name(zv.Name)); ok {
		for _, rs := range sets {
			if rs.Type == "SOA" && len(rs.Records) > 0 {
				if rr, err := newRR(apex, ttlOf(rs), "SOA", rs.Records[0]); err == nil {
					soa, _ = rr.(*dns.SOA)
				}
			}
		}
	}
	if soa == nil {
		soa = syntheticSOA(apex)
	}
	return negativeWith(soa, rcode)
}

func negativeWith(soa *dns.SOA, rcode int) result {
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return result{rcode: rcode, auth: true, ns: []dns.RR{soa}}
}

// syntheticSOA is the SOA of an authority the lab plays without a hosted
// zone (cloudfront.net): Route 53's default SOA, TTL 900.
func syntheticSOA(apex string) *dns.SOA {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
		Ns:  "ns-0.awsdns-00.com.", Mbox: "awsdns-hostmaster.amazon.com.",
		Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: 86400,
	}
}

// rfc8482 is the minimal answer RFC 8482 recommends for ANY queries.
func rfc8482(owner string) dns.RR {
	return &dns.HINFO{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeHINFO, Class: dns.ClassINET, Ttl: 3789}, Cpu: "RFC8482"}
}

// route applies Route 53's routing policy to the sets of one name and type
// and counts the choice. EvaluateTargetHealth is folded into the health
// Select sees by marking sets whose alias target is unhealthy.
func (s *Server) route(raw, typ string, sets []route53.RecordSet, depth int) []route53.RecordSet {
	adj := make([]route53.RecordSet, len(sets))
	copy(adj, sets)
	for i := range adj {
		if a := adj[i].AliasTarget; a != nil && a.EvaluateTargetHealth && !s.aliasHealthy(a, typ, depth) {
			adj[i].HealthCheckID = unhealthyTarget
		}
	}
	chosen := s.choose(adj, s.healthy)
	s.countChoice(raw, typ, chosen)
	return chosen
}

func (s *Server) healthy(id string) bool {
	if id == unhealthyTarget {
		return false
	}
	return s.opts.Zones == nil || s.opts.Zones.HealthCheckHealthy(id)
}

// aliasHealthy is EvaluateTargetHealth: an ELB target asks Targets (when
// it can tell), a target in a lab zone is healthy when any of its sets of
// the same type is, counting their own health checks and aliases.
func (s *Server) aliasHealthy(a *route53.AliasTarget, typ string, depth int) bool {
	dn := strings.ToLower(dns.Fqdn(a.DNSName))
	if s.opts.Targets != nil {
		if _, _, _, ok := s.opts.Targets.Addrs(dn); ok {
			if th, ok := s.opts.Targets.(TargetHealth); ok {
				return th.TargetHealthy(dn)
			}
			return true
		}
	}
	if s.opts.Zones == nil || depth > maxChase {
		return true
	}
	_, sets, ok := s.opts.Zones.Served(route53Name(dn))
	if !ok {
		return true
	}
	for _, rs := range sets {
		if rs.Type != typ || (rs.HealthCheckID != "" && !s.healthy(rs.HealthCheckID)) {
			continue
		}
		if rs.AliasTarget == nil || !rs.AliasTarget.EvaluateTargetHealth || s.aliasHealthy(rs.AliasTarget, typ, depth+1) {
			return true
		}
	}
	return false
}

// setRRs turns chosen record sets into resource records owned by owner.
func (s *Server) setRRs(chosen []route53.RecordSet, owner string, qtype uint16, depth int) []dns.RR {
	var out []dns.RR
	for _, rs := range chosen {
		if rs.AliasTarget != nil {
			out = append(out, s.aliasRRs(rs.AliasTarget, owner, qtype, depth)...)
			continue
		}
		for _, v := range rs.Records {
			rr, err := newRR(owner, ttlOf(rs), rs.Type, v)
			if err != nil {
				s.log.Warn("unservable record value", "name", rs.Name, "type", rs.Type, "value", v, "err", err)
				continue
			}
			out = append(out, rr)
		}
	}
	return dns.Dedup(out, nil)
}

// aliasRRs answers an alias the way Route 53 does: the target's records of
// the same type, renamed to the alias's name, with the target's TTL.
func (s *Server) aliasRRs(a *route53.AliasTarget, owner string, qtype uint16, depth int) []dns.RR {
	dn, ok := toRaw(dns.Fqdn(a.DNSName))
	if !ok {
		return nil
	}
	sub := s.lookup(dn, toPresentation(dn), qtype, depth+1)
	var out []dns.RR
	for _, rr := range sub.answer {
		h := rr.Header()
		if h.Rrtype != qtype || !strings.EqualFold(h.Name, toPresentation(dn)) {
			continue
		}
		c := dns.Copy(rr)
		c.Header().Name = owner
		out = append(out, c)
	}
	return out
}

// fromTargets answers for AWS-managed names. Inside a target domain the
// server is authoritative; a name Targets does not know is NXDOMAIN there
// and REFUSED elsewhere.
func (s *Server) fromTargets(raw, owner string, qtype uint16) result {
	var v4, v6 []netip.Addr
	var ttl uint32
	known := false
	if s.opts.Targets != nil {
		v4, v6, ttl, known = s.opts.Targets.Addrs(raw)
	}
	domain := s.targetDomain(raw)
	if !known && domain == "" {
		return refused()
	}
	apex := domain
	if apex == "" {
		apex = raw
	}
	soa := syntheticSOA(toPresentation(apex))
	if !known {
		if raw == domain {
			if qtype == dns.TypeSOA {
				return result{rcode: dns.RcodeSuccess, auth: true, answer: []dns.RR{soa}}
			}
			return negativeWith(soa, dns.RcodeSuccess)
		}
		return negativeWith(soa, dns.RcodeNameError)
	}
	if qtype == dns.TypeANY {
		return result{rcode: dns.RcodeSuccess, auth: true, answer: []dns.RR{rfc8482(owner)}}
	}
	if ttl == 0 {
		ttl = targetTTL
	}
	var out []dns.RR
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	switch qtype {
	case dns.TypeA:
		for _, ip := range v4 {
			if ip.Is4() || ip.Is4In6() {
				out = append(out, &dns.A{Hdr: hdr(dns.TypeA), A: ip.Unmap().AsSlice()})
			}
		}
	case dns.TypeAAAA:
		for _, ip := range v6 {
			if ip.Is6() && !ip.Is4In6() {
				out = append(out, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip.AsSlice()})
			}
		}
	}
	if len(out) == 0 {
		return negativeWith(soa, dns.RcodeSuccess)
	}
	return result{rcode: dns.RcodeSuccess, auth: true, answer: out}
}

// targetDomain returns the longest target domain containing raw, or "".
func (s *Server) targetDomain(raw string) string {
	best := ""
	for _, d := range s.domains {
		if (raw == d || strings.HasSuffix(raw, "."+d)) && len(d) > len(best) {
			best = d
		}
	}
	return best
}

func ttlOf(rs route53.RecordSet) uint32 {
	if rs.TTL == nil || *rs.TTL < 0 {
		return defaultTTL
	}
	return uint32(min(*rs.TTL, 2147483647))
}

// newRR parses one Route 53 record value (RDATA in presentation form).
func newRR(owner string, ttl uint32, typ, value string) (dns.RR, error) {
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", owner, ttl, typ, value))
	if err != nil {
		return nil, fmt.Errorf("parsing %s record %q: %w", typ, value, err)
	}
	if rr == nil {
		return nil, fmt.Errorf("parsing %s record %q: empty", typ, value)
	}
	return rr, nil
}
