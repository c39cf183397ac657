package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/cutover/cutover/internal/dns"
	"github.com/cutover/cutover/internal/dnsquery"
	"github.com/cutover/cutover/internal/gate/probe"
)

func withPort(addr string) string { return probe.WithPort(addr) }

// zone checks that the plan's zone really serves the hostname: the name
// lies inside it, no other zone of the account shadows it, and the parent
// delegates to the zone's own name servers.
func (c *checker) zone(ctx context.Context) {
	if c.w.Zones == nil {
		c.add(CheckZoneContains, Warn, "no Route 53 reader for zone "+c.in.Plan.Zone.ID, "zone not checked (a zone on an RFC 2136 server is not in the account)")
		return
	}
	zones, err := c.w.Zones.HostedZones(ctx)
	if err != nil {
		c.add(CheckZoneContains, Fail, "route53 ListHostedZones: "+err.Error(), "")
		return
	}
	var self *HostedZone
	for i := range zones {
		if strings.EqualFold(zones[i].ID, c.in.Plan.Zone.ID) {
			self = &zones[i]
		}
	}
	if self == nil {
		c.add(CheckZoneContains, Fail, "route53 ListHostedZones: no zone "+c.in.Plan.Zone.ID, "the plan's zone is not in this account")
		return
	}
	ev := fmt.Sprintf("route53 ListHostedZones: %s is %s", self.ID, self.Name)
	if !inZone(c.host, self.Name) {
		c.add(CheckZoneContains, Fail, ev, c.in.Plan.Hostname+" is not inside the zone")
		return
	}
	c.add(CheckZoneContains, Pass, ev, "")
	c.shadow(zones, *self)
	c.delegation(ctx, zones, *self)
}

// shadow fails when a more specific public zone of the account contains
// the hostname (once delegated, it answers instead), and warns of another
// zone with the same name (which one answers is the delegation's choice).
func (c *checker) shadow(zones []HostedZone, self HostedZone) {
	var deeper, twins []string
	for _, z := range zones {
		if z.ID == self.ID || z.Private != self.Private || !inZone(c.host, z.Name) {
			continue
		}
		switch {
		case len(z.Name) > len(self.Name):
			deeper = append(deeper, z.ID+" ("+z.Name+")")
		case z.Name == self.Name:
			twins = append(twins, z.ID+" ("+z.Name+")")
		}
	}
	ev := "route53 ListHostedZones: "
	switch {
	case len(deeper) > 0:
		c.add(CheckZoneShadow, Fail, ev+"more specific zones "+strings.Join(deeper, ", "), "a more specific zone answers for "+c.in.Plan.Hostname+" once delegated: changes to "+self.ID+" would not be seen")
	case len(twins) > 0:
		c.add(CheckZoneShadow, Warn, ev+"zones of the same name "+strings.Join(twins, ", "), "only the delegated one answers: see "+CheckZoneDelegation)
	default:
		c.add(CheckZoneShadow, Pass, ev+"no other zone contains "+c.in.Plan.Hostname, "")
	}
}

// delegation compares the zone's NS set with the parent's delegation:
// read from the parent zone when the account holds it, and over the wire
// from the resolver when one is given.
func (c *checker) delegation(ctx context.Context, zones []HostedZone, self HostedZone) {
	apex, err := c.w.Zones.Records(ctx, self.ID, self.Name)
	if err != nil {
		c.add(CheckZoneDelegation, Fail, fmt.Sprintf("route53 ListResourceRecordSets %s name=%s: %s", self.ID, self.Name, err), "")
		return
	}
	var own []string
	for _, r := range apex {
		if r.Type == "NS" && r.SetIdentifier == "" {
			own = sortedNS(r.Values)
		}
	}
	ownEv := fmt.Sprintf("route53 %s NS %s", self.Name, strings.Join(own, " "))
	var parent *HostedZone
	for i, z := range zones {
		if z.Private == self.Private && z.Name != self.Name && inZone(self.Name, z.Name) && (parent == nil || len(z.Name) > len(parent.Name)) {
			parent = &zones[i]
		}
	}
	if parent != nil {
		recs, err := c.w.Zones.Records(ctx, parent.ID, self.Name)
		if err != nil {
			c.add(CheckZoneDelegation, Warn, fmt.Sprintf("route53 ListResourceRecordSets %s name=%s: %s", parent.ID, self.Name, err), "")
			return
		}
		var del []string
		for _, r := range recs {
			if r.Type == "NS" {
				del = sortedNS(r.Values)
			}
		}
		ev := fmt.Sprintf("%s; parent zone %s (%s) delegates with NS %s", ownEv, parent.ID, parent.Name, orNone(del))
		c.compareNS(ev, own, del)
		return
	}
	if c.o.Resolver == "" {
		c.add(CheckZoneDelegation, Warn, ownEv+"; the parent zone is not in this account and no resolver was given", "delegation not checked: pass --resolver to ask over the wire")
		return
	}
	msg, err := dnsquery.Exchange(ctx, c.o.Resolver, self.Name, mdns.TypeNS, c.o.Timeout)
	if err != nil {
		c.add(CheckZoneDelegation, Warn, fmt.Sprintf("%s; dns %s NS? via %s: %s", ownEv, self.Name, c.o.Resolver, err), "the delegation is not resolvable from here")
		return
	}
	var got []string
	for _, rr := range append(msg.Answer, msg.Ns...) {
		if ns, ok := rr.(*mdns.NS); ok && strings.EqualFold(ns.Hdr.Name, self.Name) {
			got = append(got, ns.Ns)
		}
	}
	got = sortedNS(got)
	ev := fmt.Sprintf("%s; dns %s NS? via %s: %s %s", ownEv, self.Name, c.o.Resolver, mdns.RcodeToString[msg.Rcode], orNone(got))
	if len(got) == 0 {
		c.add(CheckZoneDelegation, Warn, ev, "the delegation is not resolvable from here")
		return
	}
	c.compareNS(ev, own, got)
}

func (c *checker) compareNS(ev string, own, del []string) {
	switch {
	case len(del) == 0:
		c.add(CheckZoneDelegation, Fail, ev, "the parent does not delegate to this zone: nothing it serves reaches resolvers")
	case strings.Join(own, " ") != strings.Join(del, " "):
		c.add(CheckZoneDelegation, Fail, ev, "the delegation names other name servers than this zone's: resolvers ask a different zone, and the run's changes would not be seen")
	default:
		c.add(CheckZoneDelegation, Pass, ev, "")
	}
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return strings.Join(xs, " ")
}

// inZone reports whether name (an FQDN) is zone or below it.
func inZone(name, zone string) bool {
	name, zone = strings.ToLower(dns.Fqdn(name)), strings.ToLower(dns.Fqdn(zone))
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// marker fetches the plan's verify path from the new edge itself, with the
// hostname as Host and SNI, before DNS sends anyone there.
func (c *checker) marker(ctx context.Context) {
	v := c.in.Plan.Verify
	if v == nil || v.Expect.New == "" {
		c.add(CheckMarker, Warn, "the plan has no verify block", "the new edge's answer is not checked before the move")
		return
	}
	if c.toLacksAlias {
		c.add(CheckMarker, Warn, "distribution "+c.in.Plan.To.Value+" does not carry "+c.in.Plan.Hostname+" yet",
			"CloudFront routes by Host: the new distribution answers for the hostname only once the run moves the alias; the run's verify step checks it then")
		return
	}
	edgeName := c.in.To.DNSName
	addrs, how, err := c.edgeAddrs(ctx, edgeName)
	if err != nil {
		c.add(CheckMarker, Fail, fmt.Sprintf("resolving %s%s: %s", edgeName, how, err), "the new edge cannot be reached")
		return
	}
	addr := net.JoinHostPort(addrs[0], strconv.Itoa(c.o.Port))
	u := url.URL{Scheme: c.o.Scheme, Host: c.in.Plan.Hostname, Path: v.Path}
	if (c.o.Scheme == "https" && c.o.Port != 443) || (c.o.Scheme == "http" && c.o.Port != 80) {
		u.Host = net.JoinHostPort(c.in.Plan.Hostname, strconv.Itoa(c.o.Port))
	}
	ev := fmt.Sprintf("GET %s via %s (%s%s): ", u.String(), addr, edgeName, how)
	client := probe.NewClient(probe.ClientOptions{Connect: addr, RootCAs: c.o.RootCAs, Timeout: c.o.Timeout})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		c.add(CheckMarker, Fail, ev+err.Error(), "")
		return
	}
	req.Header.Set("User-Agent", "cutover-preflight")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.add(CheckMarker, Fail, ev+err.Error(), "the new edge does not answer for "+c.in.Plan.Hostname)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	got := fmt.Sprintf("status %d", resp.StatusCode)
	var ok bool
	if v.Header != "" {
		hv := resp.Header.Get(v.Header)
		got += fmt.Sprintf(", header %s=%q", v.Header, hv)
		ok = strings.TrimSpace(hv) == v.Expect.New
	} else {
		ok = strings.Contains(string(body), v.Expect.New)
		got += ", body " + quoteShort(string(body))
	}
	if ok && resp.StatusCode < 400 {
		c.add(CheckMarker, Pass, ev+got, "the new edge answers with the marker "+v.Expect.New)
		return
	}
	c.add(CheckMarker, Fail, ev+got, "want the marker "+v.Expect.New+": the new edge does not serve the hostname's marker yet")
}

// edgeAddrs resolves the new edge's DNS name, through the resolver when
// one is set, else the system's.
func (c *checker) edgeAddrs(ctx context.Context, name string) ([]string, string, error) {
	if c.o.Resolver != "" {
		ans, err := probe.Lookup(ctx, c.o.Resolver, name, c.o.Timeout)
		if err != nil {
			return nil, " via " + c.o.Resolver, err
		}
		return ans.Addrs, " via " + c.o.Resolver, nil
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err == nil && len(addrs) == 0 {
		err = probe.ErrNoAddress
	}
	return addrs, "", err
}

func quoteShort(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strconv.Quote(s)
}
