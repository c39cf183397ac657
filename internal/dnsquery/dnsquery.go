// Package dnsquery is the one way cutover asks a DNS server a question: a
// recursive query over UDP, repeated over TCP when the UDP answer comes back
// truncated, as a stub resolver would. The gate's probe, the verifier's
// authoritative checks and the lab's load clients all ask through it.
package dnsquery

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds each exchange when Exchange is given none.
const DefaultTimeout = 2 * time.Second

// Exchange asks server (host:port) for name's qtype records with recursion
// desired, over UDP and then, when the answer is truncated, over TCP.
// timeout bounds each exchange (DefaultTimeout when not positive). Any
// Rcode is returned as a message for the caller to judge; the error is the
// transport's, for the caller to wrap with what it was asking.
func Exchange(ctx context.Context, server, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.RecursionDesired = true
	c := &dns.Client{Net: "udp", Timeout: timeout}
	msg, _, err := c.ExchangeContext(ctx, q, server)
	if err != nil {
		return nil, err
	}
	if !msg.Truncated {
		return msg, nil
	}
	c.Net = "tcp"
	msg, _, err = c.ExchangeContext(ctx, q, server)
	if err != nil {
		return nil, fmt.Errorf("retrying over TCP after a truncated answer: %w", err)
	}
	return msg, nil
}
