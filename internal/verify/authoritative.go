package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/dnsquery"
	"github.com/cutover/cutover/internal/gate/probe"
)

// AuthoritativePrefix starts the name of every resolver row that asks one
// of the zone's name servers directly.
const AuthoritativePrefix = "auth:"

// authoritative finds the name servers of the zone enclosing host, through
// the first configured resolver (or the system's configured server), and
// returns one resolver per name server address.
func (v *Verifier) authoritative(ctx context.Context, host string) ([]resolver, error) {
	via, next, err := v.discoveryServer()
	if err != nil {
		return nil, fmt.Errorf("finding the authoritative servers of %s: %w", host, err)
	}
	zone, servers, err := zoneServers(ctx, via, host, v.o.Timeout)
	if err != nil {
		return nil, fmt.Errorf("finding the authoritative servers of %s via %s: %w", host, via, err)
	}
	var out []resolver
	var problems []string
	for _, ns := range servers {
		addrs, err := nsAddrs(ctx, via, ns, v.o.Timeout)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		for _, a := range addrs {
			addr := net.JoinHostPort(a, strconv.Itoa(v.o.AuthoritativePort))
			out = append(out, authResolver{ns: ns, addr: addr, zone: zone, timeout: v.o.Timeout, next: next})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address for the name servers of %s (%s): %s", zone, strings.Join(servers, ", "), strings.Join(problems, "; "))
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("name servers of %s: %s", zone, strings.Join(problems, "; "))
	}
	return out, nil
}

// discoveryServer returns the server asked for the zone's name servers and
// the resolver that follows CNAMEs leaving the zone.
func (v *Verifier) discoveryServer() (string, resolver, error) {
	for _, r := range v.resolvers {
		if d, ok := r.(dnsResolver); ok {
			return d.addr, d, nil
		}
	}
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil || len(cfg.Servers) == 0 {
		return "", nil, errors.New("no resolver to ask: give one with --resolver")
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), systemResolver{}, nil
}

// zoneServers walks up from host to the closest name owning NS records.
// Only NS records owned by the asked name count: a name that is a CNAME
// drags its target's records into the answer.
func zoneServers(ctx context.Context, server, host string, timeout time.Duration) (string, []string, error) {
	name := dns.Fqdn(strings.ToLower(host))
	for {
		msg, err := query(ctx, server, name, dns.TypeNS, timeout)
		if err != nil {
			return "", nil, err
		}
		var ns []string
		if msg.Rcode == dns.RcodeSuccess {
			for _, rr := range msg.Answer {
				if n, ok := rr.(*dns.NS); ok && strings.EqualFold(n.Hdr.Name, name) {
					ns = append(ns, strings.ToLower(strings.TrimSuffix(n.Ns, ".")))
				}
			}
		}
		if len(ns) > 0 {
			return strings.TrimSuffix(name, "."), ns, nil
		}
		i := strings.IndexByte(name, '.')
		if i < 0 || i == len(name)-1 {
			return "", nil, errors.New("no zone encloses the name")
		}
		name = name[i+1:]
	}
}

// nsAddrs resolves a name server's IPv4 addresses (IPv6 when it has none).
func nsAddrs(ctx context.Context, server, ns string, timeout time.Duration) ([]string, error) {
	if ip := net.ParseIP(ns); ip != nil {
		return []string{ns}, nil
	}
	a, err := probe.Lookup(ctx, server, ns, timeout)
	if err != nil {
		return nil, err
	}
	return a.Addrs, nil
}

func query(ctx context.Context, server, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	msg, err := dnsquery.Exchange(ctx, server, name, qtype, timeout)
	if err != nil {
		return nil, fmt.Errorf("querying %s %s: %w", strings.TrimSuffix(name, "."), dns.TypeToString[qtype], err)
	}
	return msg, nil
}

// authResolver asks one authoritative server. The zone's own records come
// from it, uncached; a CNAME leaving the zone (to a CDN's domain) is
// followed through next, the way a client's resolver would.
type authResolver struct {
	ns, addr, zone string
	timeout        time.Duration
	next           resolver
}

func (r authResolver) name() string { return AuthoritativePrefix + r.ns + "@" + r.addr }

func (r authResolver) lookup(ctx context.Context, host string) (probe.Answer, error) {
	a, err := probe.Lookup(ctx, r.addr, host, r.timeout)
	if err == nil || len(a.Addrs) > 0 {
		return a, err
	}
	last := a.Chain[len(a.Chain)-1]
	if len(a.Chain) < 2 || inZone(last, r.zone) {
		return a, err
	}
	rest, err := r.next.lookup(ctx, last)
	if err != nil {
		return a, fmt.Errorf("following %s out of zone %s: %w", last, r.zone, err)
	}
	if len(rest.Chain) > 0 {
		a.Chain = append(a.Chain, rest.Chain[1:]...)
	}
	a.Addrs = rest.Addrs
	return a, nil
}

func inZone(name, zone string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	return name == zone || strings.HasSuffix(name, "."+zone)
}
