package edgesim

import (
	"net"
	"strings"

	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/elbv2"
)

// normHost lowercases a Host header or SNI name and drops a port and a
// trailing dot.
func normHost(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// wildcardCovers reports whether the alias "*.suffix" covers host.
// CloudFront's wildcard alternate domain names match names at any depth
// below the suffix (docs: "*.example.com" also routes
// "marketing.product.example.com"), unlike a certificate wildcard.
func wildcardCovers(alias, host string) bool {
	suffix, ok := strings.CutPrefix(alias, "*")
	return ok && strings.HasPrefix(suffix, ".") && len(host) > len(suffix) && strings.HasSuffix(host, suffix)
}

// match picks the distribution answering host among views, CloudFront's
// way: the exact alternate domain name, else the most specific (longest)
// covering wildcard, else the distribution's own *.cloudfront.net name.
// Staging distributions are never matched. When two views both hold the
// same exact alias (an edge that has applied one side of a move and not
// the other) the one created first wins; AWS says either may answer.
func match(views []*cloudfront.View, host string) *cloudfront.View {
	var best *cloudfront.View
	bestLen := -1
	for _, v := range views {
		if v.Staging {
			continue
		}
		for _, a := range v.Aliases {
			if a == host {
				return v
			}
			if wildcardCovers(a, host) && len(a) > bestLen {
				best, bestLen = v, len(a)
			}
		}
	}
	if best != nil {
		return best
	}
	for _, v := range views {
		if !v.Staging && v.DomainName == host {
			return v
		}
	}
	return nil
}

func findView(views []*cloudfront.View, id string) *cloudfront.View {
	for _, v := range views {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func findLB(lbs []elbv2.LB, host string) *elbv2.LB {
	for i := range lbs {
		if normHost(lbs[i].DNSName) == host || "dualstack."+normHost(lbs[i].DNSName) == host {
			return &lbs[i]
		}
	}
	return nil
}

func findLBByARN(lbs []elbv2.LB, arn string) *elbv2.LB {
	for i := range lbs {
		if lbs[i].ARN == arn {
			return &lbs[i]
		}
	}
	return nil
}

// certNames is what the edge certificate of a distribution covers: its
// aliases, its ACM certificate's domains and its own domain name.
func (s *Sim) certNames(v *cloudfront.View) []string {
	names := append([]string{}, v.Aliases...)
	if v.CertificateArn != "" && s.opts.Certificates != nil {
		if info, ok := s.opts.Certificates.Certificate(v.CertificateArn); ok {
			names = append(names, info.Domains...)
		}
	}
	return append(names, v.DomainName)
}
