package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cf "github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"github.com/miekg/dns"

	"github.com/cutover/cutover/internal/lab"
	"github.com/cutover/cutover/internal/lab/awsapi/awstest"
	"github.com/cutover/cutover/internal/lab/cloudfront"
	"github.com/cutover/cutover/internal/lab/load"
	labr53 "github.com/cutover/cutover/internal/lab/route53"
	"github.com/cutover/cutover/internal/lab/world"
)

// Timing of every scenario: short enough to keep each under ~15 s, wide
// enough that the edges' switches are seconds apart from one another
// relative to the load's resolution (a request every ~10 ms per edge).
const (
	propMin = 300 * time.Millisecond
	propMax = 1500 * time.Millisecond
	// pollSlack covers the edges' 50 ms poll of the control plane, the
	// request's own latency and scheduling noise: a result this close to
	// a predicted switch may legitimately show either side.
	pollSlack = 250 * time.Millisecond
	ttl       = 1 // seconds, on the records and the CloudFront names
)

// harness is a running lab plus AWS clients and the load's record.
type harness struct {
	t    *testing.T
	w    *world.World
	cf   *cf.Client
	r53  *r53.Client
	zone string
	rec  *recorder
	live *load.Live
	// loadStart is (just before) the load's own start: its report's
	// seconds count from there.
	loadStart time.Time
}

// scenario describes the world a test starts from: which origins run,
// the seed (origins referred to as {{name}}), and records created once
// the distributions have their generated names.
type scenario struct {
	origins []world.OriginSpec
	edges   int
	seed    string
	records func(s *lab.Seeded) []labr53.RecordSet
}

func start(t *testing.T, sc scenario) *harness {
	t.Helper()
	h := &harness{t: t, rec: &recorder{}}
	var seeded *lab.Seeded
	w, err := world.Start(context.Background(), world.Options{
		Lab:            lab.Options{Propagation: 100 * time.Millisecond, DeployDelay: 300 * time.Millisecond, RateLimit: labr53.RateLimitOff, Seed: 7},
		APIAddr:        "127.0.0.1:0",
		DNSAddr:        "127.0.0.1:0",
		Edges:          sc.edges,
		EphemeralPorts: true,
		PropagationMin: propMin,
		PropagationMax: propMax,
		MetricsPeriod:  time.Hour,
		HealthInterval: time.Hour,
		TargetTTL:      ttl,
		Origins:        sc.origins,
		Seed:           11,
		Setup: func(w *world.World) error {
			text := sc.seed
			for _, o := range w.Origins.List() {
				host, port, _ := net.SplitHostPort(o.Addr())
				text = strings.ReplaceAll(text, "{{"+o.Name()+"}}", fmt.Sprintf("{domain: %s, http_port: %s}", host, port))
			}
			s, err := lab.ParseSeed("scenario", []byte(text))
			if err != nil {
				return err
			}
			if seeded, err = w.Lab.Apply(s); err != nil {
				return err
			}
			var changes []labr53.Change
			for _, rs := range sc.records(seeded) {
				changes = append(changes, labr53.Change{Action: "CREATE", Set: rs})
			}
			_, err = w.Lab.Route53.ApplyChanges("111111111111", seeded.Zones["example.com"], changes)
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	h.w = w
	h.zone = seeded.Zones["example.com"]
	cfg := awstest.Config(w.API)
	h.cf, h.r53 = cf.NewFromConfig(cfg), r53.NewFromConfig(cfg)
	return h
}

func cname(name, target string) labr53.RecordSet {
	return labr53.RecordSet{Name: name, Type: "CNAME", TTL: labr53.Int64(ttl), Records: []string{target}}
}

// startLoad sends client load at host through the lab's DNS for the rest
// of the test.
func (h *harness) startLoad(host string) {
	h.t.Helper()
	// A new zone is answered once its creation is INSYNC; a client that
	// asked earlier would only measure that.
	waitFor(h.t, 5*time.Second, "the lab DNS to answer "+host, func() bool {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(host), dns.TypeA)
		in, err := dns.Exchange(m, h.w.DNS)
		return err == nil && in.Rcode == dns.RcodeSuccess && len(in.Answer) > 0
	})
	h.loadStart = time.Now()
	live, err := load.Start(context.Background(), load.Config{
		Host:      host,
		DNSServer: h.w.DNS,
		Port:      h.w.HTTPPort(),
		Clients:   10,
		Rate:      400,
		Duration:  time.Minute,
		Timeout:   2 * time.Second,
		Seed:      3,
		OnResult:  h.rec.add,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.live = live
	h.t.Cleanup(func() { live.Stop() })
}

// stopLoad ends the load and returns its report.
func (h *harness) stopLoad() *load.Report {
	rep := h.live.Stop()
	h.t.Logf("load report:\n%s", rep.Text())
	return rep
}

// dist returns the control plane's view of the distribution whose comment
// or alias identifies it: the seed names are kept in Seeded, so the tests
// look them up by id.
func (h *harness) dist(id string) cloudfront.View {
	h.t.Helper()
	v, ok := h.w.Lab.CloudFront.Get(id)
	if !ok {
		h.t.Fatalf("no distribution %s", id)
	}
	return v
}

// setAliases replaces a distribution's aliases through the API, as an
// operator's UpdateDistribution would; it returns the API error code, if
// any.
func (h *harness) setAliases(id string, aliases ...string) (string, error) {
	ctx := context.Background()
	got, err := h.cf.GetDistributionConfig(ctx, &cf.GetDistributionConfigInput{Id: aws.String(id)})
	if err != nil {
		return "", err
	}
	cfg := got.DistributionConfig
	cfg.Aliases = &cftypes.Aliases{Quantity: aws.Int32(int32(len(aliases))), Items: aliases}
	_, err = h.cf.UpdateDistribution(ctx, &cf.UpdateDistributionInput{Id: aws.String(id), IfMatch: got.ETag, DistributionConfig: cfg})
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), err
	}
	return "", err
}

// mustSetAliases is setAliases that must succeed; it returns when the
// write was accepted.
func (h *harness) mustSetAliases(id string, aliases ...string) time.Time {
	h.t.Helper()
	if code, err := h.setAliases(id, aliases...); err != nil {
		h.t.Fatalf("aliases of %s → %v: %s %v", id, aliases, code, err)
	}
	return time.Now()
}

// upsertCNAME re-points a record through the API and returns once the
// change is INSYNC, that is once the lab's DNS answers it.
func (h *harness) upsertCNAME(name, target string) time.Time {
	h.t.Helper()
	ctx := context.Background()
	out, err := h.r53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(h.zone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{
			Action: r53types.ChangeActionUpsert,
			ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(name), Type: r53types.RRTypeCname, TTL: aws.Int64(ttl),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(target)}},
			},
		}}},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	waitFor(h.t, 5*time.Second, "change INSYNC", func() bool {
		st, err := h.r53.GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id})
		return err == nil && st.ChangeInfo.Status == r53types.ChangeStatusInsync
	})
	return time.Now()
}

// resolveChain asks the lab's DNS for name and returns the CNAME chain it
// answers, target by target.
func (h *harness) resolveChain(name string) []string {
	h.t.Helper()
	var chain []string
	q := dns.Fqdn(name)
	for range 8 {
		m := new(dns.Msg)
		m.SetQuestion(q, dns.TypeA)
		in, err := dns.Exchange(m, h.w.DNS)
		if err != nil {
			h.t.Fatal(err)
		}
		next := ""
		for _, rr := range in.Answer {
			if c, ok := rr.(*dns.CNAME); ok && strings.EqualFold(c.Hdr.Name, q) {
				next = c.Target
			}
		}
		if next == "" {
			return chain
		}
		chain = append(chain, strings.TrimSuffix(next, "."))
		q = next
	}
	return chain
}

// recorder keeps every request's result.
type recorder struct {
	mu  sync.Mutex
	all []load.Result
}

func (r *recorder) add(res load.Result) {
	r.mu.Lock()
	r.all = append(r.all, res)
	r.mu.Unlock()
}

// since returns the results of requests started at or after t, in start
// order.
func (r *recorder) since(t time.Time) []load.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []load.Result
	for _, res := range r.all {
		if !res.At.Before(t) {
			out = append(out, res)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func (r *recorder) between(a, b time.Time) []load.Result {
	var out []load.Result
	for _, res := range r.since(a) {
		if res.At.Before(b) {
			out = append(out, res)
		}
	}
	return out
}

// outcome is what one request showed: the origin that served it, or its
// failure ("403", "conn_error", …).
func outcome(r load.Result) string {
	switch {
	case r.Class == load.ClassOK:
		return r.Origin
	case r.Status != 0:
		return strconv.Itoa(r.Status)
	default:
		return string(r.Class)
	}
}

// tally counts outcomes.
func tally(rs []load.Result) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[outcome(r)]++
	}
	return m
}

// only asserts every result in rs is want, and that there are enough of
// them to mean something.
func only(t *testing.T, what string, rs []load.Result, want string) {
	t.Helper()
	got := tally(rs)
	if len(rs) < 50 || len(got) != 1 || got[want] != len(rs) {
		t.Fatalf("%s: want all of ≥50 requests %s, got %v", what, want, got)
	}
}

func edgeNumber(t *testing.T, r load.Result) int {
	t.Helper()
	n, err := strconv.Atoi(r.Edge)
	if err != nil {
		t.Fatalf("result without an edge: %+v", r)
	}
	return n
}

// firstAfter returns, per edge, the first request it answered with
// something other than before.
func firstAfter(t *testing.T, rs []load.Result, before string) map[int]load.Result {
	t.Helper()
	out := map[int]load.Result{}
	for _, r := range rs {
		e := edgeNumber(t, r)
		if _, seen := out[e]; !seen && outcome(r) != before {
			out[e] = r
		}
	}
	return out
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil blocks until the wall clock reaches at: the scenarios observe
// real edges under real load, so their windows are wall-clock windows.
func waitUntil(at time.Time) {
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
}

func sortedEdges(m map[int]load.Result) []int {
	var out []int
	for e := range m {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}
