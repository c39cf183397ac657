package probe

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
	"strconv"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/gate"
	"github.com/cutover/cutover/internal/plan"
)

// Options change how a probe reaches its URL. The zero value resolves the
// URL's host with the system resolver and trusts the system roots.
type Options struct {
	// Connect is a host:port dialled instead of the URL's host, while the
	// URL's host is still sent as Host and TLS server name: the probe hits
	// one chosen edge (curl --resolve).
	Connect string
	// Resolver is a DNS server (host:port, or host for port 53) the URL's
	// host is resolved through instead of the system resolver. Ignored when
	// Connect is set.
	Resolver string
	// RootCAs are the certificate authorities trusted for HTTPS (a lab CA);
	// nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one request, overriding the gate's own timeout when
	// set. The gate's default is 5s.
	Timeout time.Duration
}

// maxBody is how much of a response body is read to look for BodyContains;
// markers and health answers are short, and a probe must not download a
// whole page every interval.
const maxBody = 1 << 20

// Probe is the HTTP gate. Its measurement value is the response's status
// code (0 when no response arrived); the latency is in the detail.
type Probe struct {
	spec   plan.ProbeGate
	url    *url.URL
	err    error // a URL that cannot be probed: every measurement is an Error
	client *http.Client
	want   []int
}

var _ gate.Gate = (*Probe)(nil)

// New returns a probe for spec. A spec that cannot work (a bad URL) still
// yields a gate, whose every measurement is an Error saying why: gates
// report, the engine decides.
func New(spec plan.ProbeGate, opts Options) gate.Gate {
	p := &Probe{spec: spec, want: spec.ExpectStatus}
	if len(p.want) == 0 {
		p.want = []int{http.StatusOK}
	}
	u, err := url.Parse(spec.URL)
	switch {
	case err != nil:
		p.err = fmt.Errorf("parsing probe url: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.err = fmt.Errorf("probe url %q: scheme must be http or https", spec.URL)
	case u.Hostname() == "":
		p.err = fmt.Errorf("probe url %q has no host", spec.URL)
	}
	p.url = u
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = spec.Timeout.Std()
	}
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	p.client = NewClient(ClientOptions{Connect: opts.Connect, Resolver: opts.Resolver, RootCAs: opts.RootCAs, Timeout: timeout})
	return p
}

// ClientOptions configure NewClient.
type ClientOptions struct {
	// Connect, when set, is dialled for every request whatever its URL.
	Connect string
	// Resolver, when set, resolves URL hosts through this DNS server.
	Resolver string
	// RootCAs are trusted for HTTPS; nil means the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds one request, connection included.
	Timeout time.Duration
}

// NewClient returns an HTTP client that sends each request's URL host as
// Host and TLS server name but dials where o says, never reuses a
// connection, and never follows redirects (a redirect is an answer to check,
// not to chase to another host).
func NewClient(o ClientOptions) *http.Client {
	d := &net.Dialer{Timeout: o.Timeout}
	dial := d.DialContext
	switch {
	case o.Connect != "":
		dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, o.Connect)
		}
	case o.Resolver != "":
		server := WithPort(o.Resolver)
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if net.ParseIP(host) != nil {
				return d.DialContext(ctx, network, addr)
			}
			ans, err := Lookup(ctx, server, host, o.Timeout)
			if err != nil {
				return nil, err
			}
			var errs []error
			for _, a := range ans.Addrs {
				c, err := d.DialContext(ctx, network, net.JoinHostPort(a, port))
				if err == nil {
					return c, nil
				}
				errs = append(errs, err)
			}
			return nil, errors.Join(errs...)
		}
	}
	tr := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:   true,
		TLSHandshakeTimeout: o.Timeout,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Measure fetches the URL once. Successful when the status is expected, the
// body holds BodyContains and every Header matches; Failed, with every
// difference in the detail, otherwise; Error when no response arrived.
func (p *Probe) Measure(ctx context.Context, now time.Time) gate.Measurement {
	m := gate.Measurement{At: now}
	if p.err != nil {
		m.Phase, m.Detail = gate.Error, p.err.Error()
		return m
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url.String(), nil)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("building request: %v", err)
		return m
	}
	req.Header.Set("User-Agent", "cutover-probe")
	start := time.Now()
	resp, err := p.client.Do(req)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("GET %s: %v", p.url, unwrapURLError(err))
		return m
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	latency := time.Since(start)
	m.Value = float64(resp.StatusCode)
	if err != nil {
		m.Phase, m.Detail = gate.Error, fmt.Sprintf("GET %s: reading body: %v", p.url, err)
		return m
	}
	if diffs := p.check(resp, body); len(diffs) > 0 {
		m.Phase, m.Detail = gate.Failed, strings.Join(diffs, "; ")
		return m
	}
	m.Phase = gate.Successful
	m.Detail = fmt.Sprintf("GET %s: status %d in %dms", p.url, resp.StatusCode, latency.Milliseconds())
	return m
}

// check lists every way resp differs from the expectation, in a fixed order.
func (p *Probe) check(resp *http.Response, body []byte) []string {
	var diffs []string
	if !slices.Contains(p.want, resp.StatusCode) {
		diffs = append(diffs, fmt.Sprintf("status %d, want %s", resp.StatusCode, joinInts(p.want)))
	}
	if p.spec.BodyContains != "" && !strings.Contains(string(body), p.spec.BodyContains) {
		diffs = append(diffs, fmt.Sprintf("body does not contain %q", p.spec.BodyContains))
	}
	keys := make([]string, 0, len(p.spec.Header))
	for k := range p.spec.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		want := p.spec.Header[k]
		got := resp.Header.Values(k)
		if !slices.ContainsFunc(got, func(v string) bool { return strings.TrimSpace(v) == want }) {
			if len(got) == 0 {
				diffs = append(diffs, fmt.Sprintf("header %s missing, want %q", k, want))
			} else {
				diffs = append(diffs, fmt.Sprintf("header %s = %q, want %q", k, strings.Join(got, ", "), want))
			}
		}
	}
	return diffs
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " or ")
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// method and URL the detail already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
