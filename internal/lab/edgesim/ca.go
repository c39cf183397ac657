package edgesim

import (
	"crypto/tls"
)

// defaultName is CloudFront's default certificate name.
const defaultName = "*.cloudfront.net"

// certificateFor picks the certificate an edge presents for an SNI name:
// the distribution matched like a request (exact alias, wildcard, own
// name) on that edge's configuration, else a load balancer's name, else
// CloudFront's default *.cloudfront.net certificate (which then fails the
// client's name check, as with CloudFront). A load balancer's own address
// presents a certificate for whatever name was asked: the lab does not
// model ALB listener certificates.
func (s *Sim) certificateFor(w where, sni string) (*tls.Certificate, error) {
	host := normHost(sni)
	if w.lb != "" {
		if host == "" {
			s.mu.Lock()
			if lb := findLBByARN(s.lbs, w.lb); lb != nil {
				host = normHost(lb.DNSName)
			}
			s.mu.Unlock()
		}
		if host == "" {
			host = "elb.amazonaws.com"
		}
		return s.ca.Leaf(host)
	}
	now := s.opts.Clock.Now()
	s.mu.Lock()
	v := match(s.viewsLocked(w.edge, now), host)
	var names []string
	if v == nil && host != "" && findLB(s.lbs, host) != nil {
		names = []string{host}
	}
	s.mu.Unlock()
	if v != nil {
		names = s.certNames(v)
	}
	if names == nil {
		names = []string{defaultName}
	}
	return s.ca.Leaf(names...)
}
