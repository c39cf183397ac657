package route53

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cutover/cutover/internal/dns"
)

// bareID strips the "/hostedzone/" or "/change/" prefix Route 53 puts on
// the ids it returns, so either form can be passed in and one form is
// logged.
func bareID(id string) string {
	id = strings.TrimSpace(id)
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// unescapeName decodes Route 53's \NNN octal escapes. Listing returns a
// wildcard label as \052 and any other character outside [a-z0-9-_.] the
// same way; cutover compares names in their plain form.
func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// fromSDK normalises a listed record set. Routing fields dns.RecordSet does
// not model (latency region, geolocation, multivalue, CIDR) are dropped;
// see the package tests for what that means for deletes.
func fromSDK(rr types.ResourceRecordSet) dns.RecordSet {
	r := dns.RecordSet{
		Name:          dns.Fqdn(unescapeName(aws.ToString(rr.Name))),
		Type:          string(rr.Type),
		SetIdentifier: aws.ToString(rr.SetIdentifier),
		Weight:        rr.Weight,
		Failover:      string(rr.Failover),
		TTL:           aws.ToInt64(rr.TTL),
		HealthCheckID: aws.ToString(rr.HealthCheckId),
	}
	for _, v := range rr.ResourceRecords {
		r.Values = append(r.Values, aws.ToString(v.Value))
	}
	if at := rr.AliasTarget; at != nil {
		r.Alias = &dns.AliasTarget{
			ZoneID:               aws.ToString(at.HostedZoneId),
			DNSName:              dns.Fqdn(aws.ToString(at.DNSName)),
			EvaluateTargetHealth: at.EvaluateTargetHealth,
		}
	}
	return r
}

// toSDK renders r for a change batch. An alias carries no TTL and no
// values (Route 53 rejects the mix); a value set always carries its TTL,
// even 0, because omitting it is also rejected.
func toSDK(r dns.RecordSet) *types.ResourceRecordSet {
	rr := &types.ResourceRecordSet{
		Name: aws.String(dns.Fqdn(r.Name)),
		Type: types.RRType(r.Type),
	}
	if r.SetIdentifier != "" {
		rr.SetIdentifier = aws.String(r.SetIdentifier)
	}
	if r.Weight != nil {
		rr.Weight = aws.Int64(*r.Weight)
	}
	if r.Failover != "" {
		rr.Failover = types.ResourceRecordSetFailover(r.Failover)
	}
	if r.HealthCheckID != "" {
		rr.HealthCheckId = aws.String(r.HealthCheckID)
	}
	if r.Alias != nil {
		rr.AliasTarget = &types.AliasTarget{
			HostedZoneId:         aws.String(r.Alias.ZoneID),
			DNSName:              aws.String(dns.Fqdn(r.Alias.DNSName)),
			EvaluateTargetHealth: r.Alias.EvaluateTargetHealth,
		}
		return rr
	}
	rr.TTL = aws.Int64(r.TTL)
	for _, v := range r.Values {
		rr.ResourceRecords = append(rr.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return rr
}
