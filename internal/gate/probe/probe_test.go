package probe_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/gate/probe/probetest"
	"github.com/cutover/cutover/internal/plan"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

const host = "api.example.com"

// marker answers with its name as body and in X-Edge, or with status code
// when non-zero.
func marker(name string, status int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, _, _ := net.SplitHostPort(r.Host); h != host {
			http.Error(w, "unknown host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		w.Header().Set("X-Edge", name)
		if status != 0 {
			w.WriteHeader(status)
		}
		fmt.Fprintf(w, "served by %s\n", name)
	})
}

func url(port int, path string) string {
	return "https://" + host + ":" + strconv.Itoa(port) + path
}

func TestProbeThroughChosenEdgeSendsRealHostAndSNI(t *testing.T) {
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{host}, marker("old", 0), marker("new", 0))
	g := probe.New(plan.ProbeGate{URL: url(port, "/health"), BodyContains: "new", Header: map[string]string{"X-Edge": "new"}},
		probe.Options{Connect: edges[1].Addr, RootCAs: ca.Pool})
	m := g.Measure(context.Background(), t0)
	if m.Phase != gate.Successful || m.Value != 200 || !m.At.Equal(t0) {
		t.Fatalf("measurement = %+v, want Successful 200 at t0", m)
	}
	if got := edges[1].ServerNames(); len(got) != 1 || got[0] != host {
		t.Fatalf("new edge saw SNI %q, want [%s]", got, host)
	}
	if got := edges[0].ServerNames(); len(got) != 0 {
		t.Fatalf("old edge was contacted: %q", got)
	}

	// The same expectation through the old edge fails on body and header.
	m = probe.New(plan.ProbeGate{URL: url(port, "/health"), BodyContains: "new", Header: map[string]string{"X-Edge": "new"}},
		probe.Options{Connect: edges[0].Addr, RootCAs: ca.Pool}).Measure(context.Background(), t0)
	want := `body does not contain "new"; header X-Edge = "old", want "new"`
	if m.Phase != gate.Failed || m.Detail != want {
		t.Fatalf("measurement = %+v, want Failed with %q", m, want)
	}
}

func TestProbeStatus(t *testing.T) {
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{host}, marker("e", http.StatusServiceUnavailable), marker("e", http.StatusNoContent))
	cases := []struct {
		edge   int
		expect []int
		phase  gate.Phase
		value  float64
		detail string
	}{
		{0, nil, gate.Failed, 503, "status 503, want 200"},
		{0, []int{200, 503}, gate.Successful, 503, ""},
		{1, nil, gate.Failed, 204, "status 204, want 200"},
		{1, []int{200, 204}, gate.Successful, 204, ""},
	}
	for _, c := range cases {
		m := probe.New(plan.ProbeGate{URL: url(port, "/"), ExpectStatus: c.expect}, probe.Options{Connect: edges[c.edge].Addr, RootCAs: ca.Pool}).
			Measure(context.Background(), t0)
		if m.Phase != c.phase || m.Value != c.value || (c.detail != "" && m.Detail != c.detail) {
			t.Errorf("edge %d expect %v: got %+v, want %s %g %q", c.edge, c.expect, m, c.phase, c.value, c.detail)
		}
	}
}

func TestProbeMissingHeader(t *testing.T) {
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{host}, marker("old", 0))
	m := probe.New(plan.ProbeGate{URL: url(port, "/"), Header: map[string]string{"X-Version": "2"}}, probe.Options{Connect: edges[0].Addr, RootCAs: ca.Pool}).
		Measure(context.Background(), t0)
	if m.Phase != gate.Failed || m.Detail != `header X-Version missing, want "2"` {
		t.Fatalf("got %+v", m)
	}
}

func TestProbeErrors(t *testing.T) {
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{"other.example.com"}, marker("x", 0))
	// A certificate for another name: TLS error, not a failed check.
	m := probe.New(plan.ProbeGate{URL: url(port, "/")}, probe.Options{Connect: edges[0].Addr, RootCAs: ca.Pool}).Measure(context.Background(), t0)
	if m.Phase != gate.Error || !strings.Contains(m.Detail, "certificate") || m.Value != 0 {
		t.Fatalf("wrong-name certificate: got %+v, want Error naming the certificate", m)
	}
	// Without the lab CA the chain is untrusted.
	m = probe.New(plan.ProbeGate{URL: "https://other.example.com:" + strconv.Itoa(port) + "/"}, probe.Options{Connect: edges[0].Addr}).Measure(context.Background(), t0)
	if m.Phase != gate.Error || !strings.Contains(m.Detail, "certificate") {
		t.Fatalf("unknown CA: got %+v", m)
	}
	// Nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	m = probe.New(plan.ProbeGate{URL: url(port, "/")}, probe.Options{Connect: dead, RootCAs: ca.Pool}).Measure(context.Background(), t0)
	if m.Phase != gate.Error || !strings.Contains(m.Detail, "refused") {
		t.Fatalf("refused: got %+v", m)
	}
	// A URL that can never work is an Error measurement, not a panic.
	for _, u := range []string{"ftp://x/", "https:///nohost", "://"} {
		if m := probe.New(plan.ProbeGate{URL: u}, probe.Options{}).Measure(context.Background(), t0); m.Phase != gate.Error || m.Detail == "" {
			t.Errorf("url %q: got %+v, want Error", u, m)
		}
	}
}

func TestProbeTimeout(t *testing.T) {
	ca := probetest.NewCA(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	edges, port := probetest.Edges(t, ca, []string{host}, slow)
	start := time.Now()
	m := probe.New(plan.ProbeGate{URL: url(port, "/"), Timeout: plan.Duration(5 * time.Second)},
		probe.Options{Connect: edges[0].Addr, RootCAs: ca.Pool, Timeout: 200 * time.Millisecond}).Measure(context.Background(), t0)
	if m.Phase != gate.Error || time.Since(start) > 3*time.Second {
		t.Fatalf("got %+v after %s, want Error within the 200ms option", m, time.Since(start))
	}
}

func TestProbeThroughResolverFollowsDNS(t *testing.T) {
	ca := probetest.NewCA(t)
	edges, port := probetest.Edges(t, ca, []string{host}, marker("old", 0), marker("new", 0))
	d := probetest.NewDNS(t)
	d.Set(host, probetest.Choice{CNAME: "old.edge.test"})
	d.Set("old.edge.test", probetest.Choice{A: []string{edges[0].IP}})
	d.Set("new.edge.test", probetest.Choice{A: []string{edges[1].IP}})

	g := probe.New(plan.ProbeGate{URL: url(port, "/"), BodyContains: "new"}, probe.Options{Resolver: d.Addr, RootCAs: ca.Pool})
	if m := g.Measure(context.Background(), t0); m.Phase != gate.Failed {
		t.Fatalf("before the change: got %+v, want Failed (old edge)", m)
	}
	// Each measurement opens a new connection and resolves again, so the
	// DNS change is seen at the next measurement.
	d.Set(host, probetest.Choice{CNAME: "new.edge.test"})
	if m := g.Measure(context.Background(), t0); m.Phase != gate.Successful {
		t.Fatalf("after the change: got %+v, want Successful (new edge)", m)
	}
	if n := len(edges[1].ServerNames()); n != 1 {
		t.Fatalf("new edge saw %d handshakes, want 1", n)
	}
}

func TestLookup(t *testing.T) {
	d := probetest.NewDNS(t)
	d.Set("www.example.com", probetest.Choice{CNAME: "d111.cloudfront.test"})
	d.Set("d111.cloudfront.test", probetest.Choice{CNAME: "edge.cloudfront.test"})
	d.Set("edge.cloudfront.test", probetest.Choice{A: []string{"127.0.0.7", "127.0.0.8"}})
	d.Set("auth.example.com", probetest.Choice{CNAME: "elsewhere.test"})
	d.CNAMEOnly("auth.example.com")
	d.Set("elsewhere.test", probetest.Choice{A: []string{"127.0.0.9"}})
	d.Set("loop.test", probetest.Choice{CNAME: "loop2.test"})
	d.CNAMEOnly("loop.test")
	d.Set("loop2.test", probetest.Choice{CNAME: "loop.test"})
	d.CNAMEOnly("loop2.test")
	d.Set("empty.test", probetest.Choice{})

	ctx := context.Background()
	a, err := probe.Lookup(ctx, d.Addr, "WWW.example.com.", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Chain, ">"); got != "www.example.com>d111.cloudfront.test>edge.cloudfront.test" {
		t.Errorf("chain = %s", got)
	}
	if got := strings.Join(a.Addrs, ","); got != "127.0.0.7,127.0.0.8" {
		t.Errorf("addrs = %s", got)
	}

	// The server stops at the CNAME: Lookup asks again for the target.
	a, err = probe.Lookup(ctx, d.Addr, "auth.example.com", time.Second)
	if err != nil || strings.Join(a.Addrs, ",") != "127.0.0.9" || strings.Join(a.Chain, ">") != "auth.example.com>elsewhere.test" {
		t.Errorf("cname-only: %+v, %v", a, err)
	}

	if _, err := probe.Lookup(ctx, d.Addr, "missing.test", time.Second); err == nil || !strings.Contains(err.Error(), "NXDOMAIN") {
		t.Errorf("missing: err = %v, want NXDOMAIN", err)
	}
	if _, err := probe.Lookup(ctx, d.Addr, "loop.test", time.Second); err == nil || !strings.Contains(err.Error(), "loop") {
		t.Errorf("loop: err = %v, want a CNAME loop", err)
	}
	if _, err := probe.Lookup(ctx, d.Addr, "empty.test", time.Second); err == nil || !strings.Contains(err.Error(), "no address") {
		t.Errorf("empty: err = %v, want no address", err)
	}
}

func TestWithPort(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.2": "10.0.0.2:53", "10.0.0.2:5353": "10.0.0.2:5353", "::1": "[::1]:53", "[::1]:54": "[::1]:54", "dns.test": "dns.test:53"} {
		if got := probe.WithPort(in); got != want {
			t.Errorf("WithPort(%q) = %q, want %q", in, got, want)
		}
	}
}
