package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/gate/probe/probetest"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
	"github.com/cutover/cutover/internal/verify"
)

const host = "www.example.com"

// side answers /ruok with its marker in the body and X-Served-By, the way
// a marker object on each distribution's origin does, but only for the
// real hostname: an edge picks the site by Host and SNI.
func side(marker string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			h = r.Host
		}
		if h != host || r.TLS == nil || r.TLS.ServerName != host {
			http.Error(w, "no such site", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/ruok" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Served-By", marker)
		fmt.Fprintf(w, "imok %s\n", marker)
	})
}

type world struct {
	ca    *probetest.CA
	edges []*probetest.Edge // 0: old, 1 and 2: new (two addresses), 3: dead
	port  int
	a, b  *probetest.DNS
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{ca: probetest.NewCA(t)}
	w.edges, w.port = probetest.Edges(t, w.ca, []string{host}, side("blue"), side("green"), side("green"))
	w.a, w.b = probetest.NewDNS(t), probetest.NewDNS(t)
	for _, d := range []*probetest.DNS{w.a, w.b} {
		d.Set("old.cdn.test", probetest.Choice{A: []string{w.edges[0].IP}})
		d.Set("new.cdn.test", probetest.Choice{A: []string{w.edges[1].IP, w.edges[2].IP}})
	}
	return w
}

func (w *world) verifier(mut ...func(*verify.Options)) *verify.Verifier {
	o := verify.Options{
		Resolvers: []string{w.a.Addr, w.b.Addr},
		NewMarker: "green",
		OldMarker: "blue",
		RootCAs:   w.ca.Pool,
		Port:      w.port,
		Path:      "/ruok",
		Samples:   4,
		Timeout:   2 * time.Second,
	}
	for _, f := range mut {
		f(&o)
	}
	return verify.New(o)
}

var rb = &runbook.Runbook{Name: "www", Hostname: host + "."}

func TestVerifyAllNew(t *testing.T) {
	w := newWorld(t)
	for _, d := range []*probetest.DNS{w.a, w.b} {
		d.Set(host, probetest.Choice{CNAME: "new.cdn.test"})
	}
	v := w.verifier()
	res := v.Verify(context.Background(), rb, runbook.Verify{Expect: "new"})
	if !res.OK {
		t.Fatalf("not OK: %s", res.Detail)
	}
	if want := "4/4 paths new via 2 resolvers × 2 edges (new 100%)"; res.Detail != want {
		t.Errorf("detail %q, want %q", res.Detail, want)
	}
	if res.Shares["new"] != 1 || len(res.Shares) != 1 {
		t.Errorf("shares %v", res.Shares)
	}
	// The result carries the matrix, for the run's events and its report.
	if len(res.Cells) != 4 || res.Cells[0].Side != "new" || res.Cells[0].Status != 200 || res.Cells[0].Resolver != w.a.Addr {
		t.Errorf("cells %+v, want 2 resolvers × 2 edges, all new", res.Cells)
	}
	// The edges saw the real hostname as SNI; the old edge saw nothing.
	for _, e := range w.edges[1:3] {
		sni := e.ServerNames()
		if len(sni) != 4 || sni[0] != host {
			t.Errorf("edge %s: SNI %v, want 4× %s", e.IP, sni, host)
		}
	}
	if n := len(w.edges[0].ServerNames()); n != 0 {
		t.Errorf("old edge contacted %d times", n)
	}
	// Expecting old is a failure naming what answered.
	res = v.Verify(context.Background(), rb, runbook.Verify{Expect: "old"})
	if res.OK || !strings.Contains(res.Detail, "0/4 paths old") || !strings.Contains(res.Detail, "answered new 4/4") {
		t.Errorf("expect old: %+v", res)
	}
}

func TestVerifyOneResolverStillOld(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{CNAME: "new.cdn.test"})
	w.b.Set(host, probetest.Choice{CNAME: "old.cdn.test"}) // a resolver still holding the old answer
	m := w.verifier().Check(context.Background(), host, "", 0, "new")
	if m.OK {
		t.Fatalf("OK with a resolver on the old edge: %s", m.Summary)
	}
	if len(m.Cells) != 3 {
		t.Fatalf("%d cells, want 3: %+v", len(m.Cells), m.Cells)
	}
	old := m.Cells[2]
	if old.Resolver != w.b.Addr || old.Edge != w.edges[0].IP || old.Side != "old" || old.Status != 200 || old.Share != 1 {
		t.Errorf("old cell = %+v", old)
	}
	if math.Abs(m.Shares["new"]-0.5) > 1e-9 || math.Abs(m.Shares["old"]-0.5) > 1e-9 {
		t.Errorf("shares %v, want half and half", m.Shares)
	}
	if !strings.HasPrefix(m.Summary, "2/3 paths new via 2 resolvers × 3 edges") || !strings.Contains(m.Summary, w.edges[0].IP+" answered old 4/4") {
		t.Errorf("summary %q", m.Summary)
	}
}

func TestVerifyWeightedAnswersReportShares(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{Weight: 50, CNAME: "old.cdn.test"}, probetest.Choice{Weight: 50, CNAME: "new.cdn.test"})
	v := w.verifier(func(o *verify.Options) { o.Resolvers = o.Resolvers[:1]; o.Samples = 40 })
	m := v.Check(context.Background(), host, "/ruok", 0, "new")
	if m.OK {
		t.Fatalf("OK while half the answers lead to the old edge")
	}
	if len(m.Edges) != 3 {
		t.Fatalf("edges %+v, want all three reached across 40 samples", m.Edges)
	}
	// Each sample is a fresh query: the share follows the weights.
	if s := m.Shares["old"]; s < 0.15 || s > 0.85 {
		t.Errorf("old share %.2f, want about 0.5", s)
	}
	if math.Abs(m.Shares["old"]+m.Shares["new"]-1) > 1e-9 {
		t.Errorf("shares %v do not add up", m.Shares)
	}
	if got := len(m.Resolvers[0].Chains); got != 2 {
		t.Errorf("%d distinct CNAME chains, want 2: %v", got, m.Resolvers[0].Chains)
	}
	if got := w.a.Queries(); got < 40 {
		t.Errorf("%d DNS queries, want at least 40", got)
	}
}

func TestVerifyHeaderMarkerAndMissingOldMarker(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{CNAME: "old.cdn.test"})
	w.b.Set(host, probetest.Choice{CNAME: "old.cdn.test"})
	// Header mode: the exact value, not a substring of the body.
	m := w.verifier(func(o *verify.Options) { o.Header = "X-Served-By"; o.NewMarker = "blue"; o.OldMarker = "" }).
		Check(context.Background(), host, "/ruok", 2, "new")
	if !m.OK {
		t.Errorf("header blue as new: %s", m.Summary)
	}
	m = w.verifier(func(o *verify.Options) { o.Header = "X-Served-By"; o.NewMarker = "imok" }).
		Check(context.Background(), host, "/ruok", 2, "new")
	if m.OK || m.Edges[0].Side != "old" {
		t.Errorf("header mode matched the body: %+v", m.Edges)
	}
	// Without an old marker, anything that is not new counts as old...
	m = w.verifier(func(o *verify.Options) { o.OldMarker = "" }).Check(context.Background(), host, "/ruok", 2, "old")
	if !m.OK {
		t.Errorf("no old marker, expect old: %s", m.Summary)
	}
	// ...but with one, an answer carrying neither is unknown.
	m = w.verifier(func(o *verify.Options) { o.OldMarker = "red" }).Check(context.Background(), host, "/ruok", 2, "old")
	if m.OK || m.Edges[0].Side != "unknown" {
		t.Errorf("unknown answer: %+v", m.Edges)
	}
	// An error page is an error, never the old side.
	m = w.verifier(func(o *verify.Options) { o.OldMarker = "" }).Check(context.Background(), host, "/missing", 2, "old")
	if m.OK || m.Edges[0].Side != "error" || m.Edges[0].Error != "status 404" {
		t.Errorf("404: %+v", m.Edges)
	}
}

func TestVerifyErrors(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{A: []string{"127.0.0.250"}}) // nothing listens there
	m := w.verifier(func(o *verify.Options) { o.Resolvers = o.Resolvers[:1] }).Check(context.Background(), host, "", 2, "new")
	if m.OK || len(m.Cells) != 1 || m.Cells[0].Side != "error" || !strings.Contains(m.Cells[0].Error, "refused") {
		t.Fatalf("dead edge: %+v", m.Cells)
	}

	// b has no record: NXDOMAIN from one resolver fails the check even when
	// the other is fine.
	w.a.Set(host, probetest.Choice{CNAME: "new.cdn.test"})
	m = w.verifier().Check(context.Background(), host, "", 2, "new")
	if m.OK || !strings.Contains(m.Summary, "resolver "+w.b.Addr+": 2/2 queries failed") || !strings.Contains(m.Summary, "NXDOMAIN") {
		t.Fatalf("nxdomain: %s", m.Summary)
	}

	// A certificate that does not cover the hostname.
	other := probetest.NewCA(t)
	m = w.verifier(func(o *verify.Options) { o.RootCAs = other.Pool; o.Resolvers = o.Resolvers[:1] }).Check(context.Background(), host, "", 1, "new")
	if m.OK || !strings.Contains(m.Cells[0].Error, "certificate") {
		t.Fatalf("untrusted: %+v", m.Cells)
	}

	for name, v := range map[string]*verify.Verifier{
		"no marker":    w.verifier(func(o *verify.Options) { o.NewMarker = "" }),
		"no resolvers": w.verifier(func(o *verify.Options) { o.Resolvers = nil }),
	} {
		if m := v.Check(context.Background(), host, "", 1, "new"); m.OK || len(m.Problems) == 0 {
			t.Errorf("%s: %+v", name, m)
		}
	}
	if m := w.verifier().Check(context.Background(), host, "", 1, "sideways"); m.OK || !strings.Contains(m.Summary, "want new or old") {
		t.Errorf("bad expect: %s", m.Summary)
	}
}

func TestMatrixTextAndJSON(t *testing.T) {
	w := newWorld(t)
	w.a.Set(host, probetest.Choice{CNAME: "new.cdn.test"})
	w.b.Set(host, probetest.Choice{CNAME: "old.cdn.test"})
	m := w.verifier().Check(context.Background(), host, "/ruok", 2, "new")
	var buf bytes.Buffer
	if err := m.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if !strings.HasPrefix(lines[0], "FAIL www.example.com/ruok expect new: 2/3 paths new") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "RESOLVER") {
		t.Errorf("header line %q", lines[1])
	}
	rows := 0
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) == 8 && (f[0] == w.a.Addr || f[0] == w.b.Addr) {
			rows++
			if f[0] == w.b.Addr && (f[1] != w.edges[0].IP || f[2] != "100%" || f[3] != "old" || f[4] != "200") {
				t.Errorf("row %q", l)
			}
		}
	}
	if rows != 3 {
		t.Errorf("%d path rows, want 3:\n%s", rows, text)
	}
	if !strings.Contains(text, w.a.Addr+": www.example.com → new.cdn.test") {
		t.Errorf("no CNAME chain in:\n%s", text)
	}

	raw, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back verify.Matrix
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if back.OK || len(back.Cells) != 3 || back.Cells[2].Side != "old" || back.Summary != m.Summary || back.Shares["old"] != m.Shares["old"] {
		t.Errorf("JSON round trip lost data: %s", raw)
	}
	if !strings.Contains(string(raw), `"latency_ms"`) || !strings.Contains(string(raw), `"resolver"`) {
		t.Errorf("JSON names: %s", raw)
	}
}

func TestFromPlan(t *testing.T) {
	o := verify.FromPlan(&plan.Verify{Path: "/ruok", Expect: plan.Expect{New: "green", Old: "blue"}, Header: "X-Id", Samples: 7, Resolvers: []string{"10.0.0.2", "10.0.0.3:5353"}})
	if !o.System || o.NewMarker != "green" || o.OldMarker != "blue" || o.Header != "X-Id" || o.Samples != 7 || o.Path != "/ruok" ||
		strings.Join(o.Resolvers, ",") != "10.0.0.2:53,10.0.0.3:5353" {
		t.Errorf("options %+v", o)
	}
	if o := verify.FromPlan(nil); !o.System || o.NewMarker != "" {
		t.Errorf("nil verify: %+v", o)
	}
}

func TestSystemResolverIsAsked(t *testing.T) {
	// localhost resolves through the system resolver (hosts file) to
	// 127.0.0.1, where nothing serves: the matrix names the system row.
	v := verify.New(verify.Options{System: true, NewMarker: "green", Port: 1, Timeout: time.Second, Samples: 1})
	m := v.Check(context.Background(), "localhost", "/", 1, "new")
	if len(m.Resolvers) != 1 || m.Resolvers[0].Name != verify.SystemResolver {
		t.Fatalf("resolvers %+v", m.Resolvers)
	}
	if m.Resolvers[0].Queries == 0 {
		t.Skipf("no system resolution of localhost here: %s", m.Resolvers[0].Error)
	}
	if m.OK || len(m.Cells) == 0 || m.Cells[0].Resolver != "system" {
		t.Errorf("cells %+v", m.Cells)
	}
}
