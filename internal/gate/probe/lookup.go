package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/dnsquery"
)

// Answer is where one resolution of a name led.
type Answer struct {
	// Chain is the queried name followed by every CNAME target, in order,
	// without trailing dots.
	Chain []string `json:"chain"`
	// Addrs are the IPv4 addresses of the last name, or its IPv6 addresses
	// when it has no IPv4 address.
	Addrs []string `json:"addrs"`
}

// maxChain bounds CNAME chains; real chains are two or three links, a longer
// one is a loop or a misconfiguration.
const maxChain = 8

// ErrNoAddress means the name exists but resolves to no address.
var ErrNoAddress = errors.New("no address")

// Lookup resolves host through the DNS server at server (host:port) with a
// recursive query, following CNAME chains both inside one answer and, when a
// server answers only with the CNAME (an authoritative server for another
// zone), with further queries. It asks for A records first and for AAAA only
// when there is no A record. timeout bounds each exchange; 0 means 2s.
func Lookup(ctx context.Context, server, host string, timeout time.Duration) (Answer, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	name := dns.Fqdn(strings.ToLower(host))
	ans := Answer{Chain: []string{trimDot(name)}}
	seen := map[string]bool{name: true}
	for range maxChain {
		var next string
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			msg, err := exchange(ctx, server, name, qt, timeout)
			if err != nil {
				return ans, err
			}
			targets, addrs := walk(msg, name)
			if len(addrs) > 0 {
				for _, t := range targets {
					ans.Chain = append(ans.Chain, trimDot(t))
				}
				ans.Addrs = addrs
				return ans, nil
			}
			if len(targets) > 0 {
				for _, t := range targets {
					ans.Chain = append(ans.Chain, trimDot(t))
				}
				next = targets[len(targets)-1]
				break
			}
		}
		if next == "" {
			return ans, fmt.Errorf("resolving %s via %s: %w", trimDot(name), server, ErrNoAddress)
		}
		if seen[next] {
			return ans, fmt.Errorf("resolving %s via %s: CNAME loop at %s", host, server, trimDot(next))
		}
		seen[next] = true
		name = next
	}
	return ans, fmt.Errorf("resolving %s via %s: CNAME chain longer than %d", host, server, maxChain)
}

func exchange(ctx context.Context, server, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	msg, err := dnsquery.Exchange(ctx, server, name, qtype, timeout)
	if err != nil {
		return nil, fmt.Errorf("querying %s %s via %s: %w", trimDot(name), dns.TypeToString[qtype], server, err)
	}
	switch msg.Rcode {
	case dns.RcodeSuccess:
		return msg, nil
	case dns.RcodeNameError:
		return nil, fmt.Errorf("querying %s via %s: NXDOMAIN", trimDot(name), server)
	default:
		return nil, fmt.Errorf("querying %s via %s: %s", trimDot(name), server, dns.RcodeToString[msg.Rcode])
	}
}

// walk follows the CNAME records of msg from name. It returns the targets
// passed through (the last one is the name the addresses belong to) and that
// name's addresses.
func walk(msg *dns.Msg, name string) (targets, addrs []string) {
	cur := name
	for len(targets) < maxChain {
		moved := false
		for _, rr := range msg.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, cur) {
				cur = strings.ToLower(c.Target)
				targets = append(targets, cur)
				moved = true
				break
			}
		}
		if !moved {
			break
		}
	}
	for _, rr := range msg.Answer {
		if !strings.EqualFold(rr.Header().Name, cur) {
			continue
		}
		switch a := rr.(type) {
		case *dns.A:
			addrs = append(addrs, a.A.String())
		case *dns.AAAA:
			addrs = append(addrs, a.AAAA.String())
		}
	}
	return targets, addrs
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// WithPort adds port 53 to a resolver address written without one.
func WithPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), "53")
}
