package verify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/gate/probe"
	"github.com/cutover/cutover/internal/plan"
	"github.com/cutover/cutover/internal/runbook"
)

// The sides an answer is classified as.
const (
	SideNew     = "new"
	SideOld     = "old"
	SideUnknown = "unknown" // an answer carrying neither marker
	SideError   = "error"   // no answer, or an error status without a marker
	SideMixed   = "mixed"   // an edge whose answers disagreed
)

// SystemResolver names the operating system's resolver in results.
const SystemResolver = "system"

// Options configure a Verifier.
type Options struct {
	// Resolvers are DNS servers (host or host:port; port 53 when missing)
	// asked for the hostname.
	Resolvers []string
	// System also asks the operating system's resolver (no CNAME chain is
	// reported for it).
	System bool
	// NewMarker identifies the new side's answers. Required.
	NewMarker string
	// OldMarker identifies the old side's answers. When empty, any answer
	// without NewMarker counts as old.
	OldMarker string
	// Header, when set, reads the marker from this response header (exact
	// value) instead of searching the body.
	Header string
	// RootCAs are trusted for HTTPS (a lab CA); nil means the system roots.
	RootCAs *x509.CertPool
	// Scheme is https (default) or http.
	Scheme string
	// Port is dialled on every edge address. Default 443 for https, 80 for
	// http.
	Port int
	// Path is fetched when the runbook's verify step names none. Default "/".
	Path string
	// Samples is used when the verify step sets none: DNS queries per
	// resolver and requests per edge address. Default 5.
	Samples int
	// Timeout bounds one DNS exchange and one request. Default 5s.
	Timeout time.Duration
	// Parallel bounds concurrent requests. Default 8.
	Parallel int
	// Authoritative also asks the name servers of the hostname's zone
	// directly (found through the first resolver), so an answer still
	// cached by a resolver can be told apart from what the zone says now.
	Authoritative bool
	// AuthoritativePort is the port the zone's name servers are asked on.
	// Default 53.
	AuthoritativePort int
}

// FromPlan returns the options a plan's verify block describes, asking the
// system resolver as well as the listed ones.
func FromPlan(v *plan.Verify) Options {
	o := Options{System: true}
	if v == nil {
		return o
	}
	for _, r := range v.Resolvers {
		o.Resolvers = append(o.Resolvers, probe.WithPort(r))
	}
	o.NewMarker, o.OldMarker, o.Header = v.Expect.New, v.Expect.Old, v.Header
	o.Path, o.Samples = v.Path, v.Samples
	return o
}

// Verifier checks which side serves a hostname. It implements the engine's
// Verifier interface.
type Verifier struct {
	o         Options
	resolvers []resolver
}

// New returns a verifier with defaults filled in.
func New(o Options) *Verifier {
	if o.Scheme == "" {
		o.Scheme = "https"
	}
	if o.Port == 0 {
		o.Port = 443
		if o.Scheme == "http" {
			o.Port = 80
		}
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	if o.AuthoritativePort <= 0 {
		o.AuthoritativePort = 53
	}
	v := &Verifier{o: o}
	for _, r := range o.Resolvers {
		v.resolvers = append(v.resolvers, dnsResolver{addr: probe.WithPort(r), timeout: o.Timeout})
	}
	if o.System {
		v.resolvers = append(v.resolvers, systemResolver{})
	}
	return v
}

// Verify is the engine's check of a Verify step: OK when every path reached
// the side the step expects.
func (v *Verifier) Verify(ctx context.Context, rb *runbook.Runbook, s runbook.Verify) runbook.VerifyResult {
	m := v.Check(ctx, rb.Hostname, s.Path, s.Samples, s.Expect)
	res := runbook.VerifyResult{OK: m.OK, Detail: m.Summary, Shares: m.Shares}
	for _, c := range m.Cells {
		res.Cells = append(res.Cells, runbook.VerifyCell{Resolver: c.Resolver, Edge: c.Edge, Share: c.Share, Side: c.Side, Status: c.Status, Error: c.Error})
	}
	return res
}

// resolver answers one query for a name.
type resolver interface {
	name() string
	lookup(ctx context.Context, host string) (probe.Answer, error)
}

type dnsResolver struct {
	addr    string
	timeout time.Duration
}

func (r dnsResolver) name() string { return r.addr }

func (r dnsResolver) lookup(ctx context.Context, host string) (probe.Answer, error) {
	return probe.Lookup(ctx, r.addr, host, r.timeout)
}

type systemResolver struct{}

func (systemResolver) name() string { return SystemResolver }

func (systemResolver) lookup(ctx context.Context, host string) (probe.Answer, error) {
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return probe.Answer{}, fmt.Errorf("resolving %s via the system resolver: %w", host, err)
	}
	// Prefer IPv4 like probe.Lookup does, so both report the same kind.
	var v4 []string
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
			v4 = append(v4, a)
		}
	}
	if len(v4) > 0 {
		addrs = v4
	}
	return probe.Answer{Chain: []string{host}, Addrs: addrs}, nil
}

// Check resolves hostname through every resolver, fetches path from every
// address reached, and returns the matrix. expect is "new" or "old"; empty
// path and samples take the verifier's defaults.
func (v *Verifier) Check(ctx context.Context, hostname, path string, samples int, expect string) *Matrix {
	host := strings.TrimSuffix(strings.ToLower(hostname), ".")
	if path == "" {
		path = v.o.Path
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if samples <= 0 {
		samples = v.o.Samples
	}
	m := &Matrix{Hostname: host, Path: path, Expect: expect, Samples: samples}
	if expect != SideNew && expect != SideOld {
		m.problem(fmt.Sprintf("expect %q: want new or old", expect))
		m.finish()
		return m
	}
	if v.o.NewMarker == "" {
		m.problem("no marker for the new side")
		m.finish()
		return m
	}
	if len(v.resolvers) == 0 {
		m.problem("no resolvers")
		m.finish()
		return m
	}

	resolvers := v.resolvers
	if v.o.Authoritative {
		auth, err := v.authoritative(ctx, host)
		if err != nil {
			m.problem(err.Error())
		}
		resolvers = append(append([]resolver(nil), resolvers...), auth...)
	}
	m.Resolvers = v.resolve(ctx, resolvers, host, samples)
	var addrs []string
	for _, r := range m.Resolvers {
		for a := range r.Answers {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
	}
	sortAddrs(addrs)
	m.Edges = v.fetchAll(ctx, host, path, samples, addrs)
	m.build()
	m.finish()
	return m
}

// resolve samples every resolver, all resolvers at once.
func (v *Verifier) resolve(ctx context.Context, resolvers []resolver, host string, samples int) []ResolverResult {
	out := make([]ResolverResult, len(resolvers))
	var wg sync.WaitGroup
	for i, r := range resolvers {
		wg.Go(func() {
			res := ResolverResult{Name: r.name(), Answers: map[string]float64{}}
			for range samples {
				a, err := r.lookup(ctx, host)
				if err != nil {
					res.Failures++
					if res.Error == "" {
						res.Error = err.Error()
					}
					continue
				}
				res.Queries++
				if !slices.ContainsFunc(res.Chains, func(c []string) bool { return slices.Equal(c, a.Chain) }) {
					res.Chains = append(res.Chains, a.Chain)
				}
				// An answer of several addresses sends each client to one
				// of them: each gets an equal part of this sample.
				for _, addr := range a.Addrs {
					res.Answers[addr] += 1 / float64(len(a.Addrs))
				}
			}
			out[i] = res
		})
	}
	wg.Wait()
	return out
}

// fetchAll fetches path samples times from every address, in parallel up to
// the verifier's bound.
func (v *Verifier) fetchAll(ctx context.Context, host, path string, samples int, addrs []string) []EdgeResult {
	results := make([][]fetchResult, len(addrs))
	sem := make(chan struct{}, v.o.Parallel)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		client := probe.NewClient(probe.ClientOptions{Connect: net.JoinHostPort(addr, strconv.Itoa(v.o.Port)), RootCAs: v.o.RootCAs, Timeout: v.o.Timeout})
		results[i] = make([]fetchResult, samples)
		for j := range samples {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				results[i][j] = v.fetch(ctx, client, host, path)
			})
		}
	}
	wg.Wait()
	out := make([]EdgeResult, len(addrs))
	for i, addr := range addrs {
		out[i] = edgeResult(addr, results[i])
	}
	return out
}

type fetchResult struct {
	side    string
	status  int
	latency time.Duration
	err     string
	// tls is the TLS outcome: the version negotiated, "failed", or empty
	// for plain HTTP.
	tls string
}

func (v *Verifier) fetch(ctx context.Context, client *http.Client, host, path string) fetchResult {
	u := url.URL{Scheme: v.o.Scheme, Host: host, Path: path}
	if (v.o.Scheme == "https" && v.o.Port != 443) || (v.o.Scheme == "http" && v.o.Port != 80) {
		u.Host = net.JoinHostPort(host, strconv.Itoa(v.o.Port))
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		u.Path, u.RawQuery = path[:i], path[i+1:]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fetchResult{side: SideError, err: err.Error()}
	}
	req.Header.Set("User-Agent", "cutover-verify")
	// A cache must not answer for the edge: the question is who serves now.
	req.Header.Set("Cache-Control", "no-cache")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		r := fetchResult{side: SideError, err: err.Error()}
		if v.o.Scheme == "https" && isTLSError(err) {
			r.tls = TLSFailed
		}
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	r := fetchResult{status: resp.StatusCode, latency: time.Since(start)}
	if resp.TLS != nil {
		r.tls = tls.VersionName(resp.TLS.Version)
	}
	if err != nil {
		r.side, r.err = SideError, "reading body: "+err.Error()
		return r
	}
	r.side, r.err = v.classify(resp, body)
	return r
}

// TLSFailed is the TLS outcome of a handshake or certificate check that
// failed: the edge does not hold a certificate for the hostname, or one the
// client does not trust.
const TLSFailed = "failed"

// isTLSError reports whether err comes from the TLS handshake or the
// certificate check rather than from the connection or HTTP.
func isTLSError(err error) bool {
	var (
		hostErr  x509.HostnameError
		authErr  x509.UnknownAuthorityError
		certErr  x509.CertificateInvalidError
		verErr   *tls.CertificateVerificationError
		recErr   tls.RecordHeaderError
		alertErr tls.AlertError
	)
	if errors.As(err, &hostErr) || errors.As(err, &authErr) || errors.As(err, &certErr) || errors.As(err, &verErr) || errors.As(err, &recErr) || errors.As(err, &alertErr) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "x509:")
}

// classify names the side an answer came from.
func (v *Verifier) classify(resp *http.Response, body []byte) (side, problem string) {
	var isNew, isOld bool
	if v.o.Header != "" {
		got := strings.TrimSpace(resp.Header.Get(v.o.Header))
		isNew = got == v.o.NewMarker
		isOld = v.o.OldMarker != "" && got == v.o.OldMarker
	} else {
		isNew = strings.Contains(string(body), v.o.NewMarker)
		isOld = v.o.OldMarker != "" && strings.Contains(string(body), v.o.OldMarker)
	}
	switch {
	case isNew && isOld:
		return SideUnknown, "both markers"
	case isNew:
		return SideNew, ""
	case isOld:
		return SideOld, ""
	case resp.StatusCode >= 400:
		// An error page proves nothing about who would have served.
		return SideError, "status " + strconv.Itoa(resp.StatusCode)
	case v.o.OldMarker == "":
		return SideOld, ""
	}
	return SideUnknown, "no marker"
}

// sortAddrs orders addresses numerically where they parse.
func sortAddrs(addrs []string) {
	sort.Slice(addrs, func(i, j int) bool {
		a, b := net.ParseIP(addrs[i]), net.ParseIP(addrs[j])
		if a == nil || b == nil {
			return addrs[i] < addrs[j]
		}
		return string(a.To16()) < string(b.To16())
	})
}
