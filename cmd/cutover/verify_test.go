package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/spf13/pflag"

	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/dnsserver/unboundtest"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
	"github.com/cutover/cutover/internal/verify"
)

// seed001 is the world of seed 001 after its "chained flip": the old
// distribution (in another account, as in the story) still holds
// cdn.example.com, the new one holds cdn-new.example.com, and DNS says
// cdn.example.com → cdn-new.example.com → the new distribution.
type seed001 struct {
	w                *world.World
	oldID, newID     string
	oldDom, newDom   string
	oldCF, newCF     *cloudfront.Client
	baseArgs         []string
	resolver, ignore string
}

const seed001YAML = `
certificates:
  - {name: old-cert, account: "222222222222", domains: [cdn.example.com]}
  - {name: new-cert, domains: [cdn-new.example.com, cdn.example.com]}
distributions:
  - {name: old, account: "222222222222", aliases: [cdn.example.com], certificate: old-cert, origin: {domain: 127.0.0.1, http_port: %d}}
  - {name: new, aliases: [cdn-new.example.com], certificate: new-cert, origin: {domain: 127.0.0.1, http_port: %d}}
zones:
  - name: example.com
`

func startSeed001(t *testing.T) *seed001 {
	t.Helper()
	ctx := context.Background()
	w, err := world.Start(ctx, world.Options{
		Lab:            lab.Options{Propagation: 50 * time.Millisecond, DeployDelay: 200 * time.Millisecond, RateLimit: labr53.RateLimitOff},
		APIAddr:        "127.0.0.1:0",
		DNSAddr:        "127.0.0.1:0",
		Edges:          3,
		EphemeralPorts: true,
		PropagationMin: 20 * time.Millisecond,
		PropagationMax: 300 * time.Millisecond,
		TargetTTL:      1,
		Origins:        []world.OriginSpec{{Name: "old-cdn", Addr: "127.0.0.1:0"}, {Name: "new-cdn", Addr: "127.0.0.1:0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	oldO, _ := w.Origins.Get("old-cdn")
	newO, _ := w.Origins.Get("new-cdn")
	s, err := lab.ParseSeed("seed001", fmt.Appendf(nil, seed001YAML, oldO.Port(), newO.Port()))
	if err != nil {
		t.Fatal(err)
	}
	seeded, err := w.Lab.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	old, nw := seeded.Distributions["old"], seeded.Distributions["new"]
	zone := seeded.Zones["example.com"]
	ttl := labr53.Int64(1)
	if _, err := w.Lab.Route53.ApplyChanges(awsapi.DefaultAccountID, zone, []labr53.Change{
		{Action: "CREATE", Set: labr53.RecordSet{Name: "cdn.example.com", Type: "CNAME", TTL: ttl, Records: []string{"cdn-new.example.com"}}},
		{Action: "CREATE", Set: labr53.RecordSet{Name: "cdn-new.example.com", Type: "CNAME", TTL: ttl, Records: []string{nw.DomainName}}},
	}); err != nil {
		t.Fatal(err)
	}
	// The command reaches CloudFront through the standard chain, as the
	// new distribution's account.
	awstest.SetEnv(t, w.API)
	sd := &seed001{
		w: w, oldID: old.ID, newID: nw.ID, oldDom: old.DomainName, newDom: nw.DomainName,
		oldCF: cloudfront.NewFromConfig(awstest.ConfigAs(w.API, awsapi.OtherAccessKeyID, awsapi.OtherSecretAccessKey, "")),
		newCF: cloudfront.NewFromConfig(awstest.Config(w.API)),
	}
	sd.useResolver(w.DNS)
	// Never resolve a name before it is served: a resolver would cache the
	// negative answer.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if a, err := probe.Lookup(ctx, w.DNS, "cdn.example.com", time.Second); err == nil && len(a.Chain) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lab DNS does not serve cdn.example.com")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return sd
}

func (s *seed001) useResolver(addr string) {
	s.resolver = addr
	s.baseArgs = []string{"verify", "--host", "cdn.example.com", "--path", "/ruok", "--resolver", addr, "--no-system-resolver",
		"--port", strconv.Itoa(s.w.Sim.HTTPPort()), "--scheme", "http", "--expect", "old=ok-old-cdn", "--expect", "new=ok-new-cdn", "--samples", "2", "--timeout", "2s"}
}

func (s *seed001) verify(t *testing.T, extra ...string) (string, int) {
	t.Helper()
	out, err := runVerifyCLI(t, append(slices.Clone(s.baseArgs), extra...)...)
	return out, exitCode(err)
}

// runVerifyCLI runs the command with every verify flag back at its default
// first: the command tree is shared by every run of the test binary.
func runVerifyCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd, _, err := rootCmd.Find([]string{"verify"})
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().VisitAll(func(fl *pflag.Flag) {
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			_ = sv.Replace(nil)
		} else {
			_ = fl.Value.Set(fl.DefValue)
		}
		fl.Changed = false
	})
	return runCLI(t, "", args...)
}

// until runs verify until it exits 0 or the bound passes.
func (s *seed001) until(t *testing.T, bound time.Duration, extra ...string) string {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		out, code := s.verify(t, extra...)
		if code == exitOK {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("verify %v did not converge within %s; last output (exit %d):\n%s", extra, bound, code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// moveAlias does what ends seed 001: remove the alias from the old
// distribution, then add it to the new one, through the CloudFront API.
func (s *seed001) moveAlias(t *testing.T, host string) {
	t.Helper()
	ctx := context.Background()
	edit := func(c *cloudfront.Client, id string, f func([]string) []string) {
		got, err := c.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		cfg := got.DistributionConfig
		items := f(cfg.Aliases.Items)
		cfg.Aliases.Items, cfg.Aliases.Quantity = items, aws.Int32(int32(len(items)))
		if _, err := c.UpdateDistribution(ctx, &cloudfront.UpdateDistributionInput{Id: aws.String(id), IfMatch: got.ETag, DistributionConfig: cfg}); err != nil {
			t.Fatalf("updating %s: %v", id, err)
		}
	}
	edit(s.oldCF, s.oldID, func(a []string) []string { return slices.DeleteFunc(a, func(x string) bool { return x == host }) })
	edit(s.newCF, s.newID, func(a []string) []string { return append(a, host) })
}

// TestSeed001PhantomTraffic: DNS says new, the old distribution answers
// because it still holds the alias; verify says so, and why, and converges
// once the alias moves.
func TestSeed001PhantomTraffic(t *testing.T) {
	s := startSeed001(t)
	// The distributions reach every edge within the propagation bound.
	s.until(t, 10*time.Second, "--want", "old")

	out, code := s.verify(t)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d while the old distribution holds the alias:\n%s", code, exitFailure, out)
	}
	if !strings.HasPrefix(out, "FAIL cdn.example.com/ruok expect new: 0/") {
		t.Errorf("verdict line:\n%s", out)
	}
	// Every edge answered with the old origin's marker.
	for _, a := range s.w.Sim.Addrs() {
		if !hasRow(out, s.resolver, a.String(), "old", "200") {
			t.Errorf("no row %s → %s old 200 in:\n%s", s.resolver, a, out)
		}
	}
	if !strings.Contains(out, "cdn.example.com → cdn-new.example.com → "+s.newDom) {
		t.Errorf("CNAME chain missing:\n%s", out)
	}
	want := fmt.Sprintf("why: alias cdn.example.com is still attached to distribution %s (account %s), not to %s which DNS points at; CloudFront routes by Host/SNI, not by DNS",
		"******"+s.oldID[len(s.oldID)-7:], "********2222", s.newID)
	if !strings.Contains(out, want) {
		t.Errorf("diagnosis missing; want %q in:\n%s", want, out)
	}
	if strings.Contains(out, s.oldID) {
		t.Errorf("another account's distribution id shown unmasked:\n%s", out)
	}

	// The same through JSON, and with the distribution named explicitly.
	out, code = s.verify(t, "-o", "json", "--distribution-new", s.newID)
	var m verify.Matrix
	if err := json.Unmarshal([]byte(out), &m); err != nil || code != exitFailure {
		t.Fatalf("json (exit %d): %v\n%s", code, err, out)
	}
	if m.OK || m.Shares["old"] != 1 || m.Diagnosis == nil || m.Diagnosis.Target != s.newID || len(m.Diagnosis.Holders) == 0 || m.Diagnosis.Holders[0].Alias != "cdn.example.com" {
		t.Errorf("json matrix: %+v diagnosis %+v", m, m.Diagnosis)
	}

	s.moveAlias(t, "cdn.example.com")
	out = s.until(t, 15*time.Second)
	if !strings.HasPrefix(out, "OK cdn.example.com/ruok expect new: ") || strings.Contains(out, "why:") {
		t.Errorf("converged output:\n%s", out)
	}
	for _, a := range s.w.Sim.Addrs() {
		if !hasRow(out, s.resolver, a.String(), "new", "200") {
			t.Errorf("no row %s → %s new 200 in:\n%s", s.resolver, a, out)
		}
	}
	// Now the old side is what is missing: wanting it fails, and CloudFront
	// says the alias is where DNS points.
	out, code = s.verify(t, "--want", "old")
	if code != exitFailure || !strings.Contains(out, "why: alias cdn.example.com is attached to "+s.newID+", which DNS points at") {
		t.Errorf("want old after the move (exit %d):\n%s", code, out)
	}
}

// TestSeed001ThroughUnbound runs the same story through a real caching
// resolver in front of the lab's authoritative DNS.
func TestSeed001ThroughUnbound(t *testing.T) {
	s := startSeed001(t)
	s.useResolver(unboundtest.Start(t, s.w.DNSServer().ForwardZones(), s.w.DNS))
	s.until(t, 10*time.Second, "--want", "old")
	out, code := s.verify(t)
	if code != exitFailure || !strings.Contains(out, "why: alias cdn.example.com is still attached to distribution ******") {
		t.Fatalf("exit %d, want a failure with the diagnosis:\n%s", code, out)
	}
	if !strings.Contains(out, s.resolver+": cdn.example.com → cdn-new.example.com → "+s.newDom) {
		t.Errorf("the resolver's CNAME chain is missing:\n%s", out)
	}
	s.moveAlias(t, "cdn.example.com")
	out = s.until(t, 15*time.Second)
	if !strings.HasPrefix(out, "OK ") {
		t.Errorf("converged output:\n%s", out)
	}
}

func TestVerifyBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--expect", "new=x"},
		{"verify", "--host", "a.example.com"},
		{"verify", "--host", "a.example.com", "--expect", "new"},
		{"verify", "--host", "a.example.com", "--expect", "sideways=x"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--want", "both"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--scheme", "ftp"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--samples", "0"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--no-system-resolver"},
		{"verify", "--host", "https://a.example.com/", "--expect", "new=x"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--ca", "/nonexistent.pem"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "-o", "yaml"},
		{"verify", "--host", "a.example.com", "--expect", "new=x", "--bogus"},
	} {
		out, err := runVerifyCLI(t, args...)
		if code := exitCode(err); code != exitUsage {
			t.Errorf("%v: exit %d (%v), want %d\n%s", args, code, err, exitUsage, out)
		}
	}
}

// hasRow finds a matrix row by its first columns.
func hasRow(out, resolver, edge, side, status string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 5 && f[0] == resolver && f[1] == edge && f[3] == side && f[4] == status {
			return true
		}
	}
	return false
}
