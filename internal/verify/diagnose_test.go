package verify_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/gate/probe/probetest"
	"github.com/cutover/cutover/internal/verify"
)

// fakeCF answers the two reads the diagnosis makes.
type fakeCF struct {
	dists     []types.DistributionSummary
	conflicts []types.ConflictingAlias
	confErr   error
	asked     []string // DistributionId|Alias of each ListConflictingAliases
}

func (f *fakeCF) ListDistributions(_ context.Context, in *cloudfront.ListDistributionsInput, _ ...func(*cloudfront.Options)) (*cloudfront.ListDistributionsOutput, error) {
	// Two pages, to prove the marker is followed.
	if in.Marker == nil && len(f.dists) > 1 {
		return &cloudfront.ListDistributionsOutput{DistributionList: &types.DistributionList{Items: f.dists[:1], IsTruncated: aws.Bool(true), NextMarker: aws.String("p2")}}, nil
	}
	items := f.dists
	if in.Marker != nil {
		items = f.dists[1:]
	}
	return &cloudfront.ListDistributionsOutput{DistributionList: &types.DistributionList{Items: items, IsTruncated: aws.Bool(false)}}, nil
}

func (f *fakeCF) ListConflictingAliases(_ context.Context, in *cloudfront.ListConflictingAliasesInput, _ ...func(*cloudfront.Options)) (*cloudfront.ListConflictingAliasesOutput, error) {
	f.asked = append(f.asked, aws.ToString(in.DistributionId)+"|"+aws.ToString(in.Alias))
	if f.confErr != nil {
		return nil, f.confErr
	}
	return &cloudfront.ListConflictingAliasesOutput{ConflictingAliasesList: &types.ConflictingAliasesList{Items: f.conflicts, Quantity: aws.Int32(int32(len(f.conflicts)))}}, nil
}

func dist(id, domain, status string, aliases ...string) types.DistributionSummary {
	return types.DistributionSummary{Id: aws.String(id), DomainName: aws.String(domain), Status: aws.String(status), Aliases: &types.Aliases{Items: aliases, Quantity: aws.Int32(int32(len(aliases)))}}
}

func conflict(alias, id, account string) types.ConflictingAlias {
	return types.ConflictingAlias{Alias: aws.String(alias), DistributionId: aws.String(id), AccountId: aws.String(account)}
}

func TestDiagnoseAliasOnOldDistributionSameAccount(t *testing.T) {
	f := &fakeCF{
		dists:     []types.DistributionSummary{dist("EOLD", "d1.cloudfront.net", "Deployed", "cdn.example.com"), dist("ENEW", "d2.cloudfront.net", "Deployed", "cdn-new.example.com")},
		conflicts: []types.ConflictingAlias{conflict("*.example.com", "EWILD", "111111111111"), conflict("cdn.example.com", "EOLD", "111111111111")},
	}
	dg := verify.NewDiagnoser(f).Diagnose(context.Background(), "CDN.example.com.", "", []string{"d2.cloudfront.net"})
	if dg.Target != "ENEW" || dg.TargetDomain != "d2.cloudfront.net" || strings.Join(f.asked, ",") != "ENEW|cdn.example.com" {
		t.Fatalf("target %q (%q), asked %v", dg.Target, dg.TargetDomain, f.asked)
	}
	if len(dg.Holders) != 2 || dg.Holders[0].DistributionID != "EOLD" {
		t.Errorf("holders %+v: the exact alias must come first", dg.Holders)
	}
	want := "alias cdn.example.com is still attached to distribution EOLD (account 111111111111), not to ENEW which DNS points at; CloudFront routes by Host/SNI, not by DNS"
	if len(dg.Findings) != 2 || dg.Findings[0] != want || !strings.Contains(dg.Findings[1], "AssociateAlias cdn.example.com to ENEW") {
		t.Errorf("findings %q", dg.Findings)
	}
	var buf bytes.Buffer
	if err := dg.WriteText(&buf); err != nil || !strings.HasPrefix(buf.String(), "why: "+want+"\n") {
		t.Errorf("text %q", buf.String())
	}
}

func TestDiagnoseFindings(t *testing.T) {
	cases := []struct {
		name    string
		f       *fakeCF
		target  string
		domains []string
		want    []string
		errs    string
	}{
		{
			name: "wildcard of another account",
			f: &fakeCF{dists: []types.DistributionSummary{dist("ENEW", "d2.cloudfront.net", "Deployed")},
				conflicts: []types.ConflictingAlias{conflict("*.example.com", "******WILD123", "********2222")}},
			domains: []string{"d2.cloudfront.net"},
			want:    []string{"no distribution holds cdn.example.com exactly, but wildcard *.example.com on distribution ******WILD123 (account ********2222) covers it, not ENEW which DNS points at"},
		},
		{
			name: "exact alias of another account",
			f: &fakeCF{dists: []types.DistributionSummary{dist("ENEW", "d2.cloudfront.net", "Deployed")},
				conflicts: []types.ConflictingAlias{conflict("cdn.example.com", "******OLD4567", "********2222")}},
			target: "ENEW",
			want:   []string{"still attached to distribution ******OLD4567 (account ********2222)", "belongs to another account"},
		},
		{
			name: "alias on the target, still deploying",
			f: &fakeCF{dists: []types.DistributionSummary{dist("ENEW", "d2.cloudfront.net", "InProgress", "cdn.example.com")},
				conflicts: []types.ConflictingAlias{conflict("cdn.example.com", "ENEW", "111111111111")}},
			domains: []string{"d2.cloudfront.net"},
			want:    []string{"alias cdn.example.com is attached to ENEW, which DNS points at; its configuration is InProgress"},
		},
		{
			name:    "nobody holds it",
			f:       &fakeCF{dists: []types.DistributionSummary{dist("ENEW", "d2.cloudfront.net", "Deployed")}},
			domains: []string{"d2.cloudfront.net"},
			want:    []string{"no distribution holds alias cdn.example.com: CloudFront answers it with 403"},
		},
		{
			name: "conflicts unreadable: own distributions searched",
			f: &fakeCF{dists: []types.DistributionSummary{dist("EOLD", "d1.cloudfront.net", "Deployed", "cdn.example.com"), dist("ENEW", "d2.cloudfront.net", "Deployed")},
				confErr: errors.New("InvalidArgument: The distribution ENEW does not have a valid certificate that covers the alias cdn.example.com.")},
			domains: []string{"d2.cloudfront.net"},
			want:    []string{"still attached to distribution EOLD, not to ENEW"},
			errs:    "ListConflictingAliases: InvalidArgument",
		},
		{
			name:    "DNS leads to a distribution of another account",
			f:       &fakeCF{dists: []types.DistributionSummary{dist("EOLD", "d1.cloudfront.net", "Deployed", "cdn.example.com")}},
			domains: []string{"d9.cloudfront.net"},
			want:    []string{"DNS leads to d9.cloudfront.net, which is not a distribution of this account"},
		},
		{
			name: "no CloudFront in the chain",
			f:    &fakeCF{},
			want: []string{"does not lead to a CloudFront distribution"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dg := verify.NewDiagnoser(c.f).Diagnose(context.Background(), "cdn.example.com", c.target, c.domains)
			all := strings.Join(dg.Findings, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("findings %q lack %q", dg.Findings, w)
				}
			}
			if errs := strings.Join(dg.Errors, "\n"); (c.errs == "") != (errs == "") || !strings.Contains(errs, c.errs) {
				t.Errorf("errors %q, want %q", dg.Errors, c.errs)
			}
		})
	}
}

func TestCloudFrontDomains(t *testing.T) {
	m := &verify.Matrix{Resolvers: []verify.ResolverResult{
		{Chains: [][]string{{"a.example.com", "D2.cloudfront.net"}, {"a.example.com", "alb.elb.amazonaws.com"}}},
		{Chains: [][]string{{"a.example.com", "d1.cloudfront.net"}, {"a.example.com", "d2.cloudfront.net."}}},
	}}
	if got := strings.Join(verify.CloudFrontDomains(m), ","); got != "d2.cloudfront.net,d1.cloudfront.net" {
		t.Errorf("domains %q", got)
	}
}

// fakeRecursive is a resolver that still holds an old answer for the
// hostname, and knows the zone's name server.
type fakeRecursive struct {
	a map[string][]string // name → addresses
	c map[string]string   // name → CNAME target
}

func (f fakeRecursive) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	switch q.Qtype {
	case dns.TypeNS:
		if name == "example.com." {
			m.Answer = append(m.Answer, &dns.NS{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60}, Ns: "ns1.example.net."})
		}
	case dns.TypeA:
		for {
			if t, ok := f.c[name]; ok {
				m.Answer = append(m.Answer, &dns.CNAME{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: t})
				name = t
				continue
			}
			break
		}
		for _, a := range f.a[name] {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(a)})
		}
	}
	_ = w.WriteMsg(m)
}

func startDNS(t *testing.T, h dns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// TestAuthoritativeBypassesCache: a resolver still caches the old answer;
// the zone's name server, asked directly, already says new. Its CNAME
// leaves the zone and is followed through the resolver.
func TestAuthoritativeBypassesCache(t *testing.T) {
	w := newWorld(t)
	auth := probetest.NewDNS(t)
	auth.Set(host, probetest.Choice{CNAME: "new.cdn.test"})
	auth.CNAMEOnly(host)
	_, port, _ := net.SplitHostPort(auth.Addr)
	rec := startDNS(t, fakeRecursive{
		a: map[string][]string{"ns1.example.net.": {"127.0.0.1"}, "old.cdn.test.": {w.edges[0].IP}, "new.cdn.test.": {w.edges[1].IP}},
		c: map[string]string{host + ".": "old.cdn.test."},
	})
	p, _ := strconv.Atoi(port)
	v := w.verifier(func(o *verify.Options) { o.Resolvers = []string{rec}; o.Authoritative = true; o.AuthoritativePort = p })
	m := v.Check(context.Background(), host, "/ruok", 2, "new")
	if len(m.Resolvers) != 2 {
		t.Fatalf("resolvers %+v: %s", m.Resolvers, m.Summary)
	}
	a := m.Resolvers[1]
	if a.Name != "auth:ns1.example.net@"+auth.Addr || a.Queries != 2 {
		t.Fatalf("authoritative row %+v", a)
	}
	if got := strings.Join(a.Chains[0], " "); got != host+" new.cdn.test" {
		t.Errorf("authoritative chain %q", got)
	}
	sides := map[string]string{}
	for _, c := range m.Cells {
		sides[c.Resolver] = c.Side
	}
	if sides[rec] != "old" || sides[a.Name] != "new" || m.OK {
		t.Errorf("sides %v OK %v: the cache says old, the zone says new", sides, m.OK)
	}

	// Without a zone above the name the discovery fails visibly.
	v = w.verifier(func(o *verify.Options) { o.Resolvers = []string{rec}; o.Authoritative = true })
	if m := v.Check(context.Background(), "nothing.invalid", "/ruok", 1, "new"); m.OK || !strings.Contains(m.Summary, "finding the authoritative servers of nothing.invalid") {
		t.Errorf("summary %q", m.Summary)
	}
}

func TestTLSOutcomeInMatrix(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{CNAME: "old.cdn.test"})
	m := w.verifier(func(o *verify.Options) { o.Resolvers = o.Resolvers[:1] }).Check(context.Background(), host, "/ruok", 1, "old")
	if !m.OK || m.Cells[0].TLS != "TLS 1.3" {
		t.Fatalf("cells %+v", m.Cells)
	}
	var buf bytes.Buffer
	_ = m.WriteText(&buf)
	if !strings.Contains(buf.String(), " TLS1.3 ") {
		t.Errorf("text lacks the TLS column:\n%s", buf.String())
	}
	other := probetest.NewCA(t)
	m = w.verifier(func(o *verify.Options) {
		o.Resolvers = o.Resolvers[:1]
		o.RootCAs = other.Pool
		o.Timeout = time.Second
	}).Check(context.Background(), host, "/ruok", 1, "old")
	if m.OK || m.Cells[0].TLS != verify.TLSFailed || m.Cells[0].Side != "error" {
		t.Errorf("untrusted: %+v", m.Cells)
	}
}
